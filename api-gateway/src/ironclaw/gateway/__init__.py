"""The public gateway: the only HTTP API users and webhooks reach."""

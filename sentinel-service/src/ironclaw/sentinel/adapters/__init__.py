"""What the sentinel talks to besides the ledger and the leases: the duty heartbeats, webhooks."""

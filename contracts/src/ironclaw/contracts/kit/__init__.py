"""The small kit every service is built from: settings, logging, metrics, health, errors, auth."""

"""What the gateway keeps outside the ledger: idempotent replies and rate-limit counters."""

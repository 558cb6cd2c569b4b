"""What the duty officer talks to besides the ledger: the broker and the lease store."""

"""What the co service talks to besides the ledger: the planning model."""

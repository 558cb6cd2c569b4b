"""What the observer touches besides the ledger and vault clients: the disk and git."""

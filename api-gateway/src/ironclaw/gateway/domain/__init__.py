"""The gateway's logic: plain functions over the ledger and vault clients."""

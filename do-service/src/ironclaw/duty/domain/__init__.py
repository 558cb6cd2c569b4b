"""The duty officer's plain logic: one patrol cycle over the ledger's projections."""

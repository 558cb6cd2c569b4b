"""The ledger's logic, free of web and database frameworks."""

"""Database, broker and migration adapters."""

"""The ledger: the only service that touches the database. Events, projections, feed, outbox."""

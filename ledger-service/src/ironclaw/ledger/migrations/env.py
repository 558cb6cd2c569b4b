"""Alembic environment: runs migrations online against `sqlalchemy.url`."""

from __future__ import annotations

from alembic import context

from ironclaw.ledger.adapters.database import create_db_engine
from ironclaw.ledger.adapters.tables import metadata

url = context.config.get_main_option("sqlalchemy.url")
if url is None:
    raise RuntimeError("sqlalchemy.url is not set")
engine = create_db_engine(url, pool_size=1)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()

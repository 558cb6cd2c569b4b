"""The projection store over the database, used inside one append transaction."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, Table, and_, insert, select, update

from ironclaw.ledger.adapters.database import is_postgres
from ironclaw.ledger.adapters.tables import attempts, orders, profiles, runs, theaters, usage
from ironclaw.ledger.domain.store import KEY_COLUMNS, Key, Row, key_of

TABLES: dict[str, Table] = {
    "runs": runs,
    "orders": orders,
    "attempts": attempts,
    "theaters": theaters,
    "profiles": profiles,
    "usage": usage,
}


class SqlStore:
    """Reads rows `FOR UPDATE` (on Postgres) on first use, keeps them, writes changes on flush.

    It remembers each row as read, so a flush updates only the columns an append changed. The
    copy is shallow: the projector assigns new values to columns and never edits a JSON value in
    place (if it did, the live row would miss the edit and `check` would report the drift).
    """

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._lock_rows = is_postgres(connection)
        self._rows: dict[tuple[str, Key], Row | None] = {}
        self._stored: dict[tuple[str, Key], Row] = {}
        self._dirty: dict[tuple[str, Key], Row] = {}

    def get(self, table: str, key: Key) -> Row | None:
        slot = (table, key)
        if slot not in self._rows:
            loaded = self._load(table, key)
            if loaded is not None:
                self._stored[slot] = dict(loaded)
            self._rows[slot] = loaded
        return self._rows[slot]

    def put(self, table: str, row: Row) -> None:
        slot = (table, key_of(table, row))
        self._rows[slot] = row
        self._dirty[slot] = row

    def flush(self) -> None:
        """Insert new rows; update only the columns that changed in rows read before."""
        for slot, row in self._dirty.items():
            table_name, key = slot
            table = TABLES[table_name]
            stored = self._stored.get(slot)
            if stored is None:
                self._connection.execute(insert(table).values(row))
            else:
                changed = {
                    column: value for column, value in row.items() if stored.get(column) != value
                }
                if changed:
                    self._connection.execute(
                        update(table).where(_matches(table_name, table, key)).values(changed)
                    )
            self._stored[slot] = dict(row)
        self._dirty.clear()

    def _load(self, table_name: str, key: Key) -> Row | None:
        table = TABLES[table_name]
        query = select(table).where(_matches(table_name, table, key))
        if self._lock_rows:
            query = query.with_for_update()
        found = self._connection.execute(query).mappings().first()
        return dict(found) if found is not None else None


def _matches(table_name: str, table: Table, key: Key) -> ColumnElement[bool]:
    columns = KEY_COLUMNS[table_name]
    return and_(*(table.c[column] == value for column, value in zip(columns, key, strict=True)))

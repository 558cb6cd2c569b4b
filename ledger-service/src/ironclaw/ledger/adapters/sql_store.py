"""The projection store over the database, used inside one append transaction."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, Table, and_, insert, select, update

from ironclaw.ledger.adapters.database import is_postgres
from ironclaw.ledger.adapters.tables import attempts, orders, runs, theaters
from ironclaw.ledger.domain.store import KEY_COLUMNS, Key, Row, key_of

TABLES: dict[str, Table] = {
    "runs": runs,
    "orders": orders,
    "attempts": attempts,
    "theaters": theaters,
}


class SqlStore:
    """Reads rows `FOR UPDATE` (on Postgres) on first use, keeps them, writes changes on flush."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._lock_rows = is_postgres(connection)
        self._rows: dict[tuple[str, Key], Row | None] = {}
        self._stored: set[tuple[str, Key]] = set()
        self._dirty: dict[tuple[str, Key], Row] = {}

    def get(self, table: str, key: Key) -> Row | None:
        slot = (table, key)
        if slot not in self._rows:
            self._rows[slot] = self._load(table, key)
            if self._rows[slot] is not None:
                self._stored.add(slot)
        return self._rows[slot]

    def put(self, table: str, row: Row) -> None:
        slot = (table, key_of(table, row))
        self._rows[slot] = row
        self._dirty[slot] = row

    def flush(self) -> None:
        for (table_name, key), row in self._dirty.items():
            table = TABLES[table_name]
            if (table_name, key) in self._stored:
                self._connection.execute(
                    update(table).where(_matches(table_name, table, key)).values(row)
                )
            else:
                self._connection.execute(insert(table).values(row))
                self._stored.add((table_name, key))
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

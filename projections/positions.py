"""Each projection's position in the notification log, kept beside its rows."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from psycopg.sql import SQL, Identifier

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresDatastore
    from psycopg import Cursor

TABLE = "projection_positions"


class Positions:
    """Reads and advances positions; advancing happens inside the projection's transaction."""

    def __init__(self, datastore: PostgresDatastore) -> None:
        self._db = datastore
        self._table = SQL("{}.{}").format(Identifier(datastore.schema), Identifier(TABLE))

    def create_table(self) -> None:
        with self._db.transaction(commit=True) as cur:
            cur.execute(SQL("CREATE TABLE IF NOT EXISTS {} (name text PRIMARY KEY, position bigint NOT NULL,"
                            " updated_at timestamptz NOT NULL DEFAULT now())").format(self._table))

    def get(self, name: str) -> int:
        with self._db.transaction() as cur:
            cur.execute(SQL("SELECT position FROM {} WHERE name = %s").format(self._table), (name,))
            row = cur.fetchone()
        return row["position"] if row else 0

    def all(self) -> dict[str, int]:
        with self._db.transaction() as cur:
            cur.execute(SQL("SELECT name, position FROM {}").format(self._table))
            return {row["name"]: row["position"] for row in cur.fetchall()}

    def lock(self, cur: Cursor, name: str) -> int:
        """Lock this projection's row for the transaction and return its position."""
        cur.execute(SQL("INSERT INTO {} (name, position) VALUES (%s, 0) ON CONFLICT (name) DO NOTHING")
                    .format(self._table), (name,))
        cur.execute(SQL("SELECT position FROM {} WHERE name = %s FOR UPDATE").format(self._table), (name,))
        row = cur.fetchone()
        assert row is not None
        return row["position"]

    def advance(self, cur: Cursor, name: str, position: int) -> None:
        cur.execute(SQL("UPDATE {} SET position = %s, updated_at = now() WHERE name = %s")
                    .format(self._table), (position, name))

    def delete(self, cur: Cursor, name: str) -> None:
        cur.execute(SQL("DELETE FROM {} WHERE name = %s").format(self._table), (name,))

    def wait_for(self, names: list[str], position: int, timeout: float) -> int:
        """Block until every named projection reached `position` or the timeout passed; the lowest reached."""
        deadline = time.monotonic() + timeout
        delay = 0.002
        while True:
            positions = self.all()
            lowest = min((positions.get(name, 0) for name in names), default=0)
            if lowest >= position or time.monotonic() >= deadline:
                return lowest
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

"""Access to the projections' tables for the read routes: plain SQL, no aggregates."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from psycopg.sql import SQL, Composable, Identifier

from projections.positions import Positions

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresDatastore
    from psycopg import Cursor


class ReadModels:
    """Cursors over the read-model tables, and the projections' positions."""

    def __init__(self, datastore: PostgresDatastore, head: Callable[[], int | None],
                 consistency_timeout: float = 5.0) -> None:
        self.datastore = datastore
        self.head = head  # the event store's last position
        self.schema = datastore.schema
        self.positions = Positions(datastore)
        self.consistency_timeout = consistency_timeout

    def table(self, name: str) -> Composable:
        return SQL("{}.{}").format(Identifier(self.schema), Identifier(name))

    @contextmanager
    def cursor(self) -> Iterator[Cursor[Any]]:
        """A read transaction. JIT is off: read-model queries take milliseconds, and compiling a
        plan PostgreSQL thinks is costly took 24 ms for a search and 2 s for a stats query."""
        with self.datastore.transaction() as cur:
            cur.execute("SET LOCAL jit = off")
            yield cur

    def create_tables(self) -> None:
        """Tables the read side owns itself: users' saved views."""
        self.positions.create_table()
        with self.datastore.transaction(commit=True) as cur:
            cur.execute(SQL("CREATE TABLE IF NOT EXISTS {} (id uuid PRIMARY KEY, owner_id text NOT NULL,"
                            " name text NOT NULL, filters jsonb NOT NULL, created_at timestamptz NOT NULL"
                            " DEFAULT now(), UNIQUE (owner_id, name))").format(self.table("saved_views")))

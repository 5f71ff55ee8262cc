"""Human ticket numbers (GD-000123): unique, allocated once, from a PostgreSQL sequence."""

from __future__ import annotations

import itertools
import threading
from typing import TYPE_CHECKING

from psycopg.sql import SQL, Identifier

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresDatastore


class TicketNumbers:
    """Takes numbers from the database a block at a time, so a create costs no extra query."""

    block = 50

    def __init__(self, datastore: PostgresDatastore, prefix: str = "GD") -> None:
        self._db = datastore
        self._prefix = prefix
        self._seq = SQL("{}.ledgerdesk_ticket_numbers").format(Identifier(datastore.schema))
        self._free: list[int] = []
        self._lock = threading.Lock()

    def create_sequence(self) -> None:
        with self._db.transaction(commit=True) as cur:
            cur.execute(SQL("CREATE SEQUENCE IF NOT EXISTS {}").format(self._seq))

    def next(self) -> str:
        with self._lock:
            if not self._free:
                with self._db.transaction() as cur:
                    cur.execute(SQL("SELECT nextval('{}') AS n FROM generate_series(1, %s)").format(
                        SQL(self._seq.as_string())), (self.block,))
                    self._free = sorted((row["n"] for row in cur.fetchall()), reverse=True)
            return f"{self._prefix}-{self._free.pop():06d}"


class CountingTicketNumbers:
    """In-memory numbers for an in-memory event store (unit tests)."""

    def __init__(self, prefix: str = "GD") -> None:
        self._counter = itertools.count(1)
        self._prefix = prefix
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            return f"{self._prefix}-{next(self._counter):06d}"

"""The projector: follows the notification log and feeds each projection in batches.

A batch is applied and the projection's position advanced in one transaction, under a
row lock on that position: a crash anywhere loses nothing and doubles nothing, and two
runners (say, a rebuild switching over) never apply the same events twice.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Protocol

import psycopg
from psycopg.sql import SQL, Composed, Identifier

from projections.positions import Positions

if TYPE_CHECKING:
    from eventsourcing.persistence import Mapper
    from eventsourcing.postgres import PostgresApplicationRecorder
    from psycopg import Cursor

log = logging.getLogger("ledgerdesk.projector")


class Projection(Protocol):
    """A read model: it owns its tables and turns batches of events into rows."""

    name: str
    tables: tuple[str, ...]
    suffix: str

    def create_tables(self, cur: Cursor, *, with_indexes: bool = True) -> bool: ...

    def index_statements(self) -> list[Composed]: ...

    def apply(self, cur: Cursor, events: list[tuple[int, Any]]) -> None: ...


class ProjectionRunner:
    """Feeds projections from the store; prompt through LISTEN/NOTIFY, with a slow poll as backstop."""

    batch_size = 2000

    def __init__(self, recorder: PostgresApplicationRecorder, mapper: Mapper, projections: list[Projection],
                 *, positions: Positions | None = None) -> None:
        self.recorder = recorder
        self.mapper = mapper
        self.projections = projections
        self.positions = positions or Positions(recorder.datastore)
        self.stopping = threading.Event()
        self._wakeups: dict[str, threading.Event] = {}

    def create_tables(self) -> None:
        """Every projection's tables; one whose tables were (re)made empty starts from the first event."""
        self.positions.create_table()
        for projection in self.projections:
            with self.recorder.datastore.transaction(commit=True) as cur:
                if projection.create_tables(cur):
                    self.positions.lock(cur, projection.name)
                    self.positions.advance(cur, projection.name, 0)

    def step(self, projection: Projection, limit: int | None = None) -> int:
        """Apply the next batch to one projection; the number of events applied."""
        start = self.positions.get(projection.name)
        notifications = self.recorder.select_notifications(start=start, limit=limit or self.batch_size,
                                                           inclusive_of_start=False)
        if not notifications:
            return 0
        events = [(n.id, self.mapper.to_domain_event(n)) for n in notifications]
        with self.recorder.datastore.transaction(commit=True) as cur:
            if self.positions.lock(cur, projection.name) != start:
                return 0  # another runner moved it meanwhile: read again
            projection.apply(cur, events)
            self.positions.advance(cur, projection.name, notifications[-1].id)
        return len(events)

    def catch_up(self) -> int:
        """Apply everything stored so far to every projection."""
        total = 0
        while not self.stopping.is_set():
            moved = sum(self.step(projection) for projection in self.projections)
            total += moved
            if moved == 0:
                return total
        return total

    def _connect(self) -> psycopg.Connection[Any]:
        kwargs = self.recorder.datastore.pool.kwargs
        return psycopg.connect(autocommit=True, **{k: v for k, v in kwargs.items() if k != "row_factory"})

    def clean_pending_lists(self, interval: float) -> None:
        """Keep GIN pending lists short from beside the projector.

        GIN indexes queue new entries in a pending list and merge it when it outgrows
        gin_pending_list_limit, inside whichever transaction crosses the limit: on a
        million tickets that made single projector batches take seconds. Merging small
        lists often, on another connection, keeps each batch short (bench/RESULTS.md).
        """
        tables = [f"{self.recorder.datastore.schema}.{t}" for p in self.projections for t in p.tables]
        with self._connect() as conn:
            while not self.stopping.wait(interval):
                try:
                    conn.execute("SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i"
                                 " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
                                 " WHERE a.amname = 'gin'"
                                 " AND i.indrelid IN (SELECT to_regclass(t) FROM unnest(%s::text[]) AS t)", (tables,))
                except psycopg.Error:
                    log.exception("cleaning GIN pending lists failed; will try again")

    def run_forever(self, poll_seconds: float = 1.0, gin_clean_seconds: float = 0.5) -> None:
        """Catch up, then follow every commit to the events table until stopped.

        Each projection has a thread of its own, so a slow batch of one (say, the audit log
        after a bulk import) does not hold the others back; one LISTEN connection wakes them all.
        """
        self._wakeups = {projection.name: threading.Event() for projection in self.projections}
        threads = [threading.Thread(target=self.clean_pending_lists, args=(gin_clean_seconds,), daemon=True,
                                    name="gin-janitor")]
        threads += [threading.Thread(target=self._follow, args=(projection, poll_seconds), daemon=True,
                                     name=f"projection-{projection.name}") for projection in self.projections]
        for thread in threads:
            thread.start()
        with self._connect() as conn:
            conn.execute(SQL("LISTEN {}").format(Identifier(self.recorder.channel_name)))
            while not self.stopping.is_set():
                for _ in conn.notifies(timeout=poll_seconds, stop_after=1):
                    pass
                for wakeup in self._wakeups.values():  # a commit, or the poll as a backstop
                    wakeup.set()
        for thread in threads:
            thread.join(timeout=5)

    def _follow(self, projection: Projection, poll_seconds: float) -> None:
        wakeup = self._wakeups[projection.name]
        while not self.stopping.is_set():
            wakeup.clear()  # before reading, so a commit from now on wakes the next round
            try:
                while self.step(projection) and not self.stopping.is_set():
                    pass
            except Exception:  # noqa: BLE001 - keep following; the batch will be retried
                log.exception("projection %s: batch failed; retrying", projection.name)
                self.stopping.wait(1.0)
                continue
            wakeup.wait(poll_seconds)

    def stop(self) -> None:
        self.stopping.set()
        for wakeup in self._wakeups.values():
            wakeup.set()

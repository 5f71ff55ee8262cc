"""Group commit: concurrent commands' events go into the store in one transaction.

The library's recorder takes an EXCLUSIVE table lock per insert so notification ids
follow commit order. That lock serialises writers, so throughput is bound by one
transaction's round trips. Here one writer thread drains every write waiting in the
queue and inserts them together, under the same lock: ordering is kept, and the lock
and commit are paid once per batch instead of once per command.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from queue import Empty, SimpleQueue
from typing import TYPE_CHECKING, Any

from eventsourcing.postgres import PostgresApplicationRecorder

if TYPE_CHECKING:
    from collections.abc import Sequence

    from eventsourcing.persistence import StoredEvent


@dataclass
class _Write:
    events: Sequence[StoredEvent]
    done: threading.Event = field(default_factory=threading.Event)
    ids: Sequence[int] | None = None
    error: BaseException | None = None

    def finish(self, ids: Sequence[int] | None = None, error: BaseException | None = None) -> None:
        self.ids, self.error = ids, error
        self.done.set()


class GroupCommitRecorder(PostgresApplicationRecorder):
    """An application recorder whose inserts are batched by a single writer thread."""

    max_batch = 512

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queue: SimpleQueue[_Write | None] = SimpleQueue()
        self._writer: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        kwargs = {key: value for key, value in kwargs.items() if value is not None}  # save() passes tracking=None
        if kwargs or not stored_events:
            return super().insert_events(stored_events, **kwargs)
        self._ensure_writer()
        write = _Write(stored_events)
        self._queue.put(write)
        write.done.wait()
        if write.error is not None:
            raise write.error
        return write.ids

    def close_writer(self) -> None:
        """Stop the writer thread after it has committed what is queued."""
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join(timeout=10)
            self._writer = None

    def _ensure_writer(self) -> None:
        if self._writer is None:
            with self._start_lock:
                if self._writer is None:
                    self._writer = threading.Thread(target=self._run, name="group-commit", daemon=True)
                    self._writer.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                batch.append(nxt)
            self._commit(batch)

    def _commit(self, batch: list[_Write]) -> None:
        if len(batch) == 1:
            self._commit_alone(batch[0])
            return
        events = [event for write in batch for event in write.events]
        try:
            ids = super().insert_events(events)
        except Exception:  # noqa: BLE001
            # A write lost a version race (or the batch failed otherwise): commit each
            # alone, so only the writes that fail on their own are refused.
            for write in batch:
                self._commit_alone(write)
            return
        offset = 0
        for write in batch:
            count = len(write.events)
            write.finish(ids=None if ids is None else ids[offset:offset + count])
            offset += count

    def _commit_alone(self, write: _Write) -> None:
        try:
            write.finish(ids=super().insert_events(write.events))
        except BaseException as error:  # noqa: BLE001 - handed to the waiting caller
            write.finish(error=error)

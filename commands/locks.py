"""One lock per aggregate id, so commands on one ticket in this process take turns."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Hashable


class KeyedLocks:
    """Locks made on demand and dropped when nobody holds or waits for them."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Hashable, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, *keys: Hashable) -> Iterator[None]:
        ordered = sorted(set(keys), key=str)  # one global order: no deadlock between two merges
        locks = [self._take(key) for key in ordered]
        try:
            for lock in locks:
                lock.acquire()
            yield
        finally:
            for lock in reversed(locks):
                lock.release()
            for key in ordered:
                self._drop(key)

    def _take(self, key: Hashable) -> threading.Lock:
        with self._guard:
            lock, users = self._locks.get(key, (None, 0))
            lock = lock or threading.Lock()
            self._locks[key] = (lock, users + 1)
            return lock

    def _drop(self, key: Hashable) -> None:
        with self._guard:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

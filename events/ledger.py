"""The read-only ledger: the event store application that history, replay and writes share."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application

from events.errors import NotFound
from events.ticket import Ticket

if TYPE_CHECKING:
    from eventsourcing.domain import Aggregate


class Ledger(Application[UUID]):
    """Loads aggregates and their streams; writes belong to the desk that extends it."""

    name = "ledgerdesk"
    # The cache serves the write path: a stale entry can only lead to a version conflict,
    # which evicts it and retries. Reads that must see other processes' writes use
    # current_ticket(), which checks the store for newer events.
    env = {
        "AGGREGATE_CACHE_MAXSIZE": "20000",
        "AGGREGATE_CACHE_FASTFORWARD": "n",
        "DEEPCOPY_FROM_AGGREGATE_CACHE": "n",
    }

    def load(self, aggregate_id: UUID, kind: type[Aggregate], version: int | None = None) -> Any:
        """The aggregate as it is now (or at `version`); NotFound if absent or of another kind."""
        try:
            aggregate = self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            raise NotFound(f"{kind.__name__.lower()} not found") from None
        if not isinstance(aggregate, kind):
            raise NotFound(f"{kind.__name__.lower()} not found")
        return aggregate

    def ticket(self, ticket_id: UUID, version: int | None = None) -> Ticket:
        return self.load(ticket_id, Ticket, version)

    def current_ticket(self, ticket_id: UUID) -> Ticket:
        """The ticket with every stored event, also those other processes wrote (one indexed query)."""
        cached = self.cached(ticket_id)
        if isinstance(cached, Ticket):
            if not any(True for _ in self.events.get(ticket_id, gt=cached.version, limit=1)):
                return cached
            self.evict(ticket_id)
        return self.ticket(ticket_id)

    def stream(self, aggregate_id: UUID) -> list[Any]:
        """Every stored event of one aggregate, oldest first."""
        return list(self.events.get(aggregate_id))

    def ticket_as_of(self, ticket_id: UUID, at: datetime) -> Ticket:
        """The ticket as it stood at `at`, replayed from its stream."""
        last = None
        for stored in self.stream(ticket_id):
            if stored.timestamp > at:
                break
            last = stored.originator_version
        if last is None:
            raise NotFound("the ticket did not exist yet at that time", code="ticket.not_yet_created")
        return self.ticket(ticket_id, version=last)

    def cached(self, aggregate_id: UUID) -> Any | None:
        """The aggregate if it is in this process's cache, else None (no I/O)."""
        cache = self.repository.cache
        if cache is None:
            return None
        try:
            return cache.get(aggregate_id)
        except KeyError:
            return None

    def evict(self, aggregate_id: UUID) -> None:
        """Forget a cached aggregate, e.g. after a failed write left it changed."""
        cache = self.repository.cache
        if cache is not None:
            with suppress(KeyError):
                cache.get(aggregate_id, evict=True)

"""A ticket's history and its state as it was, read from the event store."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime, BaseModel

from events.errors import DomainError
from events.ledger import Ledger
from identity import policy
from identity.deps import CurrentActor
from read_api.ticket_views import history_entries, ticket_state

router = APIRouter(prefix="/api/v1/tickets", tags=["history"])


class BadQuery(DomainError):
    code = "query.invalid"
    status = 422


async def ledger(request: Request) -> Ledger:
    return request.app.state.desk


LedgerDep = Annotated[Ledger, Depends(ledger)]


class Actorship(BaseModel):
    id: str
    role: str


class HistoryEntry(BaseModel):
    version: int
    type: str
    time: datetime
    actor: Actorship
    correlation_id: str
    data: dict[str, Any]


class TicketHistory(BaseModel):
    id: UUID
    number: str
    data: list[HistoryEntry]


@router.get("/{ticket_id}/history", response_model=TicketHistory)
def ticket_history(ticket_id: UUID, ledger: LedgerDep, actor: CurrentActor) -> dict[str, Any]:
    """Every event of the ticket, oldest first: version, type, time, actor and data."""
    ticket = ledger.current_ticket(ticket_id)
    policy.require_view(actor, ticket)
    return {"id": ticket_id, "number": ticket.number,
            "data": history_entries(ledger.stream(ticket_id), actor)}


@router.get("/{ticket_id}/state")
def ticket_state_as_of(
    ticket_id: UUID, ledger: LedgerDep, actor: CurrentActor,
    at: Annotated[AwareDatetime | None, Query(description="RFC 3339 time, e.g. 2026-12-01T08:00:00+08:00")] = None,
    version: Annotated[int | None, Query(ge=1, le=10**9)] = None,
) -> dict[str, Any]:
    """The ticket as it is now, or as it was at a time or version (replayed from its events)."""
    if at is not None and version is not None:
        raise BadQuery("give either at or version, not both")
    current = ledger.current_ticket(ticket_id)
    policy.require_view(actor, current)
    if version is not None:
        if version > current.version:
            raise BadQuery(f"the ticket has only {current.version} versions", code="ticket.no_such_version")
        ticket = ledger.ticket(ticket_id, version=version)
    elif at is not None:
        ticket = ledger.ticket_as_of(ticket_id, at)
    else:
        ticket = current
    return ticket_state(ticket, actor)

"""A ticket's state as JSON and back, so a projection can replay events onto it in memory."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from events.ticket import Ticket


def dump(ticket: Ticket) -> dict[str, Any]:
    """The public attributes plus id, version and timestamps, JSON-ready."""
    state = {k: v for k, v in vars(ticket).items() if not k.startswith("_")}
    state.update(id=str(ticket.id), version=ticket.version,
                 created_on=ticket.created_on.isoformat(), modified_on=ticket.modified_on.isoformat())
    return state


def without_nul(value: Any) -> Any:
    """PostgreSQL text and jsonb cannot hold U+0000: drop it from anything bound for a row."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value


def load(state: dict[str, Any]) -> Ticket:
    """A Ticket object with that state, ready for the next event's mutate()."""
    ticket = Ticket.__new__(Ticket)
    attributes = {k: v for k, v in state.items() if k not in ("id", "version", "created_on", "modified_on")}
    ticket.__dict__.update(attributes)
    ticket.__dict__.update(_id=UUID(state["id"]), _version=state["version"], _pending_events=[],
                           _created_on=datetime.fromisoformat(state["created_on"]),
                           _modified_on=datetime.fromisoformat(state["modified_on"]))
    return ticket

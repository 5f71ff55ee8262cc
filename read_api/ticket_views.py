"""What a reader may see of a ticket and its stream; customers never see internal notes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from identity.policy import sees_internal_notes

if TYPE_CHECKING:
    from events.actor import Actor
    from events.ticket import Ticket

_ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic", "meta"})
_STATE_FIELDS = (
    "number", "title", "description", "status", "priority", "channel", "category", "tags", "contact",
    "custom_fields", "customer", "region", "product", "team_id", "assignee_id", "links", "merged_into",
    "absorbed", "escalation_level", "rating", "resolution", "first_responded_at", "resolved_at", "closed_at",
)


def ticket_state(ticket: Ticket, reader: Actor) -> dict[str, Any]:
    """The ticket's state as this reader may see it."""
    comments = ticket.comments if sees_internal_notes(reader) else [c for c in ticket.comments if c["public"]]
    return {
        "id": str(ticket.id), "version": ticket.version,
        **{name: getattr(ticket, name) for name in _STATE_FIELDS},
        "comments": comments,
        "created_by": {"id": ticket.created_by["actor_id"], "role": ticket.created_by["actor_role"]},
        "created_at": ticket.created_on.isoformat(), "updated_at": ticket.modified_on.isoformat(),
    }


def history_entries(stream: list[Any], reader: Actor) -> list[dict[str, Any]]:
    """Every event of the stream the reader may see: version, type, time, actor, data."""
    internal = sees_internal_notes(reader)
    entries = []
    for event in stream:
        data = {k: v for k, v in vars(event).items() if k not in _ENVELOPE}
        if not internal and type(event).__name__ == "CommentAdded" and not data.get("public", True):
            continue
        meta = event.meta
        entries.append({
            "version": event.originator_version, "type": type(event).__name__,
            "time": event.timestamp.isoformat(),
            "actor": {"id": meta["actor_id"], "role": meta["actor_role"]},
            "correlation_id": meta.get("correlation_id", ""), "data": data,
        })
    return entries

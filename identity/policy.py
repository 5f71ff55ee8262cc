"""The permission policy: one place says who may see and do what to a ticket."""

from __future__ import annotations

from typing import TYPE_CHECKING

from events.errors import NotFound
from identity.errors import Forbidden

if TYPE_CHECKING:
    from events.actor import Actor
    from events.ticket import Ticket

CUSTOMER_ACTIONS = frozenset({"comment", "close", "reopen", "rate"})
AGENT_ACTIONS = frozenset({
    "claim", "start", "hold", "resume", "resolve", "close", "reopen", "comment", "internal_note",
    "priority", "tags", "fields", "escalate", "link", "merge",
})
SUPERVISOR_ACTIONS = AGENT_ACTIONS | {"assign", "transfer"}
ADMIN_ACTIONS = SUPERVISOR_ACTIONS
CREATORS = frozenset({"customer", "agent", "supervisor", "admin"})

ACTIONS_BY_ROLE: dict[str, frozenset[str]] = {
    "customer": CUSTOMER_ACTIONS,
    "agent": AGENT_ACTIONS,
    "supervisor": SUPERVISOR_ACTIONS,
    "admin": ADMIN_ACTIONS,
    "auditor": frozenset(),
}


def can_view(actor: Actor, ticket: Ticket) -> bool:
    """Customers see their own tickets; staff their teams', their own and the unrouted queue."""
    if actor.role in ("admin", "auditor"):
        return True
    if actor.role == "customer":
        return ticket.customer_id == actor.id
    if actor.role in ("agent", "supervisor"):
        return ticket.team_id is None or ticket.team_id in actor.team_ids or ticket.assignee_id == actor.id
    return False


def require_view(actor: Actor, ticket: Ticket) -> None:
    """404 rather than 403: whether a ticket exists is itself not to leak."""
    if not can_view(actor, ticket):
        raise NotFound("ticket not found")


def require(actor: Actor, action: str, ticket: Ticket) -> None:
    """Refuse `action` on `ticket` unless the actor's role allows it there."""
    require_view(actor, ticket)
    if action not in ACTIONS_BY_ROLE.get(actor.role, frozenset()):
        raise Forbidden(f"a {actor.role} may not {action.replace('_', ' ')} this ticket")


def require_create(actor: Actor) -> None:
    if actor.role not in CREATORS:
        raise Forbidden(f"a {actor.role} may not create tickets")


def require_admin(actor: Actor) -> None:
    if actor.role != "admin":
        raise Forbidden("only an admin may do this")


def sees_internal_notes(actor: Actor) -> bool:
    return actor.role != "customer"

"""POST routes for ticket commands: parse, check permission inside the change, save."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from fastapi import APIRouter

from commands.deps import DeskDep, ExpectedVersion, IdempotencyKey, UnknownReference, require_exists
from commands.desk import Desk, Receipt
from commands.models import (
    Accepted, AddComment, AssignTicket, ChangePriority, LinkTicket, MergeTicket, OpenTicket, RateTicket,
    Reason, ResolveTicket, Retag, SetFields, TicketOpened, TransferTicket, ticket_form,
)
from events.account import Account, Team
from events.actor import STAFF_ROLES, Actor
from events.errors import NotFound
from events.ticket import Ticket
from identity import policy
from identity.deps import CurrentActor
from identity.errors import Forbidden

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])


def _accepted(receipt: Receipt) -> Accepted:
    return Accepted(id=receipt.id, version=receipt.version, position=receipt.position)


def _act(desk: Desk, ticket_id: UUID, actor: Actor, action: str,
         change: Callable[[Ticket], None], version: int | None) -> Accepted:
    def guarded(ticket: Ticket) -> None:
        policy.require(actor, action, ticket)
        change(ticket)
    return _accepted(desk.change_ticket(ticket_id, guarded, expected_version=version))


@router.post("", status_code=201, response_model=TicketOpened)
def open_ticket(body: OpenTicket, desk: DeskDep, actor: CurrentActor, key: IdempotencyKey) -> TicketOpened:
    """File a new ticket (受理); a repeated Idempotency-Key returns the first ticket."""
    policy.require_create(actor)
    if actor.role == "customer":
        if body.customer_id not in (None, UUID(actor.id)):
            raise Forbidden("a customer files tickets for themselves only")
        customer_id: str | None = actor.id
    else:
        customer_id = str(body.customer_id) if body.customer_id else None
        if body.customer_id:
            require_exists(desk, body.customer_id, Account, "customer")
    if body.team_id:
        require_exists(desk, body.team_id, Team, "team")
    extra = body.customer.model_dump() if body.customer else {}
    receipt = desk.open_ticket(ticket_form(body, customer_id, extra), actor, key)
    return TicketOpened(id=receipt.id, version=receipt.version, position=receipt.position,
                        number=receipt.number or "")


@router.post("/{ticket_id}/assign", response_model=Accepted)
def assign_ticket(ticket_id: UUID, body: AssignTicket, desk: DeskDep, actor: CurrentActor,
                  version: ExpectedVersion) -> Accepted:
    """Assign the ticket to an agent (supervisors within their teams, admins anywhere)."""
    assignee = require_exists(desk, body.assignee_id, Account, "assignee")
    assert isinstance(assignee, Account)
    if assignee.role not in STAFF_ROLES or not assignee.active:
        raise UnknownReference("tickets are assigned to active agents, supervisors or admins")
    if actor.role == "supervisor" and not set(assignee.team_ids) & set(actor.team_ids):
        raise Forbidden("a supervisor assigns to members of their own teams")
    if body.team_id:
        require_exists(desk, body.team_id, Team, "team")
    team_id = str(body.team_id) if body.team_id else None
    return _act(desk, ticket_id, actor, "assign",
                lambda t: t.assign(str(body.assignee_id), actor, team_id=team_id), version)


@router.post("/{ticket_id}/claim", response_model=Accepted)
def claim_ticket(ticket_id: UUID, desk: DeskDep, actor: CurrentActor, version: ExpectedVersion) -> Accepted:
    """Take an unassigned ticket yourself."""
    return _act(desk, ticket_id, actor, "claim", lambda t: t.claim(actor), version)


@router.post("/{ticket_id}/start", response_model=Accepted)
def start_ticket(ticket_id: UUID, desk: DeskDep, actor: CurrentActor, version: ExpectedVersion) -> Accepted:
    """Start working on an accepted ticket (跟进)."""
    return _act(desk, ticket_id, actor, "start", lambda t: t.start(actor), version)


@router.post("/{ticket_id}/hold", response_model=Accepted)
def hold_ticket(ticket_id: UUID, desk: DeskDep, actor: CurrentActor, version: ExpectedVersion,
                body: Reason | None = None) -> Accepted:
    """Put the ticket on hold while waiting on the customer (SLA paused)."""
    reason = body.reason if body else ""
    return _act(desk, ticket_id, actor, "hold", lambda t: t.hold(reason, actor), version)


@router.post("/{ticket_id}/resume", response_model=Accepted)
def resume_ticket(ticket_id: UUID, desk: DeskDep, actor: CurrentActor, version: ExpectedVersion) -> Accepted:
    """Resume work on a ticket that was on hold."""
    return _act(desk, ticket_id, actor, "resume", lambda t: t.resume(actor), version)


@router.post("/{ticket_id}/resolve", response_model=Accepted)
def resolve_ticket(ticket_id: UUID, desk: DeskDep, actor: CurrentActor, version: ExpectedVersion,
                   body: ResolveTicket | None = None) -> Accepted:
    """Mark the ticket resolved (解决), with what was done."""
    resolution = body.resolution if body else ""
    return _act(desk, ticket_id, actor, "resolve", lambda t: t.resolve(resolution, actor), version)


@router.post("/{ticket_id}/close", response_model=Accepted)
def close_ticket(ticket_id: UUID, desk: DeskDep, actor: CurrentActor, version: ExpectedVersion) -> Accepted:
    """Close a resolved ticket (关闭); a customer may also withdraw an unresolved one."""
    def close(ticket: Ticket) -> None:
        withdrawn = actor.role == "customer" and ticket.status != "resolved"
        ticket.close(actor, reason="withdrawn" if withdrawn else "confirmed")
    return _act(desk, ticket_id, actor, "close", close, version)


@router.post("/{ticket_id}/reopen", response_model=Accepted)
def reopen_ticket(ticket_id: UUID, desk: DeskDep, actor: CurrentActor, version: ExpectedVersion,
                  body: Reason | None = None) -> Accepted:
    """Reopen a resolved or closed ticket."""
    reason = body.reason if body else ""
    return _act(desk, ticket_id, actor, "reopen", lambda t: t.reopen(reason, actor), version)


@router.post("/{ticket_id}/comments", response_model=Accepted)
def add_comment(ticket_id: UUID, body: AddComment, desk: DeskDep, actor: CurrentActor,
                version: ExpectedVersion) -> Accepted:
    """Reply to the customer, or add an internal note (public=false)."""
    action = "comment" if body.public else "internal_note"
    return _act(desk, ticket_id, actor, action, lambda t: t.add_comment(body.body, body.public, actor), version)


@router.post("/{ticket_id}/priority", response_model=Accepted)
def change_priority(ticket_id: UUID, body: ChangePriority, desk: DeskDep, actor: CurrentActor,
                    version: ExpectedVersion) -> Accepted:
    """Change the ticket's priority."""
    return _act(desk, ticket_id, actor, "priority",
                lambda t: t.change_priority(body.priority, actor, body.reason), version)


@router.post("/{ticket_id}/tags", response_model=Accepted)
def retag_ticket(ticket_id: UUID, body: Retag, desk: DeskDep, actor: CurrentActor,
                 version: ExpectedVersion) -> Accepted:
    """Add and remove tags."""
    return _act(desk, ticket_id, actor, "tags", lambda t: t.retag(body.add, body.remove, actor), version)


@router.post("/{ticket_id}/fields", response_model=Accepted)
def set_fields(ticket_id: UUID, body: SetFields, desk: DeskDep, actor: CurrentActor,
               version: ExpectedVersion) -> Accepted:
    """Set custom fields (a null value removes the field)."""
    return _act(desk, ticket_id, actor, "fields", lambda t: t.set_fields(dict(body.fields), actor), version)


@router.post("/{ticket_id}/transfer", response_model=Accepted)
def transfer_ticket(ticket_id: UUID, body: TransferTicket, desk: DeskDep, actor: CurrentActor,
                    version: ExpectedVersion) -> Accepted:
    """Hand the ticket to another team; it waits there for a new assignee."""
    require_exists(desk, body.team_id, Team, "team")
    def transfer(ticket: Ticket) -> None:
        if actor.role == "supervisor" and ticket.team_id not in (None, *actor.team_ids):
            raise Forbidden("a supervisor transfers tickets of their own teams")
        ticket.transfer(str(body.team_id), actor, body.reason)
    return _act(desk, ticket_id, actor, "transfer", transfer, version)


@router.post("/{ticket_id}/escalate", response_model=Accepted)
def escalate_ticket(ticket_id: UUID, desk: DeskDep, actor: CurrentActor, version: ExpectedVersion,
                    body: Reason | None = None) -> Accepted:
    """Escalate the ticket one level."""
    reason = body.reason if body else ""
    return _act(desk, ticket_id, actor, "escalate", lambda t: t.escalate(reason, actor), version)


@router.post("/{ticket_id}/merge", response_model=Accepted)
def merge_ticket(ticket_id: UUID, body: MergeTicket, desk: DeskDep, actor: CurrentActor,
                 version: ExpectedVersion) -> Accepted:
    """Merge this ticket into another; it ends `merged`, the other records it."""
    def check(source: Ticket, target: Ticket) -> None:
        policy.require(actor, "merge", source)
        policy.require(actor, "merge", target)
    if body.into_id != ticket_id:
        try:
            policy.require_view(actor, desk.ticket(body.into_id))
        except NotFound:
            raise UnknownReference(f"ticket {body.into_id} does not exist") from None
    return _accepted(desk.merge_tickets(ticket_id, body.into_id, check, actor, expected_version=version))


@router.post("/{ticket_id}/links", response_model=Accepted)
def link_ticket(ticket_id: UUID, body: LinkTicket, desk: DeskDep, actor: CurrentActor,
                version: ExpectedVersion) -> Accepted:
    """Link another ticket as parent, child or related."""
    if body.ticket_id != ticket_id:
        try:
            policy.require_view(actor, desk.ticket(body.ticket_id))
        except NotFound:
            raise UnknownReference(f"ticket {body.ticket_id} does not exist") from None
    return _act(desk, ticket_id, actor, "link", lambda t: t.link(str(body.ticket_id), body.kind, actor), version)


@router.post("/{ticket_id}/rating", response_model=Accepted)
def rate_ticket(ticket_id: UUID, body: RateTicket, desk: DeskDep, actor: CurrentActor,
                version: ExpectedVersion) -> Accepted:
    """Rate the service once the ticket is resolved (the customer's satisfaction)."""
    return _act(desk, ticket_id, actor, "rate", lambda t: t.rate(body.score, body.comment, actor), version)

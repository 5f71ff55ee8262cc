"""The Ticket aggregate: its event stream is the ticket's audit trail."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from events.actor import Actor
from events.errors import TicketRuleViolated
from events.ticket_status import require_transition


def _iso(event: Aggregate.Event) -> str:
    return event.timestamp.isoformat()


class Ticket(Aggregate):
    """An after-sales service ticket. Commands check, then trigger a past-tense event."""

    class Event(Aggregate.Event):
        meta: dict[str, Any]

    class Created(Event, Aggregate.Created):
        number: str
        title: str
        description: str
        priority: str
        channel: str
        category: str | None
        tags: list[str]
        contact: dict[str, Any] | None
        custom_fields: dict[str, Any]
        customer: dict[str, Any]
        region: str | None
        product: dict[str, Any]
        team_id: str | None

    def __init__(  # noqa: PLR0913 - the ticket's whole intake form
        self, number: str, title: str, description: str, priority: str, channel: str,
        category: str | None, tags: list[str], contact: dict[str, Any] | None,
        custom_fields: dict[str, Any], customer: dict[str, Any], region: str | None,
        product: dict[str, Any], team_id: str | None, meta: dict[str, Any],
    ) -> None:
        self.number = number
        self.title = title
        self.description = description
        self.status = "new"
        self.priority = priority
        self.channel = channel
        self.category = category
        self.tags = list(tags)
        self.contact = dict(contact) if contact else None
        self.custom_fields = dict(custom_fields)
        self.customer = dict(customer)
        self.region = region
        self.product = dict(product)
        self.team_id = team_id
        self.assignee_id: str | None = None
        self.comments: list[dict[str, Any]] = []
        self.links: list[dict[str, str]] = []
        self.merged_into: str | None = None
        self.absorbed: list[str] = []
        self.escalation_level = 0
        self.rating: dict[str, Any] | None = None
        self.resolution: str | None = None
        self.first_responded_at: str | None = None
        self.resolved_at: str | None = None
        self.closed_at: str | None = None
        self.created_by = meta

    @classmethod
    def open(cls, ticket_id: UUID, **form: Any) -> Ticket:
        """File a ticket under a chosen id (a stable one makes creation idempotent)."""
        return cls._create(cls.Created, id=ticket_id, **form)

    @property
    def customer_id(self) -> str | None:
        return self.customer.get("id")

    # -- acceptance and routing -------------------------------------------------

    def assign(self, assignee_id: str, by: Actor, team_id: str | None = None) -> None:
        require_transition("assign", self.status)
        self.trigger_event(self.Assigned, assignee_id=assignee_id, team_id=team_id, meta=by.meta())

    def claim(self, by: Actor) -> None:
        require_transition("claim", self.status)
        if self.assignee_id not in (None, by.id):
            raise TicketRuleViolated("ticket is assigned to someone else", code="ticket.already_assigned")
        self.trigger_event(self.Assigned, assignee_id=by.id, team_id=None, meta=by.meta())

    class Assigned(Event):
        assignee_id: str
        team_id: str | None

        def apply(self, ticket: Ticket) -> None:
            ticket.assignee_id = self.assignee_id
            if self.team_id is not None:
                ticket.team_id = self.team_id
            if ticket.status == "new":
                ticket.status = "open"

    def transfer(self, team_id: str, by: Actor, reason: str = "") -> None:
        require_transition("transfer", self.status)
        if team_id == self.team_id:
            raise TicketRuleViolated("ticket already belongs to that team", code="ticket.same_team")
        self.trigger_event(self.Transferred, team_id=team_id, reason=reason, meta=by.meta())

    class Transferred(Event):
        team_id: str
        reason: str

        def apply(self, ticket: Ticket) -> None:
            ticket.team_id = self.team_id
            ticket.assignee_id = None

    def escalate(self, reason: str, by: Actor) -> None:
        require_transition("escalate", self.status)
        self.trigger_event(self.Escalated, level=self.escalation_level + 1, reason=reason, meta=by.meta())

    class Escalated(Event):
        level: int
        reason: str

        def apply(self, ticket: Ticket) -> None:
            ticket.escalation_level = self.level

    # -- working the ticket -----------------------------------------------------

    def start(self, by: Actor) -> None:
        require_transition("start", self.status)
        self.trigger_event(self.Started, meta=by.meta())

    class Started(Event):
        def apply(self, ticket: Ticket) -> None:
            ticket.status = "in_progress"

    def hold(self, reason: str, by: Actor) -> None:
        require_transition("hold", self.status)
        self.trigger_event(self.PutOnHold, reason=reason, meta=by.meta())

    class PutOnHold(Event):
        reason: str

        def apply(self, ticket: Ticket) -> None:
            ticket.status = "pending"

    def resume(self, by: Actor) -> None:
        require_transition("resume", self.status)
        self.trigger_event(self.Resumed, meta=by.meta())

    class Resumed(Event):
        def apply(self, ticket: Ticket) -> None:
            ticket.status = "in_progress"

    def add_comment(self, body: str, public: bool, by: Actor) -> None:
        require_transition("comment", self.status)
        self.trigger_event(self.CommentAdded, body=body, public=public, meta=by.meta())

    class CommentAdded(Event):
        body: str
        public: bool

        def apply(self, ticket: Ticket) -> None:
            ticket.comments.append({
                "number": len(ticket.comments) + 1, "body": self.body, "public": self.public,
                "author_id": self.meta["actor_id"], "author_role": self.meta["actor_role"],
                "at": _iso(self),
            })
            if self.public and ticket.first_responded_at is None and self.meta["actor_role"] in (
                "agent", "supervisor", "admin"
            ):
                ticket.first_responded_at = _iso(self)

    # -- resolution and closing -------------------------------------------------

    def resolve(self, resolution: str, by: Actor) -> None:
        require_transition("resolve", self.status)
        self.trigger_event(self.Resolved, resolution=resolution, meta=by.meta())

    class Resolved(Event):
        resolution: str

        def apply(self, ticket: Ticket) -> None:
            ticket.status = "resolved"
            ticket.resolution = self.resolution
            ticket.resolved_at = _iso(self)

    def close(self, by: Actor, reason: str = "confirmed") -> None:
        """Close a resolved ticket; before resolution only the customer may withdraw it."""
        require_transition("withdraw" if reason == "withdrawn" else "close", self.status)
        self.trigger_event(self.Closed, reason=reason, meta=by.meta())

    class Closed(Event):
        reason: str

        def apply(self, ticket: Ticket) -> None:
            ticket.status = "closed"
            ticket.closed_at = _iso(self)

    def reopen(self, reason: str, by: Actor) -> None:
        require_transition("reopen", self.status)
        self.trigger_event(self.Reopened, reason=reason, meta=by.meta())

    class Reopened(Event):
        reason: str

        def apply(self, ticket: Ticket) -> None:
            ticket.status = "open"
            ticket.resolution = ticket.resolved_at = ticket.closed_at = None

    def rate(self, score: int, comment: str, by: Actor) -> None:
        require_transition("rate", self.status)
        if self.resolved_at is None:
            raise TicketRuleViolated("only a resolved ticket can be rated", code="ticket.not_resolved")
        if self.rating is not None:
            raise TicketRuleViolated("ticket was already rated", code="ticket.already_rated")
        self.trigger_event(self.Rated, score=score, comment=comment, meta=by.meta())

    class Rated(Event):
        score: int
        comment: str

        def apply(self, ticket: Ticket) -> None:
            ticket.rating = {"score": self.score, "comment": self.comment, "at": _iso(self)}

    # -- merging and links ------------------------------------------------------

    def merge_into(self, target: Ticket, by: Actor) -> None:
        """Mark this ticket merged into `target`; the caller also absorbs it there."""
        if target.id == self.id:
            raise TicketRuleViolated("a ticket cannot be merged into itself", code="ticket.merge_self")
        require_transition("merge", self.status)
        require_transition("absorb", target.status)
        self.trigger_event(self.Merged, into_id=str(target.id), into_number=target.number, meta=by.meta())
        target.trigger_event(target.Absorbed, source_id=str(self.id), source_number=self.number, meta=by.meta())

    class Merged(Event):
        into_id: str
        into_number: str

        def apply(self, ticket: Ticket) -> None:
            ticket.status = "merged"
            ticket.merged_into = self.into_id

    class Absorbed(Event):
        source_id: str
        source_number: str

        def apply(self, ticket: Ticket) -> None:
            ticket.absorbed.append(self.source_id)

    def link(self, other_id: str, kind: str, by: Actor) -> None:
        require_transition("link", self.status)
        if other_id == str(self.id):
            raise TicketRuleViolated("a ticket cannot link to itself", code="ticket.link_self")
        if {"ticket_id": other_id, "kind": kind} in self.links:
            raise TicketRuleViolated("that link exists already", code="ticket.link_exists")
        self.trigger_event(self.Linked, other_id=other_id, kind=kind, meta=by.meta())

    class Linked(Event):
        other_id: str
        kind: str

        def apply(self, ticket: Ticket) -> None:
            ticket.links.append({"ticket_id": self.other_id, "kind": self.kind})

    # -- classification ---------------------------------------------------------

    def change_priority(self, priority: str, by: Actor, reason: str = "") -> None:
        require_transition("change_priority", self.status)
        if priority == self.priority:
            raise TicketRuleViolated(f"priority is already {priority}", code="ticket.unchanged")
        self.trigger_event(self.PriorityChanged, priority=priority, previous=self.priority,
                           reason=reason, meta=by.meta())

    class PriorityChanged(Event):
        priority: str
        previous: str
        reason: str

        def apply(self, ticket: Ticket) -> None:
            ticket.priority = self.priority

    def retag(self, add: list[str], remove: list[str], by: Actor, max_tags: int = 20) -> None:
        """Add and remove tags; each change is its own `Tagged` / `Untagged` event."""
        require_transition("tag", self.status)
        added = [t for t in dict.fromkeys(add) if t not in self.tags]
        removed = [t for t in dict.fromkeys(remove) if t in self.tags and t not in added]
        if len(self.tags) + len(added) - len(removed) > max_tags:
            raise TicketRuleViolated(f"a ticket carries at most {max_tags} tags", code="ticket.too_many_tags")
        if not added and not removed:
            raise TicketRuleViolated("the tags are already so", code="ticket.unchanged")
        if added:
            self.trigger_event(self.Tagged, tags=added, meta=by.meta())
        if removed:
            self.trigger_event(self.Untagged, tags=removed, meta=by.meta())

    class Tagged(Event):
        tags: list[str]

        def apply(self, ticket: Ticket) -> None:
            ticket.tags.extend(self.tags)

    class Untagged(Event):
        tags: list[str]

        def apply(self, ticket: Ticket) -> None:
            ticket.tags = [t for t in ticket.tags if t not in self.tags]

    def set_fields(self, fields: dict[str, Any], by: Actor) -> None:
        require_transition("set_fields", self.status)
        changed = {k: v for k, v in fields.items() if self.custom_fields.get(k) != v}
        if not changed:
            raise TicketRuleViolated("the fields are already so", code="ticket.unchanged")
        self.trigger_event(self.FieldsSet, fields=changed, meta=by.meta())

    class FieldsSet(Event):
        fields: dict[str, Any]

        def apply(self, ticket: Ticket) -> None:
            for key, value in self.fields.items():
                if value is None:
                    ticket.custom_fields.pop(key, None)
                else:
                    ticket.custom_fields[key] = value

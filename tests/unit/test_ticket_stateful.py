"""Random days at the service desk: whatever people try, two tickets stay consistent and replayable."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import Application
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from events.actor import Actor
from events.errors import DomainError
from events.ticket import Ticket
from events.ticket_status import STATUSES
from tests.unit.tickets import (
    ADMIN, AGENT, AUDITOR, AUTO_CLOSE, CUSTOMER, OTHER_AGENT, OTHER_CUSTOMER, SUPERVISOR, TEAM_NETWORK,
    TEAM_PRINTERS, intake,
)

STAFF = ("agent", "supervisor", "admin")
TAGS = [f"tag-{i}" for i in range(23)]  # more than 20, so the limit gets hit
TEAMS = [TEAM_PRINTERS, TEAM_NETWORK, str(uuid4())]

# Every status change DESIGN §3 draws (from, to); anything else is a bug.
ARROWS = {
    ("new", "open"), ("open", "in_progress"), ("in_progress", "pending"), ("pending", "in_progress"),
    *{(s, "resolved") for s in ("open", "in_progress", "pending")},
    ("resolved", "closed"), *{(s, "closed") for s in ("new", "open", "in_progress", "pending")},
    ("resolved", "open"), ("closed", "open"),
    *{(s, "merged") for s in ("new", "open", "in_progress", "pending", "resolved")},
}

actors = st.sampled_from([CUSTOMER, OTHER_CUSTOMER, AGENT, OTHER_AGENT, SUPERVISOR, ADMIN, AUDITOR, AUTO_CLOSE])
staff = st.sampled_from([AGENT, OTHER_AGENT, SUPERVISOR, ADMIN])
which = st.sampled_from([0, 1])
texts = st.text(max_size=12)
tag_lists = st.lists(st.sampled_from(TAGS), max_size=6)
field_values = st.one_of(st.none(), st.integers(-5, 5), st.sampled_from(["", "A-7", "三楼"]), st.booleans(),
                         st.floats(allow_nan=False, allow_infinity=False, width=32))
field_changes = st.dictionaries(st.sampled_from(["floor", "room", "desk", "sn"]), field_values,
                                min_size=1, max_size=3)


class TwoTicketsAtTheDesk(RuleBasedStateMachine):
    """Two tickets, every command by anyone; refusals are fine, inconsistency is not."""

    @initialize(first_tags=st.lists(st.sampled_from(TAGS), unique=True, min_size=17, max_size=20),
                second_tags=st.lists(st.sampled_from(TAGS), unique=True, max_size=3))
    def file_two_tickets(self, first_tags: list[str], second_tags: list[str]) -> None:
        self.app: Application[UUID] = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        self.tickets = [
            Ticket.open(uuid4(), meta=CUSTOMER.meta(), **intake(tags=first_tags)),
            Ticket.open(uuid4(), meta=OTHER_CUSTOMER.meta(), **intake(
                tags=second_tags, team_id=None, customer={"id": OTHER_CUSTOMER.id})),
        ]
        self.events_saved = [0, 0]
        self.statuses = ["new", "new"]
        self.ever = [{"new"}, {"new"}]  # every status each ticket has been in
        self.frozen: list[dict[str, Any] | None] = [None, None]  # state when merged
        self.escalations = [0, 0]
        self.save()

    # -- bookkeeping -----------------------------------------------------------------

    def save(self) -> None:
        for i, ticket in enumerate(self.tickets):
            self.events_saved[i] += len(ticket.pending_events)
        self.app.save(*self.tickets)
        for i, ticket in enumerate(self.tickets):
            if ticket.status != self.statuses[i]:
                assert (self.statuses[i], ticket.status) in ARROWS
                self.statuses[i] = ticket.status
            self.ever[i].add(ticket.status)
            if ticket.status == "merged" and self.frozen[i] is None:
                self.frozen[i] = copy.deepcopy(vars(ticket))

    def attempt(self, command: Callable[[], None]) -> bool:
        """Run a command; a refusal must leave both tickets exactly as they were, with nothing pending."""
        before = [copy.deepcopy(vars(t)) for t in self.tickets]
        try:
            command()
        except DomainError:
            for ticket, was in zip(self.tickets, before, strict=True):
                assert ticket.pending_events == []
                assert vars(ticket) == was
            return False
        self.save()
        return True

    # -- rules: one per command ------------------------------------------------------

    @rule(i=which, assignee=staff, by=actors, team=st.none() | st.sampled_from(TEAMS))
    def assign(self, i: int, assignee: Actor, by: Actor, team: str | None) -> None:
        self.attempt(lambda: self.tickets[i].assign(assignee.id, by, team_id=team))

    @rule(i=which, by=actors)
    def claim(self, i: int, by: Actor) -> None:
        self.attempt(lambda: self.tickets[i].claim(by))

    @rule(i=which, by=actors)
    def start(self, i: int, by: Actor) -> None:
        self.attempt(lambda: self.tickets[i].start(by))

    @rule(i=which, by=actors, reason=texts)
    def hold(self, i: int, by: Actor, reason: str) -> None:
        self.attempt(lambda: self.tickets[i].hold(reason, by))

    @rule(i=which, by=actors)
    def resume(self, i: int, by: Actor) -> None:
        self.attempt(lambda: self.tickets[i].resume(by))

    @rule(i=which, by=actors, resolution=texts)
    def resolve(self, i: int, by: Actor, resolution: str) -> None:
        self.attempt(lambda: self.tickets[i].resolve(resolution, by))

    @rule(i=which, by=actors, reason=st.sampled_from(["confirmed", "withdrawn", "auto_closed"]))
    def close(self, i: int, by: Actor, reason: str) -> None:
        self.attempt(lambda: self.tickets[i].close(by, reason=reason))

    @rule(i=which, by=actors, reason=texts)
    def reopen(self, i: int, by: Actor, reason: str) -> None:
        self.attempt(lambda: self.tickets[i].reopen(reason, by))

    @rule(i=which, by=actors, body=texts, public=st.booleans())
    def comment(self, i: int, by: Actor, body: str, public: bool) -> None:
        self.attempt(lambda: self.tickets[i].add_comment(body, public, by))

    @rule(i=which, by=actors, priority=st.sampled_from(["low", "normal", "high", "urgent"]))
    def change_priority(self, i: int, by: Actor, priority: str) -> None:
        self.attempt(lambda: self.tickets[i].change_priority(priority, by))

    @rule(i=which, by=actors, add=tag_lists, remove=tag_lists)
    def retag(self, i: int, by: Actor, add: list[str], remove: list[str]) -> None:
        self.attempt(lambda: self.tickets[i].retag(add, remove, by))

    @rule(i=which, by=actors, fields=field_changes)
    def set_fields(self, i: int, by: Actor, fields: dict[str, Any]) -> None:
        self.attempt(lambda: self.tickets[i].set_fields(fields, by))

    @rule(i=which, by=actors, team=st.sampled_from(TEAMS), reason=texts)
    def transfer(self, i: int, by: Actor, team: str, reason: str) -> None:
        self.attempt(lambda: self.tickets[i].transfer(team, by, reason))

    @rule(i=which, by=actors, reason=texts)
    def escalate(self, i: int, by: Actor, reason: str) -> None:
        if self.attempt(lambda: self.tickets[i].escalate(reason, by)):
            self.escalations[i] += 1

    @rule(i=which, by=actors, to=st.sampled_from(["other", "self", "elsewhere"]),
          kind=st.sampled_from(["parent", "child", "related"]))
    def link(self, i: int, by: Actor, to: str, kind: str) -> None:
        other = {"other": str(self.tickets[1 - i].id), "self": str(self.tickets[i].id),
                 "elsewhere": "00000000-0000-4000-8000-000000000000"}[to]
        self.attempt(lambda: self.tickets[i].link(other, kind, by))

    @rule(i=which, by=actors, score=st.integers(1, 5), comment=texts)
    def rate(self, i: int, by: Actor, score: int, comment: str) -> None:
        self.attempt(lambda: self.tickets[i].rate(score, comment, by))

    @rule(source=which, by=actors)
    def merge(self, source: int, by: Actor) -> None:
        self.attempt(lambda: self.tickets[source].merge_into(self.tickets[1 - source], by))

    @rule(i=which, by=actors)
    def merge_into_itself(self, i: int, by: Actor) -> None:
        self.attempt(lambda: self.tickets[i].merge_into(self.tickets[i], by))

    # -- what is always true ---------------------------------------------------------

    @invariant()
    def status_is_one_of_the_lifecycle_statuses(self) -> None:
        for ticket in self.tickets:
            assert ticket.status in STATUSES

    @invariant()
    def a_merged_ticket_never_changes_again(self) -> None:
        for ticket, frozen in zip(self.tickets, self.frozen, strict=True):
            if frozen is not None:
                assert vars(ticket) == frozen

    @invariant()
    def merging_is_recorded_on_both_sides(self) -> None:
        for i, ticket in enumerate(self.tickets):
            other = self.tickets[1 - i]
            assert (ticket.status == "merged") == (ticket.merged_into is not None)
            if ticket.merged_into is not None:
                assert ticket.merged_into == str(other.id)
                assert other.absorbed == [str(ticket.id)]
            else:
                assert other.absorbed == []

    @invariant()
    def the_dates_match_the_status(self) -> None:
        for ticket in self.tickets:
            if ticket.status in ("new", "open", "in_progress", "pending"):
                assert ticket.resolved_at is None and ticket.closed_at is None and ticket.resolution is None
            if ticket.status == "resolved":
                assert ticket.resolved_at is not None and ticket.resolution is not None
                assert ticket.closed_at is None
            if ticket.status == "closed":
                assert ticket.closed_at is not None

    @invariant()
    def a_new_ticket_has_no_assignee(self) -> None:
        for ticket in self.tickets:
            if ticket.status == "new":
                assert ticket.assignee_id is None

    @invariant()
    def only_a_resolved_or_closed_ticket_was_ever_rated(self) -> None:
        for ticket, ever in zip(self.tickets, self.ever, strict=True):
            if ticket.rating is not None:
                assert ever & {"resolved", "closed"}
                assert 1 <= ticket.rating["score"] <= 5

    @invariant()
    def tags_are_unique_and_at_most_twenty(self) -> None:
        for ticket in self.tickets:
            assert len(ticket.tags) == len(set(ticket.tags)) <= 20

    @invariant()
    def links_are_unique_and_never_to_itself(self) -> None:
        for ticket in self.tickets:
            pairs = [(link["ticket_id"], link["kind"]) for link in ticket.links]
            assert len(pairs) == len(set(pairs))
            assert str(ticket.id) not in {ticket_id for ticket_id, _ in pairs}

    @invariant()
    def comments_are_numbered_one_to_n(self) -> None:
        for ticket in self.tickets:
            assert [c["number"] for c in ticket.comments] == list(range(1, len(ticket.comments) + 1))

    @invariant()
    def first_response_is_the_first_public_staff_reply(self) -> None:
        for ticket in self.tickets:
            replies = [c for c in ticket.comments if c["public"] and c["author_role"] in STAFF]
            assert ticket.first_responded_at == (replies[0]["at"] if replies else None)

    @invariant()
    def escalation_level_counts_the_escalations(self) -> None:
        for ticket, count in zip(self.tickets, self.escalations, strict=True):
            assert ticket.escalation_level == count

    @invariant()
    def version_is_the_number_of_events(self) -> None:
        for i, ticket in enumerate(self.tickets):
            assert ticket.pending_events == []
            assert ticket.version == self.events_saved[i] == len(list(self.app.events.get(ticket.id)))

    @invariant()
    def replaying_the_stored_events_gives_the_live_ticket(self) -> None:
        for ticket in self.tickets:
            replayed = self.app.repository.get(ticket.id)
            assert replayed is not ticket
            assert vars(replayed) == vars(ticket)


TwoTicketsAtTheDesk.TestCase.settings = settings(
    max_examples=80, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_two_tickets_at_the_desk = TwoTicketsAtTheDesk.TestCase

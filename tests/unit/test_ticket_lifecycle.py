"""The ticket's lifecycle (DESIGN §3), played on the aggregate in memory."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest

from events.errors import DomainError, InvalidTransition, TicketRuleViolated
from events.ticket import Ticket
from events.ticket_status import STATUSES
from tests.unit.tickets import (
    ADMIN, AGENT, AUTO_CLOSE, CUSTOMER, OTHER_AGENT, SUPERVISOR, TEAM_NETWORK, TEAM_PRINTERS, filed, intake,
    ticket_in,
)

# The lifecycle as DESIGN §3 draws it, written out here (not imported) so the model is checked against it.
MOVES: dict[str, tuple[set[str], str]] = {
    # move: (statuses it may start from, status it ends in)
    "start": ({"open"}, "in_progress"),
    "hold": ({"in_progress"}, "pending"),
    "resume": ({"pending"}, "in_progress"),
    "resolve": ({"open", "in_progress", "pending"}, "resolved"),
    "close": ({"resolved"}, "closed"),
    "withdraw": ({"new", "open", "in_progress", "pending"}, "closed"),
    "reopen": ({"resolved", "closed"}, "open"),
    "merge": ({"new", "open", "in_progress", "pending", "resolved"}, "merged"),
}

DO: dict[str, Callable[[Ticket], None]] = {
    "start": lambda t: t.start(AGENT),
    "hold": lambda t: t.hold("waiting for the customer's photo", AGENT),
    "resume": lambda t: t.resume(AGENT),
    "resolve": lambda t: t.resolve("replaced the fuse", AGENT),
    "close": lambda t: t.close(CUSTOMER),
    "withdraw": lambda t: t.close(CUSTOMER, reason="withdrawn"),
    "reopen": lambda t: t.reopen("it broke again", CUSTOMER),
    "merge": lambda t: t.merge_into(filed(), AGENT),
}


def snapshot(ticket: Ticket) -> dict[str, Any]:
    return copy.deepcopy(vars(ticket))


def assert_refused(ticket: Ticket, command: Callable[[Ticket], None], error: type[DomainError], code: str) -> None:
    """The command is refused with `code`, and the ticket is exactly as it was, with nothing pending."""
    before = snapshot(ticket)
    with pytest.raises(error) as refusal:
        command(ticket)
    assert refusal.value.code == code
    assert refusal.value.status == 409
    assert ticket.pending_events == []
    assert vars(ticket) == before


# -- filing -----------------------------------------------------------------------


def test_a_filed_ticket_is_new_unassigned_and_records_who_filed_it() -> None:
    ticket = Ticket.open(uuid4(), meta=CUSTOMER.meta(), **{
        "number": "GD-000123", "title": "打印机无法开机", "description": "", "priority": "high",
        "channel": "wechat", "category": None, "tags": ["printer"], "contact": None, "custom_fields": {},
        "customer": {"id": CUSTOMER.id}, "region": None, "product": {}, "team_id": None,
    })

    [created] = ticket.pending_events
    assert type(created).__name__ == "Created"
    assert created.meta == {"actor_id": CUSTOMER.id, "actor_role": "customer", "correlation_id": "req-customer"}
    assert ticket.status == "new" and ticket.number == "GD-000123" and ticket.version == 1
    assert ticket.assignee_id is None and ticket.customer_id == CUSTOMER.id
    assert ticket.created_by["actor_id"] == CUSTOMER.id


# -- the allowed moves ------------------------------------------------------------


def test_a_supervisor_assigns_a_new_ticket_and_it_opens() -> None:
    ticket = filed(team_id=None)

    ticket.assign(AGENT.id, SUPERVISOR, team_id=TEAM_PRINTERS)

    assert ticket.status == "open" and ticket.assignee_id == AGENT.id and ticket.team_id == TEAM_PRINTERS
    [assigned] = ticket.pending_events
    assert type(assigned).__name__ == "Assigned" and assigned.meta["actor_id"] == SUPERVISOR.id


def test_an_agent_claims_a_new_ticket_and_it_opens_with_them_as_assignee() -> None:
    ticket = filed()

    ticket.claim(AGENT)

    assert ticket.status == "open" and ticket.assignee_id == AGENT.id and ticket.team_id == TEAM_PRINTERS


def test_reassigning_an_open_ticket_keeps_it_open() -> None:
    ticket = ticket_in("open")

    ticket.assign(OTHER_AGENT.id, SUPERVISOR)

    assert ticket.status == "open" and ticket.assignee_id == OTHER_AGENT.id


def test_an_agent_cannot_claim_a_ticket_assigned_to_someone_else() -> None:
    ticket = ticket_in("open")  # assigned to AGENT

    assert_refused(ticket, lambda t: t.claim(OTHER_AGENT), TicketRuleViolated, "ticket.already_assigned")


@pytest.mark.parametrize("move", sorted(MOVES))
@pytest.mark.parametrize("status", [s for s in STATUSES])
def test_each_lifecycle_move_is_allowed_exactly_where_the_design_draws_it(move: str, status: str) -> None:
    allowed_from, ends_in = MOVES[move]
    ticket = ticket_in(status)

    if status in allowed_from:
        version = ticket.version
        DO[move](ticket)
        assert ticket.status == ends_in
        assert ticket.version == version + 1
        assert len(ticket.pending_events) == 1
    else:
        assert_refused(ticket, DO[move], InvalidTransition, "ticket.invalid_transition")


def test_working_a_ticket_through_to_closed_tells_the_whole_story() -> None:
    ticket = filed()

    ticket.claim(AGENT)
    ticket.start(AGENT)
    ticket.hold("waiting for the serial number", AGENT)
    ticket.add_comment("SN-12345", True, CUSTOMER)
    ticket.resume(AGENT)
    ticket.resolve("replaced the fuse", AGENT)
    ticket.close(CUSTOMER)

    assert [type(e).__name__ for e in ticket.pending_events] == [
        "Assigned", "Started", "PutOnHold", "CommentAdded", "Resumed", "Resolved", "Closed",
    ]
    assert ticket.status == "closed" and ticket.resolution == "replaced the fuse"
    assert ticket.resolved_at is not None and ticket.closed_at is not None
    assert ticket.version == 8


def test_the_auto_close_job_closes_a_resolved_ticket_as_the_system() -> None:
    ticket = ticket_in("resolved")

    ticket.close(AUTO_CLOSE, reason="auto_closed")

    [closed] = ticket.pending_events
    assert ticket.status == "closed" and closed.reason == "auto_closed"
    assert closed.meta == {"actor_id": "system:auto_close", "actor_role": "system",
                           "correlation_id": "job-auto-close"}


def test_a_customer_withdraws_their_unresolved_ticket() -> None:
    ticket = ticket_in("in_progress")

    ticket.close(CUSTOMER, reason="withdrawn")

    [closed] = ticket.pending_events
    assert ticket.status == "closed" and closed.reason == "withdrawn"
    assert ticket.resolved_at is None


def test_reopening_forgets_the_resolution_but_keeps_the_assignee() -> None:
    ticket = ticket_in("closed")

    ticket.reopen("the printer died again", CUSTOMER)

    assert ticket.status == "open" and ticket.assignee_id == AGENT.id
    assert ticket.resolution is None and ticket.resolved_at is None and ticket.closed_at is None


# -- merging ----------------------------------------------------------------------


def test_merging_marks_the_source_merged_and_the_target_absorbs_it() -> None:
    source, target = ticket_in("open"), ticket_in("in_progress")

    source.merge_into(target, AGENT)

    assert source.status == "merged" and source.merged_into == str(target.id)
    assert target.status == "in_progress" and target.absorbed == [str(source.id)]
    [merged] = source.pending_events
    [absorbed] = target.pending_events
    assert merged.into_number == target.number and absorbed.source_number == source.number
    assert merged.meta == absorbed.meta == AGENT.meta()


def test_a_ticket_cannot_be_merged_into_itself() -> None:
    ticket = ticket_in("open")

    assert_refused(ticket, lambda t: t.merge_into(t, AGENT), TicketRuleViolated, "ticket.merge_self")


@pytest.mark.parametrize("target_status", ["closed", "merged"])
def test_a_ticket_cannot_be_merged_into_a_closed_or_merged_one_and_neither_changes(target_status: str) -> None:
    source, target = ticket_in("open"), ticket_in(target_status)
    target_before = snapshot(target)

    assert_refused(source, lambda t: t.merge_into(target, AGENT), InvalidTransition, "ticket.invalid_transition")

    assert target.pending_events == [] and vars(target) == target_before


@pytest.mark.parametrize("command", [
    lambda t: t.add_comment("still there?", True, CUSTOMER),
    lambda t: t.retag(["urgent-care"], [], AGENT),
    lambda t: t.set_fields({"floor": 4}, AGENT),
    lambda t: t.link(str(uuid4()), "related", AGENT),
    lambda t: t.change_priority("urgent", AGENT),
    lambda t: t.assign(AGENT.id, SUPERVISOR),
    lambda t: t.claim(AGENT),
    lambda t: t.transfer(TEAM_NETWORK, SUPERVISOR),
    lambda t: t.escalate("VIP", SUPERVISOR),
    lambda t: t.rate(5, "great", CUSTOMER),
    lambda t: t.reopen("why", CUSTOMER),
], ids=["comment", "tag", "fields", "link", "priority", "assign", "claim", "transfer", "escalate", "rate",
        "reopen"])
def test_a_merged_ticket_refuses_every_further_change(command: Callable[[Ticket], None]) -> None:
    ticket = ticket_in("merged")

    assert_refused(ticket, command, InvalidTransition, "ticket.invalid_transition")


# -- rating -----------------------------------------------------------------------


@pytest.mark.parametrize("status", ["new", "open", "in_progress", "pending"])
def test_an_unresolved_ticket_cannot_be_rated(status: str) -> None:
    assert_refused(ticket_in(status), lambda t: t.rate(5, "", CUSTOMER), InvalidTransition,
                   "ticket.invalid_transition")


def test_a_resolved_ticket_is_rated_once_only_even_after_reopening() -> None:
    ticket = ticket_in("resolved")

    ticket.rate(4, "快", CUSTOMER)
    assert ticket.rating is not None and ticket.rating["score"] == 4 and ticket.rating["comment"] == "快"
    ticket.collect_events()

    assert_refused(ticket, lambda t: t.rate(1, "changed my mind", CUSTOMER), TicketRuleViolated,
                   "ticket.already_rated")
    ticket.reopen("again", CUSTOMER)
    ticket.resolve("again fixed", AGENT)
    ticket.collect_events()
    assert_refused(ticket, lambda t: t.rate(1, "", CUSTOMER), TicketRuleViolated, "ticket.already_rated")


# -- classification ---------------------------------------------------------------


def test_retagging_records_added_and_removed_tags_as_separate_events() -> None:
    ticket = filed(tags=["printer", "fuse"])

    ticket.retag(["vip", "printer", "vip"], ["fuse", "never-there"], AGENT)

    assert [(type(e).__name__, e.tags) for e in ticket.pending_events] == [
        ("Tagged", ["vip"]), ("Untagged", ["fuse"]),
    ]
    assert ticket.tags == ["printer", "vip"]


def test_retagging_to_the_same_tags_is_refused_as_unchanged() -> None:
    ticket = filed(tags=["printer"])

    assert_refused(ticket, lambda t: t.retag(["printer"], ["absent"], AGENT), TicketRuleViolated, "ticket.unchanged")


def test_a_ticket_carries_at_most_twenty_tags() -> None:
    ticket = filed(tags=[f"t{i}" for i in range(19)])

    assert_refused(ticket, lambda t: t.retag(["a", "b"], [], AGENT), TicketRuleViolated, "ticket.too_many_tags")
    ticket.retag(["a"], [], AGENT)
    ticket.retag(["b"], ["t0"], AGENT)  # a swap at the limit is fine

    assert len(ticket.tags) == 20 and len(set(ticket.tags)) == 20
    ticket.collect_events()
    assert_refused(ticket, lambda t: t.retag(["c"], [], AGENT), TicketRuleViolated, "ticket.too_many_tags")


def test_changing_priority_records_the_previous_one_and_refuses_no_change() -> None:
    ticket = filed(priority="normal")

    ticket.change_priority("urgent", SUPERVISOR, reason="VIP customer")

    [changed] = ticket.pending_events
    assert (changed.priority, changed.previous, changed.reason) == ("urgent", "normal", "VIP customer")
    ticket.collect_events()
    assert_refused(ticket, lambda t: t.change_priority("urgent", AGENT), TicketRuleViolated, "ticket.unchanged")


def test_setting_fields_records_only_what_changed_and_null_removes_a_field() -> None:
    ticket = filed(custom_fields={"floor": 3, "room": "301"})

    ticket.set_fields({"floor": 3, "room": None, "desk": "A-7"}, AGENT)

    [fields_set] = ticket.pending_events
    assert fields_set.fields == {"room": None, "desk": "A-7"}
    assert ticket.custom_fields == {"floor": 3, "desk": "A-7"}
    ticket.collect_events()
    assert_refused(ticket, lambda t: t.set_fields({"floor": 3, "gone": None}, AGENT), TicketRuleViolated,
                   "ticket.unchanged")


def test_transferring_hands_the_ticket_to_another_team_without_an_assignee() -> None:
    ticket = ticket_in("in_progress")

    ticket.transfer(TEAM_NETWORK, SUPERVISOR, reason="it is the router")

    assert ticket.team_id == TEAM_NETWORK and ticket.assignee_id is None
    ticket.collect_events()
    assert_refused(ticket, lambda t: t.transfer(TEAM_NETWORK, SUPERVISOR), TicketRuleViolated, "ticket.same_team")


def test_escalating_raises_the_level_one_step_at_a_time() -> None:
    ticket = ticket_in("open")

    ticket.escalate("no answer in 2 hours", SUPERVISOR)
    ticket.escalate("still no answer", ADMIN)

    assert ticket.escalation_level == 2
    assert [e.level for e in ticket.pending_events] == [1, 2]


def test_links_are_to_other_tickets_and_not_repeated() -> None:
    ticket, other = filed(), str(uuid4())

    ticket.link(other, "parent", AGENT)
    ticket.link(other, "related", AGENT)

    assert ticket.links == [{"ticket_id": other, "kind": "parent"}, {"ticket_id": other, "kind": "related"}]
    ticket.collect_events()
    assert_refused(ticket, lambda t: t.link(other, "parent", AGENT), TicketRuleViolated, "ticket.link_exists")
    assert_refused(ticket, lambda t: t.link(str(t.id), "related", AGENT), TicketRuleViolated, "ticket.link_self")


# -- comments and the first response ----------------------------------------------


def test_comments_are_numbered_and_remember_their_author() -> None:
    ticket = ticket_in("open")

    ticket.add_comment("还是不行", True, CUSTOMER)
    ticket.add_comment("客户说话很急", False, AGENT)

    assert [(c["number"], c["author_id"], c["author_role"], c["public"]) for c in ticket.comments] == [
        (1, CUSTOMER.id, "customer", True), (2, AGENT.id, "agent", False),
    ]


def test_first_response_is_the_first_public_reply_by_staff() -> None:
    ticket = ticket_in("open")

    ticket.add_comment("hello?", True, CUSTOMER)
    ticket.add_comment("note to self: check fuse", False, AGENT)
    ticket.add_comment("system ping", True, AUTO_CLOSE)
    assert ticket.first_responded_at is None

    ticket.add_comment("您好，我们正在处理", True, AGENT)
    reply = ticket.pending_events[-1]
    assert ticket.first_responded_at == reply.timestamp.isoformat()

    ticket.add_comment("update: parts ordered", True, SUPERVISOR)
    assert ticket.first_responded_at == reply.timestamp.isoformat()


# -- who did it -------------------------------------------------------------------


def test_every_event_records_the_actor_their_role_and_the_request() -> None:
    ticket = Ticket.open(uuid4(), meta=CUSTOMER.meta(), **intake())
    other = filed()
    steps = [
        (SUPERVISOR, lambda t: t.assign(AGENT.id, SUPERVISOR)),
        (AGENT, lambda t: t.start(AGENT)),
        (AGENT, lambda t: t.add_comment("on it", True, AGENT)),
        (AGENT, lambda t: t.hold("waiting", AGENT)),
        (CUSTOMER, lambda t: t.add_comment("here you go", True, CUSTOMER)),
        (AGENT, lambda t: t.resume(AGENT)),
        (SUPERVISOR, lambda t: t.change_priority("high", SUPERVISOR)),
        (AGENT, lambda t: t.retag(["fuse"], ["printer"], AGENT)),
        (AGENT, lambda t: t.set_fields({"floor": 5}, AGENT)),
        (SUPERVISOR, lambda t: t.escalate("VIP", SUPERVISOR)),
        (AGENT, lambda t: t.link(str(other.id), "related", AGENT)),
        (SUPERVISOR, lambda t: t.transfer(TEAM_NETWORK, SUPERVISOR)),
        (OTHER_AGENT, lambda t: t.claim(OTHER_AGENT)),
        (OTHER_AGENT, lambda t: t.resolve("fixed", OTHER_AGENT)),
        (CUSTOMER, lambda t: t.rate(5, "thanks", CUSTOMER)),
        (AUTO_CLOSE, lambda t: t.close(AUTO_CLOSE, reason="auto_closed")),
        (CUSTOMER, lambda t: t.reopen("again", CUSTOMER)),
        (ADMIN, lambda t: t.merge_into(other, ADMIN)),
    ]
    expected = [CUSTOMER]
    for actor, step in steps:
        before = len(ticket.pending_events)
        step(ticket)
        expected += [actor] * (len(ticket.pending_events) - before)

    events = ticket.pending_events
    assert len(events) == len(expected) == ticket.version
    for event, actor in zip(events, expected, strict=True):
        assert event.meta == {"actor_id": actor.id, "actor_role": actor.role,
                              "correlation_id": actor.correlation_id}, type(event).__name__
    [absorbed] = other.pending_events
    assert absorbed.meta == ADMIN.meta()

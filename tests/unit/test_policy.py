"""Who may see and do what to a ticket (DESIGN §7), and what a customer reads of it."""

from __future__ import annotations

from uuid import uuid4

import pytest

from events.actor import Actor
from events.errors import NotFound
from events.ticket import Ticket
from identity import policy
from identity.errors import Forbidden
from read_api.ticket_views import history_entries, ticket_state
from tests.unit.tickets import (
    ADMIN, AGENT, AUDITOR, CUSTOMER, OTHER_AGENT, OTHER_CUSTOMER, SUPERVISOR, TEAM_NETWORK, TEAM_PRINTERS, filed,
)

ACTIONS = ("claim", "start", "hold", "resume", "resolve", "close", "reopen", "comment", "internal_note",
           "priority", "tags", "fields", "escalate", "link", "merge", "assign", "transfer", "rate")
# What each role may do to a ticket it can see, written out from DESIGN §7 and the routes' docstrings.
MAY = {
    "customer": {"comment", "close", "reopen", "rate"},
    "agent": set(ACTIONS) - {"assign", "transfer", "rate"},
    "supervisor": set(ACTIONS) - {"rate"},
    "admin": set(ACTIONS) - {"rate"},
    "auditor": set(),
}
BY_ROLE = {"customer": CUSTOMER, "agent": AGENT, "supervisor": SUPERVISOR, "admin": ADMIN, "auditor": AUDITOR}


def printers_ticket(**overrides: object) -> Ticket:
    """CUSTOMER's ticket, routed to the printers team that AGENT and SUPERVISOR belong to."""
    return filed(**{"team_id": TEAM_PRINTERS, **overrides})


# -- seeing -------------------------------------------------------------------------


def test_a_customer_sees_their_own_ticket_and_nobody_elses() -> None:
    mine, theirs = printers_ticket(), printers_ticket(customer={"id": OTHER_CUSTOMER.id})

    assert policy.can_view(CUSTOMER, mine)
    assert not policy.can_view(CUSTOMER, theirs)
    with pytest.raises(NotFound) as hidden:
        policy.require_view(CUSTOMER, theirs)
    assert hidden.value.status == 404 and hidden.value.code == "not_found"


def test_a_customer_does_not_see_a_ticket_filed_without_a_customer() -> None:
    assert not policy.can_view(CUSTOMER, printers_ticket(customer={"id": None}))


def test_an_agent_sees_their_teams_tickets_their_own_and_the_unrouted_queue() -> None:
    team_ticket = printers_ticket()
    unrouted = printers_ticket(team_id=None)
    elsewhere = printers_ticket(team_id=TEAM_NETWORK)
    assigned_elsewhere = printers_ticket(team_id=TEAM_NETWORK)
    assigned_elsewhere.assign(AGENT.id, ADMIN)

    assert policy.can_view(AGENT, team_ticket)
    assert policy.can_view(AGENT, unrouted)
    assert policy.can_view(AGENT, assigned_elsewhere)
    assert not policy.can_view(AGENT, elsewhere)
    assert policy.can_view(OTHER_AGENT, elsewhere) and not policy.can_view(OTHER_AGENT, team_ticket)


def test_a_transferred_ticket_leaves_the_old_teams_view() -> None:
    ticket = printers_ticket()
    ticket.assign(AGENT.id, SUPERVISOR)

    ticket.transfer(TEAM_NETWORK, SUPERVISOR)

    assert not policy.can_view(AGENT, ticket) and not policy.can_view(SUPERVISOR, ticket)
    assert policy.can_view(OTHER_AGENT, ticket)


def test_a_supervisor_sees_as_far_as_their_teams() -> None:
    assert policy.can_view(SUPERVISOR, printers_ticket())
    assert not policy.can_view(SUPERVISOR, printers_ticket(team_id=TEAM_NETWORK))


@pytest.mark.parametrize("reader", [ADMIN, AUDITOR], ids=["admin", "auditor"])
def test_admins_and_auditors_see_every_ticket(reader: Actor) -> None:
    for ticket in (printers_ticket(), printers_ticket(team_id=TEAM_NETWORK, customer={"id": OTHER_CUSTOMER.id})):
        assert policy.can_view(reader, ticket)


def test_a_system_job_or_unknown_role_sees_nothing_through_the_policy() -> None:
    assert not policy.can_view(Actor.system("sla"), printers_ticket())
    assert not policy.can_view(Actor(id=str(uuid4()), role="intruder"), printers_ticket())


# -- doing --------------------------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", sorted(MAY))
def test_each_role_may_do_exactly_its_share_to_a_ticket_it_sees(role: str, action: str) -> None:
    actor, ticket = BY_ROLE[role], printers_ticket()

    if action in MAY[role]:
        policy.require(actor, action, ticket)
    else:
        with pytest.raises(Forbidden) as refusal:
            policy.require(actor, action, ticket)
        assert refusal.value.status == 403 and refusal.value.code == "forbidden"


def test_an_auditor_files_nothing_and_administers_nothing() -> None:
    with pytest.raises(Forbidden):
        policy.require_create(AUDITOR)
    with pytest.raises(Forbidden):
        policy.require_admin(AUDITOR)


@pytest.mark.parametrize("role", ["customer", "agent", "supervisor", "admin"])
def test_customers_and_staff_may_file_tickets(role: str) -> None:
    policy.require_create(BY_ROLE[role])


@pytest.mark.parametrize("role", ["customer", "agent", "supervisor", "auditor"])
def test_only_an_admin_administers(role: str) -> None:
    with pytest.raises(Forbidden):
        policy.require_admin(BY_ROLE[role])
    policy.require_admin(ADMIN)


def test_acting_on_a_ticket_one_cannot_see_is_not_found_rather_than_forbidden() -> None:
    theirs = printers_ticket(customer={"id": OTHER_CUSTOMER.id})
    elsewhere = printers_ticket(team_id=TEAM_NETWORK)

    with pytest.raises(NotFound):
        policy.require(CUSTOMER, "comment", theirs)
    with pytest.raises(NotFound):
        policy.require(AGENT, "resolve", elsewhere)
    with pytest.raises(NotFound):
        policy.require(SUPERVISOR, "assign", elsewhere)


# -- what a customer reads ----------------------------------------------------------


def worked_ticket() -> tuple[Ticket, list[object]]:
    """A ticket with a public reply, an internal note and a customer's answer; its whole stream."""
    ticket = Ticket.open(uuid4(), meta=CUSTOMER.meta(), **{
        "number": "GD-000042", "title": "网络断了", "description": "", "priority": "normal", "channel": "web",
        "category": None, "tags": [], "contact": None, "custom_fields": {}, "customer": {"id": CUSTOMER.id},
        "region": None, "product": {}, "team_id": TEAM_PRINTERS,
    })
    ticket.claim(AGENT)
    ticket.add_comment("您好，请重启路由器", True, AGENT)
    ticket.add_comment("客户态度差，别理他", False, AGENT)
    ticket.add_comment("重启了，还是不行", True, CUSTOMER)
    ticket.add_comment("escalate to network team", False, SUPERVISOR)
    return ticket, list(ticket.collect_events())


def test_a_customer_reads_the_public_replies_but_never_internal_notes() -> None:
    ticket, _ = worked_ticket()

    state = ticket_state(ticket, CUSTOMER)

    assert [c["body"] for c in state["comments"]] == ["您好，请重启路由器", "重启了，还是不行"]
    assert "客户态度差" not in repr(state) and "escalate to network team" not in repr(state)
    assert state["status"] == "open" and state["version"] == ticket.version == 6


@pytest.mark.parametrize("reader", [AGENT, SUPERVISOR, ADMIN, AUDITOR], ids=["agent", "supervisor", "admin", "auditor"])
def test_staff_and_auditors_read_every_comment(reader: Actor) -> None:
    ticket, _ = worked_ticket()

    assert [c["public"] for c in ticket_state(ticket, reader)["comments"]] == [True, False, True, False]


def test_a_customers_history_leaves_out_the_internal_notes_and_nothing_else() -> None:
    _, stream = worked_ticket()

    entries = history_entries(stream, CUSTOMER)

    assert [(e["version"], e["type"]) for e in entries] == [
        (1, "Created"), (2, "Assigned"), (3, "CommentAdded"), (5, "CommentAdded"),
    ]
    assert "客户态度差" not in repr(entries) and "escalate to network team" not in repr(entries)
    assert entries[2]["actor"] == {"id": AGENT.id, "role": "agent"}
    assert entries[2]["correlation_id"] == "req-agent"
    assert entries[2]["data"] == {"body": "您好，请重启路由器", "public": True}


def test_an_auditors_history_is_the_whole_stream() -> None:
    _, stream = worked_ticket()

    entries = history_entries(stream, AUDITOR)

    assert [e["version"] for e in entries] == [1, 2, 3, 4, 5, 6]
    assert entries[3]["data"] == {"body": "客户态度差，别理他", "public": False}

"""The search document is rewritten only for the events that change it; every other event leaves it alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eventsourcing.domain import CanMutateAggregate

from events.ticket import Ticket
from projections.search_document import OTHER_EVENTS, SEARCH_EVENTS, SearchDocument, search_document, weighted_tsvector
from tests.unit.tickets import AGENT, CUSTOMER, SUPERVISOR, TEAM_NETWORK, filed, ticket_in


def _ticket_event_classes() -> set[str]:
    return {name for name, value in vars(Ticket).items()
            if isinstance(value, type) and issubclass(value, CanMutateAggregate) and name != "Event"}


def test_every_ticket_event_is_classed_as_changing_the_search_document_or_not() -> None:
    assert SEARCH_EVENTS.isdisjoint(OTHER_EVENTS)
    assert _ticket_event_classes() == SEARCH_EVENTS | OTHER_EVENTS


# (state to start from, the command) for each event that must leave the document as it was
UNSEARCHED_MOVES: list[tuple[str, Callable[[Ticket], Any]]] = [
    ("open", lambda t: t.escalate("VIP waiting", SUPERVISOR)),
    ("open", lambda t: t.start(AGENT)),
    ("in_progress", lambda t: t.hold("waiting for parts", AGENT)),
    ("pending", lambda t: t.resume(AGENT)),
    ("in_progress", lambda t: t.resolve("replaced the fuser", AGENT)),
    ("resolved", lambda t: t.close(CUSTOMER)),
    ("resolved", lambda t: t.reopen("jams again", CUSTOMER)),
    ("resolved", lambda t: t.rate(5, "quick", CUSTOMER)),
    ("open", lambda t: t.merge_into(filed(), AGENT)),
    ("open", lambda t: t.link(str(filed().id), "related", AGENT)),
    ("open", lambda t: t.set_fields({"floor": 7}, AGENT)),
]


@pytest.mark.parametrize(("status", "move"), UNSEARCHED_MOVES)
def test_events_outside_the_search_list_leave_the_document_unchanged(status: str, move: Callable[[Ticket], Any]) -> None:
    ticket = ticket_in(status)
    before = search_document(ticket)
    move(ticket)
    events = ticket.collect_events()
    assert events and all(type(e).__name__ in OTHER_EVENTS for e in events)
    assert search_document(ticket) == before


def test_assignment_and_transfer_change_who_finds_the_ticket() -> None:
    ticket = filed()
    assert "#asg:" + AGENT.id not in search_document(ticket).public_terms
    ticket.assign(AGENT.id, SUPERVISOR)
    assert "#asg:" + AGENT.id in search_document(ticket).public_terms
    ticket.transfer(TEAM_NETWORK, SUPERVISOR, "wrong team")
    terms = search_document(ticket).public_terms
    assert "#team:" + TEAM_NETWORK in terms and "#asg:" + AGENT.id not in terms
    assert {type(e).__name__ for e in ticket.collect_events()} == {"Assigned", "Transferred"} <= SEARCH_EVENTS


def test_replies_notes_and_tags_change_what_a_ticket_is_found_by() -> None:
    ticket = ticket_in("open")
    ticket.add_comment("已寄出定影器", True, AGENT)
    ticket.add_comment("客户自行拆机", False, AGENT)
    ticket.retag(["投诉"], ["printer"], AGENT)
    assert {type(e).__name__ for e in ticket.collect_events()} <= SEARCH_EVENTS
    document = search_document(ticket)
    assert "定影" in document.public_terms and "投诉" in document.public_terms
    assert "拆机" in document.internal_terms and "拆机" not in document.public_terms
    assert "printer" not in document.public_terms
    assert "客户自行拆机" in document.internal_text and "客户自行拆机" not in document.public_text


def test_terms_are_weighted_public_a_and_internal_only_b_and_quoted() -> None:
    document = SearchDocument(["#mail:o'neil@example.test", "打印"], ["a\\b"], "", "")
    assert weighted_tsvector(document) == "'#mail:o''neil@example.test':1A '打印':1A 'a\\\\b':1B"

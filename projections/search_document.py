"""What a ticket is found by: its search terms and texts, public and internal apart, and who may see it.

The document lives in `ticket_search`, rewritten only when one of `SEARCH_EVENTS` happened
to the ticket; for every other event (status, escalation, links...) the row's other columns are
updated in place and the terms index sees no write, which keeps projection batches short
on a large desk.
"""

from __future__ import annotations

from datetime import timezone
from typing import TYPE_CHECKING, NamedTuple

from projections.search_terms import email_terms, number_terms, phone_terms, quote_lexeme, text_terms

if TYPE_CHECKING:
    from events.ticket import Ticket

# The Ticket events that change a field the document is made of (title, description, contact,
# category, tags, customer organisation, region, product, comments; customer, team, assignee and
# priority, which are terms too so that the index itself narrows a search to what the reader may
# see and the filters ask for).
# Every other event leaves it as it was; tests/unit/test_search_document.py checks each event
# class is in one list.
SEARCH_EVENTS = frozenset({"Created", "CommentAdded", "Tagged", "Untagged", "Assigned", "Transferred",
                           "PriorityChanged"})
OTHER_EVENTS = frozenset({"Escalated", "Started", "PutOnHold", "Resumed", "Resolved", "Closed", "Reopened",
                          "Rated", "Merged", "Absorbed", "Linked", "FieldsSet"})
# Who may see a ticket, as terms: staff see their teams' tickets, unrouted ones and their own.
CUSTOMER, TEAM, ASSIGNEE = "#cust:", "#team:", "#asg:"
# What the search filters ask for, as terms, so that the index narrows a text search by them too
# (the filters are still checked on the row: these terms only have to be a superset).
PRIORITY, TAG, CATEGORY, REGION, CHANNEL, TIER = "#pri:", "#tag:", "#cat:", "#reg:", "#ch:", "#tier:"
CREATED_DAY, CREATED_MONTH = "#day:", "#mon:"  # the UTC date of creation: 2026-11-04, 2026-11


class SearchDocument(NamedTuple):
    """Terms anyone who may see the ticket finds it by, terms only staff find it by, and the texts."""

    public_terms: list[str]
    internal_terms: list[str]
    public_text: str
    internal_text: str


def search_document(ticket: Ticket) -> SearchDocument:
    contact = ticket.contact or {}
    public_parts = [ticket.title, ticket.description, contact.get("name") or "", ticket.category or "",
                    " ".join(ticket.tags), ticket.customer.get("organization") or "", ticket.region or "",
                    " ".join(str(v) for v in ticket.product.values() if v)]
    public_parts += [c["body"] for c in ticket.comments if c["public"]]
    public_text = "\n".join(public_parts).casefold()
    internal_text = "\n".join(c["body"] for c in ticket.comments if not c["public"]).casefold()
    public = text_terms(public_text) | phone_terms(contact.get("phone")) | email_terms(contact.get("email"))
    public |= number_terms(ticket.number)
    public |= {CUSTOMER + (ticket.customer_id or ""), TEAM + (ticket.team_id or ""), PRIORITY + ticket.priority}
    public |= {TAG + tag for tag in ticket.tags}
    for tag, value in ((ASSIGNEE, ticket.assignee_id), (CATEGORY, ticket.category), (REGION, ticket.region),
                       (CHANNEL, ticket.channel), (TIER, ticket.customer.get("tier"))):
        if value:
            public.add(tag + value)
    created = ticket.created_on.astimezone(timezone.utc).date()
    public |= {CREATED_DAY + created.isoformat(), CREATED_MONTH + created.isoformat()[:7]}
    internal = text_terms(internal_text) - public
    return SearchDocument(sorted(public), sorted(internal), public_text, internal_text)


def weighted_tsvector(document: SearchDocument) -> str:
    """The terms as tsvector text: public ones weight A, internal-only ones weight B.

    A weight needs a position (array_to_tsvector's lexemes have none, and a weighted
    query matches those regardless), so every lexeme gets position 1.
    """
    return " ".join([quote_lexeme(t) + ":1A" for t in document.public_terms]
                    + [quote_lexeme(t) + ":1B" for t in document.internal_terms])

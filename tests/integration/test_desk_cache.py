"""The desk keeps tickets in memory; what it reads must still be what the event store holds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import psycopg
import pytest
from eventsourcing.persistence import PersistenceError
from psycopg.sql import SQL, Identifier

from tests.integration.store import AGENT, CUSTOMER, OTHER_AGENT, form, second_process

if TYPE_CHECKING:
    from ledgerdesk.bootstrap import Container
    from ledgerdesk.settings import Settings


@contextmanager
def database_refusing_writes(settings: Settings) -> Iterator[None]:
    """The database rejects every insert into the events table (think: disk full) while inside."""
    schema = Identifier(settings.database_schema)
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(SQL("CREATE FUNCTION {s}.refuse_insert() RETURNS trigger LANGUAGE plpgsql"
                         " AS $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$")
                     .format(s=schema))
        conn.execute(SQL("CREATE TRIGGER refuse_insert BEFORE INSERT ON {s}.ledgerdesk_events"
                         " FOR EACH ROW EXECUTE FUNCTION {s}.refuse_insert()").format(s=schema))
        try:
            yield
        finally:
            conn.execute(SQL("DROP TRIGGER refuse_insert ON {s}.ledgerdesk_events").format(s=schema))


def test_a_ticket_changed_by_another_process_reads_as_changed(container: Container, settings: Settings) -> None:
    desk = container.desk
    ticket_id = desk.open_ticket(form(), CUSTOMER).id
    assert desk.ticket(ticket_id).status == "new"  # the api process has read it once

    with second_process(settings) as scheduler:
        scheduler.desk.change_ticket(ticket_id, lambda t: t.claim(OTHER_AGENT))

    ticket = desk.current_ticket(ticket_id)  # what the read routes use
    assert (ticket.status, ticket.version, ticket.assignee_id) == ("open", 2, OTHER_AGENT.id)


def test_a_write_the_database_refused_leaves_no_trace_in_what_the_desk_reads(
    container: Container, settings: Settings,
) -> None:
    desk = container.desk
    ticket_id = desk.open_ticket(form(), CUSTOMER).id

    with database_refusing_writes(settings), pytest.raises(PersistenceError):
        desk.change_ticket(ticket_id, lambda t: t.claim(AGENT))

    ticket = desk.ticket(ticket_id)
    assert (ticket.status, ticket.version, ticket.assignee_id) == ("new", 1, None)


def test_after_a_refused_write_the_next_command_continues_the_stream_without_a_gap(
    container: Container, settings: Settings,
) -> None:
    desk = container.desk
    ticket_id = desk.open_ticket(form(), CUSTOMER).id
    with database_refusing_writes(settings), pytest.raises(PersistenceError):
        desk.change_ticket(ticket_id, lambda t: t.claim(AGENT))

    receipt = desk.change_ticket(ticket_id, lambda t: t.assign(OTHER_AGENT.id, AGENT))

    assert receipt.version == 2
    assert [e.originator_version for e in desk.stream(ticket_id)] == [1, 2]
    with second_process(settings) as other:
        assert other.desk.ticket(ticket_id).assignee_id == OTHER_AGENT.id

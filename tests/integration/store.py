"""Helpers for event-store scenarios: ticket forms, a second process, and the raw tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar
from uuid import uuid4

import psycopg
from psycopg.rows import dict_row
from psycopg.sql import SQL, Composable, Identifier

from events.actor import Actor
from ledgerdesk.bootstrap import Container, bootstrap
from ledgerdesk.settings import Settings

T = TypeVar("T")

CUSTOMER = Actor(id=str(uuid4()), role="customer", correlation_id="req-customer")
AGENT = Actor(id=str(uuid4()), role="agent", correlation_id="req-agent")
OTHER_AGENT = Actor(id=str(uuid4()), role="agent", correlation_id="req-other-agent")


def form(**overrides: Any) -> dict[str, Any]:
    """The Ticket.Created attributes of a plain web ticket filed by CUSTOMER."""
    return {
        "title": "打印机无法开机", "description": "按电源键没反应", "priority": "normal", "channel": "web",
        "category": None, "tags": [], "contact": None, "custom_fields": {}, "customer": {"id": CUSTOMER.id},
        "region": None, "product": {}, "team_id": None, **overrides,
    }


@contextmanager
def second_process(settings: Settings) -> Iterator[Container]:
    """Another Ledgerdesk process on the same database and schema: its own desk, pool, cache and writer."""
    other = bootstrap(settings)
    try:
        yield other
    finally:
        other.close()


def query(settings: Settings, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Rows of `sql`, where {s} names the test's schema and {events} the events table."""
    statement: Composable = SQL(sql).format(  # type: ignore[arg-type]
        s=Identifier(settings.database_schema),
        events=SQL("{}.{}").format(Identifier(settings.database_schema), Identifier("ledgerdesk_events")),
    )
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url, row_factory=dict_row) as conn:
        return list(conn.execute(statement, params).fetchall())


def stored_events(settings: Settings, after: int = 0) -> list[tuple[int, str, int]]:
    """(notification id, originator id, version) of every stored event after `after`, in id order."""
    rows = query(settings, "SELECT notification_id, originator_id, originator_version FROM {events}"
                           " WHERE notification_id > %s ORDER BY notification_id", (after,))
    return [(r["notification_id"], str(r["originator_id"]), r["originator_version"]) for r in rows]


def in_threads(jobs: list[Callable[[], T]], workers: int | None = None) -> list[T]:
    """Run the jobs at once, one thread each (or `workers`); re-raise the first failure."""
    with ThreadPoolExecutor(max_workers=workers or len(jobs)) as pool:
        return [future.result() for future in [pool.submit(job) for job in jobs]]

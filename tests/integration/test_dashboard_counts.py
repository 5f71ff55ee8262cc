"""The stats backlog, summed from the projection's hourly counters, equals counting the tickets one by one."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from psycopg.sql import SQL, Identifier

from events.ticket import Ticket
from ledgerdesk.bootstrap import Container
from read_api.board_routes import AGE_BUCKETS, _backlog
from tests.integration.projection_checks import AGENTS, CUSTOMERS, ticket_form

# Ages in hours: on both sides of every bucket edge (1, 3, 7, 30 days), some within minutes of it.
AGES_HOURS = [0.2, 5, 23.8, 23.95, 24.05, 24.3, 47, 71.9, 72.1, 100, 167.9, 168.2, 400, 719.95, 720.05, 721, 2000]


def _counted_one_by_one(container: Container, team: str | None) -> dict[str, int]:
    schema = Identifier(container.settings.database_schema)
    cases = " ".join(f"WHEN now() - created_at < interval '{high} days' THEN '{name}'" if high else f"ELSE '{name}'"
                     for name, _low, high in AGE_BUCKETS)
    with container.desk.recorder.datastore.transaction() as cur:
        cur.execute(SQL("SELECT CASE " + cases + " END AS bucket, count(*)::int AS n FROM {}.ticket_summary"
                        " WHERE status IN ('new', 'open', 'in_progress', 'pending')"
                        + (" AND team_id = %s" if team else "") + " GROUP BY 1").format(schema),
                    [team] if team else [])
        found = {row["bucket"]: row["n"] for row in cur.fetchall()}
    return {name: found.get(name, 0) for name, _low, _high in AGE_BUCKETS}


def test_backlog_by_age_from_hourly_counters_equals_counting_every_ticket(
        container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(3)
    now = datetime.now(UTC)
    clock: list[datetime] = [now]
    monkeypatch.setattr(Ticket.Event, "create_timestamp", staticmethod(lambda: clock[0]))
    for age in AGES_HOURS:
        for _ in range(3):
            form: dict[str, Any] = ticket_form(rng, CUSTOMERS[0])
            clock[0] = now - timedelta(hours=age, minutes=rng.uniform(-1, 1))
            receipt = container.desk.open_ticket(form, CUSTOMERS[0])
            if rng.random() < 0.5:  # some leave the backlog, some change team
                clock[0] += timedelta(minutes=5)
                agent = AGENTS[0]
                move = rng.choice([lambda t: t.claim(agent), lambda t: t.transfer("team-b", agent),
                                   lambda t: (t.claim(agent), t.resolve("done", agent))])
                container.desk.change_ticket(receipt.id, move)
    container.projector().catch_up()
    with container.read_models.cursor() as cur:
        for team in (None, "team-a", "team-b"):
            expected = _counted_one_by_one(container, team)
            assert _backlog(cur, container.read_models, team) == expected, team
    assert sum(expected.values()) > 0 and expected["over_30d"] > 0

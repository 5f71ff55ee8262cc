"""Helpers for projection tests: a random stream of commands, and 'equals a full rebuild'."""

from __future__ import annotations

import random
from typing import Any
from uuid import UUID

from psycopg.sql import SQL, Identifier

from commands.desk import Desk
from events.actor import Actor
from events.errors import DomainError
from ledgerdesk.bootstrap import Container
from projections.rebuild import SHADOW, drop_shadow, fill_shadow
from projections.registry import NAMES, build
from projections.ticket_summary import BOARD_STATUSES, SEARCH_COLUMNS, search_row

AGENTS = [Actor(f"agent-{i}", "agent", team_ids=("team-a",)) for i in range(3)]
CUSTOMERS = [Actor(f"customer-{i}", "customer") for i in range(3)]
WORDS = ["打印机无法开机", "屏幕碎裂", "空调不制冷", "router keeps rebooting", "battery drains fast", "冰箱漏水"]


def ticket_form(rng: random.Random, customer: Actor) -> dict[str, Any]:
    return {"title": rng.choice(WORDS), "description": rng.choice(WORDS), "priority": rng.choice(
        ["low", "normal", "high", "urgent"]), "channel": "web", "category": rng.choice(["硬件", "software"]),
        "tags": rng.sample(["vip", "hw", "sw", "投诉"], 2), "contact": {"name": "李雷", "phone": "13800138000",
                                                                        "email": None},
        "custom_fields": {}, "customer": {"id": customer.id, "tier": rng.choice(["VIP", "standard"])},
        "region": rng.choice(["华东", "华北"]), "product": {}, "team_id": rng.choice([None, "team-a"])}


def random_command(desk: Desk, rng: random.Random, tickets: list[UUID]) -> None:
    """One random command on a random ticket; refusals are part of the mix."""
    agent, customer = rng.choice(AGENTS), rng.choice(CUSTOMERS)
    if not tickets or rng.random() < 0.2:
        tickets.append(desk.open_ticket(ticket_form(rng, customer), customer).id)
        return
    ticket_id = rng.choice(tickets)
    moves = [
        lambda t: t.claim(agent), lambda t: t.assign(agent.id, agent), lambda t: t.start(agent),
        lambda t: t.hold("等客户回复", agent), lambda t: t.resume(agent), lambda t: t.resolve("已更换", agent),
        lambda t: t.close(customer), lambda t: t.reopen("又坏了", customer),
        lambda t: t.add_comment(rng.choice(WORDS), rng.random() < 0.5, agent),
        lambda t: t.change_priority(rng.choice(["low", "high"]), agent),
        lambda t: t.retag([rng.choice(["a", "b", "c"])], [rng.choice(["hw", "a"])], agent),
        lambda t: t.rate(rng.randint(1, 5), "", customer), lambda t: t.escalate("", agent),
        lambda t: t.transfer(rng.choice(["team-a", "team-b"]), agent),
    ]
    try:
        desk.change_ticket(ticket_id, rng.choice(moves))
    except DomainError:
        pass


def table_difference(cur: Any, schema: str, table: str) -> int:
    """Rows in the live table and not in its rebuilt shadow, or the other way round."""
    live, shadow = (SQL("{}.{}").format(Identifier(schema), Identifier(t)) for t in (table, table + SHADOW))
    cur.execute(SQL("SELECT (SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b}) x)"
                    " + (SELECT count(*) FROM (SELECT * FROM {b} EXCEPT ALL SELECT * FROM {a}) y) AS n")
                .format(a=live, b=shadow))
    return cur.fetchone()["n"]


def differences_from_rebuild(container: Container) -> dict[str, int]:
    """For every read-model table: how many rows differ from a rebuild from the first event."""
    schema = container.settings.database_schema
    runner = container.projector()
    result: dict[str, int] = {}
    for name in NAMES:
        shadow = fill_shadow(runner, name, schema)
        with container.desk.recorder.datastore.transaction() as cur:
            for table in build(name, schema).tables:
                cur.execute(SQL("SELECT count(*) AS n FROM {}.{}").format(Identifier(schema), Identifier(table)))
                rows = cur.fetchone()["n"]
                result[table] = table_difference(cur, schema, table)
                result[f"{table}.rows"] = rows
        drop_shadow(runner, shadow, schema)
    return result


def search_documents_unlike_the_store(container: Container) -> list[UUID]:
    """Tickets whose ticket_search row is not the one of the ticket as the event store has it now.

    Full-rebuild equality cannot see an event wrongly left out of SEARCH_EVENTS (the rebuild
    would leave it out too); this compares with each ticket replayed from its own stream.
    """
    schema = container.settings.database_schema
    summary, search = (SQL("{}.{}").format(Identifier(schema), Identifier(t)) for t in ("ticket_summary", "ticket_search"))
    unlike: list[UUID] = []
    with container.desk.recorder.datastore.transaction() as cur:
        cur.execute(SQL("SELECT id FROM {}").format(summary))
        for ticket_id in [row["id"] for row in cur.fetchall()]:
            row = search_row(container.desk.repository.get(ticket_id))
            columns = SQL(", ").join(Identifier(c) for c in SEARCH_COLUMNS[1:])
            cur.execute(SQL("SELECT terms = %s::tsvector AND public_text = %s AND internal_text = %s"
                            " AND ROW({}) IS NOT DISTINCT FROM ROW(" + ", ".join(["%s"] * (len(SEARCH_COLUMNS) - 1))
                            + ") AS same FROM {} WHERE id = %s").format(columns, search),
                        (*row[-3:], *row[1:len(SEARCH_COLUMNS)], ticket_id))
            found = cur.fetchone()
            if not (found and found["same"]):
                unlike.append(ticket_id)
    return unlike


def board_counts_unlike_the_summaries(container: Container) -> int:
    """Rows of board_counts that differ from counting ticket_summary (either way)."""
    schema = Identifier(container.settings.database_schema)
    counted = SQL("SELECT coalesce(team_id, '') AS team_id, coalesce(assignee_id, '') AS assignee_id, status,"
                  " count(*)::int AS tickets FROM {}.ticket_summary WHERE status = ANY(%s) GROUP BY 1, 2, 3").format(schema)
    kept = SQL("SELECT team_id, assignee_id, status, tickets FROM {}.board_counts").format(schema)
    with container.desk.recorder.datastore.transaction() as cur:
        cur.execute(SQL("SELECT (SELECT count(*) FROM ({a} EXCEPT ALL {b}) x) + (SELECT count(*) FROM ({b} EXCEPT ALL"
                        " {a}) y) AS n").format(a=counted, b=kept), [sorted(BOARD_STATUSES)] * 2)
        return cur.fetchone()["n"]

"""The tickets projection: ticket_summary (lists, board), ticket_search, agent_workload and daily_stats.

One projection owns the four tables because all of them change with the same ticket
transitions: a batch replays its events onto the affected tickets in memory, then writes
the new rows and the workload and stats deltas in the projection's one transaction.
ticket_search holds what a ticket is found by, one weighted tsvector (public terms A,
internal-only terms B) and the texts for the exact recheck; it is rewritten only for the
events that change it, so the GIN index sees no write for a status change.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from psycopg.sql import SQL, Composed, Identifier

from events.ticket import Ticket
from events.ticket_status import ACTIVE
from projections import ticket_state
from projections.search_document import SEARCH_EVENTS, search_document, weighted_tsvector

if TYPE_CHECKING:
    from psycopg import Cursor

PRIORITY_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
_TICKET_TOPIC_PREFIX = "events.ticket:Ticket"

SUMMARY_COLUMNS = (
    "id", "number", "title", "status", "priority", "priority_rank", "category", "channel", "team_id",
    "assignee_id", "customer_id", "customer_tier", "customer_org", "region", "tags", "created_at",
    "updated_at", "first_responded_at", "resolved_at", "closed_at", "due_at", "version", "rating", "state",
)


def _ms(duration: timedelta) -> int:
    """Durations are summed as whole milliseconds, so sums do not depend on batching."""
    return round(duration.total_seconds() * 1000)


def summary_row(ticket: Ticket) -> tuple[Any, ...]:
    """The ticket_summary row, in SUMMARY_COLUMNS order (state as JSON text)."""
    state = json.dumps(ticket_state.dump(ticket), ensure_ascii=False)
    if "\\u0000" in state:  # PostgreSQL cannot store U+0000; commands refuse it, old events may hold it
        state = json.dumps(ticket_state.without_nul(ticket_state.dump(ticket)), ensure_ascii=False)
    row = (
        ticket.id, ticket.number, ticket.title, ticket.status, ticket.priority, PRIORITY_RANK[ticket.priority],
        ticket.category, ticket.channel, ticket.team_id, ticket.assignee_id, ticket.customer_id,
        ticket.customer.get("tier"), ticket.customer.get("organization"), ticket.region, list(ticket.tags),
        ticket.created_on, ticket.modified_on, ticket.first_responded_at, ticket.resolved_at, ticket.closed_at,
        None, ticket.version, (ticket.rating or {}).get("score"),
    )
    return tuple(ticket_state.without_nul(v) for v in row) + (state,)


def search_row(ticket: Ticket) -> tuple[Any, ...]:
    """The ticket_search row: id, weighted terms, public text, internal text."""
    document = search_document(ticket)
    return (ticket.id, *(ticket_state.without_nul(text) for text in (
        weighted_tsvector(document), document.public_text, document.internal_text)))


class TicketsProjection:
    """ticket_summary, ticket_search, agent_workload and daily_stats, from Ticket events."""

    name = "tickets"
    tables = ("ticket_summary", "ticket_search", "agent_workload", "daily_stats")

    def __init__(self, schema: str, suffix: str = "", timezone: str = "Asia/Shanghai") -> None:
        self.schema = schema
        self.suffix = suffix
        self.zone = ZoneInfo(timezone)

    def table(self, base: str) -> Any:
        return SQL("{}.{}").format(Identifier(self.schema), Identifier(base + self.suffix))

    def create_tables(self, cur: Cursor, *, with_indexes: bool = True) -> bool:
        """Create what is missing; True when the tables start empty (the projection starts from the first event).

        Tables of an older layout (search terms inside ticket_summary) are dropped and made anew.
        """
        cur.execute("SELECT to_regclass(%s) AS summary, to_regclass(%s) AS search",
                    (f"{self.schema}.ticket_summary{self.suffix}", f"{self.schema}.ticket_search{self.suffix}"))
        found = cur.fetchone()
        exists = found["summary"] is not None and found["search"] is not None  # type: ignore[index]
        if not exists:
            for table in self.tables:
                cur.execute(SQL("DROP TABLE IF EXISTS {}").format(self.table(table)))
        summary, workload, stats = self.table("ticket_summary"), self.table("agent_workload"), self.table("daily_stats")
        cur.execute(SQL(
            "CREATE TABLE IF NOT EXISTS {} (id uuid PRIMARY KEY, number text NOT NULL, title text NOT NULL,"
            " status text NOT NULL, priority text NOT NULL, priority_rank smallint NOT NULL, category text,"
            " channel text, team_id text, assignee_id text, customer_id text, customer_tier text,"
            " customer_org text, region text, tags text[] NOT NULL, created_at timestamptz NOT NULL,"
            " updated_at timestamptz NOT NULL, first_responded_at timestamptz, resolved_at timestamptz,"
            " closed_at timestamptz, due_at timestamptz, version int NOT NULL, rating smallint,"
            " state jsonb NOT NULL)").format(summary))
        cur.execute(SQL(
            "CREATE TABLE IF NOT EXISTS {} (id uuid PRIMARY KEY, terms tsvector NOT NULL,"
            " public_text text NOT NULL, internal_text text NOT NULL)").format(self.table("ticket_search")))
        cur.execute(SQL(
            "CREATE TABLE IF NOT EXISTS {} (assignee_id text NOT NULL, status text NOT NULL,"
            " tickets int NOT NULL, PRIMARY KEY (assignee_id, status))").format(workload))
        cur.execute(SQL(
            "CREATE TABLE IF NOT EXISTS {} (day date NOT NULL, team_id text NOT NULL, created int NOT NULL DEFAULT 0,"
            " resolved int NOT NULL DEFAULT 0, reopened int NOT NULL DEFAULT 0,"
            " first_responses int NOT NULL DEFAULT 0, first_response_ms bigint NOT NULL DEFAULT 0,"
            " resolution_ms bigint NOT NULL DEFAULT 0, ratings int NOT NULL DEFAULT 0,"
            " rating_sum int NOT NULL DEFAULT 0, PRIMARY KEY (day, team_id))").format(stats))
        if with_indexes and not exists:
            self.create_indexes(cur)
        return not exists

    def create_indexes(self, cur: Cursor) -> None:
        for statement in self.index_statements():
            cur.execute(statement)

    def index_statements(self) -> list[Composed]:
        """Secondary indexes, largest first; a rebuild adds them after the bulk fill, several at once."""
        definitions = [("ticket_search", "USING gin (terms)")] + [("ticket_summary", d) for d in (
            "USING gin (tags)", "(status, priority_rank DESC, due_at, created_at)", "(created_at DESC)",
            "(updated_at DESC)", "(team_id, status)", "(assignee_id, status)", "(customer_id, created_at DESC)",
            "(number)")]
        return [SQL("CREATE INDEX ON {} " + d).format(self.table(t)) for t, d in definitions]

    def apply(self, cur: Cursor, events: list[tuple[int, Any]]) -> None:
        ticket_events = [e for _, e in events if type(e).__qualname__.startswith("Ticket.")
                         and type(e).__module__ == "events.ticket"]
        if not ticket_events:
            return
        ids = list(dict.fromkeys(e.originator_id for e in ticket_events))
        cur.execute(SQL("SELECT state FROM {} WHERE id = ANY(%s)").format(self.table("ticket_summary")), (ids,))
        tickets: dict[Any, Ticket] = {}
        for row in cur.fetchall():
            ticket = ticket_state.load(row["state"])
            tickets[ticket.id] = ticket
        before = {ticket_id: (t.assignee_id, t.status) for ticket_id, t in tickets.items()}
        stats: dict[tuple[Any, str], Counter[str]] = defaultdict(Counter)
        changed: dict[Any, Ticket] = {}
        found_by_changed: set[Any] = set()
        for event in ticket_events:
            current = tickets.get(event.originator_id)
            if current is not None and event.originator_version <= current.version:
                continue  # already reflected (a replayed batch)
            previous_first_response = current.first_responded_at if current else None
            changed[event.originator_id] = tickets[event.originator_id] = event.mutate(current)
            if type(event).__name__ in SEARCH_EVENTS:
                found_by_changed.add(event.originator_id)
            self._count(stats, tickets[event.originator_id], event, previous_first_response)
        self._write_summaries(cur, list(changed.values()))
        self._write_search(cur, [changed[i] for i in found_by_changed])
        self._write_workload(cur, before, tickets)
        self._write_stats(cur, stats)

    def _count(self, stats: dict[tuple[Any, str], Counter[str]], ticket: Ticket, event: Any,
               previous_first_response: str | None) -> None:
        key = (event.timestamp.astimezone(self.zone).date(), ticket.team_id or "")
        kind = type(event).__name__
        counter = stats[key]
        if kind == "Created":
            counter["created"] += 1
        elif kind == "Resolved":
            counter["resolved"] += 1
            counter["resolution_ms"] += _ms(event.timestamp - ticket.created_on)
        elif kind == "Reopened":
            counter["reopened"] += 1
        elif kind == "Rated":
            counter["ratings"] += 1
            counter["rating_sum"] += event.score
        elif kind == "CommentAdded" and previous_first_response is None and ticket.first_responded_at:
            counter["first_responses"] += 1
            counter["first_response_ms"] += _ms(event.timestamp - ticket.created_on)

    def _write_summaries(self, cur: Cursor, tickets: list[Ticket]) -> None:
        if not tickets:
            return
        placeholders = ", ".join(["%s"] * (len(SUMMARY_COLUMNS) - 1)) + ", %s::jsonb"
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in SUMMARY_COLUMNS if c != "id")
        cur.executemany(SQL("INSERT INTO {} (" + ", ".join(SUMMARY_COLUMNS) + ") VALUES (" + placeholders + ")"
                            " ON CONFLICT (id) DO UPDATE SET " + updates).format(self.table("ticket_summary")),
                        [summary_row(t) for t in tickets])

    def _write_search(self, cur: Cursor, tickets: list[Ticket]) -> None:
        if not tickets:
            return
        cur.executemany(SQL(
            "INSERT INTO {} (id, terms, public_text, internal_text) VALUES (%s, %s::tsvector, %s, %s) ON CONFLICT (id) DO UPDATE SET terms = EXCLUDED.terms, public_text = EXCLUDED.public_text,"
            " internal_text = EXCLUDED.internal_text").format(self.table("ticket_search")),
            [search_row(t) for t in tickets])

    def _write_workload(self, cur: Cursor, before: dict[Any, tuple[str | None, str]],
                        after: dict[Any, Ticket]) -> None:
        delta: Counter[tuple[str, str]] = Counter()
        for ticket_id, ticket in after.items():
            old_assignee, old_status = before.get(ticket_id, (None, ""))
            if old_assignee and old_status in ACTIVE:
                delta[(old_assignee, old_status)] -= 1
            if ticket.assignee_id and ticket.status in ACTIVE:
                delta[(ticket.assignee_id, ticket.status)] += 1
        changes = [(a, s, n) for (a, s), n in delta.items() if n]
        if not changes:
            return
        workload = self.table("agent_workload")
        cur.executemany(SQL("INSERT INTO {} AS w (assignee_id, status, tickets) VALUES (%s, %s, %s)"
                            " ON CONFLICT (assignee_id, status) DO UPDATE SET tickets = w.tickets + EXCLUDED.tickets")
                        .format(workload), changes)
        cur.execute(SQL("DELETE FROM {} WHERE tickets = 0").format(workload))

    def _write_stats(self, cur: Cursor, stats: dict[tuple[Any, str], Counter[str]]) -> None:
        fields = ("created", "resolved", "reopened", "first_responses", "first_response_ms",
                  "resolution_ms", "ratings", "rating_sum")
        rows = [(day, team, *(counter.get(f, 0) for f in fields)) for (day, team), counter in stats.items()]
        if rows:
            cur.executemany(SQL(
                "INSERT INTO {} AS s (day, team_id, " + ", ".join(fields) + ") VALUES (%s, %s"
                + ", %s" * len(fields) + ") ON CONFLICT (day, team_id) DO UPDATE SET "
                + ", ".join(f"{f} = s.{f} + EXCLUDED.{f}" for f in fields)).format(self.table("daily_stats")), rows)

"""The tickets projection: ticket_summary, ticket_search and the counters beside them.

One projection owns all its tables (the counters are agent_workload, board_counts,
backlog_hours and daily_stats) because all of them change with the same ticket
transitions: a batch replays its events onto the affected tickets in memory, then writes
the new rows and the workload and stats deltas in the projection's one transaction.
ticket_search holds what a ticket is found by, one weighted tsvector (public terms A,
internal-only terms B) and the texts for the exact recheck; it is rewritten only for the
events that change it, so the GIN index sees no write for a status change.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from psycopg.sql import SQL, Composed, Identifier

from events.ticket import Ticket
from events.ticket_status import ACTIVE

BOARD_STATUSES = frozenset({"new", "open", "in_progress", "pending", "resolved"})  # the kanban columns
from projections import ticket_state
from projections.search_document import SEARCH_EVENTS, search_document, weighted_tsvector

if TYPE_CHECKING:
    from psycopg import Cursor

PRIORITY_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}

SUMMARY_COLUMNS = (
    "id", "number", "title", "status", "priority", "priority_rank", "category", "channel", "team_id",
    "assignee_id", "customer_id", "customer_tier", "customer_org", "region", "tags", "created_at",
    "updated_at", "first_responded_at", "resolved_at", "closed_at", "due_at", "version", "rating", "state",
)
# ticket_search repeats what a text search filters, counts (facets), sorts and lists, so a search
# with few matches never has to visit ticket_summary. Only id and terms are indexed there: an update that leaves
# terms alone is a HOT update (no index entry at all), which is what most events are.
SEARCH_COLUMNS = (
    "id", "number", "title", "status", "priority", "priority_rank", "category", "channel", "team_id",
    "assignee_id", "customer_id", "customer_tier", "region", "tags", "created_at", "updated_at", "due_at",
    "version",
)


def _ms(duration: timedelta) -> int:
    """Durations are summed as whole milliseconds, so sums do not depend on batching."""
    return round(duration.total_seconds() * 1000)


def _list_values(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id, "number": ticket.number, "title": ticket.title, "status": ticket.status,
        "priority": ticket.priority, "priority_rank": PRIORITY_RANK[ticket.priority], "category": ticket.category,
        "channel": ticket.channel, "team_id": ticket.team_id, "assignee_id": ticket.assignee_id,
        "customer_id": ticket.customer_id, "customer_tier": ticket.customer.get("tier"),
        "customer_org": ticket.customer.get("organization"), "region": ticket.region, "tags": list(ticket.tags),
        "created_at": ticket.created_on, "updated_at": ticket.modified_on,
        "first_responded_at": ticket.first_responded_at, "resolved_at": ticket.resolved_at,
        "closed_at": ticket.closed_at, "due_at": None, "version": ticket.version,
        "rating": (ticket.rating or {}).get("score"),
    }


def summary_row(ticket: Ticket) -> tuple[Any, ...]:
    """The ticket_summary row, in SUMMARY_COLUMNS order (state as JSON text)."""
    state = json.dumps(ticket_state.dump(ticket), ensure_ascii=False)
    if "\\u0000" in state:  # PostgreSQL cannot store U+0000; commands refuse it, old events may hold it
        state = json.dumps(ticket_state.without_nul(ticket_state.dump(ticket)), ensure_ascii=False)
    values = _list_values(ticket)
    return tuple(ticket_state.without_nul(values[c]) for c in SUMMARY_COLUMNS[:-1]) + (state,)


def search_row(ticket: Ticket) -> tuple[Any, ...]:
    """The ticket_search row, in SEARCH_COLUMNS order then terms, public text, internal text."""
    document = search_document(ticket)
    values = _list_values(ticket)
    return tuple(ticket_state.without_nul(v) for v in (
        *(values[c] for c in SEARCH_COLUMNS), weighted_tsvector(document), document.public_text,
        document.internal_text))


def search_attributes_row(ticket: Ticket) -> tuple[Any, ...]:
    """SEARCH_COLUMNS but id, then id: the UPDATE for an event that left the document alone."""
    values = _list_values(ticket)
    return tuple(ticket_state.without_nul(values[c]) for c in SEARCH_COLUMNS[1:]) + (ticket.id,)


class TicketsProjection:
    """ticket_summary, ticket_search, agent_workload, board_counts, backlog_hours and daily_stats, from Ticket events."""

    name = "tickets"
    tables = ("ticket_summary", "ticket_search", "agent_workload", "board_counts", "backlog_hours", "daily_stats")

    def __init__(self, schema: str, suffix: str = "", timezone: str = "Asia/Shanghai") -> None:
        self.schema = schema
        self.suffix = suffix
        self.zone = ZoneInfo(timezone)

    def table(self, base: str) -> Any:
        return SQL("{}.{}").format(Identifier(self.schema), Identifier(base + self.suffix))

    def create_tables(self, cur: Cursor, *, with_indexes: bool = True) -> bool:
        """Create what is missing; True when the tables start empty (the projection starts from the first event).

        Tables of an older layout (one of them missing) are dropped and made anew.
        """
        cur.execute("SELECT count(to_regclass(t)) = cardinality(%s::text[]) AS complete FROM unnest(%s::text[]) AS t",
                    [[f"{self.schema}.{t}{self.suffix}" for t in self.tables]] * 2)
        exists = cur.fetchone()["complete"]  # type: ignore[index]
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
            "CREATE TABLE IF NOT EXISTS {} (id uuid PRIMARY KEY, number text NOT NULL, title text NOT NULL,"
            " status text NOT NULL, priority text NOT NULL, priority_rank smallint NOT NULL, category text,"
            " channel text, team_id text, assignee_id text, customer_id text, customer_tier text, region text,"
            " tags text[] NOT NULL, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,"
            " due_at timestamptz, version int NOT NULL, terms tsvector NOT NULL, public_text text NOT NULL,"
            " internal_text text NOT NULL) WITH (fillfactor = 75)").format(self.table("ticket_search")))
        cur.execute(SQL(
            "CREATE TABLE IF NOT EXISTS {} (assignee_id text NOT NULL, status text NOT NULL,"
            " tickets int NOT NULL, PRIMARY KEY (assignee_id, status))").format(workload))
        cur.execute(SQL(
            "CREATE TABLE IF NOT EXISTS {} (team_id text NOT NULL, assignee_id text NOT NULL, status text NOT NULL,"
            " tickets int NOT NULL, PRIMARY KEY (team_id, assignee_id, status))").format(self.table("board_counts")))
        cur.execute(SQL(
            "CREATE TABLE IF NOT EXISTS {} (team_id text NOT NULL, hour timestamptz NOT NULL, tickets int NOT NULL,"
            " PRIMARY KEY (team_id, hour))").format(self.table("backlog_hours")))
        cur.execute(SQL(
            "CREATE TABLE IF NOT EXISTS {} (day date NOT NULL, team_id text NOT NULL, created int NOT NULL DEFAULT 0,"
            " resolved int NOT NULL DEFAULT 0, reopened int NOT NULL DEFAULT 0,"
            " first_responses int NOT NULL DEFAULT 0, first_response_ms bigint NOT NULL DEFAULT 0,"
            " resolution_ms bigint NOT NULL DEFAULT 0, ratings int NOT NULL DEFAULT 0,"
            " rating_sum int NOT NULL DEFAULT 0, PRIMARY KEY (day, team_id))").format(stats))
        if with_indexes and not exists:
            for statement in self.index_statements():
                cur.execute(statement)
        return not exists

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
        before = {ticket_id: (t.team_id, t.assignee_id, t.status) for ticket_id, t in tickets.items()}
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
        self._write_search(cur, [t for i, t in changed.items() if i in found_by_changed],
                           [t for i, t in changed.items() if i not in found_by_changed])
        self._write_counts(cur, before, changed)
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

    def _write_search(self, cur: Cursor, rewritten: list[Ticket], touched: list[Ticket]) -> None:
        """Whole rows for tickets whose document changed; the other columns only (a HOT update) for the rest."""
        table = self.table("ticket_search")
        if rewritten:
            columns = (*SEARCH_COLUMNS, "terms", "public_text", "internal_text")
            placeholders = ", ".join("%s::tsvector" if c == "terms" else "%s" for c in columns)
            cur.executemany(SQL("INSERT INTO {} (" + ", ".join(columns) + ") VALUES (" + placeholders + ")"
                                " ON CONFLICT (id) DO UPDATE SET "
                                + ", ".join(f"{c} = EXCLUDED.{c}" for c in columns[1:])).format(table),
                            [search_row(t) for t in rewritten])
        if touched:
            cur.executemany(SQL("UPDATE {} SET " + ", ".join(f"{c} = %s" for c in SEARCH_COLUMNS[1:])
                                + " WHERE id = %s").format(table), [search_attributes_row(t) for t in touched])

    def _write_counts(self, cur: Cursor, before: dict[Any, tuple[str | None, str | None, str]],
                      after: dict[Any, Ticket]) -> None:
        """Deltas of agent_workload (active tickets per assignee and status), board_counts and backlog_hours."""
        workload: Counter[tuple[str, str]] = Counter()
        board: Counter[tuple[str, str, str]] = Counter()
        backlog: Counter[tuple[str, datetime]] = Counter()
        for ticket_id, ticket in after.items():
            old_team, old_assignee, old_status = before.get(ticket_id, (None, None, ""))
            hour = ticket.created_on.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
            if old_status in ACTIVE:
                backlog[(old_team or "", hour)] -= 1
                if old_assignee:
                    workload[(old_assignee, old_status)] -= 1
            if ticket.status in ACTIVE:
                backlog[(ticket.team_id or "", hour)] += 1
                if ticket.assignee_id:
                    workload[(ticket.assignee_id, ticket.status)] += 1
            if old_status in BOARD_STATUSES:
                board[(old_team or "", old_assignee or "", old_status)] -= 1
            if ticket.status in BOARD_STATUSES:
                board[(ticket.team_id or "", ticket.assignee_id or "", ticket.status)] += 1
        self._add(cur, "agent_workload", ("assignee_id", "status"), workload)
        self._add(cur, "board_counts", ("team_id", "assignee_id", "status"), board)
        self._add(cur, "backlog_hours", ("team_id", "hour"), backlog)

    def _add(self, cur: Cursor, table: str, key: tuple[str, ...], delta: Counter[Any]) -> None:
        changes = [(*k, n) for k, n in delta.items() if n]
        if not changes:
            return
        names = ", ".join(key)
        cur.executemany(SQL("INSERT INTO {} AS c (" + names + ", tickets) VALUES (" + "%s, " * len(key) + "%s)"
                            " ON CONFLICT (" + names + ") DO UPDATE SET tickets = c.tickets + EXCLUDED.tickets")
                        .format(self.table(table)), changes)
        # Only the rows just changed can have reached 0: delete those by key, not by scanning the table.
        cur.executemany(SQL("DELETE FROM {} WHERE " + " AND ".join(f"{k} = %s" for k in key) + " AND tickets = 0")
                        .format(self.table(table)), [change[:-1] for change in changes])

    def _write_stats(self, cur: Cursor, stats: dict[tuple[Any, str], Counter[str]]) -> None:
        fields = ("created", "resolved", "reopened", "first_responses", "first_response_ms",
                  "resolution_ms", "ratings", "rating_sum")
        rows = [(day, team, *(counter.get(f, 0) for f in fields)) for (day, team), counter in stats.items()]
        if rows:
            cur.executemany(SQL(
                "INSERT INTO {} AS s (day, team_id, " + ", ".join(fields) + ") VALUES (%s, %s"
                + ", %s" * len(fields) + ") ON CONFLICT (day, team_id) DO UPDATE SET "
                + ", ".join(f"{f} = s.{f} + EXCLUDED.{f}" for f in fields)).format(self.table("daily_stats")), rows)

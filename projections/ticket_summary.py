"""The tickets projection: ticket_summary (search, lists, board), agent_workload and daily_stats.

One projection owns the three tables because all three change with the same ticket
transitions: a batch replays its events onto the affected tickets in memory, then writes
the new rows and the workload and stats deltas in the projection's one transaction.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from psycopg.sql import SQL, Identifier
from psycopg.types.json import Jsonb

from events.ticket import Ticket
from events.ticket_status import ACTIVE
from projections import ticket_state
from projections.search_terms import email_terms, number_terms, phone_terms, text_terms

if TYPE_CHECKING:
    from psycopg import Cursor

PRIORITY_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
_TICKET_TOPIC_PREFIX = "events.ticket:Ticket"

SUMMARY_COLUMNS = (
    "id", "number", "title", "status", "priority", "priority_rank", "category", "channel", "team_id",
    "assignee_id", "customer_id", "customer_tier", "customer_org", "region", "tags", "created_at",
    "updated_at", "first_responded_at", "resolved_at", "closed_at", "due_at", "version", "rating",
    "public_text", "all_text", "state",
)


def _ms(duration: timedelta) -> int:
    """Durations are summed as whole milliseconds, so sums do not depend on batching."""
    return round(duration.total_seconds() * 1000)


def _searchable(ticket: Ticket) -> tuple[list[str], list[str], str, str]:
    """(public terms, all terms, public text, all text) of a ticket."""
    contact = ticket.contact or {}
    public_parts = [ticket.title, ticket.description, contact.get("name") or "", ticket.category or "",
                    " ".join(ticket.tags), ticket.customer.get("organization") or "", ticket.region or "",
                    " ".join(str(v) for v in ticket.product.values() if v)]
    public_parts += [c["body"] for c in ticket.comments if c["public"]]
    internal_parts = [c["body"] for c in ticket.comments if not c["public"]]
    public_text = "\n".join(public_parts).casefold()
    internal_text = "\n".join(internal_parts).casefold()
    public = text_terms(public_text) | phone_terms(contact.get("phone")) | email_terms(contact.get("email"))
    public |= number_terms(ticket.number)
    everything = public | text_terms(internal_text)
    return sorted(public), sorted(everything), public_text, public_text + "\n" + internal_text


def summary_row(ticket: Ticket) -> dict[str, Any]:
    public_terms, all_terms, public_text, all_text = _searchable(ticket)
    return {
        "id": ticket.id, "number": ticket.number, "title": ticket.title, "status": ticket.status,
        "priority": ticket.priority, "priority_rank": PRIORITY_RANK[ticket.priority],
        "category": ticket.category, "channel": ticket.channel, "team_id": ticket.team_id,
        "assignee_id": ticket.assignee_id, "customer_id": ticket.customer_id,
        "customer_tier": ticket.customer.get("tier"), "customer_org": ticket.customer.get("organization"),
        "region": ticket.region, "tags": list(ticket.tags), "created_at": ticket.created_on,
        "updated_at": ticket.modified_on, "first_responded_at": ticket.first_responded_at,
        "resolved_at": ticket.resolved_at, "closed_at": ticket.closed_at, "due_at": None,
        "version": ticket.version, "rating": (ticket.rating or {}).get("score"),
        "public_text": public_text, "all_text": all_text, "state": Jsonb(ticket_state.without_nul(ticket_state.dump(ticket))),
        "public_terms": public_terms, "all_terms": all_terms,
    }


class TicketsProjection:
    """ticket_summary, agent_workload and daily_stats, from Ticket events."""

    name = "tickets"
    tables = ("ticket_summary", "agent_workload", "daily_stats")

    def __init__(self, schema: str, suffix: str = "", timezone: str = "Asia/Shanghai") -> None:
        self.schema = schema
        self.suffix = suffix
        self.zone = ZoneInfo(timezone)

    def table(self, base: str) -> Any:
        return SQL("{}.{}").format(Identifier(self.schema), Identifier(base + self.suffix))

    def create_tables(self, cur: Cursor, *, with_indexes: bool = True) -> None:
        cur.execute("SELECT to_regclass(%s) AS t", (f"{self.schema}.ticket_summary{self.suffix}",))
        exists = cur.fetchone()["t"] is not None  # type: ignore[index]
        summary, workload, stats = self.table("ticket_summary"), self.table("agent_workload"), self.table("daily_stats")
        cur.execute(SQL(
            "CREATE TABLE IF NOT EXISTS {} (id uuid PRIMARY KEY, number text NOT NULL, title text NOT NULL,"
            " status text NOT NULL, priority text NOT NULL, priority_rank smallint NOT NULL, category text,"
            " channel text, team_id text, assignee_id text, customer_id text, customer_tier text,"
            " customer_org text, region text, tags text[] NOT NULL, created_at timestamptz NOT NULL,"
            " updated_at timestamptz NOT NULL, first_responded_at timestamptz, resolved_at timestamptz,"
            " closed_at timestamptz, due_at timestamptz, version int NOT NULL, rating smallint,"
            " public_terms tsvector NOT NULL, all_terms tsvector NOT NULL, public_text text NOT NULL,"
            " all_text text NOT NULL, state jsonb NOT NULL)").format(summary))
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

    def create_indexes(self, cur: Cursor) -> None:
        """Secondary indexes; a rebuild adds them after the bulk fill, which is much faster."""
        for definition in ("USING gin (public_terms)", "USING gin (all_terms)", "USING gin (tags)",
                           "(status, priority_rank DESC, due_at, created_at)", "(created_at DESC)",
                           "(updated_at DESC)", "(team_id, status)", "(assignee_id, status)",
                           "(customer_id, created_at DESC)", "(number)"):
            cur.execute(SQL("CREATE INDEX ON {} " + definition).format(self.table("ticket_summary")))

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
        for event in ticket_events:
            current = tickets.get(event.originator_id)
            if current is not None and event.originator_version <= current.version:
                continue  # already reflected (a replayed batch)
            previous_first_response = current.first_responded_at if current else None
            tickets[event.originator_id] = event.mutate(current)
            self._count(stats, tickets[event.originator_id], event, previous_first_response)
        self._write_summaries(cur, list(tickets.values()))
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
        columns = SUMMARY_COLUMNS + ("public_terms", "all_terms")
        placeholders = ", ".join("array_to_tsvector(%s::text[])" if c.endswith("_terms") else "%s" for c in columns)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != "id")
        statement = SQL("INSERT INTO {} (" + ", ".join(columns) + ") VALUES (" + placeholders + ")"
                        " ON CONFLICT (id) DO UPDATE SET " + updates).format(self.table("ticket_summary"))
        rows = [{k: ticket_state.without_nul(v) if k != "state" else v for k, v in summary_row(t).items()}
                for t in tickets]
        cur.executemany(statement, [tuple(row[c] for c in columns) for row in rows])

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

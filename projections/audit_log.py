"""The audit projection: every event across tickets, accounts and teams, one readable row each."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from psycopg.sql import SQL, Composed, Identifier

from projections.ticket_state import without_nul

if TYPE_CHECKING:
    from psycopg import Cursor

_SUMMARIES: dict[str, Callable[[Any], str]] = {
    "Ticket.Created": lambda e: f"filed ticket {e.number} “{e.title}” ({e.priority})",
    "Ticket.Assigned": lambda e: f"assigned to {e.assignee_id}" + (f" in team {e.team_id}" if e.team_id else ""),
    "Ticket.Transferred": lambda e: f"transferred to team {e.team_id}" + (f": {e.reason}" if e.reason else ""),
    "Ticket.Escalated": lambda e: f"escalated to level {e.level}" + (f": {e.reason}" if e.reason else ""),
    "Ticket.Started": lambda e: "started work",
    "Ticket.PutOnHold": lambda e: "put on hold" + (f": {e.reason}" if e.reason else ""),
    "Ticket.Resumed": lambda e: "resumed work",
    "Ticket.CommentAdded": lambda e: "replied to the customer" if e.public else "added an internal note",
    "Ticket.Resolved": lambda e: "resolved" + (f": {e.resolution[:200]}" if e.resolution else ""),
    "Ticket.Closed": lambda e: f"closed ({e.reason})",
    "Ticket.Reopened": lambda e: "reopened" + (f": {e.reason}" if e.reason else ""),
    "Ticket.Rated": lambda e: f"rated the service {e.score}/5",
    "Ticket.Merged": lambda e: f"merged into {e.into_number}",
    "Ticket.Absorbed": lambda e: f"absorbed {e.source_number}",
    "Ticket.Linked": lambda e: f"linked {e.kind} ticket {e.other_id}",
    "Ticket.PriorityChanged": lambda e: f"changed priority {e.previous} → {e.priority}",
    "Ticket.Tagged": lambda e: "tagged " + ", ".join(e.tags),
    "Ticket.Untagged": lambda e: "untagged " + ", ".join(e.tags),
    "Ticket.FieldsSet": lambda e: "set fields " + ", ".join(sorted(e.fields)),
    "Account.Registered": lambda e: f"registered account {e.email} as {e.role}",
    "Account.PasswordSet": lambda e: "set the account's password",
    "Account.Deactivated": lambda e: "deactivated the account",
    "Team.Founded": lambda e: f"founded team {e.name}",
}
_SUBJECTS: dict[str, Callable[[Any], str]] = {
    "Ticket.Created": lambda e: e.number,
    "Account.Registered": lambda e: e.email,
    "Team.Founded": lambda e: e.name,
}
COLUMNS = ("position", "at", "actor_id", "actor_role", "aggregate_id", "aggregate_type", "subject",
           "type", "summary", "correlation_id", "internal")


def audit_row(position: int, event: Any, subject: str | None) -> tuple[Any, ...]:
    kind = type(event).__qualname__
    meta = getattr(event, "meta", None) or {"actor_id": "system", "actor_role": "system"}
    summary = _SUMMARIES.get(kind, lambda e: kind)(event)
    internal = kind == "Ticket.CommentAdded" and not event.public
    return tuple(without_nul(value) for value in (
        position, event.timestamp, meta["actor_id"], meta["actor_role"], event.originator_id,
        kind.split(".")[0], subject, kind.split(".")[-1], summary, meta.get("correlation_id", ""), internal))


class AuditProjection:
    """audit_log (one row per event) and audit_subjects (what a stream is called)."""

    name = "audit"
    tables = ("audit_log", "audit_subjects")

    def __init__(self, schema: str, suffix: str = "") -> None:
        self.schema = schema
        self.suffix = suffix

    def table(self, base: str) -> Any:
        return SQL("{}.{}").format(Identifier(self.schema), Identifier(base + self.suffix))

    def create_tables(self, cur: Cursor, *, with_indexes: bool = True) -> bool:
        """Create what is missing; True when the tables start empty."""
        cur.execute("SELECT to_regclass(%s) AS t", (f"{self.schema}.audit_log{self.suffix}",))
        exists = cur.fetchone()["t"] is not None  # type: ignore[index]
        log = self.table("audit_log")
        cur.execute(SQL(
            "CREATE TABLE IF NOT EXISTS {} (position bigint PRIMARY KEY, at timestamptz NOT NULL,"
            " actor_id text NOT NULL, actor_role text NOT NULL, aggregate_id uuid NOT NULL,"
            " aggregate_type text NOT NULL, subject text, type text NOT NULL, summary text NOT NULL,"
            " correlation_id text NOT NULL, internal boolean NOT NULL)").format(log))
        cur.execute(SQL("CREATE TABLE IF NOT EXISTS {} (aggregate_id uuid PRIMARY KEY, subject text NOT NULL)")
                    .format(self.table("audit_subjects")))
        if with_indexes and not exists:
            for statement in self.index_statements():
                cur.execute(statement)
        return not exists

    def index_statements(self) -> list[Composed]:
        return [SQL("CREATE INDEX ON {} " + d).format(self.table("audit_log"))
                for d in ("(at)", "(actor_id, position)", "(aggregate_id, position)", "(type, position)")]

    def apply(self, cur: Cursor, events: list[tuple[int, Any]]) -> None:
        events = [(p, e) for p, e in events if type(e).__qualname__.split(".")[0] in ("Ticket", "Account", "Team")]
        if not events:
            return
        subjects = {e.originator_id: _SUBJECTS[type(e).__qualname__](e)
                    for _, e in events if type(e).__qualname__ in _SUBJECTS}
        unknown = list({e.originator_id for _, e in events} - subjects.keys())
        if unknown:
            cur.execute(SQL("SELECT aggregate_id, subject FROM {} WHERE aggregate_id = ANY(%s)")
                        .format(self.table("audit_subjects")), (unknown,))
            subjects.update({row["aggregate_id"]: row["subject"] for row in cur.fetchall()})
        new_subjects = [(e.originator_id, without_nul(subjects[e.originator_id])) for _, e in events
                        if type(e).__qualname__ in _SUBJECTS]
        if new_subjects:
            cur.executemany(SQL("INSERT INTO {} (aggregate_id, subject) VALUES (%s, %s) ON CONFLICT DO NOTHING")
                            .format(self.table("audit_subjects")), new_subjects)
        cur.executemany(SQL("INSERT INTO {} (" + ", ".join(COLUMNS) + ") VALUES (" + ", ".join(["%s"] * len(COLUMNS))
                            + ") ON CONFLICT (position) DO NOTHING").format(self.table("audit_log")),
                        [audit_row(p, e, subjects.get(e.originator_id)) for p, e in events])

"""The kanban board, agent workload and flow stats, from the tickets projection."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from psycopg.sql import SQL, Composable

from events.ticket_status import ACTIVE
from identity.deps import CurrentActor
from identity.errors import Forbidden
from read_api.consistency import ReadModelsDep, TicketsConsistent
from read_api.ticket_search import LIST_COLUMNS, visibility

router = APIRouter(prefix="/api/v1", tags=["board"])

BOARD_COLUMNS = ("new", "open", "in_progress", "pending", "resolved")
AGE_BUCKETS = (("under_1d", 0, 1), ("1d_3d", 1, 3), ("3d_7d", 3, 7), ("7d_30d", 7, 30), ("over_30d", 30, None))
ZONE = ZoneInfo("Asia/Shanghai")
Id = Annotated[str | None, Query(max_length=100)]


def _require_staff_view(role: str) -> None:
    if role == "customer":
        raise Forbidden("the board, workload and stats are for staff and auditors")


@router.get("/board")
def board(models: ReadModelsDep, actor: CurrentActor, _: TicketsConsistent, team: Id = None,
          assignee: Id = None, cards: Annotated[int, Query(ge=0, le=200)] = 50) -> dict[str, Any]:
    """Kanban columns by status with counts; cards by priority, then due time, then age."""
    _require_staff_view(actor.role)
    seen, params = visibility(actor)
    where = [seen, SQL("status = ANY(%s)")]
    params = [*params, list(BOARD_COLUMNS)]
    for column, value in (("team_id", team), ("assignee_id", assignee)):
        if value is not None:
            where.append(SQL(f"{column} = %s"))
            params.append(value)
    condition = SQL(" AND ").join(where)
    table = models.table("ticket_summary")
    columns = SQL(", ").join(SQL(c) for c in LIST_COLUMNS)
    with models.cursor() as cur:
        counts = _column_counts(cur, models, actor, team, assignee)
        result = []
        for status in BOARD_COLUMNS:
            cur.execute(SQL("SELECT {} FROM {} WHERE {} AND status = %s ORDER BY priority_rank DESC,"
                            " due_at ASC NULLS LAST, created_at ASC LIMIT %s").format(columns, table, condition),
                        [*params, status, cards])
            result.append({"status": status, "count": counts.get(status, 0), "cards": cur.fetchall()})
    return {"columns": result}


def _column_counts(cur: Any, models: Any, actor: Any, team: str | None, assignee: str | None) -> dict[str, int]:
    """Tickets per board column, summed from board_counts, which the projection keeps ('' standing for none)."""
    seen, params = visibility(actor)
    where = [seen]
    for column, value in (("team_id", team), ("assignee_id", assignee)):
        if value is not None:
            where.append(SQL(f"{column} = %s"))
            params.append(value)
    cur.execute(SQL("SELECT status, sum(tickets)::int AS n FROM (SELECT NULLIF(team_id, '') AS team_id,"
                    " NULLIF(assignee_id, '') AS assignee_id, status, tickets FROM {}) AS c WHERE {} GROUP BY status")
                .format(models.table("board_counts"), SQL(" AND ").join(where)), params)
    return {row["status"]: row["n"] for row in cur.fetchall()}


@router.get("/workload")
def workload(models: ReadModelsDep, actor: CurrentActor, _: TicketsConsistent) -> dict[str, Any]:
    """Open tickets per agent and status."""
    _require_staff_view(actor.role)
    with models.cursor() as cur:
        cur.execute(SQL("SELECT assignee_id, status, tickets FROM {} ORDER BY assignee_id, status")
                    .format(models.table("agent_workload")))
        agents: dict[str, dict[str, Any]] = {}
        for row in cur.fetchall():
            entry = agents.setdefault(row["assignee_id"], {"assignee_id": row["assignee_id"], "total": 0,
                                                           "by_status": {}})
            entry["by_status"][row["status"]] = row["tickets"]
            entry["total"] += row["tickets"]
    return {"data": sorted(agents.values(), key=lambda a: (-a["total"], a["assignee_id"]))}


@router.get("/stats")
def stats(models: ReadModelsDep, actor: CurrentActor, _: TicketsConsistent,
          from_: Annotated[date | None, Query(alias="from")] = None,
          to: Annotated[date | None, Query()] = None, team: Id = None) -> dict[str, Any]:
    """Created / resolved / reopened per day and team, response and resolution times, backlog, satisfaction."""
    _require_staff_view(actor.role)
    today = datetime.now(ZONE).date()
    to = to or today
    from_ = from_ or to - timedelta(days=29)
    where, params = [SQL("day >= %s AND day <= %s")], [from_, to]
    if team is not None:
        where.append(SQL("team_id = %s"))
        params.append(team)
    with models.cursor() as cur:
        cur.execute(SQL("SELECT * FROM {} WHERE {} ORDER BY day, team_id")
                    .format(models.table("daily_stats"), SQL(" AND ").join(where)), params)
        days = cur.fetchall()
        backlog = _backlog(cur, models, team)
    totals = {k: sum(d[k] for d in days) for k in ("created", "resolved", "reopened", "first_responses",
                                                   "first_response_ms", "resolution_ms", "ratings",
                                                   "rating_sum")}
    return {
        "from": from_, "to": to, "team": team,
        "days": [{**d, "team_id": d["team_id"] or None} for d in days],
        "totals": {
            "created": totals["created"], "resolved": totals["resolved"], "reopened": totals["reopened"],
            "avg_first_response_minutes": _avg(totals["first_response_ms"], totals["first_responses"], 60_000),
            "avg_resolution_minutes": _avg(totals["resolution_ms"], totals["resolved"], 60_000),
            "avg_satisfaction": _avg(totals["rating_sum"], totals["ratings"], 1),
        },
        "backlog_by_age": backlog,
    }


def _avg(total: float, count: int, unit: float) -> float | None:
    return round(total / count / unit, 2) if count else None


def _bucket(column: str) -> Composable:
    """The age bucket of a creation time, as SQL: younger than `high` days means after %(since_<high>)s."""
    return SQL("CASE " + " ".join(
        f"WHEN {column} > %(since_{high})s THEN '{name}'" if high else f"ELSE '{name}'"
        for name, _low, high in AGE_BUCKETS) + " END")


def _backlog(cur: Any, models: Any, team: str | None) -> dict[str, int]:
    """Active tickets by age, from backlog_hours (active tickets per team and hour of creation).

    An hour wholly inside one bucket counts from the table; the hours that hold a bucket's
    edge (one per edge) are counted exactly from ticket_summary.
    """
    now = datetime.now(timezone.utc)
    edges = sorted({(now - timedelta(days=high)).replace(minute=0, second=0, microsecond=0)
                    for _name, _low, high in AGE_BUCKETS if high})
    params: dict[str, Any] = {"edges": edges, "team": team, "active": sorted(ACTIVE)}
    params.update({f"since_{high}": now - timedelta(days=high) for _name, _low, high in AGE_BUCKETS if high})
    params.update({f"edge{i}": edge for i, edge in enumerate(edges)})
    in_edge_hours = SQL(" OR ").join(
        SQL("(s.created_at >= %(edge{i})s AND s.created_at < %(edge{i})s + interval '1 hour')".format(i=i))
        for i in range(len(edges)))
    team_rows = SQL(" AND team_id = %(team)s AND team_id <> ''") if team is not None else SQL("")  # '' is no team
    team_tickets = SQL(" AND s.team_id = %(team)s") if team is not None else SQL("")
    cur.execute(SQL(
        "SELECT {bucket_hour} AS bucket, sum(tickets)::int AS n FROM {hours}"
        " WHERE hour <> ALL(%(edges)s::timestamptz[]){team_rows} GROUP BY 1"
        " UNION ALL SELECT {bucket_created}, count(*)::int FROM {summary} AS s"
        " WHERE ({in_edge_hours}) AND s.status = ANY(%(active)s){team_tickets} GROUP BY 1").format(
            bucket_hour=_bucket("hour"), hours=models.table("backlog_hours"), team_rows=team_rows,
            bucket_created=_bucket("s.created_at"), summary=models.table("ticket_summary"),
            in_edge_hours=in_edge_hours, team_tickets=team_tickets), params)
    found: dict[str, int] = {}
    for row in cur.fetchall():
        found[row["bucket"]] = found.get(row["bucket"], 0) + row["n"]
    return {name: found.get(name, 0) for name, _low, _high in AGE_BUCKETS}

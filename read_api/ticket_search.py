"""Ticket search over ticket_summary: terms index, exact recheck, filters, keyset pages, facets."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg.sql import SQL, Composable, Composed, Identifier

from events.errors import DomainError
from projections.search_terms import parse_query
from read_api.search_filters import SearchFilters, SearchPage

if TYPE_CHECKING:
    from events.actor import Actor
    from read_api.read_models import ReadModels

LIST_COLUMNS = ("id", "number", "title", "status", "priority", "category", "channel", "team_id", "assignee_id",
                "customer_id", "customer_tier", "region", "tags", "created_at", "updated_at", "due_at", "version")
_SORTS: dict[str, tuple[str, ...]] = {
    "relevance": ("rank", "updated_at", "id"),
    "created": ("created_at", "id"),
    "updated": ("updated_at", "id"),
    "priority": ("priority_rank", "created_at", "id"),
}


class BadCursor(DomainError):
    code = "query.bad_cursor"
    status = 422


def visibility(reader: Actor) -> tuple[Composable, list[Any]]:
    """The rows a reader may see, as SQL: the permission policy's can_view, for many rows."""
    if reader.role in ("admin", "auditor"):
        return SQL("TRUE"), []
    if reader.role == "customer":
        return SQL("customer_id = %s"), [reader.id]
    if reader.role in ("agent", "supervisor"):
        return SQL("(team_id IS NULL OR team_id = ANY(%s) OR assignee_id = %s)"), [list(reader.team_ids), reader.id]
    return SQL("FALSE"), []


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def where_clause(filters: SearchFilters, reader: Actor) -> tuple[Composed, list[Any], str | None]:
    """WHERE for the filters and the reader; also the tsquery (for ranking) if q was given."""
    customer_view = reader.role == "customer"
    terms, text = ("public_terms", "public_text") if customer_view else ("all_terms", "all_text")
    seen, params = visibility(reader)
    parts: list[Composable] = [seen]
    tsquery = None
    if filters.q and filters.q.strip():
        tsquery, recheck = parse_query(filters.q)
        if tsquery is None:
            parts.append(SQL("FALSE"))
        else:
            parts.append(SQL("{} @@ %s::tsquery").format(Identifier(terms)))
            params.append(tsquery)
            for substring in recheck:
                parts.append(SQL("{} LIKE %s").format(Identifier(text)))
                params.append(_like(substring))
    equal = {"category": filters.category, "team_id": filters.team, "assignee_id": filters.assignee,
             "customer_id": filters.customer, "customer_tier": filters.tier, "region": filters.region,
             "channel": filters.channel}
    for column, value in equal.items():
        if value is not None:
            parts.append(SQL("{} = %s").format(Identifier(column)))
            params.append(value)
    for column, values in (("status", filters.status), ("priority", filters.priority)):
        if values:
            parts.append(SQL("{} = ANY(%s)").format(Identifier(column)))
            params.append(list(values))
    if filters.tags:
        parts.append(SQL("tags && %s::text[]") if filters.tags_mode == "any" else SQL("tags @> %s::text[]"))
        params.append(list(filters.tags))
    for column, low, high in (("created_at", filters.created_from, filters.created_to),
                              ("updated_at", filters.updated_from, filters.updated_to)):
        if low is not None:
            parts.append(SQL("{} >= %s").format(Identifier(column)))
            params.append(low)
        if high is not None:
            parts.append(SQL("{} < %s").format(Identifier(column)))
            params.append(high)
    return SQL(" AND ").join(parts), params, tsquery


def _encode_cursor(values: list[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else str(v) if not isinstance(v, (int, float)) else v
             for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode()


def _decode_cursor(cursor: str, sort: str) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(values, list) or len(values) != len(_SORTS[sort]):
            raise ValueError
        return [datetime.fromisoformat(v) if c.endswith("_at") else v for v, c in zip(values, _SORTS[sort])]
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        raise BadCursor("the cursor is not one this search returned") from None


def search(models: ReadModels, page: SearchPage, reader: Actor) -> dict[str, Any]:
    """One page of matching tickets, the cursor to the next, and facet counts."""
    where, params, tsquery = where_clause(page, reader)
    sort = page.sort or ("relevance" if tsquery else "updated")
    if sort == "relevance" and not tsquery:
        sort = "updated"
    terms = "public_terms" if reader.role == "customer" else "all_terms"
    rank = SQL("ts_rank({}, %s::tsquery)::float8").format(Identifier(terms)) if sort == "relevance" else SQL("0")
    rank_params = [tsquery] if sort == "relevance" else []
    keys = _SORTS[sort]
    inner = SQL("SELECT {cols}, {rank} AS rank FROM {table} WHERE {where}").format(
        cols=SQL(", ").join(Identifier(c) for c in LIST_COLUMNS) + SQL(", priority_rank"),
        rank=rank, table=models.table("ticket_summary"), where=where)
    query = SQL("SELECT * FROM ({inner}) AS matched").format(inner=inner)
    query_params = rank_params + params
    if page.cursor:
        query += SQL(" WHERE ({}) < ({})").format(SQL(", ").join(Identifier(k) for k in keys),
                                                SQL(", ").join(SQL("%s") for _ in keys))
        query_params += _decode_cursor(page.cursor, sort)
    query += SQL(" ORDER BY {} LIMIT %s").format(SQL(", ").join(SQL("{} DESC").format(Identifier(k)) for k in keys))
    query_params.append(page.limit + 1)
    with models.cursor() as cur:
        cur.execute(query, query_params)
        rows = cur.fetchall()
        facets = _facets(cur, models, where, params)
    more = len(rows) > page.limit
    rows = rows[:page.limit]
    next_cursor = _encode_cursor([rows[-1][k] for k in keys]) if more and rows else None
    data = [{c: row[c] for c in LIST_COLUMNS} for row in rows]
    return {"data": data, "next_cursor": next_cursor, "facets": facets}


def _facets(cur: Any, models: ReadModels, where: Composed, params: list[Any]) -> dict[str, dict[str, int]]:
    table = models.table("ticket_summary")
    cur.execute(SQL("SELECT status, priority, count(*) AS n FROM {} WHERE {} GROUP BY status, priority")
                .format(table, where), params)
    status: dict[str, int] = {}
    priority: dict[str, int] = {}
    for row in cur.fetchall():
        status[row["status"]] = status.get(row["status"], 0) + row["n"]
        priority[row["priority"]] = priority.get(row["priority"], 0) + row["n"]
    cur.execute(SQL("SELECT tag, count(*) AS n FROM {}, unnest(tags) AS tag WHERE {} GROUP BY tag"
                    " ORDER BY n DESC, tag LIMIT 30").format(table, where), params)
    return {"status": status, "priority": priority, "tags": {row["tag"]: row["n"] for row in cur.fetchall()}}

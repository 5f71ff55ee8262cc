"""Ticket search over ticket_summary and ticket_search: terms index, exact recheck, filters, keyset pages, facets."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from psycopg.sql import SQL, Composable, Composed, Identifier

from events.errors import DomainError
from projections.search_document import ASSIGNEE, CUSTOMER, TEAM
from projections.search_terms import parse_query, quote_lexeme
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


def visibility(reader: Actor, alias: str | None = None) -> tuple[Composable, list[Any]]:
    """The rows a reader may see, as SQL: the permission policy's can_view, for many rows."""
    def column(name: str) -> Composable:
        return Identifier(alias, name) if alias else Identifier(name)

    if reader.role in ("admin", "auditor"):
        return SQL("TRUE"), []
    if reader.role == "customer":
        return SQL("{} = %s").format(column("customer_id")), [reader.id]
    if reader.role in ("agent", "supervisor"):
        return (SQL("({team} IS NULL OR {team} = ANY(%s) OR {assignee} = %s)").format(
            team=column("team_id"), assignee=column("assignee_id")), [list(reader.team_ids), reader.id])
    return SQL("FALSE"), []


def visibility_terms(reader: Actor) -> str | None:
    """The same rows as visibility(), as a tsquery over the visibility terms of ticket_search."""
    if reader.role == "customer":
        return quote_lexeme(CUSTOMER + reader.id)
    if reader.role in ("agent", "supervisor"):
        seen = [TEAM, *(TEAM + team for team in reader.team_ids), ASSIGNEE + reader.id]
        return "(" + " | ".join(quote_lexeme(term) for term in seen) + ")"
    return None


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class Where(NamedTuple):
    """What a search matches: its condition over alias `t` and the parameters, and the text query if q was given.

    With q, `t` is ticket_search (the terms and a copy of every column a search needs); without,
    ticket_summary.
    """

    condition: Composed
    params: list[Any]
    tsquery: str | None


def where_clause(filters: SearchFilters, reader: Actor) -> Where:
    """The filters and the reader's visibility, over alias t."""
    seen, params = visibility(reader, "t")
    parts: list[Composable] = [seen]
    tsquery = None
    if filters.q and filters.q.strip():
        # Customers match public terms only (weight A); staff match internal notes too.
        tsquery, recheck = parse_query(filters.q, public_only=reader.role == "customer")
        if tsquery is None:
            parts.append(SQL("FALSE"))
        else:
            # The visibility terms (and those of a customer, team or assignee filter) let the
            # index itself drop what the reader may not see or did not ask for.
            narrowing = [visibility_terms(reader)] + [quote_lexeme(tag + value) for tag, value in (
                (CUSTOMER, filters.customer), (TEAM, filters.team), (ASSIGNEE, filters.assignee)) if value]
            parts.append(SQL("t.terms @@ %s::tsquery"))
            params.append(" & ".join([f"({tsquery})", *(n for n in narrowing if n)]))
            for substring in recheck:
                if reader.role == "customer":
                    parts.append(SQL("t.public_text LIKE %s"))
                    params.append(_like(substring))
                else:
                    parts.append(SQL("(t.public_text LIKE %s OR t.internal_text LIKE %s)"))
                    params += [_like(substring)] * 2
    equal = {"category": filters.category, "team_id": filters.team, "assignee_id": filters.assignee,
             "customer_id": filters.customer, "customer_tier": filters.tier, "region": filters.region,
             "channel": filters.channel}
    for column, value in equal.items():
        if value is not None:
            parts.append(SQL("{} = %s").format(Identifier("t", column)))
            params.append(value)
    for column, values in (("status", filters.status), ("priority", filters.priority)):
        if values:
            parts.append(SQL("{} = ANY(%s)").format(Identifier("t", column)))
            params.append(list(values))
    if filters.tags:
        parts.append(SQL("t.tags && %s::text[]") if filters.tags_mode == "any" else SQL("t.tags @> %s::text[]"))
        params.append(list(filters.tags))
    for column, low, high in (("created_at", filters.created_from, filters.created_to),
                              ("updated_at", filters.updated_from, filters.updated_to)):
        if low is not None:
            parts.append(SQL("{} >= %s").format(Identifier("t", column)))
            params.append(low)
        if high is not None:
            parts.append(SQL("{} < %s").format(Identifier("t", column)))
            params.append(high)
    return Where(SQL(" AND ").join(parts), params, tsquery)


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


FACET_SAMPLE = 5000  # facets count at most this many matches: exact below it, a sample above
RELEVANCE_WINDOW = 1000  # relevance orders the most recently updated matches, not all of them


def search(models: ReadModels, page: SearchPage, reader: Actor) -> dict[str, Any]:
    """One page of matching tickets, the cursor to the next, and facet counts."""
    where = where_clause(page, reader)
    sort = page.sort or "updated"
    if sort == "relevance" and not where.tsquery:
        sort = "updated"
    keys = _SORTS[sort]
    with models.cursor() as cur:
        # Plans here are index lookups of a few ms: compiling them (JIT) or starting parallel
        # workers costs more than it saves.
        cur.execute("SET LOCAL jit = off")
        cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        facets, complete = _facets(cur, models, where)
        base, query_params = _matches(models, where, ranked=sort == "relevance", few=complete)
        if sort == "relevance":
            # Ranking every match of a common word (维修 matches a fifth of a million tickets)
            # costs seconds; rank a recent window instead.
            base = SQL("SELECT * FROM ({}) AS b ORDER BY updated_at DESC LIMIT %s").format(base)
            query_params.append(RELEVANCE_WINDOW)
        query = SQL("SELECT * FROM ({}) AS matched").format(base)
        if page.cursor:
            query += SQL(" WHERE ({}) < ({})").format(SQL(", ").join(Identifier(k) for k in keys),
                                                    SQL(", ").join(SQL("%s") for _ in keys))
            query_params += _decode_cursor(page.cursor, sort)
        query += SQL(" ORDER BY {} LIMIT %s").format(
            SQL(", ").join(SQL("{} DESC").format(Identifier(k)) for k in keys))
        query_params.append(page.limit + 1)
        cur.execute(query, query_params)
        rows = cur.fetchall()
    more = len(rows) > page.limit
    rows = rows[:page.limit]
    next_cursor = _encode_cursor([rows[-1][k] for k in keys]) if more and rows else None
    data = [{c: row[c] for c in LIST_COLUMNS} for row in rows]
    return {"data": data, "next_cursor": next_cursor, "facets": facets, "facets_complete": complete}


def _matches(models: ReadModels, where: Where, ranked: bool, few: bool) -> tuple[Composed, list[Any]]:
    """The matching rows with their sort keys (and rank, when ranking).

    Few matches (the facet sample held them all) are taken from ticket_search alone through
    the terms index and sorted; OFFSET 0 keeps PostgreSQL from walking the whole updated_at
    index hoping to meet them early, which it does when it misjudges a rare term. Many
    matches are met early along ticket_summary's sort indexes, each checked in ticket_search.
    """
    summary, search = models.table("ticket_summary"), models.table("ticket_search")
    query_params = list(where.params)
    if where.tsquery is None:
        source, keys_from = SQL("{} AS t").format(summary), "t"
    elif few:
        source, keys_from = SQL("{} AS t").format(search), "t"
    else:
        source, keys_from = SQL("{} AS s JOIN {} AS t ON t.id = s.id").format(summary, search), "s"
    columns = SQL(", ").join(Identifier(keys_from, c) for c in (*LIST_COLUMNS, "priority_rank"))
    if ranked:
        columns += SQL(", ts_rank(t.terms, %s::tsquery)::float8 AS rank")
        query_params.insert(0, where.tsquery)
    base = SQL("SELECT {} FROM {} WHERE {}").format(columns, source, where.condition)
    return (base + SQL(" OFFSET 0") if few else base), query_params


def _facets(cur: Any, models: ReadModels, where: Where) -> tuple[dict[str, dict[str, int]], bool]:
    """Counts by status, priority and tag over the matches (over a sample when there are very many)."""
    table = models.table("ticket_search" if where.tsquery else "ticket_summary")
    cur.execute(SQL(
        "WITH sample AS MATERIALIZED (SELECT t.status, t.priority, t.tags FROM {} AS t WHERE {} LIMIT %s)"
        " SELECT 'status' AS facet, status AS value, count(*) AS n FROM sample GROUP BY status"
        " UNION ALL SELECT 'priority', priority, count(*) FROM sample GROUP BY priority"
        " UNION ALL (SELECT 'tags', tag, count(*) FROM sample, unnest(tags) AS tag GROUP BY tag"
        " ORDER BY 3 DESC, 2 LIMIT 30)").format(table, where.condition), [*where.params, FACET_SAMPLE])
    facets: dict[str, dict[str, int]] = {"status": {}, "priority": {}, "tags": {}}
    for row in cur.fetchall():
        facets[row["facet"]][row["value"]] = row["n"]
    return facets, sum(facets["status"].values()) < FACET_SAMPLE

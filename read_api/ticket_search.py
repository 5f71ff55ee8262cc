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
    """What a search matches: the text condition (over ticket_search as `t`, None without q) and
    the filters with the reader's visibility (over the alias asked for), each with its parameters."""

    text: Composed | None
    text_params: list[Any]
    filters: Composed
    filter_params: list[Any]
    tsquery: str | None

    @property
    def condition(self) -> Composed:
        return self.filters if self.text is None else self.text + SQL(" AND ") + self.filters

    @property
    def params(self) -> list[Any]:
        return [*self.text_params, *self.filter_params]


def where_clause(filters: SearchFilters, reader: Actor, alias: str = "t") -> Where:
    """The text query over ticket_search `t`; the filters and the reader's visibility over `alias`."""
    text: Composed | None = None
    text_params: list[Any] = []
    tsquery = None
    if filters.q and filters.q.strip():
        # Customers match public terms only (weight A); staff match internal notes too.
        tsquery, recheck = parse_query(filters.q, public_only=reader.role == "customer")
        if tsquery is None:
            text = SQL("FALSE") + SQL("")
        else:
            # The visibility terms (and those of a customer, team or assignee filter) let the
            # index itself drop what the reader may not see or did not ask for.
            narrowing = [visibility_terms(reader)] + [quote_lexeme(tag + value) for tag, value in (
                (CUSTOMER, filters.customer), (TEAM, filters.team), (ASSIGNEE, filters.assignee)) if value]
            text_parts: list[Composable] = [SQL("t.terms @@ %s::tsquery")]
            text_params.append(" & ".join([f"({tsquery})", *(n for n in narrowing if n)]))
            for substring in recheck:
                if reader.role == "customer":
                    text_parts.append(SQL("t.public_text LIKE %s"))
                    text_params.append(_like(substring))
                else:
                    text_parts.append(SQL("(t.public_text LIKE %s OR t.internal_text LIKE %s)"))
                    text_params += [_like(substring)] * 2
            text = SQL(" AND ").join(text_parts)
    seen, params = visibility(reader, alias)
    parts: list[Composable] = [seen]
    equal = {"category": filters.category, "team_id": filters.team, "assignee_id": filters.assignee,
             "customer_id": filters.customer, "customer_tier": filters.tier, "region": filters.region,
             "channel": filters.channel}
    for column, value in equal.items():
        if value is not None:
            parts.append(SQL("{} = %s").format(Identifier(alias, column)))
            params.append(value)
    for column, values in (("status", filters.status), ("priority", filters.priority)):
        if values:
            parts.append(SQL("{} = ANY(%s)").format(Identifier(alias, column)))
            params.append(list(values))
    if filters.tags:
        operator = "&&" if filters.tags_mode == "any" else "@>"
        parts.append(SQL("{} " + operator + " %s::text[]").format(Identifier(alias, "tags")))
        params.append(list(filters.tags))
    for column, low, high in (("created_at", filters.created_from, filters.created_to),
                              ("updated_at", filters.updated_from, filters.updated_to)):
        if low is not None:
            parts.append(SQL("{} >= %s").format(Identifier(alias, column)))
            params.append(low)
        if high is not None:
            parts.append(SQL("{} < %s").format(Identifier(alias, column)))
            params.append(high)
    return Where(text, text_params, SQL(" AND ").join(parts), params, tsquery)


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
        # Plans here are index lookups of a few ms: starting parallel workers costs more than it saves.
        cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cur.execute("SET LOCAL work_mem = '16MB'")  # bitmaps of 100k+ matches stay exact
        facets, complete = _facets(cur, models, where)
        base, query_params = _matches(models, page, reader, where, sort, few=complete)
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


def _matches(models: ReadModels, page: SearchPage, reader: Actor, where: Where, sort: str,
             few: bool) -> tuple[Composed, list[Any]]:
    """The matching rows with their sort keys (and rank, when ranking).

    Few matches (the facet sample held them all) are taken from ticket_search alone through
    the terms index and sorted; OFFSET 0 keeps PostgreSQL from walking the whole updated_at
    index hoping to meet them early, which it does when it misjudges a rare term. Many
    matches are met early: the page walks ticket_summary's time index, filtering there, and
    checks each candidate's text in ticket_search (LATERAL, fenced, so the walk is kept
    even when the planner underestimates the matches, as it does for prefixes and
    4-character Chinese words).
    """
    summary, search = models.table("ticket_summary"), models.table("ticket_search")
    ranked = sort == "relevance"
    columns = SQL(", ").join(Identifier("t", c) for c in (*LIST_COLUMNS, "priority_rank"))
    rank = SQL(", ts_rank(t.terms, %s::tsquery)::float8 AS rank") if ranked else SQL("")
    rank_params = [where.tsquery] if ranked else []
    if where.text is None:
        return (SQL("SELECT {} FROM {} AS t WHERE {}").format(columns, summary, where.filters),
                list(where.filter_params))
    if few or sort == "priority":  # no index orders by priority: sort the matches
        base = SQL("SELECT {}{} FROM {} AS t WHERE {}").format(columns, rank, search, where.condition)
        return (base + SQL(" OFFSET 0") if few else base), [*rank_params, *where.params]
    walk = where_clause(page, reader, alias="s")
    time_key = "created_at" if sort == "created" else "updated_at"
    outer = SQL(", ").join(Identifier("s", c) for c in (*LIST_COLUMNS, "priority_rank"))
    query = SQL(
        "SELECT {outer}{rank} FROM (SELECT {inner} FROM {summary} AS s WHERE {filters}"
        " ORDER BY s.{key} DESC, s.id DESC) AS s"
        " CROSS JOIN LATERAL (SELECT t.terms FROM {search} AS t WHERE t.id = s.id AND {text} OFFSET 0) AS t").format(
        outer=outer, rank=rank, inner=outer, summary=summary, filters=walk.filters, key=Identifier(time_key),
        search=search, text=where.text)
    return query, [*rank_params, *walk.filter_params, *where.text_params]


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

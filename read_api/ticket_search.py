"""Ticket search over ticket_summary and ticket_search: terms index, exact recheck, filters, keyset pages, facets."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, NamedTuple

from psycopg.sql import SQL, Composable, Composed, Identifier

from events.errors import DomainError
from projections.search_document import (ASSIGNEE, CATEGORY, CHANNEL, CREATED_DAY, CREATED_MONTH, CUSTOMER, PRIORITY,
                                         REGION, TAG, TEAM, TIER)
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


def _any(terms: list[str]) -> str:
    return "(" + " | ".join(quote_lexeme(term) for term in terms) + ")"


def visibility_terms(reader: Actor) -> str | None:
    """The same rows as visibility(), as a tsquery over the visibility terms of ticket_search."""
    if reader.role == "customer":
        return quote_lexeme(CUSTOMER + reader.id)
    if reader.role in ("agent", "supervisor"):
        return _any([TEAM, *(TEAM + team for team in reader.team_ids), ASSIGNEE + reader.id])
    return None


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def filter_terms(filters: SearchFilters) -> list[str]:
    """tsquery parts the filters imply over the document's filter terms (a superset of what they match)."""
    parts = [quote_lexeme(tag + value) for tag, value in (
        (CUSTOMER, filters.customer), (TEAM, filters.team), (ASSIGNEE, filters.assignee), (CATEGORY, filters.category),
        (REGION, filters.region), (CHANNEL, filters.channel), (TIER, filters.tier)) if value]
    if filters.priority:
        parts.append(_any([PRIORITY + p for p in filters.priority]))
    if filters.tags:
        tags = [TAG + t for t in filters.tags]
        parts += [_any(tags)] if filters.tags_mode == "any" else [quote_lexeme(t) for t in tags]
    days = _created_days(filters.created_from, filters.created_to)
    if days:  # none at all: an empty range, which the row filter answers at once
        parts.append(_any(days))
    return parts


def _created_days(low: datetime | None, high: datetime | None) -> list[str] | None:
    """Creation-date terms covering [low, high): whole months as months, the rest as days; None if unbounded or long."""
    if low is None or high is None and low < datetime.now(timezone.utc) - timedelta(days=400):
        return None
    first = low.astimezone(timezone.utc).date()
    last = (high or datetime.now(timezone.utc) + timedelta(days=1)).astimezone(timezone.utc).date()
    if (last - first).days > 400:
        return None
    terms, day = [], first
    while day <= last:
        month_end = (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        if day.day == 1 and month_end <= last:
            terms.append(CREATED_MONTH + day.isoformat()[:7])
            day = month_end + timedelta(days=1)
        else:
            terms.append(CREATED_DAY + day.isoformat())
            day += timedelta(days=1)
    return terms


class Where(NamedTuple):
    """What a search matches: the terms condition (over ticket_search as `t`; None when neither q
    nor a filter has terms) and the filters with the reader's visibility, each with its parameters."""

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


def where_clause(filters: SearchFilters, reader: Actor) -> Where:
    """The text query over ticket_search `t`; the filters and the reader's visibility over `t` too."""
    text: Composed | None = None
    text_params: list[Any] = []
    tsquery = None
    # The visibility terms and the filters' terms let the index itself drop what the reader may
    # not see or did not ask for; with filters of that kind, a search without q uses the index too.
    seen_terms, asked_terms = visibility_terms(reader), filter_terms(filters)
    narrowing = [*([seen_terms] if seen_terms else []), *asked_terms]
    if filters.q and filters.q.strip():
        # Customers match public terms only (weight A); staff match internal notes too.
        tsquery, recheck = parse_query(filters.q, public_only=reader.role == "customer")
        if tsquery is None:
            text = Composed([SQL("FALSE")])
        else:
            text_parts: list[Composable] = [SQL("t.terms @@ %s::tsquery")]
            text_params.append(" & ".join([f"({tsquery})", *narrowing]))
            for substring in (run for run in recheck if len(run) > 2):  # a bigram term is its own exact match
                if reader.role == "customer":
                    text_parts.append(SQL("t.public_text LIKE %s"))
                    text_params.append(_like(substring))
                else:
                    text_parts.append(SQL("(t.public_text LIKE %s OR t.internal_text LIKE %s)"))
                    text_params += [_like(substring)] * 2
            text = SQL(" AND ").join(text_parts)
    elif asked_terms:
        text = Composed([SQL("t.terms @@ %s::tsquery")])
        text_params.append(" & ".join(narrowing))
    condition, params = row_filters(filters, reader, "t")
    return Where(text, text_params, condition, params, tsquery)


def row_filters(filters: SearchFilters, reader: Actor, alias: str) -> tuple[Composed, list[Any]]:
    """The filters and the reader's visibility as conditions on the columns of `alias`."""
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
    return SQL(" AND ").join(parts), params


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


# Facets count at most this many matches: exact below it, a sample above (facets_complete false).
# Each sampled match is a heap page to read, and on a million tickets most are not in memory.
FACET_SAMPLE = 1000
RELEVANCE_WINDOW = 1000  # relevance orders the most recently updated matches, not all of them


def search(models: ReadModels, page: SearchPage, reader: Actor) -> dict[str, Any]:
    """One page of matching tickets, the cursor to the next, and facet counts.

    One statement takes up to FACET_SAMPLE matches, counts the facets over them and, when they
    are all the matches, sorts the page out of them too; only with more matches than that does
    a second statement fetch the page (walking a time index, where matches come early).
    """
    where = where_clause(page, reader)
    sort = page.sort or "updated"
    if sort == "relevance" and not where.tsquery:
        sort = "updated"
    keys = _SORTS[sort]
    cursor = _decode_cursor(page.cursor, sort) if page.cursor else None
    with models.cursor() as cur:
        # Plans here are index lookups of a few ms: starting parallel workers costs more than it saves.
        cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cur.execute("SET LOCAL work_mem = '16MB'")  # bitmaps of 100k+ matches stay exact
        sample, sample_params = _sample(models, where, ranked=sort == "relevance")
        in_sample, in_sample_params = _page_of(SQL("SELECT * FROM sample"), [], sort, keys, cursor, page.limit)
        cur.execute(SQL(
            "WITH sample AS MATERIALIZED ({sample} LIMIT %s),"
            " counted AS (SELECT (SELECT count(*) FROM sample) AS matched, json_build_object("
            "'status', (SELECT coalesce(json_object_agg(status, n ORDER BY n DESC, status), '{{}}')"
            " FROM (SELECT status, count(*) AS n FROM sample GROUP BY status) AS x),"
            " 'priority', (SELECT coalesce(json_object_agg(priority, n ORDER BY n DESC, priority), '{{}}')"
            " FROM (SELECT priority, count(*) AS n FROM sample GROUP BY priority) AS x),"
            " 'tags', (SELECT coalesce(json_object_agg(tag, n ORDER BY n DESC, tag), '{{}}')"
            " FROM (SELECT tag, count(*) AS n FROM sample, unnest(tags) AS tag GROUP BY tag"
            " ORDER BY 2 DESC, 1 LIMIT 30) AS x)) AS facets)"
            " SELECT counted.matched AS _matched, counted.facets AS _facets, p.* FROM counted"
            " LEFT JOIN LATERAL ({page}) AS p ON TRUE").format(sample=sample, page=in_sample),
            [*sample_params, FACET_SAMPLE, *in_sample_params])
        rows = cur.fetchall()
        facets, complete = rows[0]["_facets"], rows[0]["_matched"] < FACET_SAMPLE
        rows = [row for row in rows if row["id"] is not None]
        if not complete:
            base, base_params, walks = _matches(models, page, reader, where, sort)
            if walks:
                # Walk the time index and stop after a page. Without this PostgreSQL may sort
                # every visible ticket first, when it misjudges how soon matches come.
                cur.execute("SET LOCAL enable_sort = off")
            cur.execute(*_page_of(base, base_params, sort, keys, cursor, page.limit))
            rows = cur.fetchall()
    more = len(rows) > page.limit
    rows = rows[:page.limit]
    next_cursor = _encode_cursor([rows[-1][k] for k in keys]) if more and rows else None
    data = [{c: row[c] for c in LIST_COLUMNS} for row in rows]
    return {"data": data, "next_cursor": next_cursor, "facets": facets, "facets_complete": complete}


def _page_of(base: Composable, params: list[Any], sort: str, keys: tuple[str, ...], cursor: list[Any] | None,
             limit: int) -> tuple[Composed, list[Any]]:
    """One page (plus one row, to tell whether there is more) of `base`, in `sort` order, after `cursor`."""
    params = list(params)
    if sort == "relevance":
        # Ranking every match of a common word (维修 matches a fifth of a million tickets)
        # costs seconds; rank a recent window instead.
        base = SQL("SELECT * FROM ({}) AS b ORDER BY updated_at DESC LIMIT %s").format(base)
        params.append(RELEVANCE_WINDOW)
    query = SQL("SELECT * FROM ({}) AS matched").format(base)
    if cursor is not None:
        query += SQL(" WHERE ({}) < ({})").format(SQL(", ").join(Identifier(k) for k in keys),
                                                SQL(", ").join(SQL("%s") for _ in keys))
        params += cursor
    query += SQL(" ORDER BY {} LIMIT %s").format(SQL(", ").join(SQL("{} DESC").format(Identifier(k)) for k in keys))
    return query, [*params, limit + 1]


def _sample(models: ReadModels, where: Where, ranked: bool) -> tuple[Composed, list[Any]]:
    """Matches with their list columns and sort keys, from one table: ticket_search when there is a text query."""
    table = models.table("ticket_search" if where.text is not None else "ticket_summary")
    columns = SQL(", ").join(Identifier("t", c) for c in (*LIST_COLUMNS, "priority_rank"))
    if ranked:
        return (SQL("SELECT {}, ts_rank(t.terms, %s::tsquery)::float8 AS rank FROM {} AS t WHERE {}").format(
            columns, table, where.condition), [where.tsquery, *where.params])
    return SQL("SELECT {} FROM {} AS t WHERE {}").format(columns, table, where.condition), list(where.params)


def _walks(page: SearchPage, sort: str) -> bool:
    """Whether many matches are best met along a time index of ticket_summary.

    Not for priority (no index orders by it), nor for updated/relevance order when the
    tickets were created a week ago or earlier: those were updated long ago too, so the walk
    would pass every newer ticket first; the creation-day terms narrow them in the index
    instead, and they are sorted.
    """
    if sort == "priority":
        return False
    old = page.created_to is not None and page.created_to < datetime.now(timezone.utc) - timedelta(days=7)
    return sort == "created" or not old


def _matches(models: ReadModels, page: SearchPage, reader: Actor, where: Where,
             sort: str) -> tuple[Composed, list[Any], bool]:
    """All matches with their sort keys (and rank, when ranking), for a desk with many of them,
    and whether the query walks a time index.

    They are met early along ticket_summary's time index: the walk filters there and checks
    each candidate's text in ticket_search (a fenced LATERAL keeps that join order; search()
    turns sorting off for it, since PostgreSQL underestimates how soon matches come for
    prefixes and 4-character Chinese words and would sort every visible ticket first). Where
    that walk would be long (see _walks) the matches come from ticket_search and are sorted.
    """
    if where.text is None or not _walks(page, sort):
        return (*_sample(models, where, ranked=sort == "relevance"), False)
    walk_filters, walk_params = row_filters(page, reader, "s")
    columns = SQL(", ").join(Identifier("s", c) for c in (*LIST_COLUMNS, "priority_rank"))
    ranked = sort == "relevance"
    rank = SQL(", ts_rank(t.terms, %s::tsquery)::float8 AS rank") if ranked else SQL("")
    query = SQL(
        "SELECT {columns}{rank} FROM {summary} AS s"
        " CROSS JOIN LATERAL (SELECT t.terms FROM {search} AS t WHERE t.id = s.id AND {text} OFFSET 0) AS t"
        " WHERE {filters}").format(columns=columns, rank=rank, summary=models.table("ticket_summary"),
                                    search=models.table("ticket_search"), text=where.text, filters=walk_filters)
    return query, [*([where.tsquery] if ranked else []), *where.text_params, *walk_params], True



"""Rebuild a projection from the first event into shadow tables, then switch over.

Reads keep using the live tables while the shadow fills. The switch is one transaction:
it locks the live position (so the live runner waits), applies the last events to the
shadow, swaps the tables by renaming, and carries the position over.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from psycopg.sql import SQL, Composable, Identifier

from projections.registry import build

if TYPE_CHECKING:
    from psycopg import Cursor

    from projections.runner import Projection, ProjectionRunner

SHADOW = "__rebuild"
INDEX_WORKERS = 2  # PostgreSQL builds one index per backend; independent indexes go side by side


def fill_shadow(runner: ProjectionRunner, name: str, schema: str,
                index_timings: list[tuple[str, float]] | None = None) -> Projection:
    """A fresh copy of the projection under shadow tables, caught up with the store.

    The indexes come after the bulk fill, several at once on their own connections, largest
    first; `index_timings` receives (statement, seconds) for each.
    """
    shadow = build(name, schema, suffix=SHADOW)
    shadow.name = name + SHADOW
    with runner.recorder.datastore.transaction(commit=True) as cur:
        _drop(cur, schema, shadow.tables, SHADOW)
        runner.positions.lock(cur, shadow.name)
        runner.positions.advance(cur, shadow.name, 0)
        shadow.create_tables(cur, with_indexes=False)
    while runner.step(shadow, limit=5000):
        pass
    timings = _build_indexes(runner, shadow.index_statements())
    if index_timings is not None:
        index_timings.extend(timings)
    with runner.recorder.datastore.transaction(commit=True) as cur:
        for table in shadow.tables:  # fresh statistics, or the first queries plan blind
            cur.execute(SQL("ANALYZE {}.{}").format(Identifier(schema), Identifier(table + SHADOW)))
    return shadow


def _build_indexes(runner: ProjectionRunner, statements: list[Composable]) -> list[tuple[str, float]]:
    datastore = runner.recorder.datastore

    def build_one(statement: Composable) -> tuple[str, float]:
        began = time.perf_counter()
        with datastore.transaction(commit=True) as cur:
            cur.execute(statement)
            text = statement.as_string(cur.connection)
        return text, time.perf_counter() - began

    with ThreadPoolExecutor(max_workers=INDEX_WORKERS, thread_name_prefix="index-build") as pool:
        return list(pool.map(build_one, statements))


def rebuild(runner: ProjectionRunner, name: str, schema: str) -> int:
    """Rebuild `name` while reads go on; returns the position the new tables reached."""
    shadow = fill_shadow(runner, name, schema)
    with runner.recorder.datastore.transaction(commit=True) as cur:
        runner.positions.lock(cur, name)
        position = runner.positions.lock(cur, shadow.name)
        while True:
            batch = runner.recorder.select_notifications(start=position, limit=5000, inclusive_of_start=False)
            if not batch:
                break
            shadow.apply(cur, [(n.id, runner.mapper.to_domain_event(n)) for n in batch])
            position = batch[-1].id
        _drop(cur, schema, shadow.tables, "")
        for table in shadow.tables:
            cur.execute(SQL("ALTER TABLE {}.{} RENAME TO {}").format(
                Identifier(schema), Identifier(table + SHADOW), Identifier(table)))
        runner.positions.advance(cur, name, position)
        runner.positions.delete(cur, shadow.name)
    return position


def drop_shadow(runner: ProjectionRunner, shadow: Projection, schema: str) -> None:
    with runner.recorder.datastore.transaction(commit=True) as cur:
        _drop(cur, schema, shadow.tables, SHADOW)
        runner.positions.delete(cur, shadow.name)


def _drop(cur: Cursor, schema: str, tables: tuple[str, ...], suffix: str) -> None:
    for table in tables:
        cur.execute(SQL("DROP TABLE IF EXISTS {}.{}").format(Identifier(schema), Identifier(table + suffix)))

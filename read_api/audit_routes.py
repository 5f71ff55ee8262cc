"""The cross-ticket audit log, and its NDJSON export, for auditors and admins."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from psycopg.sql import SQL, Composed
from pydantic import AwareDatetime

from events.actor import Actor
from identity.deps import CurrentActor
from identity.errors import Forbidden
from read_api.consistency import AuditConsistent, ReadModelsDep
from read_api.read_models import ReadModels

router = APIRouter(prefix="/api/v1", tags=["audit"])

COLUMNS = ("position", "at", "actor_id", "actor_role", "aggregate_id", "aggregate_type", "subject", "type",
           "summary", "correlation_id")
Text = Annotated[str | None, Query(max_length=100)]
ActorFilter = Annotated[str | None, Query(alias="actor", max_length=100, description="An account id")]


def _require_auditor(actor: Actor) -> None:
    if actor.role not in ("auditor", "admin"):
        raise Forbidden("the audit log is for auditors and admins")


def _where(actor: str | None, ticket: str | None, type_: str | None, from_: datetime | None,
           to: datetime | None) -> tuple[Composed, list[Any]]:
    parts, params = [SQL("TRUE")], []
    if actor:
        parts.append(SQL("actor_id = %s"))
        params.append(actor)
    if ticket:
        try:
            params.append(UUID(ticket))
            parts.append(SQL("aggregate_id = %s"))
        except ValueError:
            parts.append(SQL("subject = %s"))
            params.append(ticket.upper())
    if type_:
        parts.append(SQL("type = %s"))
        params.append(type_)
    if from_:
        parts.append(SQL("at >= %s"))
        params.append(from_)
    if to:
        parts.append(SQL("at < %s"))
        params.append(to)
    return SQL(" AND ").join(parts), params


@router.get("/audit")
def audit_log(models: ReadModelsDep, actor: CurrentActor, _: AuditConsistent, actor_id: ActorFilter = None,
              ticket: Text = None, type: Text = None,  # noqa: A002 - the API's parameter name
              from_: Annotated[AwareDatetime | None, Query(alias="from")] = None,
              to: Annotated[AwareDatetime | None, Query()] = None,
              before: Annotated[int | None, Query(ge=1, le=2**62, description="Page: positions before this")] = None,
              limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict[str, Any]:
    """Every recorded change, newest first: time, actor, ticket, type and a readable summary."""
    _require_auditor(actor)
    where, params = _where(actor_id, ticket, type, from_, to)
    if before:
        where = where + SQL(" AND position < %s")
        params.append(before)
    with models.cursor() as cur:
        cur.execute(SQL("SELECT {} FROM {} WHERE {} ORDER BY position DESC LIMIT %s").format(
            SQL(", ").join(SQL(c) for c in COLUMNS), models.table("audit_log"), where), [*params, limit + 1])
        rows = cur.fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    return {"data": rows, "next_before": rows[-1]["position"] if more else None}


def _ndjson(models: ReadModels, where: Composed, params: list[Any]) -> Iterator[bytes]:
    query = SQL("SELECT {} FROM {} WHERE {} ORDER BY position").format(
        SQL(", ").join(SQL(c) for c in COLUMNS), models.table("audit_log"), where)
    with models.datastore.get_connection() as conn, conn.transaction(), \
            conn.cursor(name="audit_export") as cur:
        cur.itersize = 2000
        cur.execute(query, params)
        for row in cur:
            yield (json.dumps(row, default=str, ensure_ascii=False) + "\n").encode()


@router.get("/audit/export", response_class=StreamingResponse,
            responses={200: {"content": {"application/x-ndjson": {}}}})
def export_audit_log(models: ReadModelsDep, actor: CurrentActor, _: AuditConsistent, actor_id: ActorFilter = None,
                     ticket: Text = None, type: Text = None,  # noqa: A002
                     from_: Annotated[AwareDatetime | None, Query(alias="from")] = None,
                     to: Annotated[AwareDatetime | None, Query()] = None) -> StreamingResponse:
    """The audit log as NDJSON, oldest first, streamed."""
    _require_auditor(actor)
    where, params = _where(actor_id, ticket, type, from_, to)
    return StreamingResponse(_ndjson(models, where, params), media_type="application/x-ndjson")

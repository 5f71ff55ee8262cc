"""Dependencies of the write routes: the desk and the If-Match / Idempotency-Key headers."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Header, Request

from commands.desk import Desk
from events.errors import DomainError, NotFound


class BadHeader(DomainError):
    code = "header.invalid"
    status = 422


class UnknownReference(DomainError):
    code = "reference.unknown"
    status = 422


async def desk(request: Request) -> Desk:
    return request.app.state.desk


async def expected_version(
    if_match: Annotated[str | None, Header(alias="If-Match", description="The version you last saw")] = None,
) -> int | None:
    """The ticket version an If-Match header names: `3`, `"3"` or `W/"3"`."""
    if if_match is None:
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 12:
        raise BadHeader("If-Match must be a ticket version number")
    return int(text)


async def idempotency_key(
    key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> str | None:
    return key or None


def require_exists(desk: Desk, aggregate_id: UUID, kind: type, what: str) -> object:
    """A referenced aggregate from the body; a missing one is a 422, not a 404."""
    try:
        return desk.load(aggregate_id, kind)
    except NotFound:
        raise UnknownReference(f"{what} {aggregate_id} does not exist") from None


DeskDep = Annotated[Desk, Depends(desk)]
ExpectedVersion = Annotated[int | None, Depends(expected_version)]
IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]

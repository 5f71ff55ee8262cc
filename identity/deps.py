"""FastAPI dependencies: who is calling, and the services routes reach through the app."""

from __future__ import annotations

import uuid
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from events.actor import Actor
from identity.errors import NotAuthenticated
from identity.service import Identity

_bearer = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/login")


def correlation_id(request: Request) -> str:
    """The caller's X-Correlation-ID, or a new one; it is recorded on every event."""
    given = request.headers.get("x-correlation-id", "")
    return given[:128] if given else uuid.uuid4().hex


async def identity(request: Request) -> Identity:
    return request.app.state.identity


async def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The authenticated account acting in this request, or 401."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated("send Authorization: Bearer <token>")
    who: Identity = request.app.state.identity
    token, correlation = credentials.credentials, correlation_id(request)
    # A recently verified token needs no query; only a cache miss goes to a thread.
    actor = who.authenticate_cached(token, correlation)
    if actor is None:
        actor = await anyio.to_thread.run_sync(who.authenticate, token, correlation)
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]
IdentityDep = Annotated[Identity, Depends(identity)]

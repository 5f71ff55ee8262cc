"""FastAPI dependencies: who is calling, and the services routes reach through the app."""

from __future__ import annotations

import uuid
from typing import Annotated

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


def identity(request: Request) -> Identity:
    return request.app.state.identity


def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The authenticated account acting in this request, or 401."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated("send Authorization: Bearer <token>")
    return identity(request).authenticate(credentials.credentials, correlation_id(request))


CurrentActor = Annotated[Actor, Depends(current_actor)]
IdentityDep = Annotated[Identity, Depends(identity)]

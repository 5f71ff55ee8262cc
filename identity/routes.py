"""Logging in, and who am I."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, StringConstraints

from events.account import Account
from identity.deps import CurrentActor, IdentityDep

router = APIRouter(prefix="/api/v1", tags=["auth"])


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class AccessToken(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class Me(BaseModel):
    id: str
    email: str
    phone: str | None
    real_name: str
    role: str
    team_ids: list[str]


@router.post("/auth/login", response_model=AccessToken)
def login(body: Login, identity: IdentityDep) -> AccessToken:
    """Exchange an email or phone and a password for a bearer token."""
    token, expires_in = identity.login(body.login, body.password)
    return AccessToken(access_token=token, expires_in=expires_in)


@router.get("/me", response_model=Me)
def me(actor: CurrentActor, identity: IdentityDep) -> Me:
    """The account behind the bearer token."""
    account: Account = identity.ledger.load(UUID(actor.id), Account)
    return Me(id=actor.id, email=account.email, phone=account.phone, real_name=account.real_name,
              role=account.role, team_ids=list(account.team_ids))

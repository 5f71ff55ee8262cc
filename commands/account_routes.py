"""Admin routes that found teams and register or deactivate accounts."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from commands.deps import DeskDep, UnknownReference
from commands.models import Accepted, FoundTeam, RegisterAccount
from events.errors import NotFound
from identity import policy
from identity.deps import CurrentActor, IdentityDep
from identity.passwords import check_strength

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post("/teams", status_code=201, response_model=Accepted)
def found_team(body: FoundTeam, desk: DeskDep, actor: CurrentActor) -> Accepted:
    """Found a team that tickets can be routed to (admin only)."""
    policy.require_admin(actor)
    receipt = desk.found_team(body.name, actor)
    return Accepted(id=receipt.id, version=receipt.version, position=receipt.position)


@router.post("/accounts", status_code=201, response_model=Accepted)
def register_account(body: RegisterAccount, desk: DeskDep, identity: IdentityDep, actor: CurrentActor) -> Accepted:
    """Register an account with a role and teams (admin only)."""
    policy.require_admin(actor)
    check_strength(body.password, login=body.email)
    password_hash = identity.passwords.hash(body.password)
    try:
        receipt = desk.register_account(
            email=body.email.casefold(), phone=body.phone, real_name=body.real_name, role=body.role,
            team_ids=[str(t) for t in body.team_ids], by=actor,
            set_password=lambda account_id: identity.store.set_password_hash(str(account_id), password_hash),
        )
    except NotFound as missing:
        raise UnknownReference(f"unknown team: {missing.detail}") from None
    return Accepted(id=receipt.id, version=receipt.version, position=receipt.position)


@router.post("/accounts/{account_id}/deactivate", response_model=Accepted)
def deactivate_account(account_id: UUID, desk: DeskDep, identity: IdentityDep, actor: CurrentActor) -> Accepted:
    """Deactivate an account; its bearer tokens stop working at once (admin only)."""
    policy.require_admin(actor)
    receipt = desk.deactivate_account(account_id, actor)
    identity.store.revoke_tokens(str(account_id))
    return Accepted(id=receipt.id, version=receipt.version, position=receipt.position)

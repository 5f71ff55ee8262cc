"""Logging in and recognising who sent a request."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from events.account import Account, LoginName, login_id
from events.actor import Actor
from events.errors import NotFound
from identity.errors import BadCredentials, NotAuthenticated

if TYPE_CHECKING:
    from events.ledger import Ledger
    from identity.credential_store import CredentialStore
    from identity.passwords import Passwords


class Identity:
    """Turns a login and password into a token, and a token into an acting account."""

    def __init__(self, ledger: Ledger, store: CredentialStore, passwords: Passwords) -> None:
        self.ledger = ledger
        self.store = store
        self.passwords = passwords

    def find_account(self, login: str) -> Account | None:
        try:
            name: LoginName = self.ledger.load(login_id(login), LoginName)
            return self.ledger.load(UUID(name.account_id), Account)
        except (NotFound, ValueError):
            return None

    def login(self, login: str, password: str) -> tuple[str, int]:
        """A fresh bearer token and its lifetime; one refusal for every kind of failure."""
        account = self.find_account(login)
        password_hash = self.store.password_hash(str(account.id)) if account else None
        if not self.passwords.verify(password_hash, password) or account is None or not account.active:
            raise BadCredentials("login or password is wrong, or the account is deactivated")
        return self.store.issue_token(str(account.id))

    def authenticate(self, token: str, correlation_id: str) -> Actor:
        """The actor behind a bearer token; 401 if the token or its account is not live."""
        account_id = self.store.account_for_token(token)
        if account_id is None:
            raise NotAuthenticated("the bearer token is unknown, expired or revoked")
        return self._actor(account_id, correlation_id)

    def authenticate_cached(self, token: str, correlation_id: str) -> Actor | None:
        """Like authenticate, without I/O: None when the token is not freshly verified here."""
        account_id = self.store.cached_account_for_token(token)
        if account_id is None or self.ledger.cached(UUID(account_id)) is None:
            return None
        return self._actor(account_id, correlation_id)

    def _actor(self, account_id: str, correlation_id: str) -> Actor:
        try:
            account: Account = self.ledger.load(UUID(account_id), Account)
        except NotFound:
            raise NotAuthenticated("the token's account does not exist") from None
        if not account.active:
            raise NotAuthenticated("the account is deactivated")
        return Actor(id=account_id, role=account.role, team_ids=tuple(account.team_ids),
                     correlation_id=correlation_id)

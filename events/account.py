"""Accounts and teams. Credentials live outside the event store: events only say they changed."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from events.actor import Actor
from events.errors import DomainError


class Account(Aggregate):
    """A person who uses the desk, in one role, member of some teams."""

    class Event(Aggregate.Event):
        meta: dict[str, Any]

    class Registered(Event, Aggregate.Created):
        email: str
        phone: str | None
        real_name: str
        role: str
        team_ids: list[str]

    def __init__(self, email: str, phone: str | None, real_name: str, role: str,
                 team_ids: list[str], meta: dict[str, Any]) -> None:
        self.email = email
        self.phone = phone
        self.real_name = real_name
        self.role = role
        self.team_ids = list(team_ids)
        self.active = True

    def record_password_set(self, by: Actor) -> None:
        """Say that a password was set or changed; the hash itself is never in an event."""
        self.trigger_event(self.PasswordSet, meta=by.meta())

    class PasswordSet(Event):
        def apply(self, account: Account) -> None:
            pass

    def deactivate(self, by: Actor) -> None:
        if not self.active:
            raise DomainError("account is already deactivated", code="account.inactive")
        self.trigger_event(self.Deactivated, meta=by.meta())

    class Deactivated(Event):
        def apply(self, account: Account) -> None:
            account.active = False


class Team(Aggregate):
    """A group of agents that tickets are routed to."""

    class Event(Aggregate.Event):
        meta: dict[str, Any]

    class Founded(Event, Aggregate.Created):
        name: str

    def __init__(self, name: str, meta: dict[str, Any]) -> None:
        self.name = name

    @staticmethod
    def create_id(name: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"ledgerdesk:team:{name.casefold()}")


class LoginName(Aggregate):
    """Reserves one email or phone for one account: a unique index kept as an aggregate."""

    class Reserved(Aggregate.Created):
        login: str
        account_id: str

    def __init__(self, login: str, account_id: str) -> None:
        self.login = login
        self.account_id = account_id

    @staticmethod
    def create_id(login: str) -> UUID:
        return login_id(login)


def normalise_login(login: str) -> str:
    login = login.strip()
    return login.casefold() if "@" in login else "".join(ch for ch in login if ch.isdigit() or ch == "+")


def login_id(login: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"ledgerdesk:login:{normalise_login(login)}")

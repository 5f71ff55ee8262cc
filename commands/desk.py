"""The desk: the write application. Each command is get → change → save, retried on races."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.persistence import RecordConflictError
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

from commands.locks import KeyedLocks
from commands.numbering import CountingTicketNumbers, TicketNumbers
from events.account import Account, LoginName, Team
from events.actor import Actor
from events.errors import DomainError, VersionConflict
from events.ledger import Ledger
from events.ticket import Ticket

MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Receipt:
    """What a command returns: the aggregate, its new version, the store position reached."""

    id: UUID
    version: int
    position: int | None
    number: str | None = None


class Desk(Ledger):
    """Ledger plus the commands that change tickets, accounts and teams."""

    name = "ledgerdesk"
    env = {**Ledger.env, "APPLICATION_RECORDER_TOPIC": "commands.group_commit:GroupCommitRecorder"}

    def __init__(self, env: dict[str, str] | None = None, *, ticket_prefix: str = "GD") -> None:
        super().__init__(env)
        self.locks = KeyedLocks()
        if isinstance(self.recorder, PostgresApplicationRecorder):
            numbers = TicketNumbers(self.recorder.datastore, ticket_prefix)
            numbers.create_sequence()
            self.numbers: TicketNumbers | CountingTicketNumbers = numbers
        else:
            self.numbers = CountingTicketNumbers(ticket_prefix)

    # -- tickets ----------------------------------------------------------------

    def open_ticket(self, form: dict[str, Any], by: Actor, idempotency_key: str | None = None) -> Receipt:
        """File a new ticket; a repeated idempotency key returns the first ticket instead."""
        ticket_id = uuid5(NAMESPACE_URL, f"ledgerdesk:ticket:{by.id}:{idempotency_key}") if idempotency_key else uuid4()
        ticket = Ticket.open(ticket_id, number=self.numbers.next(), meta=by.meta(), **form)
        try:
            recordings = self.save(ticket)
        except RecordConflictError:
            if idempotency_key is None:
                raise
            first = self.ticket(ticket_id, version=1)
            return Receipt(ticket_id, 1, self.position_of(ticket_id, 1), first.number)
        return Receipt(ticket_id, ticket.version, recordings[-1].notification.id, ticket.number)

    def change_ticket(self, ticket_id: UUID, change: Callable[[Ticket], None],
                      expected_version: int | None = None) -> Receipt:
        """Apply `change` to the current ticket and save it, retrying lost races unless If-Match was given."""
        return self._change([ticket_id], lambda tickets: change(tickets[0]), expected_version)

    def merge_tickets(self, source_id: UUID, target_id: UUID, check: Callable[[Ticket, Ticket], None],
                      by: Actor, expected_version: int | None = None) -> Receipt:
        """Merge source into target: both streams change in one transaction."""
        def merge(tickets: list[Ticket]) -> None:
            check(tickets[0], tickets[1])
            tickets[0].merge_into(tickets[1], by)
        if source_id == target_id:
            def merge_self(tickets: list[Ticket]) -> None:
                check(tickets[0], tickets[0])
                tickets[0].merge_into(tickets[0], by)
            return self._change([source_id], merge_self, expected_version)
        return self._change([source_id, target_id], merge, expected_version)

    def _change(self, ids: list[UUID], change: Callable[[list[Any]], None], expected_version: int | None) -> Receipt:
        with self.locks.hold(*ids):
            for _ in range(MAX_ATTEMPTS):
                aggregates = [self.ticket(aggregate_id) for aggregate_id in ids]
                if expected_version is not None and aggregates[0].version != expected_version:
                    if expected_version > aggregates[0].version:  # our cache may be behind
                        self.evict(ids[0])
                        aggregates[0] = self.ticket(ids[0])
                    if aggregates[0].version != expected_version:
                        raise VersionConflict(
                            f"ticket is at version {aggregates[0].version}, not {expected_version}")
                try:
                    change(aggregates)
                    recordings = self.save(*aggregates)
                except RecordConflictError:
                    self._forget(ids)
                    if expected_version is not None:
                        raise VersionConflict("ticket was changed meanwhile") from None
                    continue
                except DomainError:
                    # Refusals come before any event is triggered: the cached objects are intact.
                    if any(a.pending_events for a in aggregates):
                        self._forget(ids)
                    raise
                except BaseException:
                    # save() may have changed the cached objects before the database refused.
                    self._forget(ids)
                    raise
                position = recordings[-1].notification.id if recordings else None
                return Receipt(ids[0], aggregates[0].version, position)
        raise VersionConflict("ticket kept changing; try again")

    def _forget(self, ids: list[UUID]) -> None:
        for aggregate_id in ids:
            self.evict(aggregate_id)

    def position_of(self, aggregate_id: UUID, version: int) -> int | None:
        """The notification id at which an aggregate's event was stored."""
        if isinstance(self.recorder, PostgresApplicationRecorder):
            query = SQL("SELECT notification_id FROM {}.{} WHERE originator_id = %s AND originator_version = %s")
            with self.recorder.datastore.transaction() as cur:
                cur.execute(query.format(Identifier(self.recorder.datastore.schema),
                                         Identifier(self.recorder.events_table_name)), (aggregate_id, version))
                row = cur.fetchone()
            return row["notification_id"] if row else None
        for notification in self.recorder.select_notifications(start=None, limit=10**9):
            if notification.originator_id == aggregate_id and notification.originator_version == version:
                return notification.id
        return None

    # -- teams and accounts -----------------------------------------------------

    def found_team(self, name: str, by: Actor) -> Receipt:
        team = Team(name=name, meta=by.meta())
        try:
            recordings = self.save(team)
        except RecordConflictError:
            raise DomainError(f"a team named {name!r} exists already", code="team.name_taken") from None
        return Receipt(team.id, team.version, recordings[-1].notification.id)

    def register_account(self, *, email: str, phone: str | None, real_name: str, role: str,
                         team_ids: list[str], by: Actor,
                         set_password: Callable[[UUID], None] | None = None) -> Receipt:
        """Register an account; its email and phone are reserved in the same transaction."""
        for team_id in team_ids:
            self.load(UUID(team_id), Team)
        account = Account(email=email, phone=phone, real_name=real_name, role=role,
                          team_ids=team_ids, meta=by.meta())
        if set_password is not None:
            set_password(account.id)
            account.record_password_set(by)
        names = [LoginName(login=login, account_id=str(account.id)) for login in (email, phone) if login]
        try:
            recordings = self.save(account, *names)
        except RecordConflictError:
            raise DomainError("that email or phone is registered already", code="account.login_taken") from None
        return Receipt(account.id, account.version, recordings[-1].notification.id)

    def deactivate_account(self, account_id: UUID, by: Actor) -> Receipt:
        with self.locks.hold(account_id):
            account: Account = self.load(account_id, Account)
            account.deactivate(by)
            try:
                recordings = self.save(account)
            except BaseException:
                self.evict(account_id)
                raise
        return Receipt(account.id, account.version, recordings[-1].notification.id)

"""The event store on real PostgreSQL: concurrent writers, followers, races, secrets, numbers."""

from __future__ import annotations

import hashlib
import random
import re
import threading
import time
from itertools import pairwise
from typing import TYPE_CHECKING, Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.persistence import Notification
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

from commands.desk import Desk, Receipt
from events.actor import Actor
from events.errors import VersionConflict
from tests.conftest import ADMIN_PASSWORD
from tests.integration.store import (
    AGENT, CUSTOMER, OTHER_AGENT, form, in_threads, query, second_process, stored_events,
)

if TYPE_CHECKING:
    from ledgerdesk.bootstrap import Container
    from ledgerdesk.settings import Settings

THREADS, COMMANDS = 8, 50


# -- (a) followers see every event once, in order, while two processes write ------------


class Subscriber(threading.Thread):
    """A follower on the recorder's subscription (LISTEN/NOTIFY + select), as the projector runs."""

    def __init__(self, recorder: PostgresApplicationRecorder, gt: int) -> None:
        super().__init__(daemon=True)
        self.recorder, self.gt = recorder, gt
        self.seen: list[Notification] = []
        self.error: BaseException | None = None
        self.ready = threading.Event()

    def run(self) -> None:
        try:
            with self.recorder.subscribe(gt=self.gt) as self.subscription:
                self.ready.set()
                for notification in self.subscription:
                    self.seen.append(notification)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = error
            self.ready.set()

    def stop_when_at(self, last_id: int, timeout: float = 30) -> None:
        _wait_until(lambda: bool(self.seen) and self.seen[-1].id >= last_id or self.error is not None, timeout)
        self.subscription.stop()
        self.join(timeout=10)


class Poller(threading.Thread):
    """A follower that polls select_notifications after the last id it saw, as the relay would."""

    def __init__(self, recorder: PostgresApplicationRecorder, gt: int) -> None:
        super().__init__(daemon=True)
        self.recorder, self.last = recorder, gt
        self.seen: list[Notification] = []
        self.error: BaseException | None = None
        self.stopping = threading.Event()
        self.ready = threading.Event()
        self.ready.set()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                batch = self.recorder.select_notifications(start=self.last, limit=100, inclusive_of_start=False)
                self.seen.extend(batch)
                if batch:
                    self.last = batch[-1].id
                else:
                    time.sleep(0.005)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = error

    def stop_when_at(self, last_id: int, timeout: float = 30) -> None:
        _wait_until(lambda: self.last >= last_id or self.error is not None, timeout)
        self.stopping.set()
        self.join(timeout=10)


def _wait_until(condition: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def _busy_desk_worker(desk: Desk, shared: list[UUID], seed: int) -> list[Receipt]:
    """One person's stream of commands: file tickets, reply on them, and on tickets everybody works on."""
    rng = random.Random(seed)
    receipts: list[Receipt] = []
    mine: UUID | None = None
    for n in range(COMMANDS):
        if n % 5 == 0:
            receipt = desk.open_ticket(form(title=f"ticket {seed}-{n}"), CUSTOMER)
            mine = receipt.id
        else:
            target = rng.choice(shared) if n % 3 == 0 else mine
            assert target is not None
            public = rng.random() < 0.7
            receipt = desk.change_ticket(target, lambda t, n=n: t.add_comment(f"reply {seed}-{n}", public, AGENT))
        receipts.append(receipt)
    return receipts


def test_followers_see_every_event_exactly_once_in_order_while_two_processes_write(
    container: Container, settings: Settings,
) -> None:
    desk = container.desk
    with second_process(settings) as other:
        shared = [desk.open_ticket(form(title=f"shared {i}"), CUSTOMER).id for i in range(16)]
        start = desk.recorder.max_notification_id() or 0
        followers: list[Subscriber | Poller] = [Subscriber(desk.recorder, start), Poller(other.desk.recorder, start)]
        for follower in followers:
            follower.start()
            follower.ready.wait(10)

        jobs = [lambda i=i: _busy_desk_worker(desk, shared, i) for i in range(THREADS)]
        jobs += [lambda i=i: _busy_desk_worker(other.desk, shared, 100 + i) for i in range(THREADS // 2)]
        receipts = [r for batch in in_threads(jobs) for r in batch]

        table = stored_events(settings, after=start)
        for follower in followers:
            follower.stop_when_at(table[-1][0])

    assert len(receipts) == len(table) == THREADS * COMMANDS * 3 // 2  # one event per command
    assert {(r.position, str(r.id), r.version) for r in receipts} == set(table)
    for follower in followers:
        assert follower.error is None, follower.error
        ids = [n.id for n in follower.seen]
        assert all(a < b for a, b in pairwise(ids)), f"{type(follower).__name__} saw ids out of order"
        assert [(n.id, str(n.originator_id), n.originator_version) for n in follower.seen] == table
    versions: dict[str, list[int]] = {}
    for _, ticket_id, version in stored_events(settings):
        versions.setdefault(ticket_id, []).append(version)
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values()), "a stream has a gap"


# -- (b) a lost version race in a batch fails only that command ------------------------


def _hold_events_table(settings: Settings) -> psycopg.Connection[Any]:
    """A transaction holding the events table, so writers queue up behind it until it rolls back."""
    assert settings.database_url is not None
    holder = psycopg.connect(settings.database_url)
    holder.execute(SQL("LOCK TABLE {}.ledgerdesk_events IN EXCLUSIVE MODE").format(
        Identifier(settings.database_schema)))
    return holder


def _comment(desk: Desk, ticket_id: UUID, body: str, expected_version: int | None = None) -> Receipt:
    return desk.change_ticket(ticket_id, lambda t: t.add_comment(body, True, AGENT), expected_version=expected_version)


def test_commands_arriving_together_are_committed_together(container: Container, settings: Settings) -> None:
    desk = container.desk
    tickets = [desk.open_ticket(form(title=f"queued {i}"), CUSTOMER).id for i in range(12)]

    holder = _hold_events_table(settings)
    try:
        writers = [threading.Thread(target=_comment, args=(desk, t, "排队中")) for t in tickets]
        for writer in writers:
            writer.start()
        time.sleep(0.5)  # every command has reached the store and waits behind the held table
    finally:
        holder.rollback()
        holder.close()
    for writer in writers:
        writer.join(timeout=30)

    commits = query(settings, "SELECT count(DISTINCT xmin::text) AS n FROM {events}"
                              " WHERE originator_id = ANY(%s) AND originator_version = 2", (tickets,))
    assert commits[0]["n"] <= 2, f"12 waiting commands took {commits[0]['n']} transactions: no group commit"


def test_one_lost_race_in_a_group_commit_fails_only_that_command(
    container: Container, settings: Settings, monkeypatch: pytest.MonkeyPatch,
) -> None:
    desk = container.desk
    contested = desk.open_ticket(form(title="contested"), CUSTOMER).id
    also_stale = desk.open_ticket(form(title="also stale"), CUSTOMER).id
    blocker = desk.open_ticket(form(title="blocker"), CUSTOMER).id
    bystanders = [desk.open_ticket(form(title=f"bystander {i}"), CUSTOMER).id for i in range(4)]

    inserts: list[tuple[PostgresApplicationRecorder, list[tuple[str, int]]]] = []
    library_insert = PostgresApplicationRecorder.insert_events

    def spy(self: PostgresApplicationRecorder, stored: Any, **kwargs: Any) -> Any:
        inserts.append((self, [(str(e.originator_id), e.originator_version) for e in stored]))
        return library_insert(self, stored, **kwargs)

    monkeypatch.setattr(PostgresApplicationRecorder, "insert_events", spy)
    outcomes: dict[str, Any] = {}

    def attempt(name: str, on: Desk, ticket_id: UUID, expected_version: int | None = None) -> None:
        try:
            if on is desk:
                outcomes[name] = _comment(desk, ticket_id, f"from {name}", expected_version)
            else:
                outcomes[name] = on.change_ticket(ticket_id, lambda t: t.claim(OTHER_AGENT))
        except Exception as error:  # noqa: BLE001 - the outcome is what the test checks
            outcomes[name] = error

    with second_process(settings) as other:
        holder = _hold_events_table(settings)
        try:
            first = threading.Thread(target=attempt, args=("blocker", desk, blocker))
            first.start()
            _wait_until(lambda: bool(inserts), 10)  # the writer is inside a commit, waiting for the table
            racers = [threading.Thread(target=attempt, args=("contested", desk, contested, 1)),
                      threading.Thread(target=attempt, args=("also_stale", desk, also_stale))]
            racers += [threading.Thread(target=attempt, args=(f"bystander {i}", desk, t))
                       for i, t in enumerate(bystanders)]
            for racer in racers:
                racer.start()
            time.sleep(0.3)  # the racers have read version 1 and wait in the desk's next batch
            # Meanwhile the other process claims two of those tickets; it waits for the table too, ahead of the batch.
            elsewhere = [threading.Thread(target=attempt, args=(f"other {i}", other.desk, t))
                         for i, t in enumerate((contested, also_stale))]
            for thread in elsewhere:
                thread.start()
            time.sleep(0.3)
        finally:
            holder.rollback()
            holder.close()
        for thread in [first, *racers, *elsewhere]:
            thread.join(timeout=30)

    batch = next(ids for recorder, ids in inserts if recorder is desk.recorder and (str(contested), 2) in ids)
    assert len(batch) == len(racers), f"the losing write was committed alone, not in a batch: {batch}"
    assert isinstance(outcomes.pop("contested"), VersionConflict)
    for name, receipt in outcomes.items():
        assert isinstance(receipt, Receipt), f"{name}: {receipt!r}"
    assert outcomes["other 0"].version == outcomes["other 1"].version == 2
    assert outcomes["also_stale"].version == 3  # retried on the fresh ticket
    assert all(outcomes[f"bystander {i}"].version == 2 for i in range(4))
    assert [type(e).__name__ for e in desk.stream(contested)] == ["Created", "Assigned"]
    assert [e.body for e in desk.stream(also_stale)[2:]] == ["from also_stale"]
    assert desk.ticket(contested).version == 2


# -- (c) secrets never reach the event store ---------------------------------------------


def test_passwords_and_their_hashes_never_reach_an_event_and_tokens_are_kept_as_digests(
    container: Container, settings: Settings,
) -> None:
    desk, identity = container.desk, container.identity
    password = "Kefu-Xiaowang-2024!"
    password_hash = identity.passwords.hash(password)
    admin = Actor(id=str(identity.find_account("admin@example.test").id), role="admin")  # type: ignore[union-attr]
    account = desk.register_account(
        email="wang@example.test", phone="+86 139 0000 0000", real_name="王小二", role="agent", team_ids=[],
        by=admin, set_password=lambda account_id: identity.store.set_password_hash(str(account_id), password_hash))
    token, _ = identity.login("wang@example.test", password)
    admin_token, _ = identity.login("admin@example.test", ADMIN_PASSWORD)
    admin_hash = identity.store.password_hash(admin.id)
    assert admin_hash is not None and identity.authenticate(token, "req").id == str(account.id)

    secrets = [password, password_hash, ADMIN_PASSWORD, admin_hash, token, admin_token]
    rows = query(settings, "SELECT topic, state FROM {events}")
    raw = b"".join(bytes(r["state"]) for r in rows)
    notifications = desk.recorder.select_notifications(start=None, limit=10**6)
    decoded = repr([vars(desk.mapper.to_domain_event(n)) for n in notifications])
    assert len(notifications) == len(rows) and "王小二" in decoded  # the scan does read every event
    for secret in secrets:
        assert secret.encode() not in raw
        assert secret not in decoded
    assert "PasswordSet" in " ".join(r["topic"] for r in rows)  # the change itself is on record

    digests = {bytes(r["digest"]) for r in query(settings, "SELECT digest FROM {s}.ledgerdesk_tokens")}
    assert digests == {hashlib.sha256(token.encode()).digest(), hashlib.sha256(admin_token.encode()).digest()}
    tables = [r["table_name"] for r in query(
        settings, "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
        (settings.database_schema,))]
    assert "ledgerdesk_passwords" in tables and "ledgerdesk_tokens" in tables
    for table in tables:
        dump = " ".join(r["row"] for r in query(settings, f'SELECT t::text AS row FROM {{s}}."{table}" t'))
        for secret in (token, admin_token, password, ADMIN_PASSWORD):
            assert secret not in dump, f"{secret!r} is stored in clear in {table}"
        assert (password_hash in dump) == (table == "ledgerdesk_passwords"), table  # only the hash, only there


# -- (d) ticket numbers --------------------------------------------------------------------


def test_ticket_numbers_are_unique_when_two_processes_file_tickets_at_once(
    container: Container, settings: Settings,
) -> None:
    with second_process(settings) as other:
        jobs = [lambda desk=desk: [desk.open_ticket(form(), CUSTOMER) for _ in range(30)]
                for desk in [container.desk, other.desk] * 4]
        receipts = [r for batch in in_threads(jobs) for r in batch]

    numbers = [r.number for r in receipts]
    assert len(numbers) == len(set(numbers)) == 240
    assert all(re.fullmatch(r"GD-\d{6}", n or "") for n in numbers)
    stored = {str(r.id): container.desk.ticket(r.id, version=1).number for r in receipts}
    assert stored == {str(r.id): r.number for r in receipts}


# -- (e) optimistic concurrency and idempotent filing --------------------------------------


def test_a_change_against_a_stale_version_is_refused_and_stores_nothing(container: Container) -> None:
    desk = container.desk
    ticket_id = desk.open_ticket(form(), CUSTOMER).id
    desk.change_ticket(ticket_id, lambda t: t.claim(AGENT), expected_version=1)

    with pytest.raises(VersionConflict) as stale:
        desk.change_ticket(ticket_id, lambda t: t.start(AGENT), expected_version=1)
    with pytest.raises(VersionConflict):
        desk.change_ticket(ticket_id, lambda t: t.start(AGENT), expected_version=7)

    assert stale.value.code == "version_conflict" and stale.value.status == 409
    assert [type(e).__name__ for e in desk.stream(ticket_id)] == ["Created", "Assigned"]
    assert desk.change_ticket(ticket_id, lambda t: t.start(AGENT), expected_version=2).version == 3


def test_filing_twice_with_one_idempotency_key_gives_the_same_ticket(container: Container, settings: Settings) -> None:
    desk = container.desk
    first = desk.open_ticket(form(title="网络断了"), CUSTOMER, idempotency_key="k-1")
    desk.change_ticket(first.id, lambda t: t.claim(AGENT))

    again = desk.open_ticket(form(title="网络断了"), CUSTOMER, idempotency_key="k-1")
    with second_process(settings) as other:
        from_elsewhere = other.desk.open_ticket(form(title="网络断了"), CUSTOMER, idempotency_key="k-1")
    someone_else = desk.open_ticket(form(), Actor(id=CUSTOMER.id + "-x", role="customer"), idempotency_key="k-1")

    assert (again.id, again.number) == (from_elsewhere.id, from_elsewhere.number) == (first.id, first.number)
    assert again.position == first.position
    assert someone_else.id != first.id and someone_else.number != first.number
    assert [type(e).__name__ for e in desk.stream(first.id)] == ["Created", "Assigned"]


def test_concurrent_filings_with_one_idempotency_key_make_one_ticket(container: Container, settings: Settings) -> None:
    with second_process(settings) as other:
        jobs = [lambda desk=desk: desk.open_ticket(form(), CUSTOMER, idempotency_key="double-click")
                for desk in [container.desk, other.desk] * 4]
        receipts = in_threads(jobs)

    assert len({(r.id, r.number) for r in receipts}) == 1
    created = query(settings, "SELECT count(*) AS n FROM {events} WHERE originator_id = %s", (receipts[0].id,))
    assert created[0]["n"] == 1

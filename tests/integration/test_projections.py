"""Read models equal a full rebuild: after a random mix of commands, and after the projector is killed."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from uuid import UUID, uuid4

from psycopg.sql import SQL, Identifier

from events.ticket import Ticket
from ledgerdesk.bootstrap import Container
from projections.rebuild import rebuild
from tests.integration.projection_checks import (AGENTS, CUSTOMERS, board_counts_unlike_the_summaries,
                                                 differences_from_rebuild, random_command,
                                                 search_documents_unlike_the_store, ticket_form)


def _assert_equal_to_rebuild(container: Container) -> None:
    diff = differences_from_rebuild(container)
    assert {k: v for k, v in diff.items() if not k.endswith(".rows") and v} == {}, diff
    assert diff["ticket_summary.rows"] > 0 and diff["audit_log.rows"] > 0


def test_read_models_equal_a_full_rebuild_after_a_random_mix_of_commands(container: Container) -> None:
    rng = random.Random(7)
    tickets: list[UUID] = []
    runner = container.projector()
    for round_ in range(6):
        for _ in range(rng.randint(20, 120)):
            random_command(container.desk, rng, tickets)
        runner.batch_size = rng.choice([1, 7, 50, 2000])  # batches of every size cut the stream differently
        runner.catch_up()
    _assert_equal_to_rebuild(container)
    assert search_documents_unlike_the_store(container) == []
    assert board_counts_unlike_the_summaries(container) == 0


def _commanded_and_projected(container: Container, seed: int, commands: int) -> tuple[random.Random, list[UUID]]:
    """A desk after `commands` random commands, with every read model caught up."""
    rng = random.Random(seed)
    tickets: list[UUID] = []
    for _ in range(commands):
        random_command(container.desk, rng, tickets)
    container.projector().catch_up()
    return rng, tickets


def test_rebuild_switches_over_to_tables_equal_to_the_old_ones(container: Container) -> None:
    rng, tickets = _commanded_and_projected(container, seed=11, commands=150)
    runner = container.projector()
    head = container.desk.recorder.max_notification_id()
    assert rebuild(runner, "tickets", container.settings.database_schema) == head
    assert runner.positions.get("tickets") == head
    random_command(container.desk, rng, tickets)
    runner.catch_up()
    _assert_equal_to_rebuild(container)


def _start_projector(container: Container) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": container.database_url,
           "LEDGERDESK_DATABASE_SCHEMA": container.settings.database_schema}
    return subprocess.Popen([sys.executable, "-m", "ledgerdesk.cli", "serve", "projector"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_killing_the_projector_at_random_moments_loses_and_doubles_nothing(container: Container) -> None:
    rng = random.Random(2026)
    tickets: list[UUID] = []
    stop = threading.Event()

    def stream_commands() -> None:
        writer_rng = random.Random(99)
        while not stop.is_set():
            random_command(container.desk, writer_rng, tickets)

    writer = threading.Thread(target=stream_commands)
    writer.start()
    positions = container.read_models.positions
    kills = 0
    try:
        for _ in range(20):
            before = positions.get("tickets")
            process = _start_projector(container)
            deadline = time.monotonic() + 20
            while positions.get("tickets") == before and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0, 0.3))
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
    finally:
        stop.set()
        writer.join()
    process = _start_projector(container)
    try:
        head = container.desk.recorder.max_notification_id()
        deadline = time.monotonic() + 60
        while min(positions.get("tickets"), positions.get("audit")) < head and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    assert kills == 20
    assert positions.get("tickets") == positions.get("audit") == head
    _assert_equal_to_rebuild(container)


def test_tables_of_an_older_layout_are_made_anew_and_refilled_from_the_first_event(container: Container) -> None:
    _commanded_and_projected(container, seed=5, commands=60)
    runner = container.projector()
    schema = container.settings.database_schema
    with container.desk.recorder.datastore.transaction(commit=True) as cur:  # the layout before ticket_search
        cur.execute(SQL("DROP TABLE {}.ticket_search").format(Identifier(schema)))
        cur.execute(SQL("ALTER TABLE {}.ticket_summary ADD COLUMN all_terms tsvector").format(Identifier(schema)))
    runner.create_tables()
    assert runner.positions.get("tickets") == 0 and runner.positions.get("audit") > 0
    runner.catch_up()
    _assert_equal_to_rebuild(container)
    assert search_documents_unlike_the_store(container) == []


def test_an_old_event_holding_nul_characters_is_projected_without_them(container: Container) -> None:
    """Commands refuse U+0000 now; a ticket stored before that must not jam the projector."""
    form = ticket_form(random.Random(1), CUSTOMERS[0])
    form.update(number="GD-NUL001", title="打印\x00机卡纸", description="nul\x00here",
                contact={"name": "李\x00雷", "phone": "13800138000", "email": "n\x00ul@example.test"})
    ticket = Ticket.open(uuid4(), meta=CUSTOMERS[0].meta(), **form)
    container.desk.save(ticket)
    ticket.add_comment("内部\x00备注", False, AGENTS[0])
    container.desk.save(ticket)
    container.projector().catch_up()
    with container.desk.recorder.datastore.transaction() as cur:
        cur.execute(SQL("SELECT s.title, s.state->>'title' AS state_title, t.public_text, t.internal_text,"
                        " t.terms::text AS terms FROM {schema}.ticket_summary s JOIN {schema}.ticket_search t"
                        " USING (id) WHERE s.id = %s").format(schema=Identifier(container.settings.database_schema)),
                    (ticket.id,))
        row = cur.fetchone()
    assert row["title"] == row["state_title"] == "打印机卡纸"
    assert "打印机卡纸" in row["public_text"] and row["internal_text"] == "内部备注"
    assert "'#mail:nul@example.test':1A" in row["terms"] and "\x00" not in row["terms"]

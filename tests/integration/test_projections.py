"""Read models equal a full rebuild: after a random mix of commands, and after the projector is killed."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from uuid import UUID

from ledgerdesk.bootstrap import Container
from projections.rebuild import rebuild
from tests.integration.projection_checks import differences_from_rebuild, random_command


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


def test_rebuild_switches_over_to_tables_equal_to_the_old_ones(container: Container) -> None:
    rng = random.Random(11)
    tickets: list[UUID] = []
    runner = container.projector()
    for _ in range(150):
        random_command(container.desk, rng, tickets)
    runner.catch_up()
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

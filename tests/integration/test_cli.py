"""The operator's commands: projections status and rebuild, replay."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

from events.actor import Actor
from ledgerdesk.bootstrap import Container
from tests.integration.projection_checks import ticket_form

AGENT = Actor("agent-cli", "agent")


def _ledgerdesk(container: Container, *args: str) -> dict:
    env = {**os.environ, "DATABASE_URL": container.database_url,
           "LEDGERDESK_DATABASE_SCHEMA": container.settings.database_schema}
    done = subprocess.run([sys.executable, "-m", "ledgerdesk.cli", *args], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def test_projections_status_shows_each_position_and_lag_and_rebuild_catches_up(container: Container) -> None:
    receipt = container.desk.open_ticket(ticket_form(random.Random(1), AGENT), AGENT)
    container.desk.change_ticket(receipt.id, lambda t: t.claim(AGENT))
    head = container.desk.recorder.max_notification_id()

    before = _ledgerdesk(container, "projections", "status")
    assert before["tickets"] == {"position": 0, "lag": head}

    assert _ledgerdesk(container, "projections", "rebuild", "tickets") == {"rebuilt": "tickets", "position": head}
    after = _ledgerdesk(container, "projections", "status")
    assert after["tickets"] == {"position": head, "lag": 0}
    assert after["audit"]["lag"] == head


def test_replay_prints_the_ticket_as_it_was(container: Container) -> None:
    receipt = container.desk.open_ticket(ticket_form(random.Random(2), AGENT), AGENT)
    created_at = container.desk.ticket(receipt.id).created_on.isoformat()
    container.desk.change_ticket(receipt.id, lambda t: t.claim(AGENT))
    assert _ledgerdesk(container, "replay", str(receipt.id), "--at", created_at)["status"] == "new"
    assert _ledgerdesk(container, "replay", str(receipt.id))["status"] == "open"

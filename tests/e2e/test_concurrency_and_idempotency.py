"""Optimistic concurrency, idempotent filing, refused transitions and many writers on one ticket."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from ledgerdesk.bootstrap import Container
from tests.desk_client import (
    DeskClient, as_admin, assert_problem, file_ticket, history, new_person, new_team, state,
)


@pytest.fixture
def team(server: str) -> tuple[DeskClient, DeskClient, DeskClient]:
    """An admin, a customer and an agent of the printer team; the team id is on the agent."""
    admin = as_admin(server)
    printers = new_team(admin, "打印机售后")
    customer = new_person(admin, server, "li@example.test", "customer")
    agent = new_person(admin, server, "wang@example.test", "agent", [printers])
    agent.team = printers  # type: ignore[attr-defined]
    return admin, customer, agent


def tickets_in_store(container: Container) -> list[str]:
    """The ids of every ticket ever created, straight from the event store's notification log."""
    notifications = container.desk.recorder.select_notifications(start=None, limit=100_000)
    return [str(n.originator_id) for n in notifications if n.topic.endswith("Ticket.Created")]


def in_parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls on their own threads, released together."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


# -- If-Match ---------------------------------------------------------------------


def test_a_write_based_on_a_stale_version_is_refused_with_409(team: Any) -> None:
    _, customer, agent = team
    tid = file_ticket(customer, team_id=agent.team)["id"]
    claimed = agent.ok(f"/tickets/{tid}/claim", headers={"If-Match": "1"})
    assert claimed["version"] == 2

    stale = agent.post(f"/tickets/{tid}/start", headers={"If-Match": "1"})

    body = assert_problem(stale, 409, "version_conflict")
    assert "2" in body["detail"]
    ahead = agent.post(f"/tickets/{tid}/start", headers={"If-Match": "7"})
    assert_problem(ahead, 409, "version_conflict")
    assert [e["type"] for e in history(agent, tid)] == ["Created", "Assigned"]
    assert state(agent, tid)["status"] == "open"


@pytest.mark.parametrize("header", ['2', '"2"', 'W/"2"'])
def test_a_write_naming_the_current_version_succeeds(team: Any, header: str) -> None:
    _, customer, agent = team
    tid = file_ticket(customer, team_id=agent.team)["id"]
    agent.ok(f"/tickets/{tid}/claim")

    started = agent.ok(f"/tickets/{tid}/start", headers={"If-Match": header})

    assert started["version"] == 3
    assert state(agent, tid)["status"] == "in_progress"


def test_an_if_match_that_is_not_a_version_is_a_422(team: Any) -> None:
    _, customer, agent = team
    tid = file_ticket(customer, team_id=agent.team)["id"]
    assert_problem(agent.post(f"/tickets/{tid}/claim", headers={"If-Match": "*"}), 422, "header.invalid")
    assert state(agent, tid)["version"] == 1


def test_of_two_agents_racing_with_the_same_version_exactly_one_wins(team: Any, server: str) -> None:
    admin, customer, agent = team
    colleague = new_person(admin, server, "zhou@example.test", "agent", [agent.team])
    tid = file_ticket(customer, team_id=agent.team)["id"]
    agent.ok(f"/tickets/{tid}/claim")

    results = in_parallel([
        lambda: agent.post(f"/tickets/{tid}/priority", {"priority": "urgent"}, headers={"If-Match": "2"}),
        lambda: colleague.post(f"/tickets/{tid}/priority", {"priority": "low"}, headers={"If-Match": "2"}),
    ])

    assert sorted(r.status_code for r in results) == [200, 409]
    loser = next(r for r in results if r.status_code == 409)
    assert_problem(loser, 409, "version_conflict")
    winner = next(r for r in results if r.status_code == 200)
    changes = [e for e in history(agent, tid) if e["type"] == "PriorityChanged"]
    assert len(changes) == 1 and changes[0]["version"] == winner.json()["version"] == 3


# -- Idempotency-Key ----------------------------------------------------------------


def test_filing_twice_with_one_idempotency_key_makes_one_ticket(team: Any, container: Container) -> None:
    _, customer, _ = team
    form = {"title": "打印机无法开机", "description": "按电源键没反应"}
    key = {"Idempotency-Key": "wechat-msg-20260101-0001"}

    first = customer.post("/tickets", form, headers=key)
    again = customer.post("/tickets", form, headers=key)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert first.json()["number"].startswith("GD-")
    assert tickets_in_store(container) == [first.json()["id"]]
    assert [e["type"] for e in history(customer, first.json()["id"])] == ["Created"]
    # Without the key, the same form is a new ticket.
    other = file_ticket(customer, **{k: v for k, v in form.items() if k != "title"})
    assert other["id"] != first.json()["id"] and other["number"] != first.json()["number"]
    assert len(tickets_in_store(container)) == 2


def test_an_idempotency_key_belongs_to_the_person_who_sent_it(team: Any, server: str,
                                                                container: Container) -> None:
    admin, customer, _ = team
    neighbour = new_person(admin, server, "han@example.test", "customer")
    key = {"Idempotency-Key": "retry-1"}

    mine = customer.ok("/tickets", {"title": "打印机无法开机"}, status=201, headers=key)
    theirs = neighbour.ok("/tickets", {"title": "扫描仪卡纸"}, status=201, headers=key)

    assert mine["id"] != theirs["id"]
    assert state(neighbour, theirs["id"])["title"] == "扫描仪卡纸"
    assert_problem(neighbour.get(f"/tickets/{mine['id']}/state"), 404, "not_found")
    assert sorted(tickets_in_store(container)) == sorted([mine["id"], theirs["id"]])


def test_retries_racing_with_one_idempotency_key_still_make_one_ticket(team: Any, server: str,
                                                                      container: Container) -> None:
    _, customer, _ = team
    clients = [httpx.Client(base_url=server, timeout=30, headers={"Authorization": f"Bearer {customer.token}"})
               for _ in range(8)]
    try:
        responses = in_parallel([
            lambda c=c: c.post("/api/v1/tickets", json={"title": "打印机无法开机"},
                               headers={"Idempotency-Key": "flaky-network-7"})
            for c in clients
        ])
    finally:
        for c in clients:
            c.close()

    assert [r.status_code for r in responses] == [201] * 8, [r.text for r in responses]
    assert len({(r.json()["id"], r.json()["number"], r.json()["version"]) for r in responses}) == 1
    assert tickets_in_store(container) == [responses[0].json()["id"]]


# -- refused transitions --------------------------------------------------------------


def test_moves_the_lifecycle_does_not_allow_are_409_with_a_reason_code(team: Any) -> None:
    _, customer, agent = team
    tid = file_ticket(customer, team_id=agent.team)["id"]
    for verb in ("start", "hold", "resume", "close", "reopen"):
        problem = assert_problem(agent.post(f"/tickets/{tid}/{verb}"), 409, "ticket.invalid_transition")
        assert "new" in problem["detail"], problem
    assert_problem(customer.post(f"/tickets/{tid}/rating", {"score": 4}), 409, "ticket.invalid_transition")

    agent.ok(f"/tickets/{tid}/claim")
    for verb in ("hold", "resume", "close", "reopen"):
        assert_problem(agent.post(f"/tickets/{tid}/{verb}"), 409, "ticket.invalid_transition")
    agent.ok(f"/tickets/{tid}/start")
    assert_problem(agent.post(f"/tickets/{tid}/start"), 409, "ticket.invalid_transition")
    assert_problem(agent.post(f"/tickets/{tid}/resume"), 409, "ticket.invalid_transition")
    agent.ok(f"/tickets/{tid}/resolve", {"resolution": "已更换电源"})
    assert_problem(agent.post(f"/tickets/{tid}/hold"), 409, "ticket.invalid_transition")
    assert_problem(agent.post(f"/tickets/{tid}/resolve"), 409, "ticket.invalid_transition")

    # None of the refusals left a trace.
    assert [e["type"] for e in history(agent, tid)] == ["Created", "Assigned", "Started", "Resolved"]
    assert state(agent, tid)["status"] == "resolved"


# -- many writers on one ticket ---------------------------------------------------------


def test_64_agents_commenting_at_once_each_land_exactly_once(team: Any, server: str) -> None:
    _, customer, agent = team
    tid = file_ticket(customer, team_id=agent.team)["id"]
    bodies = [f"第 {n} 条跟进记录 / follow-up #{n}" for n in range(64)]
    clients = [httpx.Client(base_url=server, timeout=60, headers={"Authorization": f"Bearer {agent.token}"})
               for _ in bodies]
    try:
        responses = in_parallel([
            lambda c=c, b=b: c.post(f"/api/v1/tickets/{tid}/comments", json={"body": b})
            for c, b in zip(clients, bodies, strict=True)
        ])
    finally:
        for c in clients:
            c.close()

    assert [r.status_code for r in responses] == [200] * 64, [r.text for r in responses if r.status_code != 200]
    versions = sorted(r.json()["version"] for r in responses)
    assert versions == list(range(2, 66))
    comments = [e for e in history(agent, tid) if e["type"] == "CommentAdded"]
    assert len(comments) == 64
    assert sorted(e["data"]["body"] for e in comments) == sorted(bodies)
    assert sorted(c["body"] for c in state(agent, tid)["comments"]) == sorted(bodies)
    assert [c["number"] for c in state(agent, tid)["comments"]] == list(range(1, 65))

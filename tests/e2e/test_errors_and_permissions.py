"""Every refusal is a problem document; who may see and do what to a ticket."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from projections.runner import ProjectionRunner
from tests.desk_client import (
    STRONG, DeskClient, as_admin, assert_problem, file_ticket, history, new_person, new_team, state,
)

MIB = 1024 * 1024
UNKNOWN = "6f1c7e0a-0000-4000-8000-000000000000"


@dataclass
class Desk:
    admin: DeskClient
    printers: str
    network: str
    supervisor: DeskClient
    agent: DeskClient
    auditor: DeskClient
    customer: DeskClient
    other_customer: DeskClient


@pytest.fixture
def desk(server: str) -> Desk:
    admin = as_admin(server)
    printers, network = new_team(admin, "打印机售后"), new_team(admin, "网络售后")
    return Desk(
        admin=admin, printers=printers, network=network,
        supervisor=new_person(admin, server, "zhao@example.test", "supervisor", [printers]),
        agent=new_person(admin, server, "wang@example.test", "agent", [printers]),
        auditor=new_person(admin, server, "qian@example.test", "auditor"),
        customer=new_person(admin, server, "li@example.test", "customer"),
        other_customer=new_person(admin, server, "han@example.test", "customer"),
    )


@pytest.fixture
def anonymous(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=30) as client:
        yield client


# -- 401 ---------------------------------------------------------------------------


def test_no_token_or_a_wrong_one_is_a_401(desk: Desk, anonymous: httpx.Client) -> None:
    tid = file_ticket(desk.customer)["id"]
    for headers in ({}, {"Authorization": "Bearer not-a-real-token"}, {"Authorization": f"Basic {desk.customer.token}"},
                    {"Authorization": f"Bearer {desk.customer.token}x"}):
        for response in (anonymous.get("/api/v1/me", headers=headers),
                         anonymous.get(f"/api/v1/tickets/{tid}/history", headers=headers),
                         anonymous.post("/api/v1/tickets", json={"title": "打印机无法开机"}, headers=headers)):
            assert_problem(response, 401, "auth.required")
            assert response.headers["www-authenticate"] == "Bearer"
    assert len(history(desk.admin, tid)) == 1


def test_a_wrong_password_is_a_401_problem(desk: Desk, anonymous: httpx.Client) -> None:
    response = anonymous.post("/api/v1/auth/login", json={"login": "li@example.test", "password": "Wrong-Passw0rd!"})
    assert_problem(response, 401, "auth.bad_credentials")
    unknown = anonymous.post("/api/v1/auth/login", json={"login": "nobody@example.test", "password": "Wrong-Pass1!"})
    assert_problem(unknown, 401, "auth.bad_credentials")
    assert unknown.json()["detail"] == response.json()["detail"]


def test_a_deactivated_account_is_locked_out_at_once(desk: Desk, server: str, anonymous: httpx.Client) -> None:
    agent = desk.agent
    tid = file_ticket(desk.customer, team_id=desk.printers)["id"]
    agent.ok(f"/tickets/{tid}/claim")
    assert agent.get("/me").status_code == 200

    desk.admin.ok(f"/accounts/{agent.id}/deactivate")

    assert_problem(agent.get("/me"), 401, "auth.required")
    assert_problem(agent.post(f"/tickets/{tid}/start"), 401, "auth.required")
    relogin = anonymous.post("/api/v1/auth/login", json={"login": "wang@example.test", "password": STRONG})
    assert_problem(relogin, 401, "auth.bad_credentials")
    assert state(desk.admin, tid)["status"] == "open"
    assert_problem(desk.admin.post(f"/accounts/{agent.id}/deactivate"), 409, "account.inactive")
    # Nobody can hand the deactivated agent new work.
    assert_problem(desk.supervisor.post(f"/tickets/{tid}/assign", {"assignee_id": agent.id}), 422, "reference.unknown")


# -- 422 -----------------------------------------------------------------------------


def test_bodies_over_the_field_limits_are_422_problems(desk: Desk) -> None:
    customer, agent = desk.customer, desk.agent
    tid = file_ticket(customer, team_id=desk.printers)["id"]
    cases = [
        ("/tickets", {"title": "打" * 201}, ["body", "title"]),
        ("/tickets", {"title": "   "}, ["body", "title"]),
        ("/tickets", {"title": "打印机无法开机", "description": "机" * 20_001}, ["body", "description"]),
        ("/tickets", {"title": "打印机无法开机", "tags": [f"标签{n}" for n in range(21)]}, ["body", "tags"]),
        ("/tickets", {"title": "打印机无法开机", "priority": "critical"}, ["body", "priority"]),
        ("/tickets", {"title": "打印机无法开机", "contact": {"email": "not-an-email"}}, ["body", "contact", "email"]),
        ("/tickets", {"title": "打印机无法开机", "colour": "red"}, ["body", "colour"]),
        (f"/tickets/{tid}/comments", {"body": "回" * 20_001}, ["body", "body"]),
        (f"/tickets/{tid}/comments", {"body": ""}, ["body", "body"]),
        (f"/tickets/{tid}/rating", {"score": 6}, ["body", "score"]),
    ]
    for path, body, where in cases:
        problem = assert_problem(customer.post(path, body), 422, "validation.failed")
        assert any(error["loc"] == where for error in problem["errors"]), (path, problem["errors"])
    assert_problem(agent.post(f"/tickets/{tid}/tags", {"add": [f"t{n}" for n in range(21)]}), 422, "validation.failed")
    # At the limits themselves the same forms are accepted.
    assert file_ticket(customer, "打" * 200, description="机" * 20_000, tags=[f"标签{n}" for n in range(20)])
    assert customer.ok(f"/tickets/{tid}/comments", {"body": "回" * 20_000})["version"] == 2


def test_json_that_does_not_parse_is_a_422_problem(desk: Desk) -> None:
    for raw in ('{"title": "打印机'.encode(), b"not json", b'{"title": "a",}', b"\xff\xfe{}"):
        response = desk.customer.post("/tickets", content=raw, headers={"content-type": "application/json"})
        assert_problem(response, 422, "validation.failed")


def test_a_ticket_id_that_is_not_a_uuid_is_a_422(desk: Desk) -> None:
    assert_problem(desk.admin.get("/tickets/GD-000001/history"), 422, "validation.failed")
    assert_problem(desk.admin.get(f"/tickets/{UNKNOWN}/state", params={"at": "yesterday"}), 422, "validation.failed")
    assert_problem(desk.admin.get(f"/tickets/{UNKNOWN}/state", params={"at": "2026-01-01T08:00:00"}),
                   422, "validation.failed")


# -- 413 ------------------------------------------------------------------------------


def test_a_body_over_one_mib_is_a_413_with_content_length(desk: Desk) -> None:
    huge = b'{"title": "printer", "description": "' + b"x" * MIB + b'"}'
    response = desk.customer.post("/tickets", content=huge, headers={"content-type": "application/json"})
    assert_problem(response, 413, "request.too_large")


def test_a_chunked_body_over_one_mib_is_a_413(desk: Desk, server: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"title": "printer", "description": "'
        for _ in range(17):
            yield b"x" * 65_536
        yield b'"}'

    with httpx.Client(base_url=server, timeout=30,
                      headers={"Authorization": f"Bearer {desk.customer.token}"}) as client:
        response = client.post("/api/v1/tickets", content=chunks(), headers={"content-type": "application/json"})
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert_problem(response, 413, "request.too_large")


def test_a_small_chunked_body_passes_the_limit(desk: Desk, server: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield '{"title": "打印机'.encode()
        yield '无法开机"}'.encode()

    with httpx.Client(base_url=server, timeout=30,
                      headers={"Authorization": f"Bearer {desk.customer.token}"}) as client:
        response = client.post("/api/v1/tickets", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 201, response.text
    assert state(desk.customer, response.json()["id"])["title"] == "打印机无法开机"


# -- 404 and 405 ------------------------------------------------------------------------


def test_unknown_tickets_and_routes_are_404_problems(desk: Desk) -> None:
    assert_problem(desk.admin.get(f"/tickets/{UNKNOWN}/history"), 404, "not_found")
    assert_problem(desk.admin.get(f"/tickets/{UNKNOWN}/state"), 404, "not_found")
    assert_problem(desk.admin.post(f"/tickets/{UNKNOWN}/start"), 404, "not_found")
    assert_problem(desk.admin.post(f"/tickets/{UNKNOWN}/comments", {"body": "在吗"}), 404, "not_found")
    assert_problem(desk.admin.get("/no-such-thing"), 404, "route.not_found")
    assert_problem(desk.admin.http.get("/definitely/not/here"), 404, "route.not_found")
    tid = file_ticket(desk.customer)["id"]
    assert_problem(desk.admin.get(f"/tickets/{tid}/start"), 405, "method.not_allowed")


def test_the_id_of_an_account_or_a_team_is_not_a_ticket(desk: Desk) -> None:
    for reader in (desk.admin, desk.customer, desk.agent):
        for other_kind in (desk.customer.id, desk.agent.id, desk.printers):
            for view in ("history", "state"):
                assert_problem(reader.get(f"/tickets/{other_kind}/{view}"), 404, "not_found")
            assert_problem(reader.post(f"/tickets/{other_kind}/comments", {"body": "在吗"}), 404, "not_found")


# -- customers ---------------------------------------------------------------------------


def test_a_customer_sees_only_their_own_tickets(desk: Desk) -> None:
    theirs = file_ticket(desk.other_customer, "扫描仪卡纸", team_id=desk.printers)["id"]
    for response in (desk.customer.get(f"/tickets/{theirs}/history"),
                     desk.customer.get(f"/tickets/{theirs}/state"),
                     desk.customer.get(f"/tickets/{theirs}/state", params={"version": 1}),
                     desk.customer.post(f"/tickets/{theirs}/comments", {"body": "我也遇到了"}),
                     desk.customer.post(f"/tickets/{theirs}/close")):
        problem = assert_problem(response, 404, "not_found")
        assert "扫描仪" not in response.text and problem["detail"] == "ticket not found"
    # Not even by filing on the other's behalf.
    assert_problem(desk.customer.post("/tickets", {"title": "冒名", "customer_id": desk.other_customer.id}),
                   403, "forbidden")
    assert len(history(desk.other_customer, theirs)) == 1


def test_a_customer_may_not_add_internal_notes_or_do_staff_work(desk: Desk) -> None:
    customer = desk.customer
    tid = file_ticket(customer, team_id=desk.printers)["id"]
    refused = [
        customer.post(f"/tickets/{tid}/comments", {"body": "悄悄话", "public": False}),
        customer.post(f"/tickets/{tid}/assign", {"assignee_id": desk.agent.id}),
        customer.post(f"/tickets/{tid}/claim"),
        customer.post(f"/tickets/{tid}/priority", {"priority": "urgent"}),
        customer.post(f"/tickets/{tid}/transfer", {"team_id": desk.network}),
        customer.post(f"/tickets/{tid}/resolve"),
    ]
    for response in refused:
        assert_problem(response, 403, "forbidden")
    assert [e["type"] for e in history(desk.agent, tid)] == ["Created"]
    assert state(desk.agent, tid)["priority"] == "normal" and state(desk.agent, tid)["comments"] == []


# -- staff ------------------------------------------------------------------------------


def test_an_agent_sees_their_teams_tickets_and_the_unrouted_queue_only(desk: Desk) -> None:
    agent = desk.agent
    network_ticket = file_ticket(desk.customer, "路由器断网", team_id=desk.network)["id"]
    unrouted = file_ticket(desk.customer, "不知道该找谁")["id"]
    own_team = file_ticket(desk.customer, team_id=desk.printers)["id"]

    for response in (agent.get(f"/tickets/{network_ticket}/history"), agent.get(f"/tickets/{network_ticket}/state"),
                     agent.post(f"/tickets/{network_ticket}/claim"),
                     agent.post(f"/tickets/{network_ticket}/comments", {"body": "看看"})):
        assert_problem(response, 404, "not_found")
    assert_problem(agent.post(f"/tickets/{own_team}/links", {"ticket_id": network_ticket}), 422, "reference.unknown")
    assert state(agent, unrouted)["team_id"] is None
    assert state(agent, own_team)["team_id"] == desk.printers
    agent.ok(f"/tickets/{unrouted}/claim")
    assert state(agent, unrouted)["assignee_id"] == agent.id
    assert [e["type"] for e in history(desk.admin, network_ticket)] == ["Created"]


def test_a_supervisor_assigns_only_to_members_of_their_teams(desk: Desk, server: str) -> None:
    outsider = new_person(desk.admin, server, "sun@example.test", "agent", [desk.network])
    tid = file_ticket(desk.customer, team_id=desk.printers)["id"]
    assert_problem(desk.supervisor.post(f"/tickets/{tid}/assign", {"assignee_id": outsider.id}), 403, "forbidden")
    assert_problem(desk.agent.post(f"/tickets/{tid}/assign", {"assignee_id": desk.agent.id}), 403, "forbidden")
    assert_problem(desk.supervisor.post(f"/tickets/{tid}/assign", {"assignee_id": desk.customer.id}),
                   422, "reference.unknown")
    desk.supervisor.ok(f"/tickets/{tid}/assign", {"assignee_id": desk.agent.id})
    assert state(desk.agent, tid)["assignee_id"] == desk.agent.id


def test_only_an_admin_registers_accounts_and_founds_teams(desk: Desk) -> None:
    account = {"email": "new@example.test", "real_name": "新人", "role": "admin", "password": "Str0ng-Passw0rd!"}
    for person in (desk.supervisor, desk.agent, desk.auditor, desk.customer):
        assert_problem(person.post("/accounts", account), 403, "forbidden")
        assert_problem(person.post("/teams", {"name": "影子团队"}), 403, "forbidden")
        assert_problem(person.post(f"/accounts/{desk.admin.id}/deactivate"), 403, "forbidden")
    assert desk.admin.get("/me").status_code == 200
    weak = {**account, "password": "password"}
    assert_problem(desk.admin.post("/accounts", weak), 422, "password.too_weak")


# -- auditors ----------------------------------------------------------------------------


def test_an_auditor_reads_every_ticket_and_writes_nothing(desk: Desk) -> None:
    auditor = desk.auditor
    tid = file_ticket(desk.customer, team_id=desk.network)["id"]
    other = file_ticket(desk.other_customer, "扫描仪卡纸", team_id=desk.printers)["id"]
    desk.agent.ok(f"/tickets/{other}/claim")
    desk.agent.ok(f"/tickets/{other}/comments", {"body": "内部：客户态度不好", "public": False})

    assert [e["type"] for e in history(auditor, tid)] == ["Created"]
    assert state(auditor, tid, version=1)["status"] == "new"
    assert "内部：客户态度不好" in [c["body"] for c in state(auditor, other)["comments"]]
    assert [e["type"] for e in history(auditor, other)] == ["Created", "Assigned", "CommentAdded"]

    writes = [
        ("/tickets", {"title": "审计员不应能建单"}),
        (f"/tickets/{tid}/assign", {"assignee_id": desk.agent.id}),
        (f"/tickets/{tid}/claim", None), (f"/tickets/{tid}/start", None), (f"/tickets/{tid}/hold", None),
        (f"/tickets/{tid}/resume", None), (f"/tickets/{tid}/resolve", None), (f"/tickets/{tid}/close", None),
        (f"/tickets/{tid}/reopen", None), (f"/tickets/{tid}/comments", {"body": "审计意见"}),
        (f"/tickets/{tid}/comments", {"body": "审计意见", "public": False}),
        (f"/tickets/{tid}/priority", {"priority": "high"}), (f"/tickets/{tid}/tags", {"add": ["审计"]}),
        (f"/tickets/{tid}/fields", {"fields": {"审计": True}}), (f"/tickets/{tid}/transfer", {"team_id": desk.printers}),
        (f"/tickets/{tid}/escalate", None), (f"/tickets/{tid}/merge", {"into_id": other}),
        (f"/tickets/{tid}/links", {"ticket_id": other}), (f"/tickets/{tid}/rating", {"score": 1}),
        ("/teams", {"name": "审计组"}), (f"/accounts/{desk.agent.id}/deactivate", None),
    ]
    for path, body in writes:
        assert_problem(auditor.post(path, body), 403, "forbidden")
    assert len(history(auditor, tid)) == 1 and len(history(auditor, other)) == 3


def test_a_ticket_merged_into_itself_by_a_stranger_is_not_found(desk: Desk) -> None:
    """Refusals must not tell a stranger that a ticket exists, whatever the body says."""
    theirs = file_ticket(desk.other_customer, "扫描仪卡纸", team_id=desk.network)["id"]
    for stranger in (desk.customer, desk.agent):
        assert_problem(stranger.post(f"/tickets/{theirs}/merge", {"into_id": theirs}), 404, "not_found")
    assert_problem(desk.auditor.post(f"/tickets/{theirs}/merge", {"into_id": theirs}), 403, "forbidden")


def test_merging_into_a_ticket_you_cannot_see_is_answered_as_if_it_did_not_exist(desk: Desk) -> None:
    mine = file_ticket(desk.customer, team_id=desk.printers)["id"]
    elsewhere = file_ticket(desk.customer, "路由器断网", team_id=desk.network)["id"]

    into_missing = desk.agent.post(f"/tickets/{mine}/merge", {"into_id": UNKNOWN})
    into_invisible = desk.agent.post(f"/tickets/{mine}/merge", {"into_id": elsewhere})

    assert_problem(into_missing, 422, "reference.unknown")
    assert_problem(into_invisible, 422, "reference.unknown")
    assert state(desk.admin, mine)["status"] == "new" and state(desk.admin, elsewhere)["absorbed"] == []


# -- hostile text -------------------------------------------------------------------------


def test_a_nul_character_in_a_ticket_never_jams_search_for_everyone(desk: Desk, projector: ProjectionRunner) -> None:
    """PostgreSQL text cannot hold U+0000: refuse it up front (422) or store it safely, never wedge the read side."""
    attempts = [
        desk.customer.post("/tickets", {"title": "打印机\u0000无法开机", "description": "按了\u0000没反应"}),
        desk.customer.post("/tickets", {"title": "打印机无法开机", "tags": ["开机\u0000"],
                                        "custom_fields": {"型号\u0000": "LJ\u00002200"}}),
    ]
    for response in attempts:
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            assert_problem(response, response.status_code)

    later = file_ticket(desk.other_customer, "扫描仪卡纸")
    found = desk.other_customer.get("/tickets", params={"q": "扫描仪", "after": later["position"]})

    assert found.status_code == 200, found.text
    assert [t["id"] for t in found.json()["data"]] == [later["id"]]


def test_a_nul_character_in_a_saved_view_is_refused_not_a_500(desk: Desk) -> None:
    response = desk.customer.post("/views", {"name": "我的工单", "filters": {"q": "打印\u0000"}})
    assert_problem(response, 422)
    assert desk.customer.post("/views", {"name": "我的工单", "filters": {"q": "打印"}}).status_code == 201

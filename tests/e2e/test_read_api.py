"""The dashboards' read API: saved views, board order, workload, stats, audit and its export."""

from __future__ import annotations

import json

from projections.runner import ProjectionRunner
from tests.desk_client import as_admin, assert_problem, new_person, new_team


def _desk(server: str):  # noqa: ANN202 - a small scenario world
    admin = as_admin(server)
    team = new_team(admin, "售后二组")
    customer = new_person(admin, server, "vip@example.test", "customer")
    agent = new_person(admin, server, "zhao@example.test", "agent", [team])
    auditor = new_person(admin, server, "audit@example.test", "auditor")
    return admin, team, customer, agent, auditor


def test_a_saved_view_finds_what_its_filters_say(server: str, projector: ProjectionRunner) -> None:
    admin, team, customer, agent, _ = _desk(server)
    complaint = customer.ok("/tickets", {"title": "投诉：维修太慢", "tags": ["投诉"], "priority": "high",
                                         "customer": {"tier": "VIP"}}, status=201)
    customer.ok("/tickets", {"title": "咨询保修政策", "tags": ["咨询"], "customer": {"tier": "VIP"}}, status=201)
    view = agent.ok("/views", {"name": "VIP complaints", "filters": {"tags": ["投诉"], "tier": "VIP"}}, status=201)
    assert agent.post("/views", json={"name": "VIP complaints", "filters": {}}).status_code == 409
    assert [v["name"] for v in agent.get("/views").json()] == ["VIP complaints"]
    found = agent.get("/tickets", params={"view": view["id"], "after": complaint["position"]})
    assert [t["id"] for t in found.json()["data"]] == [complaint["id"]]
    assert int(found.headers["X-Projection-Position"]) >= complaint["position"]
    assert_problem(customer.get("/tickets", params={"view": view["id"]}), 404, "not_found")  # not theirs


def test_the_board_orders_cards_by_priority_and_workload_counts_per_agent(server: str,
                                                                          projector: ProjectionRunner) -> None:
    admin, team, customer, agent, _ = _desk(server)
    ids = {p: customer.ok("/tickets", {"title": f"{p} 工单", "priority": p, "team_id": team}, status=201)["id"]
           for p in ("low", "urgent", "normal")}
    last = agent.ok(f"/tickets/{ids['normal']}/claim")
    board = agent.get("/board", params={"after": last["position"], "team": team}).json()
    columns = {c["status"]: c for c in board["columns"]}
    assert [c["priority"] for c in columns["new"]["cards"]] == ["urgent", "low"]
    assert columns["open"]["count"] == 1
    workload = agent.get("/workload", params={"after": last["position"]}).json()["data"]
    assert workload == [{"assignee_id": agent.id, "total": 1, "by_status": {"open": 1}}]
    assert_problem(customer.get("/board"), 403, "forbidden")


def test_stats_count_the_flow_and_satisfaction(server: str, projector: ProjectionRunner) -> None:
    admin, team, customer, agent, _ = _desk(server)
    ticket = customer.ok("/tickets", {"title": "空调不制冷", "team_id": team}, status=201)["id"]
    agent.ok(f"/tickets/{ticket}/claim")
    agent.ok(f"/tickets/{ticket}/comments", {"body": "您好，师傅明天上门。"})
    agent.ok(f"/tickets/{ticket}/resolve", {"resolution": "已加氟"})
    customer.ok(f"/tickets/{ticket}/close")
    last = customer.ok(f"/tickets/{ticket}/rating", {"score": 4})
    totals = agent.get("/stats", params={"after": last["position"], "team": team}).json()["totals"]
    assert (totals["created"], totals["resolved"], totals["reopened"]) == (1, 1, 0)
    assert totals["avg_satisfaction"] == 4.0
    assert totals["avg_first_response_minutes"] is not None and totals["avg_resolution_minutes"] is not None


def test_the_audit_log_filters_and_exports_every_change_for_auditors_only(server: str,
                                                                          projector: ProjectionRunner) -> None:
    admin, team, customer, agent, auditor = _desk(server)
    opened = customer.ok("/tickets", {"title": "冰箱漏水"}, status=201)
    last = agent.ok(f"/tickets/{opened['id']}/claim")
    by_ticket = auditor.get("/audit", params={"ticket": opened["number"], "after": last["position"]}).json()["data"]
    assert [(r["type"], r["actor_id"]) for r in by_ticket] == [("Assigned", agent.id), ("Created", customer.id)]
    assert "冰箱漏水" in by_ticket[1]["summary"]
    by_actor = auditor.get("/audit", params={"actor": agent.id, "after": last["position"]}).json()["data"]
    assert [r["type"] for r in by_actor] == ["Assigned"]
    export = auditor.get("/audit/export", params={"after": last["position"]})
    assert export.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert [r["position"] for r in lines] == sorted(r["position"] for r in lines)
    assert lines[-1]["position"] == last["position"]
    assert_problem(agent.get("/audit"), 403, "forbidden")
    assert_problem(customer.get("/audit/export"), 403, "forbidden")


def test_a_read_asking_for_a_position_past_the_store_is_refused_at_once(server: str,
                                                                        projector: ProjectionRunner) -> None:
    admin = as_admin(server)
    assert_problem(admin.get("/tickets", params={"after": 10**12}), 422, "query.position_unknown")

"""A ticket's whole life over HTTP: filed, worked, resolved, confirmed, rated, reopened — and replayed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.desk_client import (
    DeskClient, as_admin, assert_problem, file_ticket, history, new_person, new_team, state,
)

TITLE = "打印机无法开机"
PUBLIC_REPLY = "您好，请先检查电源线是否插好，再长按电源键五秒。"
INTERNAL_NOTE = "内部备注：该型号主板批次有缺陷，可直接走换机流程。"
SHANGHAI = timezone(timedelta(hours=8))


@dataclass
class Desk:
    admin: DeskClient
    printers: str  # team ids
    network: str
    supervisor: DeskClient
    agent: DeskClient
    network_agent: DeskClient
    customer: DeskClient
    other_customer: DeskClient


@pytest.fixture
def desk(server: str) -> Desk:
    admin = as_admin(server)
    printers = new_team(admin, "打印机售后")
    network = new_team(admin, "网络售后")
    return Desk(
        admin=admin, printers=printers, network=network,
        supervisor=new_person(admin, server, "zhao@example.test", "supervisor", [printers], real_name="赵主管"),
        agent=new_person(admin, server, "wang@example.test", "agent", [printers], real_name="王工"),
        network_agent=new_person(admin, server, "sun@example.test", "agent", [network], real_name="孙工"),
        customer=new_person(admin, server, "li@example.test", "customer", phone="+86 138 0013 8000",
                            real_name="李雷"),
        other_customer=new_person(admin, server, "han@example.test", "customer", real_name="韩梅梅"),
    )


def at_between(earlier: str, later: str) -> datetime:
    """A moment strictly between two event times."""
    start, end = datetime.fromisoformat(earlier), datetime.fromisoformat(later)
    assert start < end, (earlier, later)
    return start + (end - start) / 2


def test_a_chinese_ticket_lives_its_whole_life_and_every_step_is_in_its_history(desk: Desk) -> None:
    customer, supervisor, agent = desk.customer, desk.supervisor, desk.agent
    steps: list[tuple[DeskClient, list[str], dict[str, Any]]] = []  # who, event types, receipt

    def step(who: DeskClient, types: list[str], path: str, body: Any = None) -> dict[str, Any]:
        receipt = who.ok(path, body)
        steps.append((who, types, receipt))
        return receipt

    opened = file_ticket(
        customer, TITLE, description="按电源键没有任何反应，指示灯也不亮。", priority="normal", channel="wechat",
        category="硬件故障", tags=["打印机", "开机故障"],
        contact={"name": "李雷", "phone": "+86 138 0013 8000", "email": "lilei@example.test"},
        custom_fields={"购买渠道": "京东", "保修": True},
        customer={"organization": "北京某某科技有限公司", "tier": "VIP"},
        product={"name": "激光打印机", "model": "LJ-2200", "serial_number": "SN-8848-0001"},
        region="华北",
    )
    steps.append((customer, ["Created"], opened))
    tid = opened["id"]
    at = f"/tickets/{tid}"

    step(supervisor, ["Assigned"], f"{at}/assign", {"assignee_id": agent.id, "team_id": desk.printers})
    started = step(agent, ["Started"], f"{at}/start")
    step(agent, ["CommentAdded"], f"{at}/comments", {"body": PUBLIC_REPLY})
    note = step(agent, ["CommentAdded"], f"{at}/comments", {"body": INTERNAL_NOTE, "public": False})
    held = step(agent, ["PutOnHold"], f"{at}/hold", {"reason": "等待客户拍摄指示灯照片"})
    step(customer, ["CommentAdded"], f"{at}/comments", {"body": "照片已上传，指示灯完全不亮。"})
    step(agent, ["Resumed"], f"{at}/resume")
    step(agent, ["PriorityChanged"], f"{at}/priority", {"priority": "high", "reason": "VIP 客户"})
    step(agent, ["Tagged", "Untagged"], f"{at}/tags", {"add": ["硬件", "换机"], "remove": ["开机故障"]})
    step(agent, ["FieldsSet"], f"{at}/fields", {"fields": {"保修": False, "故障代码": "E-02", "购买渠道": None}})
    step(agent, ["Escalated"], f"{at}/escalate", {"reason": "需要二线工程师确认主板"})
    resolved = step(agent, ["Resolved"], f"{at}/resolve", {"resolution": "已上门更换主板，打印机恢复正常。"})
    step(customer, ["Closed"], f"{at}/close")
    step(customer, ["Rated"], f"{at}/rating", {"score": 5, "comment": "师傅很专业"})
    reopened = step(customer, ["Reopened"], f"{at}/reopen", {"reason": "第二天又无法开机了"})

    # Every step is in the history, in order, with its version, type, time and actor.
    expected = [(who, kind) for who, kinds, _ in steps for kind in kinds]
    seen = history(agent, tid)
    assert [entry["type"] for entry in seen] == [kind for _, kind in expected]
    assert [entry["version"] for entry in seen] == list(range(1, len(expected) + 1))
    roles = {customer.id: "customer", supervisor.id: "supervisor", agent.id: "agent"}
    for entry, (who, _) in zip(seen, expected, strict=True):
        assert entry["actor"] == {"id": who.id, "role": roles[who.id]}, entry
    times = [datetime.fromisoformat(entry["time"]) for entry in seen]
    assert all(t.tzinfo is not None for t in times)
    assert times == sorted(times)
    # Each receipt names the version its (last) event reached, and positions only grow.
    assert [r["version"] for _, _, r in steps] == [
        seen[sum(len(k) for _, k, _ in steps[:i + 1]) - 1]["version"] for i in range(len(steps))]
    positions = [r["position"] for _, _, r in steps]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)

    by_version = {entry["version"]: entry for entry in seen}
    assert by_version[note["version"]]["data"] == {"body": INTERNAL_NOTE, "public": False}
    assert seen[-1]["data"] == {"reason": "第二天又无法开机了"}

    # The ticket now: reopened, with everything the agent did.
    now = state(agent, tid)
    assert now["version"] == reopened["version"] == len(seen)
    assert now["number"] == opened["number"] and now["title"] == TITLE
    assert now["status"] == "open" and now["assignee_id"] == agent.id and now["team_id"] == desk.printers
    assert now["priority"] == "high" and now["escalation_level"] == 1
    assert now["tags"] == ["打印机", "硬件", "换机"]
    assert now["custom_fields"] == {"保修": False, "故障代码": "E-02"}
    assert now["contact"] == {"name": "李雷", "phone": "+86 138 0013 8000", "email": "lilei@example.test"}
    assert now["customer"]["id"] == customer.id and now["customer"]["tier"] == "VIP"
    assert now["rating"]["score"] == 5
    assert now["resolution"] is None and now["resolved_at"] is None and now["closed_at"] is None
    assert [c["body"] for c in now["comments"]] == [PUBLIC_REPLY, INTERNAL_NOTE, "照片已上传，指示灯完全不亮。"]

    # As it was, by version: filed, then being worked, then waiting on the customer, then resolved.
    first = state(agent, tid, version=1)
    assert first["status"] == "new" and first["assignee_id"] is None and first["comments"] == []
    assert first["tags"] == ["打印机", "开机故障"] and first["priority"] == "normal"
    assert first["custom_fields"] == {"购买渠道": "京东", "保修": True}
    assert state(agent, tid, version=started["version"])["status"] == "in_progress"
    assert state(agent, tid, version=held["version"])["status"] == "pending"
    was_resolved = state(agent, tid, version=resolved["version"])
    assert was_resolved["status"] == "resolved" and was_resolved["resolution"] == "已上门更换主板，打印机恢复正常。"

    # As it was, by time: between Started and the reply the ticket was in progress, with no comments.
    moment = at_between(by_version[started["version"]]["time"], by_version[started["version"] + 1]["time"])
    then = state(agent, tid, at=moment.isoformat())
    assert then["status"] == "in_progress" and then["version"] == started["version"] and then["comments"] == []
    # The same instant written in Beijing time names the same state.
    assert state(agent, tid, at=moment.astimezone(SHANGHAI).isoformat()) == then
    moment = at_between(by_version[resolved["version"]]["time"], by_version[resolved["version"] + 1]["time"])
    assert state(agent, tid, at=moment.isoformat())["status"] == "resolved"
    before_birth = datetime.fromisoformat(seen[0]["time"]) - timedelta(seconds=1)
    assert_problem(agent.get(f"{at}/state", params={"at": before_birth.isoformat()}), 404, "ticket.not_yet_created")
    assert_problem(agent.get(f"{at}/state", params={"version": len(seen) + 1}), 422, "ticket.no_such_version")


def test_the_customer_never_sees_an_internal_note_but_staff_do(desk: Desk) -> None:
    customer, agent = desk.customer, desk.agent
    tid = file_ticket(customer, TITLE, team_id=desk.printers)["id"]
    agent.ok(f"/tickets/{tid}/claim")
    agent.ok(f"/tickets/{tid}/comments", {"body": PUBLIC_REPLY})
    note = agent.ok(f"/tickets/{tid}/comments", {"body": INTERNAL_NOTE, "public": False})
    agent.ok(f"/tickets/{tid}/start")

    for reader in (agent, desk.supervisor, desk.admin):
        comments = [e for e in history(reader, tid) if e["type"] == "CommentAdded"]
        assert [c["data"]["public"] for c in comments] == [True, False]
        assert INTERNAL_NOTE in reader.get(f"/tickets/{tid}/history").text
        assert INTERNAL_NOTE in [c["body"] for c in state(reader, tid)["comments"]]

    customer_history = customer.get(f"/tickets/{tid}/history")
    assert customer_history.status_code == 200
    assert INTERNAL_NOTE not in customer_history.text
    comments = [e for e in customer_history.json()["data"] if e["type"] == "CommentAdded"]
    assert [c["data"] for c in comments] == [{"body": PUBLIC_REPLY, "public": True}]
    assert note["version"] not in [e["version"] for e in customer_history.json()["data"]]
    # The other steps are all still there for the customer.
    assert [e["type"] for e in customer_history.json()["data"]] == ["Created", "Assigned", "CommentAdded", "Started"]

    for params in ({}, {"version": note["version"]}, {"version": note["version"] + 1},
                   {"at": datetime.now(timezone.utc).isoformat()}):
        seen = customer.get(f"/tickets/{tid}/state", params=params)
        assert seen.status_code == 200, seen.text
        assert INTERNAL_NOTE not in seen.text
        assert [c["body"] for c in seen.json()["comments"]] == [PUBLIC_REPLY]
        assert all(c["public"] for c in seen.json()["comments"])


def test_a_duplicate_is_merged_into_the_original_and_both_histories_say_so(desk: Desk) -> None:
    customer, agent = desk.customer, desk.agent
    original = file_ticket(customer, TITLE, team_id=desk.printers)
    duplicate = file_ticket(customer, "打印机开不了机（重复提交）", team_id=desk.printers)
    agent.ok(f"/tickets/{duplicate['id']}/comments", {"body": "与原工单重复"})

    merged = agent.ok(f"/tickets/{duplicate['id']}/merge", {"into_id": original["id"]})

    source = state(agent, duplicate["id"])
    assert source["status"] == "merged" and source["merged_into"] == original["id"]
    assert merged["version"] == source["version"] == 3
    target = state(agent, original["id"])
    assert target["absorbed"] == [duplicate["id"]] and target["status"] == "new"
    last_of_source = history(agent, duplicate["id"])[-1]
    assert last_of_source["type"] == "Merged"
    assert last_of_source["data"] == {"into_id": original["id"], "into_number": original["number"]}
    assert last_of_source["actor"] == {"id": agent.id, "role": "agent"}
    last_of_target = history(agent, original["id"])[-1]
    assert last_of_target["type"] == "Absorbed" and last_of_target["version"] == 2
    assert last_of_target["data"] == {"source_id": duplicate["id"], "source_number": duplicate["number"]}
    # The customer sees it too: their duplicate now points at the original.
    assert state(customer, duplicate["id"])["merged_into"] == original["id"]

    # A merged ticket is finished: no more replies, no second merge.
    assert_problem(agent.post(f"/tickets/{duplicate['id']}/comments", {"body": "还在吗"}),
                   409, "ticket.invalid_transition")
    assert_problem(agent.post(f"/tickets/{duplicate['id']}/merge", {"into_id": original["id"]}),
                   409, "ticket.invalid_transition")
    assert_problem(agent.post(f"/tickets/{original['id']}/merge", {"into_id": original["id"]}),
                   409, "ticket.merge_self")
    assert state(agent, original["id"])["absorbed"] == [duplicate["id"]]


def test_tickets_are_linked_as_parent_child_and_related(desk: Desk) -> None:
    customer, agent = desk.customer, desk.agent
    outage = file_ticket(customer, "整栋楼打印机都无法开机", team_id=desk.printers)
    mine = file_ticket(customer, TITLE, team_id=desk.printers)
    similar = file_ticket(customer, "复印机也无法开机", team_id=desk.printers)

    agent.ok(f"/tickets/{mine['id']}/links", {"ticket_id": outage["id"], "kind": "parent"})
    agent.ok(f"/tickets/{mine['id']}/links", {"ticket_id": similar["id"]})

    assert state(agent, mine["id"])["links"] == [
        {"ticket_id": outage["id"], "kind": "parent"}, {"ticket_id": similar["id"], "kind": "related"}]
    linked = [e for e in history(customer, mine["id"]) if e["type"] == "Linked"]
    assert [e["data"] for e in linked] == [{"other_id": outage["id"], "kind": "parent"},
                                           {"other_id": similar["id"], "kind": "related"}]
    assert_problem(agent.post(f"/tickets/{mine['id']}/links", {"ticket_id": outage["id"], "kind": "parent"}),
                   409, "ticket.link_exists")
    assert_problem(agent.post(f"/tickets/{mine['id']}/links", {"ticket_id": mine["id"]}), 409, "ticket.link_self")
    assert_problem(agent.post(f"/tickets/{mine['id']}/links",
                              {"ticket_id": "00000000-0000-4000-8000-000000000000"}), 422, "reference.unknown")
    assert len(state(agent, mine["id"])["links"]) == 2


def test_a_ticket_transferred_to_another_team_leaves_the_first_teams_queue(desk: Desk) -> None:
    customer, supervisor, agent, network_agent = desk.customer, desk.supervisor, desk.agent, desk.network_agent
    tid = file_ticket(customer, "打印机无法连接 Wi-Fi", team_id=desk.printers)["id"]
    supervisor.ok(f"/tickets/{tid}/assign", {"assignee_id": agent.id})
    assert_problem(network_agent.get(f"/tickets/{tid}/state"), 404, "not_found")

    supervisor.ok(f"/tickets/{tid}/transfer", {"team_id": desk.network, "reason": "属于网络配置问题"})

    moved = state(network_agent, tid)
    assert moved["team_id"] == desk.network and moved["assignee_id"] is None and moved["status"] == "open"
    last = history(customer, tid)[-1]
    assert last["type"] == "Transferred" and last["data"] == {"team_id": desk.network, "reason": "属于网络配置问题"}
    assert last["actor"] == {"id": supervisor.id, "role": "supervisor"}
    # The first team no longer sees it; the second team takes it from here.
    assert_problem(agent.get(f"/tickets/{tid}/state"), 404, "not_found")
    assert_problem(agent.post(f"/tickets/{tid}/start"), 404, "not_found")
    network_agent.ok(f"/tickets/{tid}/claim")
    network_agent.ok(f"/tickets/{tid}/start")
    assert state(network_agent, tid)["status"] == "in_progress"
    assert_problem(supervisor.post(f"/tickets/{tid}/transfer", {"team_id": desk.printers}), 404, "not_found")


def test_a_customer_withdraws_their_own_unresolved_ticket(desk: Desk) -> None:
    customer, agent = desk.customer, desk.agent
    tid = file_ticket(customer, TITLE, team_id=desk.printers)["id"]
    agent.ok(f"/tickets/{tid}/claim")
    agent.ok(f"/tickets/{tid}/start")
    # Staff cannot close an unresolved ticket, and another customer cannot touch it at all.
    assert_problem(agent.post(f"/tickets/{tid}/close"), 409, "ticket.invalid_transition")
    assert_problem(desk.other_customer.post(f"/tickets/{tid}/close"), 404, "not_found")

    customer.ok(f"/tickets/{tid}/close")

    withdrawn = state(customer, tid)
    assert withdrawn["status"] == "closed" and withdrawn["resolution"] is None and withdrawn["closed_at"]
    last = history(agent, tid)[-1]
    assert last["type"] == "Closed" and last["data"] == {"reason": "withdrawn"}
    assert last["actor"] == {"id": customer.id, "role": "customer"}
    assert_problem(customer.post(f"/tickets/{tid}/close"), 409, "ticket.invalid_transition")
    # A withdrawn ticket can still be reopened if the problem comes back.
    customer.ok(f"/tickets/{tid}/reopen", {"reason": "又坏了"})
    assert state(agent, tid)["status"] == "open"

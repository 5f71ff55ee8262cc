"""Who finds what: customers only their own tickets and never by internal notes; agents their queues."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from events.actor import Actor
from read_api.search_filters import SearchPage
from read_api.ticket_search import search
from tests.desk_client import as_admin, new_person, new_team

if TYPE_CHECKING:
    from collections.abc import Callable

    from commands.desk import Receipt
    from events.ticket import Ticket
    from ledgerdesk.bootstrap import Container
    from projections.runner import ProjectionRunner

INTAKE = Actor("staff-intake", "admin")
ANN = Actor("cust-ann", "customer")
BEN = Actor("cust-ben", "customer")


def _file(container: Container, title: str, customer: Actor | None = None, *, team: str | None = None,
          description: str = "", phone: str | None = None, email: str | None = None) -> Receipt:
    form = {"title": title, "description": description, "priority": "normal", "channel": "web",
            "category": "打印机", "tags": ["保修期内"], "contact": {"name": "前台", "phone": phone, "email": email},
            "custom_fields": {}, "customer": {"id": customer.id if customer else None, "tier": "VIP"},
            "region": "华东", "product": {"name": "HP LaserJet"}, "team_id": team}
    return container.desk.open_ticket(form, INTAKE)


def _change(container: Container, receipt: Receipt, change: Callable[[Ticket], object]) -> None:
    container.desk.change_ticket(receipt.id, change)


def _caught_up(container: Container) -> None:
    runner = container.projector()
    runner.create_tables()
    runner.catch_up()


def _numbers(container: Container, reader: Actor, **filters: Any) -> set[str]:
    result = search(container.read_models, SearchPage(limit=100, **filters), reader)
    assert result["next_cursor"] is None
    return {row["number"] for row in result["data"]}


def test_a_customer_finds_only_their_own_tickets_and_never_by_internal_notes(container: Container, search_path: str) -> None:
    agent = Actor("agent-1", "agent", ("team-1",))
    ann_jam = _file(container, "打印机卡纸 paper jam", ANN, phone="138-0013-8000", email="ann@example.com")
    ann_dead = _file(container, "打印机无法开机", ANN, phone="138-0013-8000", email="ann@example.com")
    ben_jam = _file(container, "打印机卡纸 paper jam", BEN, phone="139-0013-8000", email="ben@example.com")
    ben_dead = _file(container, "打印机无法开机", BEN, phone="139-0013-8000", email="ben@example.com")
    _change(container, ann_jam, lambda t: (t.add_comment("内部备注：定影器损坏 fuserzeta", False, agent),
                                           t.add_comment("已寄出配件 courierkappa", True, agent)))
    _change(container, ben_jam, lambda t: t.add_comment("内部：客户自行拆机 tamperomega", False, agent))
    _caught_up(container)
    ann, ben = {ann_jam.number, ann_dead.number}, {ben_jam.number, ben_dead.number}

    both_jams = {"卡纸 paper", "paper", "jam"}
    for q in ("打印机", "卡纸 paper", "paper", "jam", "8000", "0013-8000", "保修期内", None):
        assert _numbers(container, ANN, q=q) == ({ann_jam.number} if q in both_jams else ann), q
        assert _numbers(container, BEN, q=q) == ({ben_jam.number} if q in both_jams else ben), q
    for q in (ben_jam.number, ben_jam.number.lower(), "ben@example.com", "13900138000"):
        assert _numbers(container, ANN, q=q) == set(), q
    assert _numbers(container, BEN, q="13900138000") == {ben_jam.number, ben_dead.number}
    facets = search(container.read_models, SearchPage(q="打印机"), ANN)["facets"]
    assert facets["status"] == {"new": 2} and facets["tags"] == {"保修期内": 2}

    for word in ("定影器", "fuserzeta", "fuser", "定影器损坏 fuserzeta"):
        assert _numbers(container, ANN, q=word) == set(), word
        assert _numbers(container, agent, q=word) == {ann_jam.number}, word
    assert _numbers(container, BEN, q="tamperomega") == set() and _numbers(container, BEN, q="拆机") == set()
    assert _numbers(container, agent, q="tamperomega") == {ben_jam.number}
    assert _numbers(container, ANN, q="courierkappa") == {ann_jam.number}  # a public reply is findable


def test_agents_see_their_teams_tickets_the_unrouted_and_those_assigned_to_them(container: Container, search_path: str) -> None:
    east_agent = Actor("agent-east", "agent", ("team-east",))
    west_agent = Actor("agent-west", "agent", ("team-west",))
    east = _file(container, "路由器频繁断网", team="team-east")
    west = _file(container, "路由器频繁断网", team="team-west")
    west_but_mine = _file(container, "路由器频繁断网", team="team-west")
    west_theirs = _file(container, "路由器频繁断网", team="team-west")
    unrouted = _file(container, "路由器频繁断网")
    moved_away = _file(container, "路由器频繁断网", team="team-east")
    _change(container, west_but_mine, lambda t: t.assign(east_agent.id, INTAKE))
    _change(container, west_theirs, lambda t: t.assign(west_agent.id, INTAKE))
    _change(container, moved_away, lambda t: t.transfer("team-west", INTAKE, reason="归西区"))
    _caught_up(container)

    east_sees = {east.number, west_but_mine.number, unrouted.number}
    for filters in ({}, {"q": "断网"}, {"q": "路由器 频繁断网"}, {"status": ["new", "open"]}):
        assert _numbers(container, east_agent, **filters) == east_sees, filters
    assert _numbers(container, east_agent, q=moved_away.number) == set()
    assert _numbers(container, west_agent) == {west.number, west_but_mine.number, west_theirs.number,
                                               unrouted.number, moved_away.number}
    assert _numbers(container, Actor("agent-lone", "agent")) == {unrouted.number}
    everyone = _numbers(container, Actor("sup", "supervisor", ("team-east", "team-west")))
    assert everyone == _numbers(container, INTAKE) and len(everyone) == 6
    found = search(container.read_models, SearchPage(q="断网"), east_agent)
    counted = sum(found["facets"]["status"].values())
    assert counted == len(east_sees) if found["facets_complete"] else counted < len(east_sees)


def test_a_customer_reading_their_ticket_gets_no_internal_notes(server: str, projector: ProjectionRunner) -> None:
    admin = as_admin(server)
    team = new_team(admin, "售后二组")
    ann = new_person(admin, server, "ann@example.test", "customer", real_name="韩梅梅")
    ben = new_person(admin, server, "ben@example.test", "customer", real_name="李雷")
    agent = new_person(admin, server, "agent@example.test", "agent", [team])
    opened = ann.ok("/tickets", {"title": "冰箱不制冷", "description": "Haier fridge not cooling",
                                 "contact": {"name": "韩梅梅", "phone": "13800139000"}}, status=201)
    ann.ok("/tickets", {"title": "冰箱漏水"}, status=201)
    agent.ok(f"/tickets/{opened['id']}/comments", {"body": "内部：压缩机批次召回 recallsigma", "public": False})
    reply = agent.ok(f"/tickets/{opened['id']}/comments", {"body": "已安排上门检修", "public": True})
    after = {"after": reply["position"]}

    seen = ann.get(f"/tickets/{opened['id']}", params=after)
    assert seen.status_code == 200, seen.text
    assert [c["body"] for c in seen.json()["comments"]] == ["已安排上门检修"]
    assert "recallsigma" not in seen.text and "压缩机批次" not in seen.text
    staff_view = agent.get(f"/tickets/{opened['id']}", params=after).json()
    assert [c["public"] for c in staff_view["comments"]] == [False, True]
    assert ben.get(f"/tickets/{opened['id']}", params=after).status_code == 404

    for q in ("recallsigma", "压缩机批次"):
        assert ann.get("/tickets", params={"q": q, **after}).json()["data"] == [], q
        assert [t["id"] for t in agent.get("/tickets", params={"q": q, **after}).json()["data"]] == [opened["id"]], q
    assert [t["id"] for t in ann.get("/tickets", params={"q": "上门检修", **after}).json()["data"]] == [opened["id"]]
    assert ben.get("/tickets", params={"q": "冰箱", **after}).json()["data"] == []

from projections.runner import ProjectionRunner
from tests.desk_client import as_admin, new_person, new_team


def test_a_filed_ticket_is_found_by_chinese_words_phone_suffix_and_number(server: str, projector: ProjectionRunner) -> None:
    admin = as_admin(server)
    team = new_team(admin, "售后一组")
    customer = new_person(admin, server, "li@example.test", "customer")
    agent = new_person(admin, server, "wang@example.test", "agent", [team])
    opened = customer.ok("/tickets", {"title": "打印机无法开机", "description": "HP LaserJet won't start",
                                      "contact": {"name": "李雷", "phone": "138-0013-8000"}}, status=201)
    note = agent.ok(f"/tickets/{opened['id']}/comments", {"body": "内部备注：主板坏了", "public": False})
    after = {"after": note["position"]}
    for q in ("打印", "无法开机", "laser", "8000", opened["number"]):
        found = agent.get("/tickets", params={"q": q, **after})
        assert found.status_code == 200, found.text
        assert [t["id"] for t in found.json()["data"]] == [opened["id"]], q
    assert agent.get("/tickets", params={"q": "主板", **after}).json()["data"]
    assert customer.get("/tickets", params={"q": "主板", **after}).json()["data"] == []
    summary = customer.get(f"/tickets/{opened['id']}", params=after).json()
    assert summary["number"] == opened["number"] and summary["comments"] == []
    board = agent.get("/board", params=after).json()
    assert [c["count"] for c in board["columns"] if c["status"] == "new"] == [1]
    assert agent.get("/stats", params=after).json()["totals"]["created"] == 1
    assert admin.get("/audit", params=after).json()["data"][0]["type"] == "CommentAdded"
    assert "ledgerdesk_projection_lag_events" in admin.http.get("/metrics").text

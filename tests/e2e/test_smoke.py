from tests.desk_client import as_admin, new_person, new_team


def test_a_customer_files_a_ticket_and_an_agent_claims_it(server: str) -> None:
    admin = as_admin(server)
    team = new_team(admin, "打印机售后")
    customer = new_person(admin, server, "li@example.test", "customer")
    agent = new_person(admin, server, "wang@example.test", "agent", [team])
    opened = customer.ok("/tickets", {"title": "打印机无法开机", "description": "按电源键没反应"}, status=201)
    assert opened["number"].startswith("GD-")
    claimed = agent.ok(f"/tickets/{opened['id']}/claim")
    assert claimed["version"] == 2
    state = agent.get(f"/tickets/{opened['id']}/state").json()
    assert state["status"] == "open" and state["assignee_id"] == agent.id

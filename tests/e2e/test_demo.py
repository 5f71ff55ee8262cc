from ledgerdesk.bootstrap import Container
from ledgerdesk.demo import Demo
from projections.runner import ProjectionRunner
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.desk_client import as_admin


def test_demo_fills_search_and_board_with_tickets_in_every_state(server: str, container: Container,
                                                                projector: ProjectionRunner) -> None:
    counts = Demo(server, ADMIN_EMAIL, ADMIN_PASSWORD, seed=1).run(40)
    assert sum(counts.values()) == 40
    assert {"new", "open", "in_progress", "pending", "resolved", "closed"} <= counts.keys()
    admin = as_admin(server)
    position = container.desk.recorder.max_notification_id()
    page = admin.get("/tickets", params={"limit": 100, "after": position}).json()
    assert len(page["data"]) == 40
    assert sum(page["facets"]["status"].values()) == 40
    board = admin.get("/board", params={"after": position}).json()
    assert sum(c["count"] for c in board["columns"]) == sum(v for k, v in page["facets"]["status"].items()
                                                          if k != "closed")
    assert admin.get("/tickets", params={"q": "无法开机", "after": position}).status_code == 200

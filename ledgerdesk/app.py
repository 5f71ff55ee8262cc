"""The FastAPI app factory: routers, problem handlers, the body limit, health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from commands import account_routes, ticket_routes
from identity import routes as identity_routes
from ledgerdesk.body_limit import BodyLimit
from ledgerdesk.bootstrap import Container
from ledgerdesk.problems import install_problem_handlers
from read_api import history_routes

WORKER_THREADS = 100  # the event store is synchronous: routes run in this many threads


def create_app(container: Container) -> FastAPI:
    """An app over a wired container; the caller owns the container's lifetime."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
        yield

    app = FastAPI(title="Ledgerdesk", version="0.1.0", lifespan=lifespan,
                  summary="Event-sourced after-sales service tickets (售后工单)")
    app.state.container = container
    app.state.desk = container.desk
    app.state.identity = container.identity
    install_problem_handlers(app)
    for module in (identity_routes, account_routes, ticket_routes, history_routes):
        app.include_router(module.router)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    def readyz() -> dict[str, str]:
        """The event store answers."""
        container.desk.recorder.max_notification_id()
        return {"status": "ready"}

    app.add_middleware(BodyLimit, max_bytes=container.settings.max_body_bytes)
    return app

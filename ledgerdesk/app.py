"""The FastAPI app factory: routers, problem handlers, the body limit, health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from commands import account_routes, ticket_routes
from identity import routes as identity_routes
from ledgerdesk.body_limit import BodyLimit
from ledgerdesk.bootstrap import Container
from ledgerdesk.problems import install_problem_handlers
from ledgerdesk.metrics import Metrics, ProjectionLag, RequestTimer
from projections.registry import NAMES
from read_api import audit_routes, board_routes, history_routes, ticket_list_routes

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
    app.state.read_models = container.read_models
    install_problem_handlers(app)
    for module in (identity_routes, account_routes, ticket_routes, ticket_list_routes, history_routes,
                   board_routes, audit_routes):
        app.include_router(module.router)
    metrics = Metrics(ProjectionLag(container.read_models.positions, container.desk.recorder.max_notification_id,
                                    NAMES))

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    def prometheus_metrics() -> PlainTextResponse:
        """Prometheus metrics: request latency, projection positions and lag."""
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")

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
    app.add_middleware(RequestTimer, metrics=metrics)
    return app

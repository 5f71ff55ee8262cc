"""Prometheus metrics: request latency, projection positions and lag."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from projections.positions import Positions


class ProjectionLag:
    """Collected on scrape: each projection's position and how far it is behind the store."""

    def __init__(self, positions: Positions, max_position: Any, names: tuple[str, ...]) -> None:
        self.positions = positions
        self.max_position = max_position
        self.names = names

    def collect(self) -> Any:
        head = self.max_position() or 0
        reached = self.positions.all()
        position = GaugeMetricFamily("ledgerdesk_projection_position", "Last notification id applied",
                                     labels=["projection"])
        lag = GaugeMetricFamily("ledgerdesk_projection_lag_events", "Events stored but not yet applied",
                                labels=["projection"])
        for name in self.names:
            position.add_metric([name], reached.get(name, 0))
            lag.add_metric([name], max(0, head - reached.get(name, 0)))
        yield position
        yield lag


class Metrics:
    """One registry per app, so tests with several apps do not collide."""

    def __init__(self, lag: ProjectionLag) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram("ledgerdesk_request_seconds", "HTTP request latency", ["method", "route", "status"],
                                 registry=self.registry,
                                 buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
        self.registry.register(lag)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class RequestTimer:
    """Pure ASGI middleware that observes every request's latency by route template."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def observe(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            self.metrics.latency.labels(scope["method"], template, str(status[0])).observe(
                time.perf_counter() - started)

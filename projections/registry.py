"""The projections this build runs, by name."""

from __future__ import annotations

from projections.audit_log import AuditProjection
from projections.runner import Projection
from projections.ticket_summary import TicketsProjection

NAMES = ("tickets", "audit")


def build(name: str, schema: str, suffix: str = "") -> Projection:
    if name == "tickets":
        return TicketsProjection(schema, suffix)
    if name == "audit":
        return AuditProjection(schema, suffix)
    raise KeyError(f"no projection named {name!r}; known: {', '.join(NAMES)}")


def build_all(schema: str) -> list[Projection]:
    return [build(name, schema) for name in NAMES]

"""People at a service desk and tickets in a chosen state, for unit scenarios (no I/O)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from events.actor import Actor
from events.ticket import Ticket

TEAM_PRINTERS = str(uuid4())
TEAM_NETWORK = str(uuid4())

CUSTOMER = Actor(id=str(uuid4()), role="customer", correlation_id="req-customer")
OTHER_CUSTOMER = Actor(id=str(uuid4()), role="customer", correlation_id="req-other-customer")
AGENT = Actor(id=str(uuid4()), role="agent", team_ids=(TEAM_PRINTERS,), correlation_id="req-agent")
OTHER_AGENT = Actor(id=str(uuid4()), role="agent", team_ids=(TEAM_NETWORK,), correlation_id="req-other-agent")
SUPERVISOR = Actor(id=str(uuid4()), role="supervisor", team_ids=(TEAM_PRINTERS,), correlation_id="req-sup")
ADMIN = Actor(id=str(uuid4()), role="admin", correlation_id="req-admin")
AUDITOR = Actor(id=str(uuid4()), role="auditor", correlation_id="req-auditor")
AUTO_CLOSE = Actor.system("auto_close", correlation_id="job-auto-close")

_numbers = iter(range(1, 10**9))


def intake(**overrides: Any) -> dict[str, Any]:
    """What a customer fills in when filing a ticket."""
    form: dict[str, Any] = {
        "number": f"GD-{next(_numbers):06d}", "title": "打印机无法开机", "description": "按电源键没反应",
        "priority": "normal", "channel": "web", "category": "hardware", "tags": ["printer"],
        "contact": {"name": "李雷", "phone": "+86 138 0013 8000", "email": "li@example.test"},
        "custom_fields": {"floor": 3}, "customer": {"id": CUSTOMER.id, "organization": "Acme", "tier": "VIP"},
        "region": "华东", "product": {"name": "LaserJet", "serial_number": "SN-1"}, "team_id": TEAM_PRINTERS,
    }
    form.update(overrides)
    return form


def filed(by: Actor = CUSTOMER, **overrides: Any) -> Ticket:
    """A freshly filed ticket whose Created event has been collected (as if saved)."""
    ticket = Ticket.open(uuid4(), meta=by.meta(), **intake(**overrides))
    ticket.collect_events()
    return ticket


def ticket_in(status: str, **overrides: Any) -> Ticket:
    """A ticket brought to `status` along the usual path, with no pending events."""
    ticket = filed(**overrides)
    if status == "new":
        return ticket
    if status == "merged":
        ticket.merge_into(filed(), AGENT)
        ticket.collect_events()
        return ticket
    ticket.assign(AGENT.id, SUPERVISOR)
    path = {
        "open": [],
        "in_progress": [lambda t: t.start(AGENT)],
        "pending": [lambda t: t.start(AGENT), lambda t: t.hold("waiting on the customer", AGENT)],
        "resolved": [lambda t: t.resolve("replaced the fuse", AGENT)],
        "closed": [lambda t: t.resolve("replaced the fuse", AGENT), lambda t: t.close(CUSTOMER)],
    }[status]
    for step in path:
        step(ticket)
    ticket.collect_events()
    assert ticket.status == status
    return ticket

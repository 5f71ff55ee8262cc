"""Command bodies as pydantic models: bounded, typed, and documented in OpenAPI."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Priority = Literal["low", "normal", "high", "urgent"]
Channel = Literal["web", "email", "phone", "wechat", "api"]
Role = Literal["admin", "supervisor", "agent", "auditor", "customer"]
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold U+0000; refuse it at the door
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50, pattern=NO_NUL)]
ShortText = Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL)]
LongText = Annotated[str, StringConstraints(max_length=20_000, pattern=NO_NUL)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                         pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32, pattern=r"^\+?[0-9 ()-]{5,31}$")]
FieldKey = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_NUL)]
FieldValue = Annotated[str, StringConstraints(max_length=2_000, pattern=NO_NUL)] | int | float | bool | None


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Contact(Command):
    name: Annotated[str, StringConstraints(max_length=100, pattern=NO_NUL)] | None = None
    phone: Phone | None = None
    email: Email | None = None


class Customer(Command):
    organization: ShortText | None = None
    tier: Annotated[str, StringConstraints(max_length=32, pattern=NO_NUL)] | None = None


class Product(Command):
    name: ShortText | None = None
    model: ShortText | None = None
    serial_number: Annotated[str, StringConstraints(max_length=100, pattern=NO_NUL)] | None = None


class OpenTicket(Command):
    """File a ticket (受理)."""

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_NUL)]
    description: LongText = ""
    priority: Priority = "normal"
    channel: Channel = "web"
    category: Annotated[str, StringConstraints(max_length=100, pattern=NO_NUL)] | None = None
    tags: Annotated[list[Tag], Field(max_length=20)] = []
    contact: Contact | None = None
    custom_fields: Annotated[dict[FieldKey, FieldValue], Field(max_length=50)] = {}
    customer_id: UUID | None = Field(None, description="Staff filing on a customer's behalf")
    customer: Customer | None = None
    region: Annotated[str, StringConstraints(max_length=64, pattern=NO_NUL)] | None = None
    product: Product | None = None
    team_id: UUID | None = None


class AssignTicket(Command):
    assignee_id: UUID
    team_id: UUID | None = None


class Reason(Command):
    reason: LongText = ""


class ResolveTicket(Command):
    resolution: LongText = ""


class AddComment(Command):
    body: Annotated[str, StringConstraints(min_length=1, max_length=20_000, pattern=NO_NUL)]
    public: bool = Field(True, description="false makes an internal note, never shown to the customer")


class ChangePriority(Command):
    priority: Priority
    reason: LongText = ""


class Retag(Command):
    add: Annotated[list[Tag], Field(max_length=20)] = []
    remove: Annotated[list[Tag], Field(max_length=20)] = []


class SetFields(Command):
    fields: Annotated[dict[FieldKey, FieldValue], Field(min_length=1, max_length=50)]


class TransferTicket(Command):
    team_id: UUID
    reason: LongText = ""


class MergeTicket(Command):
    into_id: UUID


class LinkTicket(Command):
    ticket_id: UUID
    kind: Literal["parent", "child", "related"] = "related"


class RateTicket(Command):
    score: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, StringConstraints(max_length=2_000, pattern=NO_NUL)] = ""


class FoundTeam(Command):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=NO_NUL)]


class RegisterAccount(Command):
    email: Email
    phone: Phone | None = None
    real_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=NO_NUL)]
    role: Role
    team_ids: Annotated[list[UUID], Field(max_length=20)] = []
    password: Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=NO_NUL)]


class Accepted(BaseModel):
    """What every command returns: the aggregate's id, its new version, the store position."""

    id: UUID
    version: int
    position: int | None


class TicketOpened(Accepted):
    number: str


def ticket_form(body: OpenTicket, customer_id: str | None, customer_extra: dict[str, Any]) -> dict[str, Any]:
    """The Ticket.Created attributes from a validated body."""
    return {
        "title": body.title, "description": body.description, "priority": body.priority,
        "channel": body.channel, "category": body.category, "tags": list(dict.fromkeys(body.tags)),
        "contact": body.contact.model_dump() if body.contact else None,
        "custom_fields": dict(body.custom_fields),
        "customer": {"id": customer_id, **customer_extra},
        "region": body.region, "product": body.product.model_dump() if body.product else {},
        "team_id": str(body.team_id) if body.team_id else None,
    }

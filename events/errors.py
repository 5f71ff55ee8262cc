"""Domain errors: every refusal carries a stable, machine-readable code."""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """A command the domain refuses; `code` is stable, `detail` is for people."""

    code = "domain.error"
    status = 409
    headers: ClassVar[dict[str, str] | None] = None  # extra response headers, e.g. Retry-After

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code


class InvalidTransition(DomainError):
    code = "ticket.invalid_transition"


class TicketRuleViolated(DomainError):
    code = "ticket.rule_violated"


class NotFound(DomainError):
    code = "not_found"
    status = 404


class VersionConflict(DomainError):
    code = "version_conflict"

"""Who did it and under which request: recorded on every event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ROLES = ("admin", "supervisor", "agent", "auditor", "customer")
STAFF_ROLES = ("admin", "supervisor", "agent")


@dataclass(frozen=True)
class Actor:
    """An account acting in a role, or a system job (`system:<name>`)."""

    id: str
    role: str
    team_ids: tuple[str, ...] = ()
    correlation_id: str = ""

    @classmethod
    def system(cls, name: str, correlation_id: str = "") -> Actor:
        return cls(id=f"system:{name}", role="system", correlation_id=correlation_id)

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def meta(self) -> dict[str, Any]:
        """The event attribute that says who acted and in which request."""
        return {
            "actor_id": self.id,
            "actor_role": self.role,
            "correlation_id": self.correlation_id,
        }

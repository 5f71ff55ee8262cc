"""The ticket lifecycle (受理 → 跟进 → 解决 → 关闭) as a table of allowed moves."""

from __future__ import annotations

from events.errors import InvalidTransition

STATUSES = ("new", "open", "in_progress", "pending", "resolved", "closed", "merged")
PRIORITIES = ("low", "normal", "high", "urgent")
CHANNELS = ("web", "email", "phone", "wechat", "api")

ACTIVE = frozenset({"new", "open", "in_progress", "pending"})
TERMINAL = frozenset({"closed", "merged"})

# command name -> the statuses it may start from
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "assign": frozenset(ACTIVE),
    "claim": frozenset(ACTIVE),
    "start": frozenset({"open"}),
    "hold": frozenset({"in_progress"}),
    "resume": frozenset({"pending"}),
    "resolve": frozenset({"open", "in_progress", "pending"}),
    "close": frozenset({"resolved"}),
    "withdraw": frozenset(ACTIVE),
    "reopen": frozenset({"resolved", "closed"}),
    "merge": frozenset(set(STATUSES) - TERMINAL),
    "absorb": frozenset(set(STATUSES) - TERMINAL),
    "comment": frozenset(set(STATUSES) - {"merged"}),
    "change_priority": frozenset(set(STATUSES) - TERMINAL),
    "tag": frozenset(set(STATUSES) - {"merged"}),
    "set_fields": frozenset(set(STATUSES) - {"merged"}),
    "transfer": frozenset(set(STATUSES) - TERMINAL),
    "escalate": frozenset(set(STATUSES) - TERMINAL),
    "link": frozenset(set(STATUSES) - {"merged"}),
    "rate": frozenset({"resolved", "closed"}),
}


def require_transition(command: str, status: str) -> None:
    """Refuse `command` unless the lifecycle allows it from `status`."""
    if status not in ALLOWED_FROM[command]:
        raise InvalidTransition(f"cannot {command.replace('_', ' ')} a ticket that is {status}")

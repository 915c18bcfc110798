"""
What escalation means for each kind of deadline. `sla` knows nothing of tickets or swap orders:
each app registers a handler for its kinds in `AppConfig.ready`.
"""

from typing import Protocol


class Handler(Protocol):
    def warn(self, deadline, rule, *, now) -> list:
        """Tell whoever must know that the deadline is close; return who was told."""

    def escalate(self, deadline, level: int, rule, *, now) -> list:
        """Act on a lapsed deadline at `level` (1–3); return who was told."""


_HANDLERS: dict[str, Handler] = {}


def register(prefix: str, handler: Handler) -> None:
    """`prefix` is the part of the kind before the dot: "ticket" serves ticket.response etc."""
    _HANDLERS[prefix] = handler


def handler_for(kind: str) -> Handler | None:
    return _HANDLERS.get(kind.split(".", 1)[0])

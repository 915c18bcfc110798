"""
What escalation means for each kind of deadline. `sla` knows nothing of tickets or swap orders:
each app registers a handler for its kinds in `AppConfig.ready`.
"""

from typing import Protocol


class Handler(Protocol):
    def act(self, steps: list, *, now) -> None:
        """
        Do a sweep batch's steps (`sla.services.Step`, in order: a deadline's warning before its
        escalations), in the sweep's transaction: level 0 tells whoever must know that a deadline
        is close, levels 1–3 act on a lapsed one. Set each step's `told` to the people told.
        Work in bulk: a batch may hold hundreds of steps.
        """


_HANDLERS: dict[str, Handler] = {}


def register(prefix: str, handler: Handler) -> None:
    """`prefix` is the part of the kind before the dot: "ticket" serves ticket.response etc."""
    _HANDLERS[prefix] = handler


def handler_for(kind: str) -> Handler | None:
    return _HANDLERS.get(kind.split(".", 1)[0])

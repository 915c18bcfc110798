"""Reads about people: who is on duty, which home page a role starts on."""

from dataclasses import dataclass, field
from datetime import datetime

from .models import Shift, SupportCentre, User


@dataclass(frozen=True)
class Duty:
    """The answer to "who is on duty for this centre now": the people, and where they came from."""

    centre: SupportCentre
    at: datetime
    people: list[User] = field(default_factory=list)
    shifts: list[Shift] = field(default_factory=list)
    is_fallback: bool = False

    @property
    def primary(self) -> User | None:
        """The person to call first: the most recently started shift, or the fallback manager."""
        return self.people[0] if self.people else None


def on_duty(centre: SupportCentre, at: datetime) -> Duty:
    """
    Who answers for `centre` at `at`, by the duty roster.

    Shifts are half-open, [from, to): at a hand-over the incoming engineer is on duty. When shifts
    overlap everyone covering is on duty, the latest to start first. When the roster has a gap, the
    centre's manager answers (`is_fallback`); a centre with neither gives an empty answer.
    """
    shifts = list(
        Shift.objects.covering(at)
        .filter(centre=centre, user__is_active=True)
        .select_related("user")
        .order_by("-starts_at", "pk")
    )
    if shifts:
        people = list(dict.fromkeys(shift.user for shift in shifts))
        return Duty(centre=centre, at=at, people=people, shifts=shifts)
    if centre.manager_id and centre.manager.is_active:
        return Duty(centre=centre, at=at, people=[centre.manager], is_fallback=True)
    return Duty(centre=centre, at=at, is_fallback=True)

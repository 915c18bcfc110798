"""Load China's statutory holidays and make-up working days for a year from the `holidays` package."""

import holidays
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from sla.choices import DayKind
from sla.models import HolidayYear, SpecialDay


class Command(BaseCommand):
    help = "Load a year of Chinese statutory holidays and make-up working days (调休)."

    def add_arguments(self, parser):
        parser.add_argument(
            "years", nargs="*", type=int, help="Years to load (default: this year and the next)."
        )

    def handle(self, *args, years, **options):
        this_year = timezone.localdate().year
        for year in years or [this_year, this_year + 1]:
            self.load(year)

    @transaction.atomic
    def load(self, year: int) -> None:
        if not 2000 <= year <= 2100:
            raise CommandError(f"{year} is not a year the holiday tables cover.")
        calendar = holidays.country_holidays("CN", years=year, language="zh_CN")
        workdays = sorted(day for day in getattr(calendar, "weekend_workdays", ()) if day.year == year)
        for day, name in sorted(calendar.items()):
            SpecialDay.objects.update_or_create(date=day, defaults={"kind": DayKind.HOLIDAY, "name": name})
        for day in workdays:
            SpecialDay.objects.update_or_create(
                date=day, defaults={"kind": DayKind.WORKDAY, "name": "调休上班"}
            )
        HolidayYear.objects.update_or_create(
            year=year,
            defaults={
                "source": f"holidays {holidays.__version__}",
                "make_up_days_known": bool(workdays),
                "loaded_at": timezone.now(),
            },
        )
        note = "" if workdays else " (make-up working days not published yet)"
        self.stdout.write(f"{year}: {len(calendar)} holidays, {len(workdays)} make-up working days{note}")

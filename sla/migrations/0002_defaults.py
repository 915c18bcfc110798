"""The promised times of `domain.md` as the starting configuration; all of it is editable in the admin."""

from datetime import time

from django.db import migrations

# (subject, target): minutes, for a round-the-clock contract and for a working-hours contract.
TARGETS = {
    ("level_1", "response"): (30, 30),
    ("level_1", "arrival"): (60, 60),
    ("level_1", "workaround"): (120, 120),
    ("level_1", "resolution"): (360, 480),
    ("level_1", "emergency_plan"): (960, 960),
    ("level_1", "report"): (1440, 480),
    ("level_2", "response"): (30, 30),
    ("level_2", "arrival"): (120, 120),
    ("level_2", "workaround"): (1440, 960),
    ("level_2", "resolution"): (480, 480),
    ("level_2", "report"): (1440, 480),
    ("level_3", "response"): (120, 120),
    ("level_3", "workaround"): (2880, 960),
    ("level_3", "resolution"): (1440, 1440),
    ("level_4", "response"): (240, 480),
    ("level_4", "workaround"): (7200, 2400),
    ("level_4", "resolution"): (960, 960),
    ("complaint", "response"): (15, 15),
    ("complaint", "resolution"): (1440, 480),
    ("non_fault", "response"): (30, 60),
    ("non_fault", "resolution"): (1440, 480),
}

RULES = [
    (0, ["assignee", "team_supervisor"], 0),
    (1, ["next_tier_team", "team_supervisor", "duty_engineer"], 0),
    (2, ["next_tier_team", "centre_manager"], 50),
    (3, ["company_leader", "centre_manager"], 100),
]


def create(apps, schema_editor):
    Calendar = apps.get_model("sla", "Calendar")
    WorkingPeriod = apps.get_model("sla", "WorkingPeriod")
    Policy = apps.get_model("sla", "Policy")
    PolicyTarget = apps.get_model("sla", "PolicyTarget")
    EscalationRule = apps.get_model("sla", "EscalationRule")

    always = Calendar.objects.create(name="7x24", round_the_clock=True, observes_holidays=False)
    office = Calendar.objects.create(name="5x8 工作日 9:00–12:00, 13:00–18:00")
    for weekday in range(5):
        WorkingPeriod.objects.create(calendar=office, weekday=weekday, starts=time(9), ends=time(12))
        WorkingPeriod.objects.create(calendar=office, weekday=weekday, starts=time(13), ends=time(18))

    premium = Policy.objects.create(name="Premium 7x24", coverage="7x24", calendar=always, warn_percent=75)
    standard = Policy.objects.create(
        name="Standard 5x8", coverage="5x8", calendar=office, warn_percent=75, is_default=True
    )
    for (subject, target), (round_the_clock, working_hours) in TARGETS.items():
        for policy, minutes in ((premium, round_the_clock), (standard, working_hours)):
            PolicyTarget.objects.create(
                policy=policy,
                subject=subject,
                target=target,
                minutes=minutes,
                adds_travel_time=target == "arrival",
            )
    for level, recipients, after in RULES:
        EscalationRule.objects.create(kind="*", level=level, recipients=recipients, after_percent=after)


def remove(apps, schema_editor):
    for name in ("EscalationRule", "PolicyTarget", "Policy", "WorkingPeriod", "Calendar"):
        apps.get_model("sla", name).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]

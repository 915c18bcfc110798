"""Level III faults get the on-site arrival target the plans give them: on site within 2 hours."""

from django.db import migrations

MINUTES = 120


def create(apps, schema_editor):
    Policy = apps.get_model("sla", "Policy")
    PolicyTarget = apps.get_model("sla", "PolicyTarget")
    for policy in Policy.objects.filter(coverage__in=["7x24", "5x8"]):
        PolicyTarget.objects.get_or_create(
            policy=policy,
            subject="level_3",
            target="arrival",
            defaults={"minutes": MINUTES, "adds_travel_time": True},
        )


def remove(apps, schema_editor):
    apps.get_model("sla", "PolicyTarget").objects.filter(subject="level_3", target="arrival").delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0005_policies_per_contract")]
    operations = [migrations.RunPython(create, remove)]

# Group robots subscribe to centres, teams and ticket events; an e-mail may go to a plain address.

from django.conf import settings
from django.db import migrations, models

import notifications.models


def copy_centre_and_team(apps, schema_editor):
    """A robot that posted for one centre or team now subscribes to it."""
    Robot = apps.get_model("notifications", "Robot")
    for robot in Robot.objects.exclude(centre=None, team=None):
        if robot.centre_id:
            robot.centres.add(robot.centre_id)
        if robot.team_id:
            robot.teams.add(robot.team_id)


def copy_back(apps, schema_editor):
    Robot = apps.get_model("notifications", "Robot")
    for robot in Robot.objects.all():
        robot.centre_id = robot.centres.values_list("pk", flat=True).first()
        robot.team_id = robot.teams.values_list("pk", flat=True).first()
        robot.save(update_fields=["centre", "team"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_user_is_company_leader"),
        ("notifications", "0003_fewer_index_writes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="robot",
            name="centres",
            field=models.ManyToManyField(
                blank=True,
                help_text=(
                    "The robot posts about tickets of these centres (a ticket's centre is its site's, "
                    "else its team's). With no centre and no team it posts about every centre."
                ),
                related_name="robots",
                to="accounts.supportcentre",
                verbose_name="support centres",
            ),
        ),
        migrations.AddField(
            model_name="robot",
            name="teams",
            field=models.ManyToManyField(
                blank=True,
                help_text=(
                    "The robot also posts about tickets of these teams: the team a ticket is with, "
                    "and on an escalation the team it leaves."
                ),
                related_name="robots",
                to="accounts.team",
                verbose_name="teams",
            ),
        ),
        migrations.AddField(
            model_name="robot",
            name="events",
            field=models.JSONField(
                blank=True,
                default=notifications.models.every_event,
                help_text="What the robot posts about. With none ticked it posts only test messages.",
                verbose_name="events",
            ),
        ),
        migrations.RunPython(copy_centre_and_team, copy_back),
        migrations.RemoveField(model_name="robot", name="centre"),
        migrations.RemoveField(model_name="robot", name="team"),
        migrations.RemoveConstraint(model_name="notification", name="notification_has_an_addressee"),
        migrations.AddField(
            model_name="notification",
            name="address",
            field=models.EmailField(
                blank=True,
                help_text="For an e-mail to someone without an account: their address.",
                max_length=254,
                verbose_name="e-mail address",
            ),
        ),
        migrations.AddConstraint(
            model_name="notification",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("channel", "webhook"), ("robot__isnull", False)),
                    models.Q(models.Q(("channel", "webhook"), _negated=True), ("recipient__isnull", False)),
                    models.Q(("channel", "email"), models.Q(("address", ""), _negated=True)),
                    _connector="OR",
                ),
                name="notification_has_an_addressee",
            ),
        ),
    ]

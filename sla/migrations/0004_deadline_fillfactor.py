"""
Every deadline is rewritten at each stage the sweep takes it through (warned, escalated up to
three times, met): keep room on each page so that the new version stays on the page of the old.
"""

from django.db import migrations

from servicedesk.operations import SetFillfactor


class Migration(migrations.Migration):
    dependencies = [("sla", "0003_fewer_index_writes")]

    operations = [SetFillfactor("Deadline", 85)]

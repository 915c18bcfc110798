"""
Leave room on each page of the ticket table, so that a ticket's next version (a status change,
an escalation by the sweep) is written beside the old one instead of on another page: one page
dirtied per change instead of two.
"""

from django.db import migrations

from servicedesk.operations import SetFillfactor


class Migration(migrations.Migration):
    dependencies = [("tickets", "0005_fewer_index_writes")]

    operations = [SetFillfactor("Ticket", 85)]

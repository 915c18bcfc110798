"""How the tables the sweep rewrites are stored on PostgreSQL (see `python -m bench sweep`)."""

import pytest
from django.db import connection

from servicedesk.operations import SetFillfactor


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("table", ["tickets_ticket", "sla_deadline"])
def test_the_often_rewritten_tables_keep_room_on_each_page(table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s", [table])
        (options,) = cursor.fetchone()
    assert "fillfactor=85" in options


def test_the_fillfactor_operation_reads_back_as_written():
    operation = SetFillfactor("Ticket", 85)
    name, args, kwargs = operation.deconstruct()
    assert (name, args, kwargs) == ("SetFillfactor", ["Ticket", 85], {})
    assert operation.migration_name_fragment == "ticket_fillfactor"

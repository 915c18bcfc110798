"""
Drop the LIKE-pattern index PostgreSQL gets beside the unique index on a ticket's number: no
query searches numbers by prefix (search is case-insensitive anywhere in the number), and every
ticket the sweep moves up a tier pays for each index it has.
"""

from django.db import migrations

FIND = """
    SELECT indexname FROM pg_indexes
    WHERE tablename = 'tickets_ticket' AND indexdef LIKE '%%(number varchar_pattern_ops)%%'
"""


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FIND)
        names = [row[0] for row in cursor.fetchall()]
    for name in names:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def restore(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS tickets_ticket_number_like ON tickets_ticket (number varchar_pattern_ops)"
    )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0003_drop_redundant_indexes")]

    operations = [migrations.RunPython(drop, restore)]

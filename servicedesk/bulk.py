"""
Bulk writes for the SLA sweep's batches, where Django's `bulk_update` spends most of its time
building one CASE WHEN per row and field. On PostgreSQL one UPDATE joins the rows to arrays of
their new values (unnest); elsewhere `bulk_update` does the same job more slowly.

The arrays go to PostgreSQL as bound parameters (`execute`): Django's psycopg cursors bind on
the client, quoting every element of every array into the SQL text, which costs more than the
statement itself.
"""

import json
from datetime import datetime

from django.db import connection


def update_rows(model, objs, fields: list[str]) -> int:
    """Write `fields` of each of `objs` (instances of `model`, saved before) in one statement."""
    # In key order: the rows are then read and locked in the order they lie on disk and in the
    # primary key, and two writers of overlapping rows never wait on each other in a circle.
    objs = sorted(objs, key=lambda obj: obj.pk)
    if not objs:
        return 0
    if connection.vendor != "postgresql":
        return model.objects.bulk_update(objs, fields)
    meta = model._meta
    concrete = [meta.get_field(name) for name in fields]
    pk = meta.pk
    columns = [pk, *concrete]
    quote = connection.ops.quote_name
    arrays = ", ".join(f"%b::{column.db_type(connection)}[]" for column in columns)
    names = ", ".join(quote(column.column) for column in columns)
    assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in concrete)
    table, key = quote(meta.db_table), quote(pk.column)
    # Only the model's own table and column names are spliced in; every value is a parameter.
    sql = f"UPDATE {table} AS t SET {assignments} FROM unnest({arrays}) AS v({names}) WHERE t.{key} = v.{key}"  # noqa: S608
    params = [_prepared(column, [getattr(obj, column.attname) for obj in objs]) for column in columns]
    return execute(sql, params)


def insert_rows(model, rows: list[dict]) -> int:
    """
    Insert `rows` (dicts of field name → value, the same names in each) in one statement, without
    building a model instance per row. Fields left out must have no default the model would set.
    """
    if not rows:
        return 0
    meta = model._meta
    fields = [meta.get_field(name) for name in rows[0]]
    if connection.vendor != "postgresql":
        names = {field.name: field.attname for field in fields}  # a foreign key is given by its id
        model.objects.bulk_create(
            model(**{names[name]: value for name, value in row.items()}) for row in rows
        )
        return len(rows)
    quote = connection.ops.quote_name
    arrays, params = [], []
    for field in fields:
        values = [row[field.name] for row in rows]
        if field.get_internal_type() == "JSONField":
            # psycopg has no array of JSON documents: they travel as text and become jsonb here.
            arrays.append("%b::text[]::jsonb[]")
            params.append([json.dumps(value, cls=field.encoder) for value in values])
        else:
            arrays.append(f"%b::{field.db_type(connection)}[]")
            params.append(_prepared(field, values))
    columns = ", ".join(quote(field.column) for field in fields)
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) SELECT * FROM unnest({', '.join(arrays)})"  # noqa: S608 (names from the model)
    return execute(sql, params)


PLAIN = (int, str, float, type(None))


def _prepared(field, values: list) -> list:
    """The values as the database takes them; plain ones (and aware datetimes) as they are."""
    return [
        value
        if isinstance(value, PLAIN) or (isinstance(value, datetime) and value.tzinfo is not None)
        else field.get_db_prep_save(value, connection)
        for value in values
    ]


def execute(sql: str, params, *, fetch: bool = False):
    """
    Run one statement with server-side binding, through Django's cursor wrapper (so that it is
    logged and wrapped like any other); returns the rows with `fetch`, else the row count.
    """
    import psycopg  # only PostgreSQL comes here

    connection.ensure_connection()
    with connection._prepare_cursor(psycopg.Cursor(connection.connection)) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if fetch else cursor.rowcount

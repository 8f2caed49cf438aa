"""Multi-row INSERTs without building model instances, for the ingest path.

``bulk_create`` builds a model per row and prepares every value through the field; at a hundred
rows a request that was most of the request's time. ``insert`` converts values by column kind
and sends one statement: on PostgreSQL one array per column through ``unnest`` (a short statement
the driver caches, whatever the row count), on SQLite ``executemany`` of a one-row INSERT. It does
not run ``save()``, signals or ``pre_save``: use it only for rows whose every column the caller
gives.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models


def _converter(field: models.Field[Any, Any], postgres: bool) -> Callable[[Any], Any] | None:
    kind = field.get_internal_type()
    if kind == "JSONField":
        return json.dumps
    if postgres:
        return None  # the driver adapts UUIDs and aware datetimes itself
    if kind == "UUIDField":
        return lambda v: v.hex
    if kind == "DateTimeField":
        return connection.ops.adapt_datetimefield_value
    return None


def insert(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """INSERT ``rows`` (tuples in the order of ``columns``, given by field name) into ``model``."""
    if not rows:
        return
    postgres = connection.vendor == "postgresql"
    fields = [model._meta.get_field(name) for name in columns]
    quote = connection.ops.quote_name
    names = ", ".join(quote(str(f.column)) for f in fields)  # type: ignore[union-attr]
    table = quote(model._meta.db_table)
    values: list[list[Any]] = [list(column) for column in zip(*rows, strict=True)]
    for i, field in enumerate(fields):
        convert = _converter(field, postgres)  # type: ignore[arg-type]
        if convert is not None:
            values[i] = [None if v is None else convert(v) for v in values[i]]
    with connection.cursor() as cursor:
        if postgres:
            types = [str(f.db_type(connection)) for f in fields]  # type: ignore[union-attr]
            arrays = ", ".join("%s::text[]" if t == "jsonb" else f"%s::{t}[]" for t in types)
            picks = ", ".join(
                f"c{i}::jsonb" if t == "jsonb" else f"c{i}" for i, t in enumerate(types)
            )
            aliases = ", ".join(f"c{i}" for i in range(len(types)))
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {picks} FROM unnest({arrays}) AS u({aliases})",
                values,
            )
        else:
            one = ", ".join(["%s"] * len(fields))
            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({one})", list(zip(*values, strict=True))
            )

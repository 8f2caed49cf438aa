"""Multi-row INSERTs and UPDATEs without building model instances, for the ingest path.

``bulk_create`` builds a model per row and prepares every value through the field, and
``bulk_update`` writes a CASE per column per row; at a hundred rows a request that was most of
the request's time. Here values are converted by column kind and sent in one statement
(``core.sql``): on PostgreSQL one array per column through ``unnest``, a text that does not
change with the number of rows, so it stays prepared; on SQLite a multi-row VALUES (or
``executemany`` of a one-row UPDATE). Nothing runs ``save()``, signals or ``pre_save``: use
these only for rows whose every column the caller gives.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models

from doorstep.core import sql

# SQLite allows 32,766 parameters a statement; a multi-row VALUES stays under it.
SQLITE_PARAMS = 30_000


def _fields(model: type[models.Model], columns: Sequence[str]) -> list[models.Field[Any, Any]]:
    return [model._meta.get_field(name) for name in columns]  # type: ignore[misc]


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


def _columns(
    fields: Sequence[models.Field[Any, Any]], rows: Sequence[Sequence[Any]], postgres: bool
) -> list[list[Any]]:
    """The rows' values column by column, each converted for the database."""
    values: list[list[Any]] = [list(column) for column in zip(*rows, strict=True)]
    for i, field in enumerate(fields):
        convert = _converter(field, postgres)
        if convert is not None:
            values[i] = [None if v is None else convert(v) for v in values[i]]
    return values


def _unnest(fields: Sequence[models.Field[Any, Any]]) -> tuple[str, list[str]]:
    """PostgreSQL: ``unnest`` of one typed array per column, and the columns it yields."""
    types = [str(f.db_type(connection)) for f in fields]
    arrays = ", ".join("%s::text[]" if t == "jsonb" else f"%s::{t}[]" for t in types)
    picks = [f"u.c{i}::jsonb" if t == "jsonb" else f"u.c{i}" for i, t in enumerate(types)]
    aliases = ", ".join(f"c{i}" for i in range(len(types)))
    return f"unnest({arrays}) AS u({aliases})", picks


def _write(statement: str, params: Sequence[Any], returning: bool) -> list[sql.Row]:
    if returning:
        return sql.fetch(statement, params)
    sql.execute(statement, params)
    return []


def insert(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    returning: Sequence[str] = (),
) -> list[sql.Row]:
    """INSERT ``rows`` (tuples in the order of ``columns``, given by field name) into ``model``;
    with ``returning``, the inserted rows' values of those columns, one row each."""
    if not rows:
        return []
    postgres = sql.postgres()
    fields = _fields(model, columns)
    quote = connection.ops.quote_name
    names = ", ".join(quote(str(f.column)) for f in fields)
    table = quote(model._meta.db_table)
    back = f" RETURNING {', '.join(quote(c) for c in returning)}" if returning else ""
    values = _columns(fields, rows, postgres)
    if postgres:
        source, picks = _unnest(fields)
        statement = f"INSERT INTO {table} ({names}) SELECT {', '.join(picks)} FROM {source}{back}"
        return _write(statement, values, bool(returning))
    one = f"({', '.join(['%s'] * len(fields))})"
    step = max(1, SQLITE_PARAMS // len(fields))
    tuples = list(zip(*values, strict=True))
    found: list[sql.Row] = []
    for start in range(0, len(tuples), step):
        chunk = tuples[start : start + step]
        statement = f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * len(chunk))}{back}"
        params = [v for row in chunk for v in row]
        found += _write(statement, params, bool(returning))
    return found


def update(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """UPDATE rows of ``model`` by primary key: each row is (pk, *values of ``columns``)."""
    if not rows:
        return
    postgres = sql.postgres()
    fields = _fields(model, [model._meta.pk.name, *columns])  # type: ignore[union-attr]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    values = _columns(fields, rows, postgres)
    names = [quote(str(f.column)) for f in fields]
    if postgres:
        source, picks = _unnest(fields)
        sets = ", ".join(
            f"{name} = {pick}" for name, pick in zip(names[1:], picks[1:], strict=True)
        )
        sql.execute(
            f"UPDATE {table} AS t SET {sets} FROM {source} WHERE t.{names[0]} = u.c0", values
        )
        return
    sets = ", ".join(f"{name} = %s" for name in names[1:])
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET {sets} WHERE {names[0]} = %s",
            [(*row[1:], row[0]) for row in zip(*values, strict=True)],
        )

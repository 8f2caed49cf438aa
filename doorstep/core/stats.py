"""Planner statistics after a bulk load.

A roster import or the demo adds tens of thousands of rows at once. Until autovacuum gets round to
it, PostgreSQL plans with the old row counts (it took a town's 60,000 residents for 38 and scanned
them all to find 72 person codes), so the loaders refresh the statistics themselves.
"""

from __future__ import annotations

from django.db import connection

# Below this many new rows the old statistics are close enough.
BULK = 1000


def refresh(tables: list[str]) -> None:
    """ANALYZE the given tables (inside or outside a transaction; both databases allow it)."""
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'ANALYZE "{table}"')

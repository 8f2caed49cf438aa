"""Whether a town's response is closed or its personal data erased, for the writes that must
not add a person to a town being erased (``doorstep.closing`` erases it).

Read inside the writer's transaction. On PostgreSQL the closure rows are read ``FOR SHARE``:
the erase holds the same row ``FOR UPDATE`` for its whole transaction, so a write into the
town waits for the erase to end and then sees it erased, and an erase waits for the writes
already under way. SQLite has one writer at a time: nothing to lock.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from doorstep.territory.models import Closure, ClosureState


def states(town_ids: Iterable[int]) -> dict[int, str]:
    """The closed or erased towns among these, with their state."""
    ids = sorted(set(town_ids))
    if not ids:
        return {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT town_id, state FROM {Closure._meta.db_table} "
                "WHERE town_id = ANY(%s) FOR SHARE",
                [ids],
            )
            return dict(cursor.fetchall())
    return dict(Closure.objects.filter(town_id__in=ids).values_list("town_id", "state"))


def erased(town_ids: Iterable[int]) -> set[int]:
    return {town for town, state in states(town_ids).items() if state == ClosureState.ERASED}

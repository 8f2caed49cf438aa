"""Counter rows, moved one way everywhere: ``add``.

A counter row (duties on a lane, needs by status, a building's door-to-door figures) is moved
by an UPDATE of ``field = field + delta``, never by reading it and writing it back, so two
writers at once both count. A row that does not exist yet is created at the deltas; when two
writers create it at once, the one that loses the unique race updates the winner's row. Call
it inside the writer's transaction.

The sampling tallies are the one exception, for the ingest's hot path: scans append moves and a
fold adds them in batches (``sampling/tally.py``), so no scan waits on a hot row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import F


def add(
    model: type[models.Model],
    keys: Mapping[str, Any],
    deltas: Mapping[str, int],
    *,
    create: Mapping[str, Any] | None = None,
) -> None:
    """Move the row of ``model`` found by ``keys`` by ``deltas``. With ``create`` (the extra
    fields of a new row, possibly empty), a missing row is made; without it, a missing row is
    left alone (a counter that exists from the start, such as a round's building task)."""
    moves = {field: F(field) + delta for field, delta in deltas.items() if delta}
    if not moves:
        return
    rows = model._default_manager.filter(**keys)
    if rows.update(**moves) or create is None:
        return
    try:
        with transaction.atomic():
            model._default_manager.create(
                **keys, **create, **{f: d for f, d in deltas.items() if d}
            )
            return
    except IntegrityError:
        pass  # another writer created it first: move theirs
    rows.update(**moves)

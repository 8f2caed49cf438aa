"""The device-event engine: the lane's scans and the boxes' custody, as in the scan-events
contract, through one path whatever the batch's size (a single event is a batch of one).

A batch is read top to bottom like a recipe:

1. ``parse``: each raw event becomes a typed event, or a refusal that needs no look-up;
2. ``world.load``: what the batch needs, in a fixed number of set-based reads, with the rows it
   may change locked in one order;
3. ``play``: each event in order, checked in memory against ``sampling.rules`` and against the
   batch's own earlier events, refused (nothing changes) or applied to the in-memory state;
4. ``store.write``: the rows, in set-based writes, and the counters' moves;
5. the answers, one per event in order: ``accepted``, ``duplicate`` (its UUID was accepted
   before with the same payload) or ``rejected`` with a code and words a volunteer understands.

All of it happens in one transaction, so ``accepted`` means committed once the response is sent.
After the commit the counters are folded (``sampling.tally``): no scan waits on another lane's
counter row.
When another writer wins a race the database settles (a tube barcode, a lane's open tube, a
person sampled at two lanes at once, the same batch posted twice), or a deadlock, the attempt is
rolled back whole and the batch is played again on fresh reads: its answers are those of the
replay, and nothing of the lost attempt is kept.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from doorstep.core.models import User
from doorstep.sampling import tally
from doorstep.sampling.ingest import store, world
from doorstep.sampling.ingest.parse import Parsed, parse
from doorstep.sampling.ingest.play import Answer, Changes, Play
from doorstep.sampling.rules import MAX_EVENTS

__all__ = ["MAX_EVENTS", "Answer", "apply", "apply_one"]

RETRIES = 3


def apply(
    user: User,
    events: Sequence[object],
    now: dt.datetime | None = None,
    *,
    token_lane: int | None = None,
) -> list[Answer]:
    """Apply a batch of raw events in order, one answer each, in one transaction.

    ``token_lane`` is the lane the commander gave the device's token, where its registrar may
    scan besides the lanes they are on duty at."""
    now = now or timezone.now()
    parsed = [parse(raw, now) for raw in events]
    answers = _apply(user, parsed, now, token_lane)
    tally.after_write()
    return answers


def _apply(
    user: User, parsed: Sequence[Parsed], now: dt.datetime, token_lane: int | None
) -> list[Answer]:
    for attempt in range(RETRIES):
        last = attempt == RETRIES - 1
        try:
            return _apply_once(user, parsed, now, token_lane)
        except (IntegrityError, store.Stale):
            if last:
                raise
        except OperationalError as exc:
            # A deadlock lost inside somebody else's transaction is theirs to retry.
            if connection.in_atomic_block or not _transient(exc) or last:
                raise
            time.sleep(random.uniform(0.005, 0.02) * 2**attempt)
    raise AssertionError("unreachable")


def apply_one(user: User, type_: str, **fields: Any) -> Answer:
    """One event made on the server (a page's form), through the same path as a device's."""
    event = {"id": str(uuid.uuid4()), "type": type_, "at": timezone.now().isoformat(), **fields}
    return apply(user, [event])[0]


def _apply_once(
    user: User, parsed: Sequence[Parsed], now: dt.datetime, token_lane: int | None = None
) -> list[Answer]:
    with transaction.atomic():
        state = world.load(user, parsed, now, token_lane)
        changes = Changes()
        answers = Play(state, changes).run(parsed)
        store.write(state, changes)
    return answers


def _transient(exc: OperationalError) -> bool:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) in {"40P01", "40001"} or "database is locked" in str(
        exc
    )

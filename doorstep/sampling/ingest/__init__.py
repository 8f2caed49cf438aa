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
A batch may carry the requests of several devices (``apply_jobs``, which ``combine`` uses to
commit concurrent requests together): each event is checked as its own sender's.
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
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from doorstep.core.models import User
from doorstep.sampling import tally
from doorstep.sampling.ingest import store, world
from doorstep.sampling.ingest.parse import Parsed, parse
from doorstep.sampling.ingest.play import Answer, Changes, Play
from doorstep.sampling.rules import MAX_EVENTS

__all__ = ["MAX_EVENTS", "Answer", "Job", "apply", "apply_jobs", "apply_one"]

RETRIES = 3


@dataclass
class Job:
    """One request's events, parsed, and who sent them. ``token_lane`` is the lane the
    commander gave the device's token, where its registrar may scan besides the lanes they
    are on duty at."""

    user: User
    parsed: list[Parsed]
    token_lane: int | None = None

    @classmethod
    def of(
        cls, user: User, events: Sequence[object], now: dt.datetime, token_lane: int | None = None
    ) -> Job:
        return cls(user, [parse(raw, now) for raw in events], token_lane)


def apply(
    user: User,
    events: Sequence[object],
    now: dt.datetime | None = None,
    *,
    token_lane: int | None = None,
) -> list[Answer]:
    """Apply a batch of raw events in order, one answer each, in one transaction."""
    now = now or timezone.now()
    return apply_jobs([Job.of(user, events, now, token_lane)], now)[0]


def apply_jobs(jobs: Sequence[Job], now: dt.datetime | None = None) -> list[list[Answer]]:
    """Apply several requests' events as one batch, in order, in one transaction: the answers
    are those of the requests applied one after another, each event checked as its sender's.
    The senders must share a read scope (``world.read_scope``)."""
    now = now or timezone.now()
    senders = [(job.user, job.token_lane) for job in jobs]
    parsed = [event for job in jobs for event in job.parsed]
    sent_by = [n for n, job in enumerate(jobs) for _event in job.parsed]
    answers = _apply(senders, parsed, sent_by, now)
    tally.after_write()
    split, start = [], 0
    for job in jobs:
        split.append(answers[start : start + len(job.parsed)])
        start += len(job.parsed)
    return split


def _apply(
    senders: Sequence[tuple[User, int | None]],
    parsed: Sequence[Parsed],
    sent_by: Sequence[int],
    now: dt.datetime,
) -> list[Answer]:
    for attempt in range(RETRIES):
        last = attempt == RETRIES - 1
        try:
            return _apply_once(senders, parsed, sent_by, now)
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
    senders: Sequence[tuple[User, int | None]],
    parsed: Sequence[Parsed],
    sent_by: Sequence[int],
    now: dt.datetime,
) -> list[Answer]:
    with transaction.atomic():
        state = world.load(senders, parsed, now)
        changes = Changes()
        answers = Play(state, changes).run(parsed, sent_by)
        store.write(state, changes)
    return answers


def _transient(exc: OperationalError) -> bool:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) in {"40P01", "40001"} or "database is locked" in str(
        exc
    )

"""Reads that may go to a standby, so that residents and big screens cannot slow the lanes.

With ``DATABASE_STANDBY_URL`` set, a view marked ``@from_standby`` (the command screen's
panels, the public site status) reads from that standby while it is at most
``settings.STANDBY_MAX_LAG`` seconds behind the primary (a few seconds is what a dashboard
that polls every 5 s can bear), and from the primary otherwise: a standby that stops
replaying, is cut off or is down is noticed within a second and left alone. What such a view
writes still goes to the primary. Without a standby configured nothing changes.

A view that reads what it has just written pins those reads to the primary
(``.using(DEFAULT_DB_ALIAS)``, as ``core.limits`` counts a look-up's tries), or is not marked:
it would read its own write from a standby that has not replayed it yet.
"""

from __future__ import annotations

import contextvars
import functools
import threading
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import DatabaseError, connections

ALIAS = "standby"
# How long a verdict on the standby's lag holds in a process.
CHECK_SECONDS = 1.0

_reading = contextvars.ContextVar("doorstep_from_standby", default=False)
_verdict: dict[str, float | bool] = {"at": -1.0, "fresh": False}
_lock = threading.Lock()

P = ParamSpec("P")
R = TypeVar("R")


def configured() -> bool:
    return ALIAS in settings.DATABASES


def lag_seconds() -> float | None:
    """How far the standby's replay is behind, in seconds (0 when it has replayed all it
    received and is receiving); None when it cannot be asked or is not a standby."""
    try:
        with connections[ALIAS].cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(), pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(),"
                " extract(epoch FROM now() - pg_last_xact_replay_timestamp()),"
                " (SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming')"
            )
            recovering, caught_up, behind, streaming = cursor.fetchone()
    except DatabaseError:
        connections[ALIAS].close()
        return None
    if not recovering or not streaming:
        return None
    return 0.0 if caught_up else float(behind or 0.0)


def fresh() -> bool:
    """Whether reads may go to the standby now (asked at most once a second per process)."""
    now = time.monotonic()
    with _lock:
        if now - float(_verdict["at"]) < CHECK_SECONDS:
            return bool(_verdict["fresh"])
    lag = lag_seconds()
    verdict = lag is not None and lag <= settings.STANDBY_MAX_LAG
    with _lock:
        _verdict.update(at=now, fresh=verdict)
    return verdict


def forget() -> None:
    """Ask again at the next read (tests)."""
    with _lock:
        _verdict.update(at=-1.0, fresh=False)


def from_standby(view: Callable[P, R]) -> Callable[P, R]:
    """Let ``view``'s reads go to the standby while it is fresh."""

    @functools.wraps(view)
    def reading(*args: P.args, **kwargs: P.kwargs) -> R:
        token = _reading.set(configured())
        try:
            return view(*args, **kwargs)
        finally:
            _reading.reset(token)

    return reading


class StandbyRouter:
    """Django's database router: marked views read from the standby while it is fresh;
    everything else, and every write and migration, uses the primary."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        if _reading.get() and fresh():
            return ALIAS
        return None

    def db_for_write(self, model: type[Any], **hints: Any) -> str | None:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return db == "default"

"""Sampling counters, moved without a hot row.

The counters are one row per (campaign, lane | site | community | campaign) (``Tally``) and per
hour (``HourTally``); the dashboard reads them, never the tubes. Every scan at every lane moves
the campaign's row, so a writer that updated it in its own transaction would hold every other
lane's scans until it committed. Instead a writer *moves* them: it inserts ``TallyMove`` rows in
its transaction, locking nothing shared, and ``fold`` adds the moves to the counters afterwards,
one folder at a time (a PostgreSQL advisory lock; SQLite has one writer anyway).

The same fold hands the residents sampled since the last fold (``RoundSample.folded`` false)
to the counters that depend on them: home stops here, and the folders the apps above register
(door-to-door coverage, through ``sampling.hooks``). So a figure is current as soon as the fold
after its scan has run, milliseconds after the commit, and a fold that fails leaves the moves
in place for the next one: nothing is counted twice or lost.

In a server the ingest engine hands the fold to a background thread once it has committed
(``fold_soon``): one fold then counts the moves of every request since the last, off the
requests' path. Commands and tests fold right after the commit (``settings.FOLD_INLINE``).
Callers that need a counter moved before they go on (the lab's results) use ``bump``, which
moves and folds at once.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from typing import Any

from django.conf import settings
from django.db import OperationalError, close_old_connections, connection, transaction

from doorstep.core import bulk, sql
from doorstep.sampling import hooks
from doorstep.sampling.actions import home
from doorstep.sampling.models import (
    COUNTS,
    HourTally,
    RoundSample,
    Scope,
    Tally,
    TallyMove,
    Tube,
)

Place = tuple[int, str, int]  # (campaign, scope, place)
Hour = tuple[int, str, int, dt.datetime]
FIELDS = COUNTS
# pg_advisory_xact_lock key of the fold: b"fold" read as an integer.
FOLD_LOCK = 0x666F6C64


def places_of(
    campaign_id: int, *, lane_id: int | None, site_id: int, community_id: int
) -> dict[str, int]:
    places: dict[str, int] = {
        Scope.SITE: site_id,
        Scope.COMMUNITY: community_id,
        Scope.CAMPAIGN: campaign_id,
    }
    if lane_id is not None:
        places[Scope.LANE] = lane_id
    return places


def places_of_tube(tube: Tube) -> dict[str, int]:
    """A tube's lane, site, community and campaign."""
    return places_of(
        tube.campaign_id, lane_id=tube.lane_id, site_id=tube.site_id, community_id=tube.community_id
    )


def hour_of(at: dt.datetime) -> dt.datetime:
    """The start of the (UTC) hour of ``at``: the key of the hourly counters."""
    return at.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def hour_keys(
    campaign_id: int,
    lane_id: int | None,
    community_id: int,
    at: dt.datetime,
    *,
    home_id: int | None = None,
) -> list[Hour]:
    """The hourly counters one sampled person moves: their lane, community and campaign.
    ``home_id``: the round of the person's community when it is not the lane's (a resident of
    another town of a district round), whose chart shows its own communities."""
    hour = hour_of(at)
    keys: list[Hour] = [
        (home_id or campaign_id, Scope.COMMUNITY, community_id, hour),
        (campaign_id, Scope.CAMPAIGN, campaign_id, hour),
    ]
    if lane_id is not None:
        keys.append((campaign_id, Scope.LANE, lane_id, hour))
    return keys


# Writers ------------------------------------------------------------------------------------


def move(moves: dict[Place, Counter[str]], hours: Counter[Hour] | None = None) -> None:
    """Record counter moves in the caller's transaction (one INSERT); ``fold`` applies them."""
    rows: list[tuple[Any, ...]] = [
        (campaign, scope, place, None, *(deltas[f] for f in FIELDS))
        for (campaign, scope, place), deltas in moves.items()
        if any(deltas.values())
    ]
    rows += [
        (campaign, scope, place, hour, 0, 0, n, 0, 0, 0, 0)
        for (campaign, scope, place, hour), n in (hours or Counter()).items()
        if n
    ]
    bulk.insert(TallyMove, ("campaign_id", "scope", "place_id", "hour", *FIELDS), rows)


def bump(campaign_id: int, places: dict[str, int], **deltas: int) -> None:
    """Move one set of places by the same amounts, and fold now."""
    bump_many(
        {(campaign_id, scope, place_id): Counter(deltas) for scope, place_id in places.items()}
    )


def bump_many(moves: dict[Place, Counter[str]]) -> None:
    """Move many places and fold now, inside the caller's transaction: for writers (the lab's
    results) whose next step reads the counters."""
    move(moves)
    fold(wait=True)


def get(campaign_id: int, scope: str, place_id: int) -> Tally:
    found = Tally.objects.filter(campaign_id=campaign_id, scope=scope, place_id=place_id).first()
    return found or Tally(campaign_id=campaign_id, scope=scope, place_id=place_id)


# The fold -------------------------------------------------------------------------------------


def fold(*, wait: bool = False) -> bool:
    """Add the recorded moves to the counters and hand the newly sampled to the folders, in one
    transaction. Returns False, having done nothing, when another fold is running and ``wait``
    is false."""
    with transaction.atomic():
        if not _lock(wait):
            return False
        _fold_moves()
        _fold_sampled()
    return True


def after_write() -> None:
    """What a writer does once its transaction has committed. In a server, ask the folding
    thread to fold (it folds the moves of every request since its last fold at once, off the
    request's path). With ``settings.FOLD_INLINE`` (the tests, and commands), fold now, so that
    the next line reads current counters; when another fold is running, which may have started
    before this commit, one runs soon."""
    if not settings.FOLD_INLINE:
        fold_soon()
        return
    try:
        if fold():
            return
    except OperationalError:
        # A deadlock or a lost connection: the moves wait in the table, nothing is lost.
        pass
    fold_soon()


def hold() -> None:
    """Keep the fold out until this transaction ends, for writers that count sampled people
    themselves (a door-to-door tap, a recount): no fold can count the same people in between.
    Take it before any row lock, as the fold does."""
    _lock(wait=True)


def _lock(wait: bool) -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite: this transaction already holds the database's one write lock
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FOLD_LOCK])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [FOLD_LOCK])
        return bool(cursor.fetchone()[0])


def _fold_moves() -> None:
    """The moves added to the counters, one statement per family whatever their number: the
    tallies and the hourly tallies each move by an ``INSERT … SELECT … GROUP BY`` that creates
    a missing row or adds to it, in key order (one lock order for every folder). On PostgreSQL
    the moves are taken by a ``DELETE … RETURNING`` in the same statement, so a move committed
    while the fold runs is neither counted nor deleted; on SQLite the fold's transaction holds
    the database's one write lock, so the three statements see the same moves."""
    tally, hourly, moves = Tally._meta.db_table, HourTally._meta.db_table, TallyMove._meta.db_table
    columns = ", ".join(FIELDS)
    sums = ", ".join(f"SUM({f})" for f in FIELDS)
    sets = ", ".join(f"{f} = {tally}.{f} + excluded.{f}" for f in FIELDS)
    key = "campaign_id, scope, place_id"
    # WHERE before ON CONFLICT: SQLite parses an upsert on a SELECT only after one.
    totals = (
        f"INSERT INTO {tally} ({key}, {columns}) "
        f"SELECT {key}, {sums} FROM {{moved}} WHERE hour IS NULL "
        f"GROUP BY {key} ORDER BY {key} "
        f"ON CONFLICT ({key}) DO UPDATE SET {sets}"
    )
    hours = (
        f"INSERT INTO {hourly} ({key}, hour, people) "
        f"SELECT {key}, hour, SUM(people) FROM {{moved}} WHERE hour IS NOT NULL "
        f"GROUP BY {key}, hour HAVING SUM(people) <> 0 ORDER BY {key}, hour "
        f"ON CONFLICT ({key}, hour) DO UPDATE SET people = {hourly}.people + excluded.people"
    )
    if sql.postgres():
        sql.execute(
            f"WITH moved AS (DELETE FROM {moves} RETURNING {key}, hour, {columns}), "
            f"totals AS ({totals.format(moved='moved')}) " + hours.format(moved="moved")
        )
        return
    sql.execute(totals.format(moved=moves))
    sql.execute(hours.format(moved=moves))
    sql.execute(f"DELETE FROM {moves}")


FOLD_PART = 5_000


def _fold_sampled() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {RoundSample._meta.db_table} SET folded = %s WHERE NOT folded "
            "RETURNING campaign_id, resident_id, community_id, sampled_at",
            [True],
        )
        rows = cursor.fetchall()
    if not rows:
        return
    sampled = [
        hooks.Sampled(campaign, resident, community, _moment(at))
        for campaign, resident, community, at in sorted(rows)
    ]
    # In parts: a backlog (a bulk load, a server that was down) would otherwise put more ids
    # into one statement than SQLite takes (32,766 variables).
    for start in range(0, len(sampled), FOLD_PART):
        part = sampled[start : start + FOLD_PART]
        home.sampled_at_home(part)
        for folder in hooks.folders:
            folder(part)


def _moment(value: object) -> dt.datetime:
    """A timestamp as the driver returns it from RETURNING (SQLite: the stored text)."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(str(value)).replace(tzinfo=dt.UTC)


# Folding soon, from a background thread ---------------------------------------------------------

# How far behind a committed scan the counters (and so the dashboards) may be in a server: the
# folding thread's delay, a fold, and another process's fold it may wait out. The dashboards
# say so; a test holds the server to it.
FRESHNESS_SECONDS = 2.0

_soon = threading.Event()
_thread: threading.Thread | None = None
_thread_lock = threading.Lock()
IDLE_SECONDS = 2.0


def fold_soon() -> None:
    """Have a fold run shortly, from this process's folding thread (started when first needed,
    gone after ``IDLE_SECONDS`` with nothing to do, its connection closed)."""
    global _thread
    _soon.set()
    with _thread_lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_folder, name="doorstep-fold", daemon=True)
            _thread.start()


def _folder() -> None:
    busy_since: float | None = None
    try:
        while _soon.wait(IDLE_SECONDS):
            # Gather a little: one fold then counts every request of the moment, instead of
            # folding again after each (a fold costs about as much as a scan).
            time.sleep(settings.FOLD_DELAY)
            _soon.clear()
            try:
                # Another process folding takes in every move committed before it began; what
                # it may have missed waits for this process's next turn, one delay away. Not
                # waiting on it spares a fold that would find nothing left. But the lock is
                # also held by every door-to-door batch, and PostgreSQL refuses a try while
                # anyone waits for it: under a steady run of taps every try would fail. Past
                # half the freshness promised, wait for a turn in the queue instead.
                waited = time.monotonic() - busy_since if busy_since else 0.0
                if fold(wait=waited > FRESHNESS_SECONDS / 2):
                    busy_since = None
                else:
                    busy_since = busy_since or time.monotonic()
                    _soon.set()
            except OperationalError:
                _soon.set()  # try again; the moves are still there
    finally:
        connection.close()
        close_old_connections()


def folder_gone(timeout: float = IDLE_SECONDS + 3) -> bool:
    """Wait for the folding thread to leave (it does ``IDLE_SECONDS`` after its last fold,
    closing its connection): before a test database is dropped, say. True once it is gone."""
    thread = _thread
    if thread is not None:
        thread.join(timeout)
    return thread is None or not thread.is_alive()


def settle(timeout: float = 10.0) -> None:
    """Wait until the folding thread is idle (tests and benchmarks read exact counters)."""
    thread = _thread
    deadline = timeout
    while thread is not None and thread.is_alive() and _soon.is_set() and deadline > 0:
        thread.join(0.05)
        deadline -= 0.05
    fold(wait=True)

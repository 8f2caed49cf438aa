"""Where the apps above sampling plug into the ingest engine.

The engine must know whether a person awaits a retest (their next tube is that retest); that
belongs to the lab, which sits above sampling. Rather than the engine importing the lab, the
lab registers its implementation here once, in ``lab/signals.py``. Without it the engine runs
with no retests. (A box count that disagrees needs no hook: it flags the box, and the lab's
alerts read the flag.)

Who may scan at a lane is the workforce's to say (a registrar scans where they are on duty);
the workforce sits above sampling, so it registers ``lanes_on_duty`` here
(``workforce/signals.py``). Without it nobody but the town-wide roles and a lane's own device
token may scan.

A walk-in whose household a worker found (``sampling.actions.walk_ins.trace``) may have a retest
waiting that could not be routed to a door: the lab registers ``register_traced`` to hear of
it (``lab/signals.py``).

Counters above sampling that move with the people sampled (door-to-door coverage) register a
folder (``register_folder``, in their ``signals.py``): ``sampling.tally.fold`` calls each
with the residents sampled since the last fold, in the fold's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from doorstep.core.sql import Derived, Part


@dataclass(frozen=True, order=True)
class Sampled:
    """A resident sampled in a round, newly counted by the fold."""

    campaign_id: int
    resident_id: int
    community_id: int
    at: dt.datetime


Folder = Callable[[Sequence[Sampled]], None]
folders: list[Folder] = []


def register_folder(folder: Folder) -> None:
    if folder not in folders:
        folders.append(folder)


@dataclass(frozen=True)
class OpenOrder:
    """A retest a person awaits: their next single tube answers it."""

    id: int
    original_tube_id: int
    original_code: str


class RetestBook(Protocol):
    def orders_part(self, campaigns: Derived, residents: Derived, walk_ins: Derived) -> Part | None:
        """The open orders of the batch's people, as a part of the batch's one read: its
        rounds, residents and walk-ins are clauses of that read, each with an ``id`` column.
        They come declared (``core.sql.Derived``) and the part names its own columns through
        ``core.sql.Table``: a column renamed on either side fails where it is declared (and in
        the test that builds every part of the read), not in a scan."""
        ...

    def orders(self, rows: Sequence[Sequence[Any]]) -> dict[tuple[int, str, int], OpenOrder]:
        """That part's rows, keyed by (campaign, "resident" or "walk_in", person id)."""
        ...

    def take(self, takes: Sequence[tuple[int, int, int]]) -> bool:
        """Mark each (order, retest tube, original pool) sampled; False when another writer took
        one of the orders first (the engine then plays the batch again)."""
        ...


class _NoRetests:
    def orders_part(self, campaigns: Derived, residents: Derived, walk_ins: Derived) -> Part | None:
        return None

    def orders(self, rows: Sequence[Sequence[Any]]) -> dict[tuple[int, str, int], OpenOrder]:
        return {}

    def take(self, takes: Sequence[tuple[int, int, int]]) -> bool:
        return True


retests: RetestBook = _NoRetests()


def register(*, retest_book: RetestBook) -> None:
    global retests
    retests = retest_book


# The lanes a signed-in user is on duty at now (the workforce's open duties at lanes).
DutyLanes = Callable[[int], set[int]]
_duty_lanes: list[DutyLanes] = []


def register_duty_lanes(lanes: DutyLanes) -> None:
    if lanes not in _duty_lanes:
        _duty_lanes.append(lanes)


def lanes_on_duty(user_id: int) -> set[int]:
    return {lane for lanes in _duty_lanes for lane in lanes(user_id)}


# A listener is given the walk-in, the household found for them and the time, in the trace's
# transaction.
Traced = Callable[[Any, Any, dt.datetime], object]
traced_listeners: list[Traced] = []


def register_traced(listener: Traced) -> None:
    if listener not in traced_listeners:
        traced_listeners.append(listener)


def walk_in_traced(walk_in: Any, household: Any, at: dt.datetime) -> None:
    for listener in traced_listeners:
        listener(walk_in, household, at)

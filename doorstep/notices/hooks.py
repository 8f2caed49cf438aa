"""Where the apps above notices hear that people were told.

The lab's positive-pool loop cannot close while a member of the pool has not been told; when
the last one is told (a delivery report, a knock at the door), the lab checks the loop again.
It registers here (``lab/signals.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection

# A listener is given the tubes whose notices were just told, and when.
Told = Callable[[Collection[int], dt.datetime], object]
_told: list[Told] = []


def register_told(listener: Told) -> None:
    if listener not in _told:
        _told.append(listener)


def told(tube_ids: Collection[int], at: dt.datetime) -> None:
    if tube_ids:
        for listener in _told:
            listener(tube_ids, at)

"""Where the apps above the territory hear of roster changes.

A roster imported while a testing round runs must join it: new buildings become tasks, new
households and residents join the counters and the untested list, moved-out residents leave.
All of that belongs to the apps above (campaigns, door to door), so rather than the import
naming them, they register a listener here once (``canvass/signals.py``); the import calls it
inside the transaction that writes the rows, so the round's figures change with the roster or
not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

RosterListener = Callable[[Collection[int]], None]
_listeners: list[RosterListener] = []


def register(listener: RosterListener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def roster_changed(building_ids: Collection[int]) -> None:
    """Households or residents of these buildings were added, moved in or out, or moved away."""
    if building_ids:
        for listener in _listeners:
            listener(building_ids)

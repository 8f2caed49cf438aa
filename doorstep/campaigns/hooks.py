"""Where the apps above campaigns hear of a new round and tell a round what still stands open.

A new round makes every building of its area a door-to-door task, in the round's own
transaction. The tasks are the canvass app's, above this one: it registers an opener here
(``canvass/signals.py``), and ``actions.create_campaign`` calls every opener.

A building sealed (封控) has its people sampled at their doors, not at a site: the sampling app
registers a zoner here, and every change of a building's zone (``actions._rezone``, the one
place it happens) and every new round with sealed buildings calls it, in the same transaction.

Closing a round with tubes still open at a lane or boxes still on the road loses specimens
unless somebody decides. Those are the sampling app's, above this one; it registers a check
here once (``sampling/signals.py``) that names what is still open, and closing asks the
commander to confirm with that list in front of them.

Residents are texted their community's start time by the notices app, above this one: it
registers an announcer here (``notices/signals.py``), and ``actions.starts.announce_starts``
calls it when the commander tells residents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from doorstep.campaigns.models import Campaign

# A check returns one line per open thing, in the user's language: "Tube 2112… open at 1号通道".
CloseCheck = Callable[[int], list[str]]
_checks: list[CloseCheck] = []


def register_close_check(check: CloseCheck) -> None:
    if check not in _checks:
        _checks.append(check)


def still_open(campaign_id: int) -> list[str]:
    return [line for check in _checks for line in check(campaign_id)]


# An opener is given the new round inside the transaction that created it.
Opener = Callable[[Campaign], object]
_openers: list[Opener] = []


def register_opener(opener: Opener) -> None:
    if opener not in _openers:
        _openers.append(opener)


def opened(campaign: Campaign) -> None:
    for opener in _openers:
        opener(campaign)


# A zoner is given the round, the buildings whose zone just changed (their ZoneChange rows
# already written, so it can read where each came from) or that a new round starts with,
# their new zone and the time.
Zoner = Callable[[int, list[int], str, dt.datetime], object]
_zoners: list[Zoner] = []


def register_zoner(zoner: Zoner) -> None:
    if zoner not in _zoners:
        _zoners.append(zoner)


def zoned(campaign_id: int, building_ids: list[int], zone: str, at: dt.datetime) -> None:
    if building_ids:
        for zoner in _zoners:
            zoner(campaign_id, building_ids, zone, at)


# An announcer is told that these communities of the round start at these times (each told to
# their residents for the first time or again after a change); it returns the texts it queued.
# Called inside the transaction that records them as told.
Announcer = Callable[[int, dict[int, dt.datetime], dt.datetime], int]
_announcers: list[Announcer] = []


def register_announcer(announcer: Announcer) -> None:
    if announcer not in _announcers:
        _announcers.append(announcer)


def starts_announced(campaign_id: int, starts: dict[int, dt.datetime], at: dt.datetime) -> int:
    return sum(announcer(campaign_id, starts, at) for announcer in _announcers)

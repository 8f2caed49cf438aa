"""Where the apps above campaigns hear of a new round and tell a round what still stands open.

A new round makes every building of its area a door-to-door task, in the round's own
transaction. The tasks are the canvass app's, above this one: it registers an opener here
(``canvass/signals.py``), and ``actions.create_campaign`` calls every opener.

Closing a round with tubes still open at a lane or boxes still on the road loses specimens
unless somebody decides. Those are the sampling app's, above this one; it registers a check
here once (``sampling/signals.py``) that names what is still open, and closing asks the
commander to confirm with that list in front of them.
"""

from __future__ import annotations

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

"""Where the apps above campaigns tell a round what still stands open in it.

Closing a round with tubes still open at a lane or boxes still on the road loses specimens
unless somebody decides. Those are the sampling app's, above this one; it registers a check
here once (``SamplingConfig.ready``) that names what is still open, and closing asks the
commander to confirm with that list in front of them.
"""

from __future__ import annotations

from collections.abc import Callable

# A check returns one line per open thing, in the user's language: "Tube 2112… open at 1号通道".
CloseCheck = Callable[[int], list[str]]
_checks: list[CloseCheck] = []


def register_close_check(check: CloseCheck) -> None:
    if check not in _checks:
        _checks.append(check)


def still_open(campaign_id: int) -> list[str]:
    return [line for check in _checks for line in check(campaign_id)]

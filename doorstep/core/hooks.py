"""Where the apps above core tell it what only they know.

``doorstep serve --demo`` serves a database whose demo users sign in with the published
password; it must refuse one that also holds real people, whom the demo admin could then list.
Which towns are real is the territory's to say: it registers a source here
(``territory/signals.py``), and ``serve`` asks every source.
"""

from __future__ import annotations

from collections.abc import Callable

# A source returns the names of real (not demo) towns in the database, a few at most.
RealTowns = Callable[[], list[str]]
_real_towns: list[RealTowns] = []


def register_real_towns(source: RealTowns) -> None:
    if source not in _real_towns:
        _real_towns.append(source)


def real_towns() -> list[str]:
    return [name for source in _real_towns for name in source()]

"""The simulated clock. Every time Doorstep reads (``timezone.now()``, and with it ``auto_now``
fields) comes from ``django.utils.timezone.now``; inside ``running`` it returns the simulated
moment instead, so actions, the ingest, alerts and pages served from this process all live in
the simulated day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone


class SimClock:
    def __init__(self, start: dt.datetime) -> None:
        self.start = start
        self.minutes = 0.0

    def now(self) -> dt.datetime:
        return self.start + dt.timedelta(minutes=self.minutes)

    def at(self, minutes: float) -> dt.datetime:
        return self.start + dt.timedelta(minutes=minutes)


@contextmanager
def running(clock: SimClock) -> Iterator[SimClock]:
    real = timezone.now
    timezone.now = clock.now
    try:
        yield clock
    finally:
        timezone.now = real

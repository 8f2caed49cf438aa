"""One simulated day through the real system: build the town, play the day under the simulated
clock (as fast as possible, or ``speed`` times real time so that it can be watched), and read
the forecast back from the database."""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import simpy
import simpy.rt
from django.core.servers.basehttp import WSGIServer, get_internal_wsgi_application, run
from django.db import connection

from doorstep.demo.terminal import Step
from doorstep.demo.town import COMMUNITIES
from doorstep.sampling import tally
from doorstep.simulate import day, forecast, system
from doorstep.simulate.clock import SimClock, running

# What a simulated day says it is doing, in order (as ``demo.terminal.Step``s through its
# progress).
STEPS = (
    "the town, community by community, its round and its sites",
    "the staff, their teams and the day's plan",
    "the day, hour by hour",
    "the forecast, read back from the database",
)


@dataclass
class Result:
    setup: system.Setup
    staffing: day.Staffing
    record: day.Record
    forecast: forecast.Forecast
    refusals: list[system.Refusal]
    requests: int
    events: int
    build_seconds: float
    play_seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.play_seconds if self.play_seconds else 0.0


def serve(port: int) -> None:
    """Serve Doorstep from this process (so its pages read the simulated clock) on a thread."""

    def go() -> None:
        try:
            run(
                "127.0.0.1",
                port,
                get_internal_wsgi_application(),
                threading=True,
                server_cls=WSGIServer,
            )
        finally:
            connection.close()

    threading.Thread(target=go, name="doorstep-sim-serve", daemon=True).start()


class Rehearsal:
    """A simulated day through the real system that can be played in steps, with the clock
    simulated for as long as it is open (``with Rehearsal(...) as day: day.advance(60)``), so
    pages served from this process meanwhile are at the simulated moment too."""

    def __init__(
        self,
        residents: int,
        lanes: int,
        door_teams: int,
        *,
        behaviour: day.Behaviour | None = None,
        seed: int = 1,
        start: dt.datetime,
        speed: float = 0.0,
        drill: bool = False,
        progress: Callable[[str], None] = print,
    ) -> None:
        began = time.perf_counter()
        progress(Step(STEPS[0], items=len(COMMUNITIES)))  # a line for each community built
        self.setup, self.staffing = system.build(
            residents,
            lambda shape: day.Staffing.spread(shape, lanes, door_teams),
            start,
            seed,
            drill=drill,
            progress=progress,
        )
        progress(Step(STEPS[1]))
        self.clock = SimClock(start)
        self.recorder = system.System(self.setup, self.clock, self.staffing)
        # SimPy's unit is a minute: at ``speed`` x, a simulated minute takes 60 / speed seconds.
        env = simpy.rt.RealtimeEnvironment(factor=60 / speed, strict=False) if speed else None
        self.day = day.Day(
            self.setup.shape, self.staffing, behaviour or day.Behaviour(), seed, self.recorder, env
        )
        self.build_seconds = time.perf_counter() - began
        self._patch = running(self.clock)

    def __enter__(self) -> Rehearsal:
        self._patch.__enter__()
        self.day.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._patch.__exit__(None, None, None)

    def advance(self, minutes: float) -> day.Record:
        record = self.day.run(minutes)
        self.clock.minutes = max(self.clock.minutes, minutes)
        tally.settle()
        return record


def simulate(
    residents: int,
    lanes: int,
    door_teams: int,
    *,
    behaviour: day.Behaviour | None = None,
    seed: int = 1,
    start: dt.datetime,
    hours: float = 36.0,
    speed: float = 0.0,
    drill: bool = False,
    progress: Callable[[str], None] = print,
    before_play: Callable[[system.Setup], None] | None = None,
) -> Result:
    """The whole day at once: play it to ``hours``, then read the forecast from the rows."""
    rehearsal = Rehearsal(
        residents,
        lanes,
        door_teams,
        behaviour=behaviour,
        seed=seed,
        start=start,
        speed=speed,
        drill=drill,
        progress=progress,
    )
    if before_play is not None:
        before_play(rehearsal.setup)
    began = time.perf_counter()
    with rehearsal:
        # Played an hour at a time, to say how far it has got (SimPy plays on from where it
        # stopped: the day is the same as played at once).
        ends = [min(hour, hours) * 60 for hour in range(1, math.ceil(hours) + 1)] or [0.0]
        progress(Step(STEPS[2], items=len(ends)))
        for end in ends:
            record = rehearsal.advance(end)
            progress(f"  {end / 60:g} h: {len(record.sampled):,} sampled")
        rehearsal.clock.minutes = _last(record)
        progress(Step(STEPS[3]))
        figures = forecast.from_database(rehearsal.setup.campaign)
    played = time.perf_counter() - began
    # Each person's wait is the one figure only the simulator knows (Doorstep counts queues).
    simulated = forecast.from_record(record, rehearsal.setup.shape, rehearsal.staffing)
    for site, mine in zip(figures.sites, simulated.sites, strict=True):
        site.mean_wait, site.longest_wait = mine.mean_wait, mine.longest_wait
    recorder = rehearsal.recorder
    return Result(
        rehearsal.setup,
        rehearsal.staffing,
        record,
        figures,
        recorder.refusals,
        recorder.requests,
        recorder.events,
        rehearsal.build_seconds,
        played,
    )


def _last(record: day.Record) -> float:
    moments = [t.resulted or 0.0 for t in record.tubes] + [t.ended or 0.0 for t in record.teams]
    return max(moments, default=0.0)

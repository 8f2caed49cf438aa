"""One simulated day through the real system: build the town, play the day under the simulated
clock (as fast as possible, or ``speed`` times real time so that it can be watched), and read
the forecast back from the database."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import simpy
import simpy.rt
from django.core.servers.basehttp import WSGIServer, get_internal_wsgi_application, run
from django.db import connection

from doorstep.sampling import tally
from doorstep.simulate import day, forecast, system
from doorstep.simulate.clock import SimClock, running


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
    behaviour = behaviour or day.Behaviour()
    began = time.perf_counter()
    setup, staffing = system.build(
        residents,
        lambda shape: day.Staffing.spread(shape, lanes, door_teams),
        start,
        seed,
        drill=drill,
        progress=progress,
    )
    clock = SimClock(start)
    recorder = system.System(setup, clock, staffing)
    built = time.perf_counter() - began
    if before_play is not None:
        before_play(setup)
    # SimPy's unit is a minute: at ``speed`` x, a simulated minute takes 60 / speed seconds.
    env = simpy.rt.RealtimeEnvironment(factor=60 / speed, strict=False) if speed else None
    began = time.perf_counter()
    with running(clock):
        record = day.Day(setup.shape, staffing, behaviour, seed, recorder, env).play(hours)
        clock.minutes = max(clock.minutes, _last(record))
        tally.settle()
        figures = forecast.from_database(setup.campaign)
    # Each person's wait is the one figure only the simulator knows (Doorstep counts queues).
    for site, simulated in zip(
        figures.sites, forecast.from_record(record, setup.shape, staffing).sites, strict=True
    ):
        site.mean_wait, site.longest_wait = simulated.mean_wait, simulated.longest_wait
    return Result(
        setup,
        staffing,
        record,
        figures,
        recorder.refusals,
        recorder.requests,
        recorder.events,
        built,
        time.perf_counter() - began,
    )


def _last(record: day.Record) -> float:
    moments = [t.resulted or 0.0 for t in record.tubes] + [t.ended or 0.0 for t in record.teams]
    return max(moments, default=0.0)

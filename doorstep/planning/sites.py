"""A sampling site's day in simulated time (SimPy): residents arrive along the day's curve,
queue on the one-metre line, and each lane registers and swabs one person at a time.

The forecast it gives: when 50 / 90 / 100 % of the site's people are sampled, the waits (mean,
90th percentile, longest), the longest queue, and whether the sampling target is met.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field

import simpy

# About 85 people per lane per hour (Xi'an, field guide F3.2): registration scan and swab.
LANE_PER_HOUR = 85.0
# Sampling itself within 6 hours of the start (F1.3); a queue of at most 20 minutes (F3.7).
TARGET_HOURS = 6.0
QUEUE_TARGET_MINUTES = 20.0
# Residents come during the first five and a half hours: the last call half an hour before
# the target, so the queue can empty (an assumption; no source gives the last call).
ARRIVAL_HOURS = 5.5


@dataclass(frozen=True)
class Service:
    """Minutes a lane takes per resident. ``exponential`` is the textbook queue (to check the
    model against theory); ``lognormal`` is the default, with a spread (``cv``, the standard
    deviation over the mean) of 0.5: an assumption, as no source gives the spread, only the
    mean."""

    per_hour: float = LANE_PER_HOUR
    shape: str = "lognormal"
    cv: float = 0.5

    @property
    def mean_minutes(self) -> float:
        return 60.0 / self.per_hour

    def draw(self, rng: random.Random) -> float:
        if self.shape == "exponential":
            return rng.expovariate(1 / self.mean_minutes)
        if self.shape == "fixed":
            return self.mean_minutes
        sigma = math.sqrt(math.log(1 + self.cv**2))
        return rng.lognormvariate(math.log(self.mean_minutes) - sigma**2 / 2, sigma)


@dataclass(frozen=True)
class Period:
    """From ``start`` to ``end`` hours after the site opens, ``per_hour`` people arrive."""

    start: float
    end: float
    per_hour: float


@dataclass(frozen=True)
class Arrivals:
    """The day's arrival curve: Poisson arrivals at a rate that is constant in each period."""

    periods: tuple[Period, ...]

    @classmethod
    def even(cls, people: int, hours: float = ARRIVAL_HOURS) -> Arrivals:
        """``people`` spread evenly over ``hours``: Manzhouli's pace (half by half-time)."""
        return cls((Period(0.0, hours, people / hours),))

    @property
    def expected(self) -> float:
        return sum((p.end - p.start) * p.per_hour for p in self.periods)

    def times(self, rng: random.Random) -> Iterator[float]:
        """Arrival moments in minutes, in order."""
        for period in self.periods:
            if period.per_hour <= 0:
                continue
            at = period.start * 60
            end = period.end * 60
            while True:
                at += rng.expovariate(period.per_hour / 60)
                if at >= end:
                    break
                yield at


@dataclass(frozen=True)
class SiteDay:
    lanes: int
    arrivals: Arrivals
    service: Service = field(default_factory=Service)


@dataclass
class Forecast:
    """What one simulated day gave. Times in minutes from the site's opening."""

    waits: list[float]
    done_at: list[float]
    longest_queue: int

    @property
    def people(self) -> int:
        return len(self.done_at)

    def hours_to(self, share: float) -> float:
        """Hours until ``share`` of the day's people were sampled."""
        if not self.done_at:
            return 0.0
        ordered = sorted(self.done_at)
        index = max(0, math.ceil(share * len(ordered)) - 1)
        return ordered[index] / 60

    @property
    def mean_wait(self) -> float:
        return statistics.fmean(self.waits) if self.waits else 0.0

    @property
    def p90_wait(self) -> float:
        if len(self.waits) < 2:
            return self.mean_wait
        return statistics.quantiles(self.waits, n=10)[-1]

    @property
    def longest_wait(self) -> float:
        return max(self.waits, default=0.0)

    def meets(self, target_hours: float = TARGET_HOURS) -> bool:
        return self.hours_to(1.0) <= target_hours


def simulate(day: SiteDay, seed: int = 1) -> Forecast:
    """One day at the site, with its own random stream (the same seed, the same day)."""
    if day.lanes < 1:
        raise ValueError("a site needs at least one lane")
    rng = random.Random(seed)
    env = simpy.Environment()
    lanes = simpy.Resource(env, capacity=day.lanes)
    forecast = Forecast(waits=[], done_at=[], longest_queue=0)

    def resident(arrived: float):  # type: ignore[no-untyped-def]
        with lanes.request() as turn:
            forecast.longest_queue = max(forecast.longest_queue, len(lanes.queue))
            yield turn
            forecast.waits.append(env.now - arrived)
            yield env.timeout(day.service.draw(rng))
            forecast.done_at.append(env.now)

    def arrive():  # type: ignore[no-untyped-def]
        for at in day.arrivals.times(rng):
            yield env.timeout(at - env.now)
            env.process(resident(at))

    env.process(arrive())
    env.run()
    return forecast

"""The planner for a site: the fewest lanes whose simulated days meet the sampling target with
the confidence asked for (by default 9 days in 10 over independent random days)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from doorstep.planning.sites import (
    ARRIVAL_HOURS,
    QUEUE_TARGET_MINUTES,
    TARGET_HOURS,
    Arrivals,
    Forecast,
    Service,
    SiteDay,
    simulate,
)


@dataclass(frozen=True)
class LanePlan:
    lanes: int
    met: int  # days (of ``days``) on which everyone was sampled within the target
    days: int
    forecasts: list[Forecast]

    @property
    def confidence(self) -> float:
        return self.met / self.days

    @property
    def median(self) -> Forecast:
        return sorted(self.forecasts, key=lambda f: f.hours_to(1.0))[len(self.forecasts) // 2]


def fewest_lanes(
    people: int,
    *,
    hours: float = ARRIVAL_HOURS,
    target_hours: float = TARGET_HOURS,
    confidence: float = 0.9,
    days: int = 10,
    service: Service | None = None,
    queue_minutes: float | None = QUEUE_TARGET_MINUTES,
    most: int = 2_000,
) -> LanePlan:
    """Arrivals even over ``hours``; the fewest lanes for which at least ``confidence`` of
    ``days`` simulated days sample everyone within ``target_hours`` and, unless
    ``queue_minutes`` is None, keep the mean wait within it. Starts from the lanes the work
    needs on paper (people over a lane's hourly pace over the hours), doubles the step until a
    staffing meets the target, then halves back to the fewest (more lanes never do worse)."""
    service = service or Service()

    def trial(lanes: int) -> LanePlan:
        day = SiteDay(lanes, Arrivals.even(people, hours), service)
        forecasts = [simulate(day, seed) for seed in range(1, days + 1)]
        met = sum(
            f.meets(target_hours) and (queue_minutes is None or f.mean_wait <= queue_minutes)
            for f in forecasts
        )
        return LanePlan(lanes, met, days, forecasts)

    def good(plan: LanePlan) -> bool:
        return plan.met >= confidence * days

    low = max(1, math.ceil(people / (service.per_hour * hours)))
    step = 1
    high = trial(low)
    while not good(high):
        if high.lanes >= most:
            raise ValueError(f"no plan with up to {most} lanes meets the target")
        low = high.lanes + 1
        high = trial(min(most, high.lanes + step))
        step *= 2
    while low < high.lanes:
        middle = trial((low + high.lanes) // 2)
        if good(middle):
            high = middle
        else:
            low = middle.lanes + 1
    return high

"""The planner: the smallest staffing whose simulated days meet the 6 h sampling target with the
confidence asked for, and, for a round that is running, when it will finish at the pace of the
last hour and what one more lane at a site would change.

The search plays whole days (``day.play``, the same model ``doorstep simulate`` runs through the
real system, here without writing anything) over several random seeds, on two processes.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace

from django.db.models import Count

from doorstep.campaigns.models import Campaign
from doorstep.command import dashboard
from doorstep.core.clocks import RESULTS_DUE, SPECIMEN_DUE
from doorstep.sampling.models import Lane, Site, TubeMember
from doorstep.simulate import day, forecast, system
from doorstep.territory.models import Community
from doorstep.workforce.models import Duty
from doorstep.workforce.queries import open_lanes

DOOR_HOURS = forecast.DOOR_TARGET.total_seconds() / 3600


def lab_keeps_up(f: forecast.Forecast) -> bool:
    """Every tube reached the lab within 4 h of its seal and was resulted within 6 h of receipt."""
    return (f.longest_transit_hours or 0) <= _hours(SPECIMEN_DUE) and (
        f.longest_lab_hours or 0
    ) <= _hours(RESULTS_DUE)


def _hours(delta: dt.timedelta) -> float:
    return delta.total_seconds() / 3600


@dataclass
class Trial:
    staffing: day.Staffing
    forecasts: list[forecast.Forecast]
    target_hours: float
    check: Callable[[forecast.Forecast], bool] | None = None  # instead of the sampling target

    @property
    def met(self) -> int:
        return sum(self.meets(f) for f in self.forecasts)

    def meets(self, f: forecast.Forecast) -> bool:
        if self.check is not None:
            return self.check(f)
        return f.last_sampled_hours is not None and f.last_sampled_hours <= self.target_hours

    @property
    def median(self) -> forecast.Forecast:
        ordered = sorted(self.forecasts, key=lambda f: f.last_sampled_hours or 0.0)
        return ordered[len(ordered) // 2]


# The town, given to each worker process once (a town of 100,000 is megabytes to send).
_town: day.Shape | None = None


def _keep(shape: day.Shape) -> None:
    global _town
    _town = shape


def _one(job: tuple[day.Staffing, day.Behaviour, int]) -> forecast.Forecast:
    staffing, behaviour, seed = job
    assert _town is not None, "the pool's initializer gives each worker the town"
    return forecast.from_record(day.play(_town, staffing, behaviour, seed), _town, staffing)


@dataclass
class Planner:
    shape: day.Shape
    behaviour: day.Behaviour
    days: int = 5
    confidence: float = 0.9
    target_hours: float = 6.0
    workers: int = 2
    progress: Callable[[str], None] = lambda line: None
    _executor: ProcessPoolExecutor | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        _keep(self.shape)  # for days played in this process (``workers=1``)

    def trial(
        self,
        staffing: day.Staffing,
        behaviour: day.Behaviour | None = None,
        check: Callable[[forecast.Forecast], bool] | None = None,
    ) -> Trial:
        """Play the staffing's days, ``workers`` at a time, and stop as soon as the verdict is
        settled: once more days have missed than the confidence allows, the rest cannot save it
        (a staffing that passes plays every day)."""
        behaviour = behaviour or self.behaviour
        trial = Trial(staffing, [], self.target_hours, check)
        allowed = self.days - math.ceil(self.confidence * self.days)
        seeds = list(range(1, self.days + 1))
        while seeds and len(trial.forecasts) - trial.met <= allowed:
            batch, seeds = seeds[: self.workers], seeds[self.workers :]
            jobs = [(staffing, behaviour, seed) for seed in batch]
            trial.forecasts.extend(
                self._pool().map(_one, jobs) if self.workers > 1 else map(_one, jobs)
            )
        stage, why = trial.median.bottleneck()
        self.progress(
            f"  {sum(staffing.lanes)} lanes, {sum(staffing.door_teams)} door teams: target met on "
            f"{trial.met} of {len(trial.forecasts)} days played; the median day's bottleneck: "
            f"{stage} ({why})"
        )
        return trial

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                self.workers, initializer=_keep, initargs=(self.shape,)
            )
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown()
            self._executor = None

    def good(self, trial: Trial) -> bool:
        return len(trial.forecasts) == self.days and trial.met >= self.confidence * self.days

    def fewest(self, make: Callable[[int], day.Staffing], low: int) -> Trial:
        """The fewest ``n`` from ``low`` up for which ``make(n)`` meets the target: a growing
        step until one does, then halving back (more staff never does worse)."""
        limit = max(100, self.shape.people // 50)
        step, n = max(1, low // 20), low
        trial = self.trial(make(n))
        while not self.good(trial):
            low = n + 1
            n += step
            step *= 2
            if n > limit:
                raise ValueError(f"no staffing of up to {limit} meets the target")
            trial = self.trial(make(n))
        best, top = trial, n
        while low < top:
            middle = (low + top) // 2
            found = self.trial(make(middle))
            if self.good(found):
                best, top = found, middle
            else:
                low = middle + 1
        return best

    def lab(self, staffing: day.Staffing) -> tuple[int, Trial]:
        """The fewest lab machines (plates of ``plate_tubes``, ``run_minutes`` a run) with
        which, for this staffing, every tube reaches the lab within 4 h and is resulted within
        6 h of receipt on the confidence asked for."""

        def trial(machines: int) -> Trial:
            self.progress(f"  the lab with {machines} machines:")
            return self.trial(
                staffing, replace(self.behaviour, lab_machines=machines), lab_keeps_up
            )

        low, high = 1, max(1, self.behaviour.lab_machines)
        found = trial(high)
        while not self.good(found):
            low, high = high + 1, high * 2
            if high > 512:
                raise ValueError("no lab of up to 512 machines keeps up: look at the couriers")
            found = trial(high)
        while low < high:
            middle = (low + high) // 2
            attempt = trial(middle)
            if self.good(attempt):
                found, high = attempt, middle
            else:
                low = middle + 1
        return high, found

    def _lanes(self, n: int) -> day.Staffing:
        return day.Staffing.spread(self.shape, n, self.door_teams)

    def _teams(self, n: int) -> day.Staffing:
        return day.Staffing(self.lanes, day.share(self.shape, n))

    def smallest(self) -> Trial:
        """Lanes first, with door-to-door teams enough to reach every door in ``DOOR_HOURS``;
        then the fewest door teams that still meet the target with those lanes."""
        b, people = self.behaviour, self.shape.people
        communities = len(self.shape.communities)
        households = sum(len(bl.households) for c in self.shape.communities for bl in c.buildings)
        # On paper: a team's three canvassers reach 3 x 60 / (minutes a household) households
        # an hour, climbing aside.
        on_paper = math.ceil(households * b.household_minutes * 1.5 / 3 / 60 / DOOR_HOURS)
        # Twice that while the lanes are sized, so that door to door does not hold them back.
        self.door_teams = max(communities, 2 * on_paper)
        # On paper: the people who come over the arrival window at a lane's pace, and a tenth
        # more for the queue's ups and downs (the search goes from there either way).
        lanes_on_paper = math.ceil(1.1 * people * (1 - b.no_show) / (b.per_hour * b.arrival_hours))
        by_lanes = self.fewest(self._lanes, max(communities, lanes_on_paper))
        self.lanes = by_lanes.staffing.lanes
        return self.fewest(self._teams, max(communities, on_paper // 2))


@dataclass
class SitePace:
    site: Site
    lanes: int  # lanes with a sampler on duty now
    per_hour: int  # swabs in the last hour
    left: int  # residents of the site's community still to test
    finish: dt.datetime | None
    finish_one_more: dt.datetime | None


def pace(campaign: Campaign, now: dt.datetime) -> list[SitePace]:
    """Each site of the round: the last hour's pace, the people left in its community (the
    dashboard's own untested count, shared among the community's sites by their lanes), when
    it finishes at that pace, and when with one more lane at the same pace per lane."""
    rows, _total = dashboard.coverage(campaign)
    left_by_community = {r.community_id: r.untested for r in rows}
    sites = list(
        Site.objects.filter(community_id__in=left_by_community).select_related("community")
    )
    staffed = open_lanes()  # the lanes that can take people now (a sampler and a registrar)
    lanes_on = {
        s.pk: sum(
            1 for pk in Lane.objects.filter(site=s).values_list("pk", flat=True) if pk in staffed
        )
        for s in sites
    }
    swabs = dict(
        TubeMember.objects.filter(
            campaign=campaign, added_at__gt=now - dt.timedelta(hours=1), added_at__lte=now
        )
        .values("tube__site_id")
        .annotate(n=Count("id"))
        .values_list("tube__site_id", "n")
    )
    per_community_lanes: dict[int, int] = {}
    for s in sites:
        per_community_lanes[s.community_id] = per_community_lanes.get(s.community_id, 0) + max(
            lanes_on[s.pk], 1
        )
    found = []
    for s in sites:
        lanes = lanes_on[s.pk]
        share = max(lanes, 1) / per_community_lanes[s.community_id]
        left = round(left_by_community[s.community_id] * share)
        rate = swabs.get(s.pk, 0)
        one_more = rate * (lanes + 1) / lanes if lanes else 0
        found.append(
            SitePace(s, lanes, rate, left, _finish(now, left, rate), _finish(now, left, one_more))
        )
    return found


def _finish(now: dt.datetime, left: int, per_hour: float) -> dt.datetime | None:
    """When ``left`` people are done at ``per_hour``; None when nobody is being sampled."""
    if left == 0:
        return now
    return now + dt.timedelta(hours=left / per_hour) if per_hour > 0 else None


def spread_summary(shape: day.Shape, staffing: day.Staffing) -> list[tuple[str, int, int]]:
    return [
        (c.name, staffing.lanes[i], staffing.door_teams[i]) for i, c in enumerate(shape.communities)
    ]


def median_hours(trial: Trial) -> float:
    return statistics.median(f.last_sampled_hours or 0.0 for f in trial.forecasts)


@dataclass(frozen=True)
class Planned:
    """What the plan says of a round's own day: the model played on the round's roster with the
    staffing it had (lanes at its sites, door-to-door teams on duty in each community)."""

    staffing: day.Staffing
    forecast: forecast.Forecast


def planned(campaign: Campaign, behaviour: day.Behaviour | None = None) -> Planned:
    """One simulated day (seed 1) for the round, to set beside the day it had. A community with
    no lane or no team is given one (the model cannot sample anyone without a lane)."""
    communities = list(
        Community.objects.filter(pk__in=campaign.buildings.values("community_id")).order_by("pk")
    )
    shape = system.shape_of(communities)
    lanes = dict(
        Lane.objects.filter(site__community__in=communities)
        .values_list("site__community_id")
        .annotate(n=Count("id"))
    )
    duties = Duty.objects.filter(
        community__in=communities, lane__isnull=True, started_at__lt=campaign.deadline
    ).exclude(ended_at__lt=campaign.starts_at)
    teams = dict(duties.values_list("community_id").annotate(n=Count("team_id", distinct=True)))
    staffing = day.Staffing(
        tuple(max(1, lanes.get(c.pk, 0)) for c in communities),
        tuple(max(1, teams.get(c.pk, 0)) for c in communities),
    )
    record = day.play(shape, staffing, behaviour or day.Behaviour(), seed=1)
    return Planned(staffing, forecast.from_record(record, shape, staffing))

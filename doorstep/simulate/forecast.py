"""The day's forecast: when sampling reached 50 / 90 / 100 %, the 6 h and 24 h targets met or
missed and by how much, queues and waits per site, staff hours, specimens over the 4 h clock,
and where the bottleneck was.

Two readers give the same ``Forecast``: ``from_database`` reads the round back from the rows the
system wrote (the figure a commander would see; coverage is the dashboard's own), and
``from_record`` reads the simulator's own record, for the planner's quick runs that write
nothing. A test holds them equal on the same seed. Waits are the one figure only the record has
(Doorstep counts queues, not each person's wait).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from django.db.models import DurationField, ExpressionWrapper, F, Max, Min, QuerySet

from doorstep.campaigns.models import Campaign
from doorstep.canvass.models import Visit
from doorstep.command import dashboard
from doorstep.core.clocks import RESULTS_DUE, SAMPLING_TARGET, SPECIMEN_DUE
from doorstep.demo.terminal import pad, width
from doorstep.planning import targets
from doorstep.sampling.models import Lane, QueueReport, RoundSample, Tube, WalkIn
from doorstep.simulate import day
from doorstep.workforce.models import Duty

SHARES = (0.5, 0.9, 1.0)
# Door to door reaches the last household early enough for its people to come down and be
# swabbed within the 6 h: by 4.5 h (an assumption of this project; Manzhouli's teams took nine).
DOOR_TARGET = dt.timedelta(hours=4.5)
WHOLE_DAY = dt.timedelta(hours=24)


@dataclass
class SiteFigures:
    name: str
    lanes: int
    sampled: int
    longest_queue: int  # the longest count an order keeper reported
    mean_wait: float | None = None  # minutes; the record alone knows each wait
    longest_wait: float | None = None


@dataclass
class Forecast:
    people: int  # residents on the roster
    sampled: int  # of them, swabbed (the dashboard's figure)
    walk_ins: int
    hours_to: dict[str, float | None]  # "50" / "90" / "100": hours from the start, or None
    sampled_by_target: int  # swabbed within the 6 h target
    last_sampled_hours: float | None
    households: int
    households_by_hours: dict[str, int]  # households with an outcome by 5 h and 9 h (12:00, 16:00)
    door_hours: float | None  # the last household's outcome
    tubes: int
    tubes_late: int  # reached the lab more than 4 h after sealing
    tubes_unresulted: int
    last_result_hours: float | None
    results_late: int  # resulted more than 6 h after receipt
    longest_transit_hours: float | None  # the longest from a tube's seal to the lab
    longest_lab_hours: float | None  # the longest from receipt to result
    positives_found: int  # people a retest named positive
    staff: int
    staff_hours: float
    sites: list[SiteFigures] = field(default_factory=list)

    def day_figures(self) -> targets.DayFigures:
        """What the two targets are judged on (``planning.targets``, their one definition)."""
        return targets.DayFigures(
            residents=self.people,
            sampled=self.sampled,
            sampled_by_target=self.sampled_by_target,
            last_swab_hours=self.last_sampled_hours,
            tubes=self.tubes,
            tubes_unresulted=self.tubes_unresulted,
            last_result_hours=self.last_result_hours,
        )

    @property
    def sampling_target_met(self) -> bool:
        """Everyone who came was swabbed within 6 h of the start. (Who never came, the no-shows
        and the households nobody found home, are the untested list's, counted apart.)"""
        return targets.judge(self.day_figures())[0].met

    @property
    def sampling_over_hours(self) -> float | None:
        """How far the last swab came after the 6 h target (negative: before it)."""
        if self.last_sampled_hours is None:
            return None
        return self.last_sampled_hours - _hours(SAMPLING_TARGET)

    @property
    def day_target_met(self) -> bool:
        """Everyone who came swabbed and resulted within 24 h (``planning.targets``)."""
        return targets.judge(self.day_figures())[1].met

    def overruns(self) -> dict[str, float]:
        """Hours by which each stage overran its own target (negative: to spare)."""
        return {
            "sampling": (self.last_sampled_hours or 0) - _hours(SAMPLING_TARGET),
            "door_to_door": (self.door_hours or 0) - _hours(DOOR_TARGET),
            "couriers": (self.longest_transit_hours or 0) - _hours(SPECIMEN_DUE),
            "lab": (self.longest_lab_hours or 0) - _hours(RESULTS_DUE),
        }

    def bottleneck(self) -> tuple[str, str]:
        """The stage that overran its own target by the most hours."""
        stage, by = max(self.overruns().items(), key=lambda kv: kv[1])
        if by <= 0:
            return "none", "every stage within its target"
        why = {
            "sampling": f"the last swab {self.last_sampled_hours:.1f} h after the start (target 6 h)",
            "door_to_door": f"the last household reached {self.door_hours:.1f} h after the start "
            f"(target {_hours(DOOR_TARGET):g} h)",
            "couriers": f"a tube took {self.longest_transit_hours:.1f} h to reach the lab "
            f"(target 4 h; {self.tubes_late} of {self.tubes} late)",
            "lab": f"a tube waited {self.longest_lab_hours:.1f} h for its result (target 6 h; "
            f"{self.results_late} of {self.tubes} late)",
        }[stage]
        return stage, why

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        stage, why = self.bottleneck()
        data.update(
            sampling_target_met=self.sampling_target_met,
            sampling_over_hours=_round(self.sampling_over_hours),
            day_target_met=self.day_target_met,
            bottleneck=stage,
            bottleneck_why=why,
        )
        return data

    def comparable(self) -> dict[str, object]:
        """The figures both readers give (everything but the waits only the record has)."""
        data = self.as_json()
        data["sites"] = [
            {k: v for k, v in asdict(s).items() if k not in ("mean_wait", "longest_wait")}
            for s in self.sites
        ]
        data.pop("bottleneck")
        data.pop("bottleneck_why")
        return data


def _hours(delta: dt.timedelta) -> float:
    return delta.total_seconds() / 3600


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _share_hours(times: Sequence[float], people: int, exempt: int = 0) -> dict[str, float | None]:
    """Hours until ``share`` of ``people`` were swabbed (exempt people count as done, as on the
    dashboard), from the swab times in hours; None when the share was never reached."""
    ordered = sorted(times)
    found: dict[str, float | None] = {}
    for share in SHARES:
        need = max(0, math.ceil(share * people) - exempt)
        found[str(round(share * 100))] = (
            _round(ordered[need - 1]) if need == 0 or need <= len(ordered) else None
        )
        if need == 0:
            found[str(round(share * 100))] = 0.0
    return found


def _longest(tubes: QuerySet[Tube], end: str, start: str) -> float | None:
    found = tubes.filter(**{f"{end}__isnull": False, f"{start}__isnull": False}).aggregate(
        m=Max(ExpressionWrapper(F(end) - F(start), output_field=DurationField()))
    )["m"]
    return _round(found.total_seconds() / 3600) if found is not None else 0.0


def from_database(campaign: Campaign) -> Forecast:
    start = campaign.starts_at

    def h(moment: dt.datetime | None) -> float | None:
        return None if moment is None else _round((moment - start).total_seconds() / 3600)

    _rows, total = dashboard.coverage(campaign)
    swabs = [
        (at - start).total_seconds() / 3600
        for at in RoundSample.objects.filter(campaign=campaign).values_list("sampled_at", flat=True)
    ]
    tapped = [
        (at - start).total_seconds() / 3600
        for at in Visit.objects.filter(campaign=campaign)
        .values("household_id")
        .annotate(first=Min("tapped_at"))
        .values_list("first", flat=True)
    ]
    tubes = Tube.objects.filter(campaign=campaign, discarded_at__isnull=True)
    last_result = tubes.aggregate(last=Max("resulted_at"))["last"]
    positives = (
        tubes.filter(retest_of__isnull=False, result="positive")
        .values("members__resident_id")
        .distinct()
        .count()
    )
    duties = Duty.objects.filter(town=campaign.town, started_at__gte=start)
    staff_hours = sum(
        ((d.ended_at or d.started_at) - d.started_at).total_seconds() / 3600 for d in duties
    )
    sites = []
    for site_id, name in (
        Lane.objects.filter(site__community__town=campaign.town)
        .values_list("site_id", "site__name")
        .distinct()
        .order_by("site_id")
    ):
        lanes = Lane.objects.filter(site_id=site_id).count() - 1  # less the home lane
        reported = QueueReport.objects.filter(lane__site_id=site_id).aggregate(m=Max("waiting"))
        sites.append(
            SiteFigures(
                name,
                lanes,
                RoundSample.objects.filter(
                    campaign=campaign,
                    resident_id__in=tubes.filter(site_id=site_id).values("members__resident_id"),
                ).count(),
                reported["m"] or 0,
            )
        )
    return Forecast(
        people=total.residents,
        sampled=total.sampled,
        walk_ins=WalkIn.objects.filter(campaign=campaign).count(),
        hours_to=_share_hours(swabs, total.residents, total.exempt),
        sampled_by_target=sum(1 for s in swabs if s <= _hours(SAMPLING_TARGET)),
        last_sampled_hours=_round(max(swabs)) if swabs else None,
        households=total.households,
        households_by_hours={
            "5": sum(1 for t in tapped if t <= 5),
            "9": sum(1 for t in tapped if t <= 9),
        },
        door_hours=_round(max(tapped)) if tapped else None,
        tubes=tubes.count(),
        tubes_late=tubes.filter(received_at__gt=F("sealed_at") + SPECIMEN_DUE).count(),
        tubes_unresulted=tubes.filter(resulted_at__isnull=True).count(),
        last_result_hours=h(last_result),
        results_late=tubes.filter(resulted_at__gt=F("received_at") + RESULTS_DUE).count(),
        longest_transit_hours=_longest(tubes, "received_at", "sealed_at"),
        longest_lab_hours=_longest(tubes, "resulted_at", "received_at"),
        positives_found=positives,
        staff=duties.values("staff_id").distinct().count(),
        staff_hours=round(staff_hours, 2),
        sites=sites,
    )


def from_record(record: day.Record, shape: day.Shape, staffing: day.Staffing) -> Forecast:
    swabs = [m / 60 for m in record.sampled.values()]
    tapped = [m / 60 for m in record.tapped]
    tubes = record.tubes
    due, results_due = SPECIMEN_DUE.total_seconds() / 60, RESULTS_DUE.total_seconds() / 60
    resulted = [t.resulted for t in tubes if t.resulted is not None]
    sites = []
    for ci, community in enumerate(shape.communities):
        waits = record.waits.get(ci, [])
        sites.append(
            SiteFigures(
                f"{community.name}采样点",
                staffing.lanes[ci],
                len({p for t in tubes if t.lane.community == ci for p in t.members}),
                record.reported_queue.get(ci, 0),
                round(sum(waits) / len(waits), 1) if waits else 0.0,
                round(max(waits), 1) if waits else 0.0,
            )
        )
    staff_hours = sum(
        ((t.ended or t.started) - t.started) / 60 * len(t.people) for t in record.teams
    )
    return Forecast(
        people=record.people,
        sampled=len(record.sampled),
        walk_ins=record.walk_ins,
        hours_to=_share_hours(swabs, record.people),
        sampled_by_target=sum(1 for s in swabs if s <= _hours(SAMPLING_TARGET)),
        last_sampled_hours=_round(max(swabs)) if swabs else None,
        households=record.households,
        households_by_hours={
            "5": sum(1 for t in tapped if t <= 5),
            "9": sum(1 for t in tapped if t <= 9),
        },
        door_hours=_round(max(tapped)) if tapped else None,
        tubes=len(tubes),
        tubes_late=sum(
            1
            for t in tubes
            if t.received is not None and t.sealed is not None and t.received - t.sealed > due
        ),
        tubes_unresulted=sum(1 for t in tubes if t.resulted is None),
        last_result_hours=_round(max(resulted) / 60) if resulted else None,
        results_late=sum(
            1
            for t in tubes
            if t.resulted is not None
            and t.received is not None
            and t.resulted - t.received > results_due
        ),
        longest_transit_hours=_round(
            max((t.received - t.sealed for t in tubes if t.received and t.sealed), default=0) / 60
        ),
        longest_lab_hours=_round(
            max((t.resulted - t.received for t in tubes if t.resulted and t.received), default=0)
            / 60
        ),
        positives_found=len(record.found),
        staff=sum(len(t.people) for t in record.teams if t.started or t.ended is not None),
        staff_hours=round(staff_hours, 2),
        sites=sites,
    )


# Output ----------------------------------------------------------------------------------------


def table(f: Forecast) -> str:
    def at(value: float | None) -> str:
        return "not reached" if value is None else f"{value:.2f} h"

    stage, why = f.bottleneck()
    lines = [
        f"Residents {f.people:,}; sampled {f.sampled:,} ({100 * f.sampled / max(f.people, 1):.1f} %), "
        f"walk-ins {f.walk_ins:,}",
        f"Sampled 50 % at {at(f.hours_to['50'])}, 90 % at {at(f.hours_to['90'])}, "
        f"100 % at {at(f.hours_to['100'])}",
        *targets.lines(f.day_figures()),
        f"Door to door: {f.households_by_hours['5']:,} of {f.households:,} households by 5 h, "
        f"{f.households_by_hours['9']:,} by 9 h, the last at {at(f.door_hours)}",
        f"Tubes {f.tubes:,}: {f.tubes_late} reached the lab after 4 h, {f.results_late} resulted "
        f"more than 6 h after receipt; positives found by retest {f.positives_found}",
        f"Staff {f.staff:,}, {f.staff_hours:,.1f} staff hours",
        f"Bottleneck: {stage} ({why})",
        "",
    ]
    # The sites' names are Chinese, two columns a character on a terminal: padded by columns.
    names = max([16, *(width(s.name) for s in f.sites)])
    lines.append(
        f"{pad('site', names)} {'lanes':>5} {'sampled':>8} {'longest queue':>14} {'mean wait':>10} {'longest':>8}"
    )
    for s in f.sites:
        mean = "" if s.mean_wait is None else f"{s.mean_wait:.1f} min"
        longest = "" if s.longest_wait is None else f"{s.longest_wait:.0f} min"
        lines.append(
            f"{pad(s.name, names)} {s.lanes:>5} {s.sampled:>8,} {s.longest_queue:>14,} {mean:>10} {longest:>8}"
        )
    return "\n".join(lines)


def svg(swab_hours: Sequence[float], people: int, title: str = "") -> str:
    """Sampled people over the day against the 6 h and 24 h targets, as an SVG drawing."""
    width, height, pad = 640, 320, 40
    end = max(24.0, max(swab_hours, default=0.0))

    def x(hours: float) -> float:
        return pad + (width - 2 * pad) * hours / end

    def y(count: float) -> float:
        return height - pad - (height - 2 * pad) * count / max(people, 1)

    points = [f"{x(0):.1f},{y(0):.1f}"]
    for n, hours in enumerate(sorted(swab_hours), start=1):
        if n % max(1, len(swab_hours) // 400) == 0 or n == len(swab_hours):
            points.append(f"{x(hours):.1f},{y(n):.1f}")
    six, day_end = x(_hours(SAMPLING_TARGET)), x(24)
    ticks = "".join(
        f'<text x="{x(h):.0f}" y="{height - pad + 16}" font-size="11" text-anchor="middle">{h:g}h</text>'
        for h in range(0, int(end) + 1, 3)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif">'
        f'<title>{title}</title><rect width="100%" height="100%" fill="white"/>'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="black"/>'
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="black"/>'
        f'<line x1="{x(0)}" y1="{y(people)}" x2="{width - pad}" y2="{y(people)}" stroke="#999" stroke-dasharray="4"/>'
        f'<line x1="{six:.1f}" y1="{pad}" x2="{six:.1f}" y2="{height - pad}" stroke="#c00" stroke-dasharray="4"/>'
        f'<text x="{six + 4:.1f}" y="{pad + 12}" font-size="11" fill="#c00">6 h</text>'
        f'<line x1="{day_end:.1f}" y1="{pad}" x2="{day_end:.1f}" y2="{height - pad}" stroke="#c00" stroke-dasharray="4"/>'
        f'<text x="{day_end - 30:.1f}" y="{pad + 12}" font-size="11" fill="#c00">24 h</text>'
        f'<text x="{pad}" y="{pad - 10}" font-size="12">{title} sampled / {people:,} residents</text>'
        f'<polyline fill="none" stroke="#06c" stroke-width="2" points="{" ".join(points)}"/>'
        f"{ticks}</svg>"
    )


def swab_hours_from_database(campaign: Campaign) -> list[float]:
    return [
        (at - campaign.starts_at).total_seconds() / 3600
        for at in RoundSample.objects.filter(campaign=campaign).values_list("sampled_at", flat=True)
    ]

"""What the commander's screen shows, read from the counters the actions keep (coverage per
community, tallies per lane/site/community/campaign, hourly tallies, duty counters) and from a
few small indexed queries (open tubes, the specimen clock, results due). Nothing here counts
scans or residents on request, so each panel costs the same at 1,000 or 1,000,000 residents.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from django.db.models import F, Sum
from django.utils.translation import gettext as _

from doorstep.assistance import queries as need_queries
from doorstep.assistance.models import Request
from doorstep.campaigns.models import Campaign
from doorstep.canvass.models import BuildingTask, Coverage, not_started, untested
from doorstep.core import alerts as core_alerts
from doorstep.core import clocks
from doorstep.core.alerts import Alert
from doorstep.sampling.models import (
    Box,
    HourTally,
    Lane,
    Scope,
    Site,
    Tally,
    Tube,
    TubeMember,
)
from doorstep.sampling.queries import Wait, boxes_on_the_way, site_waits
from doorstep.workforce.models import DutyCounter, DutyRole, PlaceKind
from doorstep.workforce.queries import short_of

CHART_HOURS = 24


# --- the clock -----------------------------------------------------------------------------


@dataclass
class Clock:
    now: dt.datetime
    starts_at: dt.datetime
    deadline: dt.datetime
    sampling_due: dt.datetime

    @property
    def left(self) -> dt.timedelta:
        return max(self.deadline - self.now, dt.timedelta(0))

    @property
    def sampling_left(self) -> dt.timedelta:
        return max(self.sampling_due - self.now, dt.timedelta(0))

    @property
    def elapsed_share(self) -> float:
        whole = (self.deadline - self.starts_at).total_seconds()
        return min(max((self.now - self.starts_at).total_seconds() / whole, 0.0), 1.0)

    @property
    def overdue(self) -> bool:
        return self.now > self.deadline


def clock(campaign: Campaign, now: dt.datetime) -> Clock:
    return Clock(
        now, campaign.starts_at, campaign.deadline, campaign.starts_at + clocks.SAMPLING_TARGET
    )


# --- coverage ------------------------------------------------------------------------------


@dataclass
class CommunityRow:
    community_id: int
    name: str
    buildings: int
    claimed: int
    done: int
    households: int
    covered: int
    residents: int
    sampled: int
    exempt: int

    @property
    def untested(self) -> int:
        return untested(self.residents, self.sampled, self.exempt)

    @property
    def not_started(self) -> int:
        return not_started(self.buildings, self.claimed, self.done)

    def share(self, part: int, whole: int) -> int:
        return round(100 * part / whole) if whole else 0

    @property
    def covered_pct(self) -> int:
        return self.share(self.covered, self.households)

    @property
    def sampled_pct(self) -> int:
        return self.share(self.sampled + self.exempt, self.residents)


def coverage(campaign: Campaign) -> tuple[list[CommunityRow], CommunityRow]:
    """Per community and in total, from the door-to-door counters (one query)."""
    rows = [
        CommunityRow(
            c.community_id,
            c.community.name,
            c.buildings,
            c.buildings_claimed,
            c.buildings_done,
            c.households,
            c.covered,
            c.residents,
            c.sampled,
            c.exempt,
        )
        for c in Coverage.objects.filter(campaign=campaign)
        .select_related("community")
        .order_by("community__name")
    ]
    total = CommunityRow(
        0, _("All communities"), *(sum(getattr(r, f) for r in rows) for f in _SUMMED)
    )
    return rows, total


# The counters a round's coverage adds up, in CommunityRow's order, and the Coverage field each
# is read from.
_SUMMED = (
    "buildings",
    "claimed",
    "done",
    "households",
    "covered",
    "residents",
    "sampled",
    "exempt",
)
_COVERAGE_FIELDS = (
    "buildings",
    "buildings_claimed",
    "buildings_done",
    "households",
    "covered",
    "residents",
    "sampled",
    "exempt",
)


def coverage_totals(campaign_ids: Collection[int]) -> dict[int, CommunityRow]:
    """``coverage``'s total for each of several rounds, summed by the database in one query:
    what a board of many rounds (the district's) needs."""
    sums = (
        Coverage.objects.filter(campaign_id__in=campaign_ids)
        .values("campaign_id")
        .annotate(**{f: Sum(f) for f in _COVERAGE_FIELDS})
        .order_by()
    )
    found = {
        row["campaign_id"]: CommunityRow(
            0, _("All communities"), *(row[f] or 0 for f in _COVERAGE_FIELDS)
        )
        for row in sums
    }
    empty = CommunityRow(0, _("All communities"), *(0 for _f in _SUMMED))
    return {pk: found.get(pk, empty) for pk in campaign_ids}


# --- sampling: campaign totals, sites and lanes ----------------------------------------------


def totals(campaign: Campaign) -> Tally:
    return totals_of([campaign])[campaign.pk]


def totals_of(campaigns: Collection[Campaign]) -> dict[int, Tally]:
    """Each round's own tally (people through the lanes, pools, boxes...), in one query."""
    found = {
        t.campaign_id: t
        for t in Tally.objects.filter(
            campaign_id__in=[c.pk for c in campaigns],
            scope=Scope.CAMPAIGN,
            place_id=F("campaign_id"),
        )
    }
    return {
        c.pk: found.get(c.pk) or Tally(campaign=c, scope=Scope.CAMPAIGN, place_id=c.pk)
        for c in campaigns
    }


@dataclass
class LaneRow:
    lane: Lane
    people: int
    per_hour: int
    roles: dict[str, int]

    @property
    def staffed(self) -> list[tuple[str, int]]:
        """The roles on duty, in the user's words, with how many people each."""
        return [(str(DutyRole(r).label), n) for r, n in self.roles.items() if n]

    @property
    def missing(self) -> list[str]:
        """The roles the lane is short of, in the user's words (``workforce.queries.short_of``)."""
        return [str(DutyRole(r).label) for r in short_of(self.roles)]

    @property
    def open(self) -> bool:
        return bool(self.roles.get(DutyRole.SAMPLER))


@dataclass
class SiteRow:
    site: Site
    wait: Wait
    lanes: list[LaneRow] = field(default_factory=list)

    @property
    def people(self) -> int:
        return sum(lane.people for lane in self.lanes)

    @property
    def per_hour(self) -> int:
        return sum(lane.per_hour for lane in self.lanes)

    @property
    def staff(self) -> int:
        return sum(sum(lane.roles.values()) for lane in self.lanes)


def _per_hour(counts: dict[dt.datetime, int], now: dt.datetime) -> int:
    """People in the last 60 minutes, from the current and the previous hourly counters (the
    previous hour weighted by the part of it still inside the window)."""
    current = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    into = (now - current).total_seconds() / 3600
    return round(
        counts.get(current, 0) + counts.get(current - dt.timedelta(hours=1), 0) * (1 - into)
    )


def sites(campaign: Campaign, now: dt.datetime) -> list[SiteRow]:
    """Every site of the campaign's communities with its lanes: people sampled, people in the
    last hour, who is on duty in which role, the reported queue and the wait band."""
    found = list(
        Site.objects.filter(
            community_id__in=Coverage.objects.filter(campaign=campaign).values("community_id")
        )
        .select_related("community")
        .prefetch_related("lanes")
        .order_by("community__name", "name")
    )
    lanes = [lane for site in found for lane in site.lanes.all()]
    lane_ids = [lane.pk for lane in lanes]
    people = dict(
        Tally.objects.filter(
            campaign=campaign, scope=Scope.LANE, place_id__in=lane_ids
        ).values_list("place_id", "people")
    )
    hourly: dict[int, dict[dt.datetime, int]] = defaultdict(dict)
    for place_id, hour, n in HourTally.objects.filter(
        campaign=campaign,
        scope=Scope.LANE,
        place_id__in=lane_ids,
        hour__gte=now - dt.timedelta(hours=2),
    ).values_list("place_id", "hour", "people"):
        hourly[place_id][hour] = n
    roles: dict[int, dict[str, int]] = defaultdict(dict)
    for place_id, role, n in DutyCounter.objects.filter(
        kind=PlaceKind.LANE, place_id__in=lane_ids
    ).values_list("place_id", "role", "on_duty"):
        roles[place_id][role] = n
    waits = site_waits(found, now)
    return [
        SiteRow(
            site,
            waits[site.pk],
            [
                LaneRow(
                    lane, people.get(lane.pk, 0), _per_hour(hourly[lane.pk], now), roles[lane.pk]
                )
                for lane in site.lanes.all()
            ],
        )
        for site in found
    ]


# --- the hourly chart ----------------------------------------------------------------------


@dataclass
class Series:
    name: str
    points: list[int]

    @property
    def total(self) -> int:
        return sum(self.points)


@dataclass
class Chart:
    hours: list[dt.datetime]
    total: Series
    communities: list[Series]

    @property
    def peak(self) -> int:
        return max(self.total.points, default=0) or 1


def chart(campaign: Campaign, now: dt.datetime, names: dict[int, str]) -> Chart:
    """People sampled per hour over the last 24 hours, in total and per community."""
    last = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    first = max(
        last - dt.timedelta(hours=CHART_HOURS - 1),
        campaign.starts_at.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0),
    )
    hours = []
    at = first
    while at <= last:
        hours.append(at)
        at += dt.timedelta(hours=1)
    index = {h: i for i, h in enumerate(hours)}
    total = Series(_("All communities"), [0] * len(hours))
    per: dict[int, Series] = {}
    for scope, place_id, hour, n in HourTally.objects.filter(
        campaign=campaign, scope__in=[Scope.CAMPAIGN, Scope.COMMUNITY], hour__gte=first
    ).values_list("scope", "place_id", "hour", "people"):
        if hour not in index:
            continue
        if scope == Scope.CAMPAIGN:
            total.points[index[hour]] += n
        else:
            series = per.setdefault(
                place_id, Series(names.get(place_id, str(place_id)), [0] * len(hours))
            )
            series.points[index[hour]] += n
    return Chart(hours, total, sorted(per.values(), key=lambda s: s.name))


# --- specimens -----------------------------------------------------------------------------


@dataclass
class BoxRow:
    box: Box
    oldest: dt.datetime | None
    now: dt.datetime

    @property
    def age(self) -> dt.timedelta | None:
        return self.now - self.oldest if self.oldest else None

    @property
    def state(self) -> str:
        return clocks.specimen_state(self.oldest, self.now)


def boxes_in_transit(campaign: Campaign, now: dt.datetime) -> list[BoxRow]:
    """Boxes sealed or with a courier, each with the seal time of its oldest tube."""
    return boxes_in_transit_of([campaign.pk], now)[campaign.pk]


def boxes_in_transit_of(campaign_ids: Collection[int], now: dt.datetime) -> dict[int, list[BoxRow]]:
    """``boxes_in_transit`` for several rounds, in one query."""
    found: dict[int, list[BoxRow]] = {pk: [] for pk in campaign_ids}
    for box in boxes_on_the_way(campaign_ids):
        found[box.campaign_id].append(BoxRow(box, box.oldest, now))  # type: ignore[attr-defined]
    return found


# --- alerts --------------------------------------------------------------------------------


def alerts(campaign: Campaign, now: dt.datetime) -> list[Alert]:
    """What needs a decision now, each with the place and a link to act on it: the one list
    (``core.alerts``) the community pages and the lab's page read too."""
    return core_alerts.current(campaign, now)


@dataclass
class Needs:
    """The campaign's open special needs: counters, the urgent ones and how many are late."""

    open: int
    urgent_count: int
    urgent: list[Request]
    late: list[Request]


def needs(campaign: Campaign, now: dt.datetime) -> Needs:
    communities = list(
        Coverage.objects.filter(campaign=campaign).values_list("community_id", flat=True)
    )
    open_requests = list(need_queries.queue(communities)[:200])
    counts = need_queries.counts(communities)
    return Needs(
        counts.open,
        counts.urgent,
        [r for r in open_requests if r.urgent],
        need_queries.overdue(open_requests, now),
    )


# --- drill-down ----------------------------------------------------------------------------


def community_tasks(campaign: Campaign, community_id: int) -> list[BuildingTask]:
    """The community's buildings in walking order (each with its ``sampled_pct``)."""
    return list(
        BuildingTask.objects.filter(campaign=campaign, community_id=community_id)
        .select_related("building", "team")
        .order_by("building__position", "building__name")
    )


@dataclass
class SiteDetail:
    row: SiteRow
    tally: Tally | None
    tubes: list[Tube]
    boxes: list[Box]


def site_detail(campaign: Campaign, site: Site, now: dt.datetime) -> SiteDetail | None:
    """A site's lanes (as on the dashboard), its latest tubes and its boxes."""
    row = next((r for r in sites(campaign, now) if r.site.pk == site.pk), None)
    if row is None:
        return None
    return SiteDetail(
        row,
        Tally.objects.filter(campaign=campaign, scope=Scope.SITE, place_id=site.pk).first(),
        list(
            Tube.objects.filter(campaign=campaign, site=site)
            .select_related("lane", "box")
            .order_by("-opened_at")[:30]
        ),
        list(Box.objects.filter(campaign=campaign, site=site).order_by("-opened_at")[:20]),
    )


def tube_members(tube: Tube) -> list[TubeMember]:
    """A tube's members in scan order (each with its ``masked_name``: residents and walk-ins)."""
    return list(
        TubeMember.objects.filter(tube=tube)
        .select_related("resident", "walk_in", "household__unit__building")
        .order_by("added_at")
    )

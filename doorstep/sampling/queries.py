"""Reads for the lane page, the sites list, the public wait bands and the specimen clock."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.campaigns.models import DEFAULT_BARCODE_PATTERN, Campaign, CampaignBuilding, PoolRule
from doorstep.campaigns.queries import running_in
from doorstep.core import clocks
from doorstep.core.models import User
from doorstep.sampling import hooks, rules
from doorstep.sampling.models import (
    Box,
    BoxStatus,
    Lane,
    QueueReport,
    Site,
    Tube,
    TubeMember,
    TubeStatus,
)

# Planning figure when a lane has no recent scans: about 85 people per lane per hour (F3.2).
PLANNED_PER_MINUTE = 85 / 60
RECENT = dt.timedelta(minutes=30)
# The wait bands, one rule for the residents' status page and the commander's alert: free up to
# the queue target (20 min, field guide), busy past it, jammed from 50 min. (Shenzhen's public
# bands put "busy" at 25 min; a site the commander is told to relieve is not "free" to a
# resident.)
BUSY_MINUTES = clocks.WAIT_TARGET_MINUTES + 1
JAMMED_MINUTES = 50


def in_lane_order(lanes: Iterable[Lane]) -> list[Lane]:
    """Lanes as people count them: 2号通道 before 10号通道 (the numbers in a name compared as
    numbers, the rest as text)."""
    return sorted(
        lanes,
        key=lambda lane: [
            (0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"(\d+)", lane.name)
            if part
        ],
    )


def packing_lane(user: User, site: Site) -> Lane | None:
    """The lane a box opened at the site's packing page belongs to: the user's own lane there
    (the first in lane order when they are on duty at several), or the site's first lane for
    a commander, who may scan anywhere; None when the user is on duty at no lane of it."""
    lanes = in_lane_order(site.lanes.all())
    mine = scan_lanes(user)
    if mine is not None:
        lanes = [lane for lane in lanes if lane.pk in mine]
    return lanes[0] if lanes else None


def scan_lanes(user: User, token_lane: int | None = None) -> set[int] | None:
    """The lanes a user may scan at now, or None for every lane of their territory.

    A registrar scans where they are on duty now (their staff record's open duties at lanes),
    or at the one lane the commander gave their device's token; the commander and the admin
    scan anywhere in their town."""
    if user.is_town_wide:
        return None
    lanes = hooks.lanes_on_duty(user.pk)
    if token_lane is not None:
        lanes.add(token_lane)
    return lanes


def lane_pools(pairs: Collection[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """The pool of a tube opened "by zone" at a lane, per (campaign, community of the lane's
    site): ``rules.lane_rule`` over the community's buildings in that round. The engine opens
    tubes by it and the lane page counts against it offline, so both agree on the capacity."""
    if not pairs:
        return {}
    counts: dict[tuple[int, int], Counter[tuple[str, str]]] = {}
    rows = (
        CampaignBuilding.objects.filter(
            campaign_id__in={c for c, _m in pairs}, community_id__in={m for _c, m in pairs}
        )
        .values_list("campaign_id", "community_id", "zone", "pool_rule")
        .annotate(n=Count("id"))
        .order_by()
    )
    for campaign_id, community_id, zone, rule, n in rows:
        counts.setdefault((campaign_id, community_id), Counter())[(zone, rule)] += n
    return {pair: rules.lane_rule(counts.get(pair, Counter())) for pair in pairs}


def today_start() -> dt.datetime:
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass
class LanePanel:
    """What the registrar's page shows of a lane, as the server has it."""

    lane: Lane
    campaign: Campaign | None
    pool: str  # the pool of a tube opened "by zone" here
    tube: Tube | None
    members: list[TubeMember]
    today: int
    sealed_today: int
    closed: list[str]  # barcodes sealed or discarded here today: re-scanning one is refused

    @property
    def pattern(self) -> str:
        return self.campaign.barcode_pattern if self.campaign else DEFAULT_BARCODE_PATTERN


def lane_panel(lane: Lane) -> LanePanel:
    tube = (
        Tube.objects.filter(lane=lane, status=TubeStatus.OPEN)
        .select_related("household")
        .order_by("-opened_at", "-id")
        .first()
    )
    members = (
        list(
            TubeMember.objects.filter(tube=tube)
            .select_related("resident", "walk_in")
            .order_by("-added_at", "-id")
        )
        if tube
        else []
    )
    since = today_start()
    counts = TubeMember.objects.filter(tube__lane=lane, added_at__gte=since).aggregate(
        n=Count("id")
    )
    closed = list(
        Tube.objects.filter(lane=lane, opened_at__gte=since)
        .exclude(status=TubeStatus.OPEN)
        .order_by("-opened_at")
        .values_list("code", "status")[:200]
    )
    campaign = running_in(lane.site.community_id)
    pool = lane_pools({(campaign.pk, lane.site.community_id)}) if campaign else {}
    return LanePanel(
        lane=lane,
        campaign=campaign,
        pool=next(iter(pool.values()), PoolRule.TWENTY),
        tube=tube,
        members=members,
        today=counts["n"],
        sealed_today=sum(1 for _code, status in closed if status == TubeStatus.SEALED),
        closed=[code for code, _status in closed],
    )


@dataclass
class Wait:
    waiting: int | None
    reported_at: dt.datetime | None
    minutes: int | None

    @property
    def band(self) -> str:
        if self.minutes is None:
            return "unknown"
        if self.minutes >= JAMMED_MINUTES:
            return "jammed"
        return "busy" if self.minutes >= BUSY_MINUTES else "free"


@dataclass(frozen=True)
class SiteWait:
    """A site on the sites page with its wait band from the last queue reports."""

    site: Site
    wait: Wait


def site_waits(sites: list[Site], now: dt.datetime | None = None) -> dict[int, Wait]:
    """Estimated wait per site: people reported waiting over the lanes' recent throughput."""
    now = now or timezone.now()
    lanes = list(Lane.objects.filter(site__in=sites))
    latest: dict[int, QueueReport] = {}
    for report in QueueReport.objects.filter(
        lane__in=lanes, reported_at__gte=now - dt.timedelta(hours=2)
    ).order_by("reported_at"):
        latest[report.lane_id] = report
    recent = dict(
        TubeMember.objects.filter(tube__lane__in=lanes, added_at__gte=now - RECENT)
        .values_list("tube__lane_id")
        .annotate(n=Count("id"))
        .values_list("tube__lane_id", "n")
    )
    waits = {}
    for site in sites:
        mine = [lane for lane in lanes if lane.site_id == site.pk]
        reports = [latest[lane.pk] for lane in mine if lane.pk in latest]
        if not reports:
            waits[site.pk] = Wait(None, None, None)
            continue
        waiting = sum(r.waiting for r in reports)
        rate = sum(recent.get(lane.pk, 0) for lane in mine) / RECENT.total_seconds() * 60
        rate = rate or PLANNED_PER_MINUTE * max(len(reports), 1)
        waits[site.pk] = Wait(waiting, max(r.reported_at for r in reports), round(waiting / rate))
    return waits


def sites_for(community_ids: list[int] | None, town_ids: set[int] | None) -> list[Site]:
    sites = Site.objects.select_related("community").prefetch_related("lanes")
    if community_ids is not None:
        sites = sites.filter(community_id__in=community_ids)
    elif town_ids is not None:
        sites = sites.filter(community__town_id__in=town_ids)
    return list(sites.order_by("community__name", "name"))


@dataclass(frozen=True)
class ClockedTube:
    """A sealed tube not yet at the lab, with its specimen clock: ``clocks.specimen_state``
    (ok, warn past 3 h, overdue past 4 h)."""

    tube: Tube
    clock: str


def _on_the_clock(tubes: Iterable[Tube], now: dt.datetime) -> list[ClockedTube]:
    return [ClockedTube(t, clocks.specimen_state(t.sealed_at, now)) for t in tubes]


def overdue_tubes(town_ids: set[int] | None, now: dt.datetime | None = None) -> list[ClockedTube]:
    """The specimen clock: sealed tubes not at the lab after 3 h (warning) or 4 h (overdue),
    each with its ``clock`` state."""
    now = now or timezone.now()
    tubes = Tube.objects.filter(
        status=TubeStatus.SEALED,
        received_at__isnull=True,
        sealed_at__lte=now - clocks.SPECIMEN_WARN,
    )
    if town_ids is not None:
        tubes = tubes.filter(campaign__town_id__in=town_ids)
    return _on_the_clock(tubes.select_related("site", "box").order_by("sealed_at")[:500], now)


def in_transit(town_ids: set[int] | None) -> list[Box]:
    """Boxes sealed at a site or with a courier: what the lab should expect. A box still being
    packed is the site's, even when its count disagreed."""
    boxes = Box.objects.filter(status__in=[BoxStatus.SEALED, BoxStatus.IN_TRANSIT])
    if town_ids is not None:
        boxes = boxes.filter(campaign__town_id__in=town_ids)
    return list(boxes.select_related("site").order_by("handed_at", "sealed_at"))


def _waiting_for_a_box(campaign_ids: Collection[int]) -> QuerySet[Tube]:
    """Sealed tubes of these rounds that wait for a box."""
    return Tube.objects.filter(
        campaign_id__in=campaign_ids,
        status=TubeStatus.SEALED,
        box__isnull=True,
        received_at__isnull=True,
    )


def unboxed_count(campaign: Any) -> int:
    """How many sealed tubes of the round wait for a box."""
    return _waiting_for_a_box([campaign.pk]).count()


@dataclass(frozen=True)
class Unboxed:
    waiting: int
    overdue: int  # past the specimen clock (``clocks.specimen_state`` says overdue)


def unboxed_counts(campaign_ids: Collection[int], now: dt.datetime) -> dict[int, Unboxed]:
    """For each round, the sealed tubes waiting for a box and how many of them are past the
    4 h clock, in one query."""
    found = {
        row["campaign_id"]: Unboxed(row["waiting"], row["overdue"])
        for row in _waiting_for_a_box(campaign_ids)
        .values("campaign_id")
        .annotate(
            waiting=Count("id"),
            overdue=Count("id", filter=Q(sealed_at__lte=now - clocks.SPECIMEN_DUE)),
        )
        .order_by()
    }
    return {pk: found.get(pk, Unboxed(0, 0)) for pk in campaign_ids}


def unboxed(
    campaign: Any, now: dt.datetime, *, late_only: bool = False, limit: int = 100
) -> list[ClockedTube]:
    """Sealed tubes waiting for a box, oldest first, each with its specimen ``clock`` state;
    with ``late_only``, only those past the clock's warning."""
    tubes = _waiting_for_a_box([campaign.pk])
    if late_only:
        tubes = tubes.filter(sealed_at__lte=now - clocks.SPECIMEN_WARN)
    return _on_the_clock(tubes.select_related("site", "lane").order_by("sealed_at")[:limit], now)


def boxes_on_the_way(campaign: Any) -> list[Box]:
    """Boxes sealed or with a courier, oldest tube first, each with ``oldest`` (the seal time of
    its oldest tube). ``campaign`` is a round, or the ids of several."""
    ids = list(campaign) if isinstance(campaign, Collection) else [campaign.pk]
    return list(
        Box.objects.filter(campaign_id__in=ids, status__in=[BoxStatus.SEALED, BoxStatus.IN_TRANSIT])
        .select_related("site")
        .annotate(oldest=Min("tubes__sealed_at"))
        .order_by("oldest")
    )


def campaign_sites(campaign: Any) -> list[Site]:
    """The sites of the campaign's communities, with their community and lanes."""
    return list(
        Site.objects.filter(
            community_id__in=CampaignBuilding.objects.filter(campaign=campaign).values(
                "community_id"
            )
        )
        .select_related("community")
        .prefetch_related("lanes")
        .order_by("community__name", "name")
    )


def open_in_round(campaign_id: int) -> list[str]:
    """What closing a round would leave behind: tubes still open at a lane, sealed tubes in no
    box, boxes not received by the lab (``campaigns.hooks`` asks before closing)."""
    lines = [
        _("Tube %(code)s is open at %(lane)s") % {"code": t.code, "lane": t.lane}
        for t in Tube.objects.filter(campaign_id=campaign_id, status=TubeStatus.OPEN)
        .select_related("lane__site")
        .order_by("code")[:200]
    ]
    lines += [
        _("Tube %(code)s is sealed but in no box") % {"code": code}
        for code in Tube.objects.filter(
            campaign_id=campaign_id, status=TubeStatus.SEALED, box__isnull=True
        )
        .order_by("code")
        .values_list("code", flat=True)[:200]
    ]
    lines += [
        _("Box %(code)s is %(status)s, not received")
        % {"code": b.code, "status": b.get_status_display()}
        for b in Box.objects.filter(campaign_id=campaign_id)
        .exclude(status=BoxStatus.RECEIVED)
        .order_by("code")[:200]
    ]
    return lines

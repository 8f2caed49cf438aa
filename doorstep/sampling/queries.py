"""Reads for the lane page, the sites list and the public wait bands."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count
from django.utils import timezone

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
# Resident-facing bands (Shenzhen): under 25 min free, 25 and over busy, 50 and over jammed.
BUSY_MINUTES = 25
JAMMED_MINUTES = 50


def today_start() -> dt.datetime:
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass
class LanePanel:
    lane: Lane
    tube: Tube | None
    members: list[TubeMember]
    today: int
    sealed_today: int


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
    sealed = Tube.objects.filter(lane=lane, sealed_at__gte=since).count()
    return LanePanel(lane, tube, members, counts["n"], sealed)


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


def overdue_tubes(
    town_ids: set[int] | None, now: dt.datetime | None = None, warn_hours: int = 3
) -> list[Tube]:
    """The specimen clock: sealed tubes not at the lab after 3 h (warning) or 4 h (overdue)."""
    now = now or timezone.now()
    tubes = Tube.objects.filter(
        status=TubeStatus.SEALED,
        received_at__isnull=True,
        sealed_at__lte=now - dt.timedelta(hours=warn_hours),
    )
    if town_ids is not None:
        tubes = tubes.filter(campaign__town_id__in=town_ids)
    return list(tubes.select_related("site", "box").order_by("sealed_at")[:500])


def in_transit(town_ids: set[int] | None) -> list[Box]:
    """Boxes sealed at a site or with a courier: what the lab should expect. A box still being
    packed is the site's, even when its count disagreed."""
    boxes = Box.objects.filter(status__in=[BoxStatus.SEALED, BoxStatus.IN_TRANSIT])
    if town_ids is not None:
        boxes = boxes.filter(campaign__town_id__in=town_ids)
    return list(boxes.select_related("site").order_by("handed_at", "sealed_at"))

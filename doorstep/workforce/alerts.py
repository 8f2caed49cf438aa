"""The workforce's alerts (``core.alerts``): a lane short of a sampler or a registrar, people on
duty past 12 hours. Both hold while the duties do: a check-in to the lane or a relief clears
them."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count, Min
from django.urls import reverse
from django.utils.translation import gettext as _

from doorstep.campaigns.models import CampaignBuilding
from doorstep.core import alerts, clocks
from doorstep.core.alerts import BAD, WARN, Alert
from doorstep.sampling.models import Lane
from doorstep.workforce.models import Duty, DutyCounter, DutyRole, PlaceKind
from doorstep.workforce.queries import short_of

LANE_SHORT, LONG_SHIFT = "lane_short", "long_shift"


def _short_lanes(campaign: Any, now: dt.datetime) -> list[Alert]:
    """A lane of the campaign's communities with someone on duty and no sampler or registrar."""
    return _short_lanes_many([campaign], now)[campaign.pk]


def _short_lanes_many(campaigns: list[Any], now: dt.datetime) -> dict[int, list[Alert]]:
    """``_short_lanes`` of several campaigns in three queries, whatever their number."""
    served: dict[int, list[int]] = defaultdict(list)  # community -> the campaigns over it
    for campaign_id, community_id in (
        CampaignBuilding.objects.filter(campaign__in=[c.pk for c in campaigns])
        .order_by()
        .values_list("campaign_id", "community_id")
        .distinct()
    ):
        served[community_id].append(campaign_id)
    lanes = list(
        Lane.objects.filter(site__community_id__in=list(served))
        .select_related("site")
        .order_by("site__name", "name")
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for place_id, role, n in DutyCounter.objects.filter(
        kind=PlaceKind.LANE, place_id__in=[lane.pk for lane in lanes]
    ).values_list("place_id", "role", "on_duty"):
        counts[place_id][role] = n
    found: dict[int, list[Alert]] = {campaign.pk: [] for campaign in campaigns}
    for lane in lanes:
        missing = short_of(counts[lane.pk])
        if not missing:
            continue
        alert = Alert(
            LANE_SHORT,
            BAD,
            _("%(site)s %(lane)s has no %(roles)s.")
            % {
                "site": lane.site.name,
                "lane": lane.name,
                "roles": ", ".join(str(DutyRole(r).label) for r in missing),
            },
            # The lane's page offers the fix: add one person, or move one here.
            reverse("workforce:lane_staff", args=[lane.pk]),
            f"{LANE_SHORT}:{lane.pk}:{'+'.join(missing)}",
            lane.site.community_id,
        )
        for campaign_id in served[lane.site.community_id]:
            found[campaign_id].append(alert)
    return found


def _long_shifts(campaign: Any, now: dt.datetime) -> list[Alert]:
    long = Duty.objects.filter(
        town_id=campaign.town_id, ended_at__isnull=True, started_at__lt=now - clocks.LONG_SHIFT
    ).aggregate(n=Count("id"), first=Min("started_at"))
    if not long["n"]:
        return []
    return [
        Alert(
            LONG_SHIFT,
            WARN,
            _("%(n)d people have been on duty more than 12 h: relieve them.") % {"n": long["n"]},
            reverse("workforce:where"),
            "long_shift",
            None,
            long["first"] + clocks.LONG_SHIFT,
        )
    ]


def register() -> None:
    alerts.register("workforce", _short_lanes, kinds=[LANE_SHORT], many=_short_lanes_many)
    alerts.register("workforce", _long_shifts, kinds=[LONG_SHIFT])

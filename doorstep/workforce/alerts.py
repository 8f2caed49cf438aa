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


def produce(campaign: Any, now: dt.datetime) -> list[Alert]:
    return _short_lanes(campaign) + _long_shifts(campaign, now)


def _short_lanes(campaign: Any) -> list[Alert]:
    lanes = list(
        Lane.objects.filter(
            site__community_id__in=CampaignBuilding.objects.filter(campaign=campaign).values(
                "community_id"
            )
        )
        .select_related("site")
        .order_by("site__name", "name")
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for place_id, role, n in DutyCounter.objects.filter(
        kind=PlaceKind.LANE, place_id__in=[lane.pk for lane in lanes]
    ).values_list("place_id", "role", "on_duty"):
        counts[place_id][role] = n
    found = []
    for lane in lanes:
        missing = short_of(counts[lane.pk])
        if missing:
            found.append(
                Alert(
                    "lane_short",
                    BAD,
                    _("%(site)s %(lane)s has no %(roles)s.")
                    % {
                        "site": lane.site.name,
                        "lane": lane.name,
                        "roles": ", ".join(str(DutyRole(r).label) for r in missing),
                    },
                    # The lane's page offers the fix: add one person, or move one here.
                    reverse("workforce:lane_staff", args=[lane.pk]),
                    f"lane_short:{lane.pk}:{'+'.join(missing)}",
                    lane.site.community_id,
                )
            )
    return found


def _long_shifts(campaign: Any, now: dt.datetime) -> list[Alert]:
    long = Duty.objects.filter(
        town_id=campaign.town_id, ended_at__isnull=True, started_at__lt=now - clocks.LONG_SHIFT
    ).aggregate(n=Count("id"), first=Min("started_at"))
    if not long["n"]:
        return []
    return [
        Alert(
            "long_shift",
            WARN,
            _("%(n)d people have been on duty more than 12 h: relieve them.") % {"n": long["n"]},
            reverse("workforce:where"),
            "long_shift",
            None,
            long["first"] + clocks.LONG_SHIFT,
        )
    ]


def register() -> None:
    alerts.register("workforce", produce)

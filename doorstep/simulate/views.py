"""The commander's forecast for a running round: when each site finishes at the last hour's
pace, and what one more lane there would change (``plan.pace``)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from doorstep.campaigns.models import Campaign
from doorstep.core import codes
from doorstep.core.clocks import SAMPLING_TARGET
from doorstep.core.http import AuthedRequest, require
from doorstep.core.roles import Can
from doorstep.simulate import feeder as simulated
from doorstep.simulate import forecast, plan
from doorstep.territory.actions import record_code_sheet
from doorstep.territory.models import Resident
from doorstep.territory.scoping import communities_for, scoped, scoped_to_towns


@require_GET
@login_required
def pace(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    require(request.user, Can.VIEW_DASHBOARD)
    campaign = get_object_or_404(
        scoped_to_towns(request.user, Campaign.objects.all()), pk=campaign_id
    )
    now = timezone.now()
    mine = set(communities_for(request.user).values_list("pk", flat=True))
    sites = [s for s in plan.pace(campaign, now) if s.site.community_id in mine]
    finishes = [s.finish for s in sites if s.left]
    # None when a site with people left is sampling nobody: at this pace it never finishes.
    last: dt.datetime | None = max((f for f in finishes if f is not None), default=now)
    if any(f is None for f in finishes):
        last = None
    return render(
        request,
        "simulate/pace.html",
        {
            "campaign": campaign,
            "sites": sites,
            "now": now,
            "last": last,
            "target": campaign.starts_at + SAMPLING_TARGET,
            "can_feed": request.user.can(Can.PRINT_CODES),
        },
    )


STAGES = {
    "sampling": _("Sampling (last swab, target 6 h)"),
    "door_to_door": _("Door to door (last household, target 4.5 h)"),
    "couriers": _("Couriers (longest seal to lab, target 4 h)"),
    "lab": _("Lab (longest receipt to result, target 6 h)"),
}


@require_GET
@login_required
def review(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    """The round's day against each stage's target, read from its rows: there as soon as the
    last result is in (the drill's after-action review, or any round's)."""
    require(request.user, Can.VIEW_DASHBOARD)
    campaign = get_object_or_404(
        scoped_to_towns(request.user, Campaign.objects.all()), pk=campaign_id
    )
    figures = forecast.from_database(campaign)
    stage, _why = figures.bottleneck()
    # The plan beside the day, when asked: one simulated day on the round's roster and staffing.
    expected = plan.planned(campaign) if request.GET.get("plan") == "1" else None
    plan_overruns = expected.forecast.overruns() if expected else {}
    stages = [
        (STAGES[k], round(v, 2), round(plan_overruns[k], 2) if k in plan_overruns else None)
        for k, v in figures.overruns().items()
    ]
    return render(
        request,
        "simulate/review.html",
        {
            "campaign": campaign,
            "f": figures,
            "p": expected.forecast if expected else None,
            "planned": expected,
            "stages": stages,
            "bottleneck": STAGES.get(stage, stage),
        },
    )


@require_GET
@login_required
def feeder(request: AuthedRequest, campaign_id: int, lane_id: int) -> HttpResponse:
    """Simulated residents for a real lane in a drill: the codes of who would be waiting now,
    to scan from this screen (``simulate.feeder``). A real round has no feeder."""
    require(request.user, Can.PRINT_CODES)
    campaign = get_object_or_404(
        scoped_to_towns(request.user, Campaign.objects.filter(is_drill=True)), pk=campaign_id
    )
    lane = get_object_or_404(
        scoped(
            request.user,
            simulated.lanes(campaign).select_related("site__community"),
            "site__community",
        ),
        pk=lane_id,
    )
    found = simulated.feeder(
        campaign, lane, timezone.now(), people=scoped(request.user, Resident.objects.all())
    )
    # Every view is a sheet of codes, the fragment the screen polls for included.
    record_code_sheet(request.user, "drill_lane", lane.pk, found.people)
    context = {
        "campaign": campaign,
        "feeder": found,
        "codes": [(r, codes.qr_svg(r.person_code)) for r in found.next],
    }
    template = (
        "simulate/_feeder.html" if request.headers.get("HX-Request") else "simulate/feeder.html"
    )
    return render(request, template, context)

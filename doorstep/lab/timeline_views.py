"""Where is a result? For community workers: a resident's timeline (the hotline's answer) and the
round's late results, masked and in the user's scope. The lab has neither: it sees no resident."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from doorstep.campaigns.models import Campaign
from doorstep.campaigns.queries import running_in
from doorstep.core.http import AuthedRequest, require
from doorstep.core.roles import Can
from doorstep.lab import timeline as timelines
from doorstep.sampling.models import RoundSample
from doorstep.territory.models import Resident
from doorstep.territory.scoping import residents_for, scoped_to_towns

# The late list shows this many rows, newest late first, and says how many more there are.
SHOWN = 500


def _round_of(resident: Resident) -> Campaign | None:
    """The round running where the resident lives, or else the newest they were sampled in."""
    running = running_in(resident.community_id)
    if running is not None:
        return running
    sampled = RoundSample.objects.filter(resident=resident).values("campaign_id")
    return Campaign.objects.filter(pk__in=sampled).order_by("-starts_at", "-id").first()


@require_GET
@login_required
def resident_timeline(request: AuthedRequest, resident_id: int) -> HttpResponse:
    """A resident's own timeline this round, as a worker reads it to them on the phone."""
    require(request.user, Can.VIEW_RETESTS)
    resident = get_object_or_404(
        residents_for(request.user).select_related("household__unit__building", "community"),
        pk=resident_id,
    )
    campaign = _round_of(resident)
    now = timezone.now()
    found = timelines.timeline(resident, campaign, now) if campaign else None
    return render(
        request,
        "lab/timeline.html",
        {"resident": resident, "campaign": campaign, "timeline": found, "now": now},
    )


@require_GET
@login_required
def late(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    """The round's people in the user's scope whose result is later than its time, with the
    step that holds each, newest late first."""
    require(request.user, Can.VIEW_RETESTS)
    campaign = get_object_or_404(
        scoped_to_towns(request.user, Campaign.objects.all()), pk=campaign_id
    )
    now = timezone.now()
    rows = timelines.late(campaign, residents_for(request.user), now)
    return render(
        request,
        "lab/timeline_late.html",
        {"campaign": campaign, "rows": rows[:SHOWN], "total": len(rows), "shown": SHOWN},
    )

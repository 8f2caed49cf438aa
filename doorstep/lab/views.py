"""The lab's pages (tube and box codes only, never a name) and the retest list for communities."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from doorstep.campaigns.models import Campaign
from doorstep.campaigns.queries import running_in_many
from doorstep.core import alerts as core_alerts
from doorstep.core.http import AuthedRequest, require
from doorstep.core.inputs import is_number
from doorstep.core.roles import Can
from doorstep.lab import pools as loops
from doorstep.lab.actions import results
from doorstep.lab.models import OrderStatus, RetestOrder
from doorstep.lab.results_file import import_results
from doorstep.sampling import ingest, queries
from doorstep.sampling.models import Tube, TubeMember
from doorstep.territory.scoping import communities_for, scoped, scoped_to_towns, town_ids


def _scoped_tubes(request: AuthedRequest):  # type: ignore[no-untyped-def]
    tubes = Tube.objects.all()
    towns = town_ids(request.user)
    return tubes if towns is None else tubes.filter(campaign__town_id__in=towns)


def _desk(
    request: AuthedRequest, answer: dict[str, object] | None = None, status: int = 200
) -> HttpResponse:
    now = timezone.now()
    towns = town_ids(request.user)
    boxes = queries.in_transit(towns)
    clock = queries.overdue_tubes(towns, now)
    pending = _scoped_tubes(request).filter(received_at__isnull=False, result="").count()
    return render(
        request,
        "lab/index.html",
        {"boxes": boxes, "clock": clock, "pending": pending, "answer": answer},
        status=status,
    )


@require_GET
@login_required
def index(request: AuthedRequest) -> HttpResponse:
    require(request.user, Can.RECEIVE_SPECIMENS)
    return _desk(request)


@require_POST
@login_required
def receive(request: AuthedRequest) -> HttpResponse:
    require(request.user, Can.RECEIVE_SPECIMENS)
    raw = request.POST.get("count", "")
    event = {
        "id": str(uuid.uuid4()),
        "type": "box.receive",
        "at": timezone.now().isoformat(),
        "box": request.POST.get("box", ""),
        "count": int(raw) if is_number(raw) else raw,
    }
    answer = ingest.apply(request.user, [event])[0]
    return _desk(request, answer, 400 if answer["status"] == "rejected" else 200)


@require_http_methods(["GET", "POST"])
@login_required
def upload(request: AuthedRequest) -> HttpResponse:
    require(request.user, Can.RECORD_RESULTS)
    context: dict[str, object] = {}
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            context["file_error"] = _("Choose the results file (.xlsx or .csv) to upload.")
            return render(request, "lab/upload.html", context, status=400)
        report = import_results(request.user, upload, upload.name or "")
        context["report"] = report
        return render(request, "lab/upload.html", context, status=200 if report.ok else 400)
    return render(request, "lab/upload.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def tube(request: AuthedRequest, code: str) -> HttpResponse:
    require(request.user, Can.RECORD_RESULTS)
    found = get_object_or_404(
        _scoped_tubes(request).select_related("box", "site", "retest_of"), code=code.upper()
    )
    answer = None
    if request.method == "POST":
        answer = results.record(
            request.user,
            [
                {
                    "tube": found.code,
                    "result": request.POST.get("result", ""),
                    "correction": True,
                    "reason": request.POST.get("reason", ""),
                }
            ],
        )[0]
        found.refresh_from_db()
    return render(
        request,
        "lab/tube.html",
        {"tube": found, "history": found.results.order_by("recorded_at", "id"), "answer": answer},
        status=400 if answer and answer["status"] == "rejected" else 200,
    )


@require_GET
@login_required
def retests(request: AuthedRequest) -> HttpResponse:
    """Members of positive or invalid pools still to be re-sampled, by community (masked)."""
    require(request.user, Can.VIEW_RETESTS)
    communities = list(communities_for(request.user))
    wanted = request.GET.get("community", "")
    shown = [c for c in communities if str(c.pk) == wanted] or communities
    orders = (
        scoped(request.user, RetestOrder.objects.filter(community__in=shown))
        .exclude(status__in=[OrderStatus.RESULTED, OrderStatus.CANCELLED])
        .select_related(
            "resident",
            "walk_in",
            "household__unit__building",
            "original_tube",
            "community",
            "campaign",
        )
        .order_by(
            "community__name", "household__unit__building__position", "household__room", "id"
        )[:500]
    )
    now = timezone.now()
    ids = {c.pk for c in shown}
    alerts = [
        a
        for campaign in {c.pk: c for c in running_in_many(ids).values()}.values()
        for a in core_alerts.for_user(request.user, campaign, now, apps={"lab"})
        if a.community_id in ids
    ]
    return render(
        request,
        "lab/retests.html",
        {
            "orders": orders,
            "alerts": alerts,
            "communities": communities,
            "community": wanted,
            "can_ack": request.user.can(Can.ACK_ALERTS),
            "back": request.get_full_path(),
        },
    )


@require_GET
@login_required
def pools(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    """The round's positive pools and their retest loops: each member traced to a household,
    who must stay home, retests ordered, sampled and resulted, and when each loop closed."""
    require(request.user, Can.VIEW_RETESTS)
    campaign = get_object_or_404(
        scoped_to_towns(request.user, Campaign.objects.all()), pk=campaign_id
    )
    mine = scoped(request.user, TubeMember.objects.all())
    found = loops.loops(campaign, mine)
    closed = [loop.time_to_close for loop in found if loop.time_to_close is not None]
    return render(
        request,
        "lab/pools.html",
        {
            "campaign": campaign,
            "loops": found,
            "counts": loops.loop_counts(campaign, mine),
            "longest": max(closed, default=None),
            "shown": loops.SHOWN,
            "can_trace": request.user.can(Can.TRACE_WALK_INS),
            "can_cases": request.user.can(Can.VIEW_CASES),
        },
    )

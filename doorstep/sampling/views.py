"""Sampling sites and their lanes, queue reports, and packing boxes at a site."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from doorstep.core import codes
from doorstep.core.http import AuthedRequest, require
from doorstep.core.inputs import is_number, number
from doorstep.core.roles import Can
from doorstep.sampling import actions, ingest, queries
from doorstep.sampling.access import lane_for_user, site_for_user
from doorstep.sampling.models import Box, BoxStatus, Serves, Site
from doorstep.territory.scoping import communities_for, town_ids


@require_GET
@login_required
def sites(request: AuthedRequest) -> HttpResponse:
    require(request.user, Can.VIEW_SITES)
    user = request.user
    found = queries.sites_for(
        None if user.is_town_wide else list(user.communities.values_list("pk", flat=True)),
        town_ids(user),
    )
    waits = queries.site_waits(found)
    return render(
        request,
        "sampling/sites.html",
        {
            "sites": [queries.SiteWait(site, waits[site.pk]) for site in found],
            "can_manage": user.can(Can.MANAGE_SITES),
            "can_scan": user.can(Can.SCAN),
        },
    )


def _time(raw: str) -> dt.time | None:
    try:
        return dt.time.fromisoformat(raw) if raw else None
    except ValueError:
        raise actions.SiteError(_("Give times as HH:MM, e.g. 07:00.")) from None


@require_http_methods(["GET", "POST"])
@login_required
def site_create(request: AuthedRequest) -> HttpResponse:
    require(request.user, Can.MANAGE_SITES)
    communities = communities_for(request.user)
    context: dict[str, object] = {
        "communities": communities,
        "serves": Serves.choices,
        "form": request.POST,
    }
    if request.method == "POST":
        community = communities.filter(pk=number(request.POST.get("community", ""))).first()
        lanes = request.POST.get("lanes", "")
        try:
            if community is None:
                raise actions.SiteError(_("Choose the community the site is in."))
            if not is_number(lanes):
                raise actions.SiteError(_("Say how many lanes the site has (1 to 30)."))
            site = actions.create_site(
                community,
                request.POST.get("name", ""),
                int(lanes),
                opens_at=_time(request.POST.get("opens_at", "")),
                closes_at=_time(request.POST.get("closes_at", "")),
                serves=request.POST.get("serves", Serves.EVERYONE),
                address=request.POST.get("address", ""),
            )
        except actions.SiteError as exc:
            context["error"] = str(exc)
            return render(request, "sampling/site_form.html", context, status=400)
        messages.success(
            request, _("%(site)s is open with %(n)s lanes.") % {"site": site.name, "n": lanes}
        )
        return redirect("sampling:sites")
    return render(request, "sampling/site_form.html", context)


@require_GET
@login_required
def lane_codes(request: AuthedRequest, site_id: int) -> HttpResponse:
    site = site_for_user(request, site_id)
    lanes = [
        {"lane": lane, "qr": codes.qr_svg(lane.code), "display": codes.display(lane.code)}
        for lane in site.lanes.order_by("name")
    ]
    return render(request, "sampling/lane_codes.html", {"site": site, "lanes": lanes})


@require_POST
@login_required
def queue(request: AuthedRequest, lane_id: int) -> HttpResponse:
    found = lane_for_user(request, lane_id)
    raw = request.POST.get("waiting", "")
    try:
        if not is_number(raw):
            raise actions.SiteError(_("Say how many people are waiting, as a number."))
        actions.report_queue(request.user, found, int(raw))
        messages.success(request, _("Queue reported: about %(n)s waiting.") % {"n": raw})
    except actions.SiteError as exc:
        messages.error(request, str(exc))
    return redirect("sampling:lane", lane_id=found.pk)


@require_http_methods(["GET", "POST"])
@login_required
def boxes(request: AuthedRequest, site_id: int) -> HttpResponse:
    """Packing at the site, scanner first: scan a box once, then its tubes one after another
    with a running count, seal it with the hand count, hand it to the courier."""
    site = site_for_user(request, site_id)
    require(request.user, Can.SCAN)
    answer = None
    current = request.GET.get("box", "").strip().upper()
    if request.method == "POST":
        answer, current = _box_action(request, site)
    box = (
        Box.objects.filter(site=site, code=current, status=BoxStatus.OPEN)
        .order_by("-opened_at")
        .first()
        if current
        else None
    )
    context = {
        "site": site,
        "answer": answer,
        "box": box,
        "box_tubes": list(box.tubes.order_by("-id").values_list("code", flat=True)) if box else [],
        "boxes": Box.objects.filter(site=site)
        .exclude(status=BoxStatus.RECEIVED)
        .order_by("-opened_at")[:50],
    }
    status = 400 if answer and answer["status"] == "rejected" else 200
    return render(request, "sampling/boxes.html", context, status=status)


def _count(raw: str) -> int | str:
    return int(raw) if is_number(raw) else raw


def _box_action(request: AuthedRequest, site: Site) -> tuple[dict[str, Any], str]:
    """What a scan or a button on the packing page does; returns the answer and the box the
    registrar is packing after it."""
    action = request.POST.get("action", "")
    code = request.POST.get("box", "").strip().upper().replace(" ", "")
    if action == "box":
        found = Box.objects.filter(site=site, code=code).order_by("-opened_at").first()
        if found is not None and found.status == BoxStatus.OPEN:
            return {"id": "", "status": "accepted"}, code
        lane = queries.packing_lane(request.user, site)
        if lane is None:
            return _refusal(
                _(
                    "You are on duty at no lane of %(site)s, so a box cannot be opened here. Ask the commander to put you on one of its lanes."
                )
                % {"site": site.name}
            ), ""
        answer = ingest.apply_one(request.user, "box.open", lane=lane.code, box=code)
        return answer, code if answer["status"] == "accepted" else ""
    if action == "add":
        tube = request.POST.get("tube", "").strip().upper()
        answer = ingest.apply_one(request.user, "box.add", box=code, tube=tube)
        if answer["status"] != "rejected":
            # Say which tube went in: the registrar checks it against the one in their hand.
            answer = {**answer, "said": _("%(tube)s is in %(box)s.") % {"tube": tube, "box": code}}
        return answer, code
    if action == "seal":
        answer = ingest.apply_one(
            request.user, "box.seal", box=code, count=_count(request.POST.get("count", ""))
        )
        return answer, "" if answer["status"] == "accepted" else code
    if action == "handoff":
        answer = ingest.apply_one(
            request.user,
            "box.handoff",
            box=code,
            count=_count(request.POST.get("count", "")),
            courier=request.POST.get("courier", ""),
        )
        return answer, ""
    return _refusal(_("Choose what to do with the box.")), ""


def _refusal(message: str) -> dict[str, Any]:
    return {"id": "", "status": "rejected", "error": {"code": "invalid", "message": message}}

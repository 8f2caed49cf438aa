from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from doorstep.campaigns.models import DEFAULT_BARCODE_PATTERN
from doorstep.core import codes
from doorstep.core.http import AuthedRequest
from doorstep.core.idnumbers import InvalidValue, normalise_resident_id
from doorstep.core.roles import Can
from doorstep.core.scoping import communities_for, require, scoped, town_ids
from doorstep.sampling import actions, events, queries
from doorstep.sampling.models import Box, BoxStatus, Lane, Serves, Site, Tube

POOL_CHOICES = ["", "1", "household", "5", "10", "20"]


def _is_htmx(request: AuthedRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _get_site_for_user(request: AuthedRequest, pk: int) -> Site:
    require(request.user, Can.VIEW_SITES)
    return get_object_or_404(scoped(request.user, Site.objects.select_related("community")), pk=pk)


def _get_lane_for_user(request: AuthedRequest, pk: int) -> Lane:
    require(request.user, Can.SCAN)
    lanes = scoped(request.user, Lane.objects.select_related("site__community"), "site__community")
    return get_object_or_404(lanes, pk=pk)


def _send(request: AuthedRequest, type_: str, **fields: Any) -> dict[str, Any]:
    """One event from a page, through the same engine as the devices."""
    event = {"id": str(uuid.uuid4()), "type": type_, "at": timezone.now().isoformat(), **fields}
    return events.apply(request.user, [event])[0]


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
    for site in found:
        site.wait = waits[site.pk]  # type: ignore[attr-defined]
    return render(
        request,
        "sampling/sites.html",
        {
            "sites": found,
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
        community = communities.filter(pk=request.POST.get("community") or 0).first()
        lanes = request.POST.get("lanes", "")
        try:
            if community is None:
                raise actions.SiteError(_("Choose the community the site is in."))
            if not lanes.isdigit():
                raise actions.SiteError(_("Say how many lanes the site has (1 to 30)."))
            site = actions.create_site(
                community,
                request.POST.get("name", ""),
                int(lanes),
                opens_at=_time(request.POST.get("opens_at", "")),
                closes_at=_time(request.POST.get("closes_at", "")),
                serves=request.POST.get("serves", Serves.EVERYONE),
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
def lane_codes(request: AuthedRequest, pk: int) -> HttpResponse:
    site = _get_site_for_user(request, pk)
    lanes = [
        {"lane": lane, "qr": codes.qr_svg(lane.code), "display": codes.display(lane.code)}
        for lane in site.lanes.order_by("name")
    ]
    return render(request, "sampling/lane_codes.html", {"site": site, "lanes": lanes})


@require_http_methods(["GET", "POST"])
@login_required
def lane(request: AuthedRequest, pk: int) -> HttpResponse:
    """The registrar's page: scan the tube, then each person, then seal."""
    found = _get_lane_for_user(request, pk)
    answer: dict[str, Any] | None = None
    if request.method == "POST":
        answer = _lane_action(request, found)
    panel = queries.lane_panel(found)
    context = {
        "panel": panel,
        "answer": answer,
        "pools": POOL_CHOICES,
        "pool": request.POST.get("pool", ""),
        "boot": _boot(request, panel),
    }
    status = 200 if answer is None or answer["status"] != "rejected" or _is_htmx(request) else 400
    template = "sampling/_lane_panel.html" if _is_htmx(request) else "sampling/lane.html"
    return render(request, template, context, status=status)


def _lane_action(request: AuthedRequest, lane: Lane) -> dict[str, Any]:
    action = request.POST.get("action", "scan")
    open_tube = queries.lane_panel(lane).tube
    if action == "seal":
        if open_tube is None:
            return _refusal(_("There is no open tube to seal."))
        return _send(request, "tube.seal", tube=open_tube.code)
    if action == "walk_in":
        if open_tube is None:
            return _refusal(_("Scan a tube first, then register the person."))
        walk_in = {k: request.POST.get(k, "") for k in ("name", "id_number", "phone")}
        return _send(request, "tube.add", tube=open_tube.code, walk_in=walk_in)
    code = request.POST.get("code", "").strip()
    if not code:
        return _refusal(_("Nothing was scanned. Scan again or type the code."))
    if open_tube is None:
        pool = request.POST.get("pool", "")
        fields: dict[str, Any] = {"lane": lane.code, "tube": code}
        if pool in POOL_CHOICES[1:]:
            fields["pool"] = pool if pool == "household" else int(pool)
        return _send(request, "tube.open", **fields)
    if _is_new_tube(open_tube, code):
        return _refusal(
            _("Tube %(code)s is still open (%(n)s people). Seal it before starting a new tube.")
            % {"code": open_tube.code, "n": open_tube.member_count}
        )
    override = request.POST.get("override", "").strip()
    extra = {"override": override} if override else {}
    return _send(request, "tube.add", tube=open_tube.code, person=code, **extra)


def _is_new_tube(open_tube: Tube, code: str) -> bool:
    """A scan that is a tube barcode rather than a person's code or ID number."""
    if codes.parse_person_code(code) is not None:
        return False
    try:
        normalise_resident_id(code)
        return False
    except InvalidValue:
        pass
    return bool(re.match(open_tube.campaign.barcode_pattern, code.upper().replace(" ", "")))


def _refusal(message: str) -> dict[str, Any]:
    return {"id": "", "status": "rejected", "error": {"code": "invalid", "message": message}}


@require_POST
@login_required
def queue(request: AuthedRequest, pk: int) -> HttpResponse:
    found = _get_lane_for_user(request, pk)
    raw = request.POST.get("waiting", "")
    try:
        if not raw.isdigit():
            raise actions.SiteError(_("Say how many people are waiting, as a number."))
        actions.report_queue(request.user, found, int(raw))
        messages.success(request, _("Queue reported: about %(n)s waiting.") % {"n": raw})
    except actions.SiteError as exc:
        messages.error(request, str(exc))
    return redirect("sampling:lane", pk=found.pk)


@require_http_methods(["GET", "POST"])
@login_required
def boxes(request: AuthedRequest, pk: int) -> HttpResponse:
    """Packing at the site: tubes into a box, seal with the hand count, hand to the courier."""
    site = _get_site_for_user(request, pk)
    require(request.user, Can.SCAN)
    answer = None
    if request.method == "POST":
        answer = _box_action(request, site)
    context = {
        "site": site,
        "answer": answer,
        "boxes": Box.objects.filter(site=site)
        .exclude(status=BoxStatus.RECEIVED)
        .order_by("-opened_at")[:50],
    }
    status = 400 if answer and answer["status"] == "rejected" else 200
    return render(request, "sampling/boxes.html", context, status=status)


def _count(raw: str) -> int | str:
    return int(raw) if raw.isdigit() else raw


def _box_action(request: AuthedRequest, site: Site) -> dict[str, Any]:
    action = request.POST.get("action", "")
    box = request.POST.get("box", "").strip()
    if action == "open":
        first = site.lanes.order_by("name").first()
        if first is None:
            return _refusal(_("This site has no lanes."))
        return _send(request, "box.open", lane=first.code, box=box)
    if action == "add":
        return _send(request, "box.add", box=box, tube=request.POST.get("tube", ""))
    if action == "seal":
        return _send(request, "box.seal", box=box, count=_count(request.POST.get("count", "")))
    if action == "handoff":
        return _send(
            request,
            "box.handoff",
            box=box,
            count=_count(request.POST.get("count", "")),
            courier=request.POST.get("courier", ""),
        )
    return _refusal(_("Choose what to do with the box."))


def _boot(request: AuthedRequest, panel: queries.LanePanel) -> dict[str, Any]:
    """What the offline lane app starts from, with its messages in the user's language."""
    tube = panel.tube
    campaign = tube.campaign if tube else None
    if campaign is None:
        from doorstep.sampling.events import Batch

        try:
            campaign = Batch(request.user, timezone.now()).campaign_for(
                panel.lane.site.community_id
            )
        except events.Rejected:
            campaign = None
    masked = [
        m.resident.masked_name if m.resident else str(m.walk_in) for m in reversed(panel.members)
    ]
    people = [m.resident.person_code for m in reversed(panel.members) if m.resident]
    return {
        "lane": panel.lane.code,
        "lanePk": panel.lane.pk,
        "endpoint": reverse("sampling:lane_events", args=[panel.lane.pk]),
        "worker": reverse("sampling:service_worker"),
        "scope": reverse("sampling:sites"),
        "csrf": get_token(request),
        "at": timezone.now().isoformat(),
        "pattern": campaign.barcode_pattern if campaign else DEFAULT_BARCODE_PATTERN,
        "today": panel.today,
        "sealedToday": panel.sealed_today,
        "tube": {
            "code": tube.code,
            "count": tube.member_count,
            "capacity": tube.capacity,
            "members": masked,
            "people": people,
        }
        if tube
        else None,
        "text": {
            "scanTube": _("Scan a new tube's barcode"),
            "scanPerson": _("Scan the next person's code (or type their ID number)"),
            "seal": _("Seal tube %(code)s") % {"code": "{code}"},
            "nothing": _("Nothing was scanned. Scan again or type the code."),
            "notTube": _(
                "%(code)s is not a tube barcode of this round (expected %(pattern)s). Scan the tube's own label."
            )
            % {
                "code": "{code}",
                "pattern": campaign.barcode_pattern if campaign else DEFAULT_BARCODE_PATTERN,
            },
            "stillOpen": _(
                "Tube %(code)s is still open (%(n)s people). Seal it before starting a new tube."
            )
            % {"code": "{code}", "n": "{n}"},
            "twice": _("This person is already in this tube."),
            "full": _(
                "Tube %(code)s already holds %(n)s people. Seal it and open a new tube for this person."
            )
            % {"code": "{code}", "n": "{n}"},
            "noTube": _("There is no open tube to seal."),
            "empty": _("Tube %(code)s is empty: add people before sealing it.")
            % {"code": "{code}"},
            "opened": _("Tube opened: scan the people."),
            "added": _("Added."),
            "sealed": _("Tube %(code)s sealed.") % {"code": "{code}"},
            "sending": _("sending…"),
            "allSent": _("All sent."),
            "offline": _("No signal: scans are kept on this device and sent when it returns."),
        },
    }


@require_POST
@login_required
def lane_events(request: AuthedRequest, pk: int) -> HttpResponse:
    """The lane page's outbox posts its events here (session and CSRF, same engine as the API)."""
    found = _get_lane_for_user(request, pk)
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"error": _("The body is not JSON.")}, status=400)
    batch = body.get("events") if isinstance(body, dict) else None
    if not isinstance(batch, list):
        return JsonResponse({"error": _('Send {"events": [...]}.')}, status=400)
    if len(batch) > events.MAX_EVENTS:
        return JsonResponse(
            {"error": _("At most %(n)s events at a time.") % {"n": events.MAX_EVENTS}}, status=413
        )
    results = events.apply(request.user, batch)
    tube = queries.lane_panel(found).tube
    return JsonResponse(
        {
            "results": results,
            "tube": {"code": tube.code, "count": tube.member_count, "capacity": tube.capacity}
            if tube
            else None,
        }
    )


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """Served from /sampling/ so that it may control the lane pages."""
    from django.conf import settings

    response = render(
        request,
        "sampling/sw.js",
        {
            "static_prefix": settings.STATIC_URL,
            "lanes_prefix": reverse("sampling:sites") + "lanes/",
        },
        content_type="application/javascript",
    )
    response["Cache-Control"] = "no-cache"
    return response

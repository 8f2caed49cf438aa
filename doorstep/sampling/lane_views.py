"""The registrar's lane page: scan the tube, then each person, then seal.

The page is an offline app (``static/sampling/lane.js``): it checks each scan against the lane
rules it was given as data, keeps the scan as an event in an outbox, and shows it as pending
until the server answers. Without JavaScript the same forms post here and are answered at once.
Either way every scan goes through the one ingest engine, as a device's would.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from doorstep.core import offline
from doorstep.core.http import AuthedRequest, NotJson, json_body
from doorstep.sampling import ingest, queries, rules
from doorstep.sampling.access import lane_for_user
from doorstep.sampling.models import Lane
from doorstep.sampling.rules import Refusal
from doorstep.territory.models import DocumentType
from doorstep.territory.queries import address_book

POOL_CHOICES = ["", "1", "household", "5", "10", "20"]


def _refused(refusal: Refusal) -> dict[str, Any]:
    return {
        "id": "",
        "status": "rejected",
        "error": {"code": refusal.code, "message": refusal.message},
    }


@require_http_methods(["GET", "POST"])
@login_required
@offline.page
def lane(request: AuthedRequest, lane_id: int) -> HttpResponse:
    found = lane_for_user(request, lane_id)
    answer = _lane_action(request, found) if request.method == "POST" else None
    panel = queries.lane_panel(found)
    context = {
        "panel": panel,
        "answer": answer,
        "pools": POOL_CHOICES,
        "lane_rule": rules.rule_label(panel.pool),
        "documents": DocumentType.choices,
        # A walk-in's address is picked from the community's own list, offline too.
        "addresses": address_book(found.site.community_id),
        "boot": _boot(request, panel),
        "offline": offline.boot(
            "lane",
            reverse("sampling:service_worker"),
            reverse("sampling:sites"),
            town=found.site.community.town_id,
            holds=f"lane:{found.pk}",
        ),
        "now": timezone.now(),
    }
    status = 400 if answer is not None and answer["status"] == "rejected" else 200
    response = render(request, "sampling/lane.html", context, status=status)
    # The page is the lane's town's (the registrar may be from another): erased with it.
    return offline.of_town(response, found.site.community.town_id)


def _lane_action(request: AuthedRequest, lane: Lane) -> dict[str, Any]:
    """The forms without JavaScript: each answered at once."""
    action = request.POST.get("action", "scan")
    panel = queries.lane_panel(lane)
    tube = panel.tube
    if action in {"seal", "discard", "walk_in"} and tube is None:
        return _refused(rules.refuse("no_tube", "no_tube"))
    if action == "seal":
        return ingest.apply_one(request.user, "tube.seal", tube=tube.code)  # type: ignore[union-attr]
    if action == "discard":
        return ingest.apply_one(request.user, "tube.discard", tube=tube.code)  # type: ignore[union-attr]
    if action == "walk_in":
        fields = ("name", "id_type", "id_number", "phone", "address")
        walk_in = {k: request.POST.get(k, "") for k in fields}
        return ingest.apply_one(request.user, "tube.add", tube=tube.code, walk_in=walk_in)  # type: ignore[union-attr]
    code = request.POST.get("code", "").strip()
    if not code:
        return _refused(rules.refuse("invalid", "nothing"))
    if tube is not None and _same_tube(code, tube.code, panel.pattern):
        return ingest.apply_one(request.user, "tube.seal", tube=tube.code)  # scanned again: seal
    if tube is None:
        fields_open: dict[str, Any] = {"lane": lane.code, "tube": code}
        pool = request.POST.get("pool", "")
        if pool in POOL_CHOICES[1:]:
            fields_open["pool"] = pool if pool == "household" else int(pool)
        return ingest.apply_one(request.user, "tube.open", **fields_open)
    id_type = request.POST.get("id_type", "")
    if not id_type:
        try:
            rules.person_scan(code, panel.pattern, tube.code, tube.member_count)
        except Refusal as refusal:
            return _refused(refusal)
    extra = {"id_type": id_type} if id_type else {}
    override = request.POST.get("override", "").strip()
    if override:
        extra["override"] = override
    return ingest.apply_one(request.user, "tube.add", tube=tube.code, person=code, **extra)


def _same_tube(raw: str, open_code: str, pattern: str) -> bool:
    """The open tube's barcode scanned again, read by the tube rule as the page reads it."""
    try:
        return rules.tube_code(raw, pattern) == open_code
    except Refusal:
        return False


def lane_state(panel: queries.LanePanel) -> dict[str, Any]:
    """The server's truth about a lane, as the page shows it: the open tube with the people the
    server recorded in it (masked), and today's figures."""
    tube = panel.tube
    return {
        "at": timezone.now().isoformat(),
        "tube": {
            "code": tube.code,
            "pool": tube.pool_rule,
            "capacity": tube.capacity,
            "count": tube.member_count,
            "room": tube.household.room if tube.household else "",
            "members": [
                {
                    "name": m.resident.masked_name if m.resident else str(m.walk_in),
                    "walkIn": m.walk_in_id is not None,
                    "again": m.override_reason,
                }
                for m in reversed(panel.members)
            ],
            "codes": [m.resident.person_code for m in panel.members if m.resident],
        }
        if tube
        else None,
        "today": panel.today,
        "sealedToday": panel.sealed_today,
        "closed": panel.closed,
        "rules": rules.page_data(panel.pattern, panel.pool),
    }


def _boot(request: AuthedRequest, panel: queries.LanePanel) -> dict[str, Any]:
    """What the offline lane app starts from, with its words in the user's language."""
    return {
        "lane": panel.lane.code,
        "lanePk": panel.lane.pk,
        "endpoint": reverse("sampling:lane_events", args=[panel.lane.pk]),
        "csrf": get_token(request),
        "state": lane_state(panel),
        "text": _page_words(),
    }


def _page_words() -> dict[str, str]:
    """The page's own words, as templates it fills (``{code}``)."""
    return rules.as_templates(
        {
            "scanTube": _("Scan a new tube's barcode"),
            "scanPerson": _("Scan the next person's code (or type their ID number)"),
            "seal": _("Seal tube %(code)s"),
            "discard": _("Discard empty tube %(code)s"),
            "opened": _("Tube %(code)s opened: scan the people."),
            "openedWaiting": _("Tube %(code)s: opening, waiting for the server."),
            "pending": _("%(code)s: waiting for the server"),
            "queued": _("Kept on this phone, waiting for the server: %(code)s"),
            "recorded": _("Recorded: %(code)s"),
            "refused": _("Refused: %(reason)s"),
            "sealing": _("Tube %(code)s: sealing, waiting for the server."),
            "sealed": _("Tube %(code)s sealed."),
            "discarding": _("Tube %(code)s: discarding, waiting for the server."),
            "discarded": _("Tube %(code)s discarded."),
            "fill": _("%(confirmed)s recorded · %(pending)s waiting"),
            "household": _("household"),
            "walkIn": _("walk-in"),
            "again": _("again"),
            "sending": _("sending…"),
            "allSent": _("All sent."),
            "offline": _("No signal: scans are kept on this device and sent when it returns."),
            "alarmPerson": _("%(name)s (%(code)s) in tube %(tube)s"),
            "alarmTube": _("Tube %(tube)s"),
            "unknownName": _("person not found"),
            "ack": _("Done: I have dealt with it"),
            "walkInQueued": _("Walk-in %(name)s kept, waiting for the server."),
        }
    )


@require_POST
@login_required
def lane_events(request: AuthedRequest, lane_id: int) -> HttpResponse:
    """The lane page's outbox posts its events here (session and CSRF, same engine as the API)
    and gets back, with each event's answer, the lane as the server now has it."""
    found = lane_for_user(request, lane_id)
    try:
        body = json_body(request)
    except NotJson:
        return JsonResponse(
            {"error": _('The body is not JSON. Send {"events": [...]} as application/json.')},
            status=400,
        )
    batch = body.get("events") if isinstance(body, dict) else None
    if not isinstance(batch, list):
        return JsonResponse({"error": _('Send {"events": [...]}.')}, status=400)
    if len(batch) > ingest.MAX_EVENTS:
        return JsonResponse(
            {"error": _("At most %(n)s events at a time.") % {"n": ingest.MAX_EVENTS}}, status=413
        )
    results = ingest.apply(request.user, batch)
    return JsonResponse({"results": results, "state": lane_state(queries.lane_panel(found))})


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """Served from /sampling/ so that it may control the lane pages."""
    return offline.worker(request, "lane", reverse("sampling:sites") + "lanes/")

"""Pages of telling: the door visits of a community and the notice to leave there, the
outbox for the commander, and the gateway's delivery reports."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from doorstep.core import watermark
from doorstep.core.actions import RESIDENT, WALK_IN, audit
from doorstep.core.http import AuthedRequest, require
from doorstep.core.models import AuditAction
from doorstep.core.roles import Can, Role
from doorstep.notices import actions, queries, sender, words
from doorstep.notices.forms import SignatureForm
from doorstep.notices.models import Kind, Message, MessageState, Notice
from doorstep.territory.models import District, Household, Town
from doorstep.territory.scoping import scoped

log = logging.getLogger("doorstep.notices")


def _notices(request: AuthedRequest) -> QuerySet[Notice]:
    require(request.user, Can.TELL_AT_DOOR)
    return scoped(request.user, Notice.objects.all())


@require_GET
@login_required
def doors(request: AuthedRequest) -> HttpResponse:
    buildings, unplaced = queries.door_visits(_notices(request))
    return render(
        request,
        "notices/doors.html",
        {"buildings": buildings, "unplaced": unplaced, "limit": queries.DOORS_SHOWN},
    )


def _ids(request: AuthedRequest) -> list[int]:
    return [
        int(v)
        for v in request.POST.getlist("notice")[:500]
        if v.isascii() and v.isdigit() and len(v) < 19
    ]


@require_POST
@login_required
def not_home(request: AuthedRequest) -> HttpResponse:
    """Knocked, nobody at home: the door stays on the list, tried once more."""
    n = actions.nobody_home(
        request.user, _notices(request).filter(pk__in=_ids(request)), timezone.now()
    )
    if n:
        messages.info(
            request,
            _("Noted: nobody at home. The door stays on the list; try again later or call."),
        )
    else:
        messages.error(request, _("Nothing was noted: they were already told, or not yours."))
    return redirect("notices:doors")


@require_POST
@login_required
def told(request: AuthedRequest) -> HttpResponse:
    """Told at the door: the notices of one household (or those ticked)."""
    found = _notices(request).filter(pk__in=_ids(request))
    n = actions.knocked(request.user, found, timezone.now())
    if n:
        messages.success(
            request,
            ngettext("%(n)d person marked as told.", "%(n)d people marked as told.", n) % {"n": n},
        )
    else:
        messages.error(request, _("Nobody was marked: they were already told, or not yours."))
    return redirect("notices:doors")


@require_GET
@login_required
def print_notices(request: AuthedRequest) -> HttpResponse:
    """《告居民书》 for each household waiting for a visit (or one building's): what to do, and
    the hotline. It names the door, never a person."""
    notices = _notices(request)
    building = request.GET.get("building", "")
    if building.isascii() and building.isdigit() and len(building) < 19:
        notices = notices.filter(household__unit__building_id=int(building))
    buildings, _unplaced = queries.door_visits(notices)
    towns = {
        h.pk: h.unit.building.community.town
        for h in Household.objects.filter(
            pk__in=[d.household_id for b in buildings for d in b.doors]
        ).select_related("unit__building__community__town__district")
    }
    sheets = [
        (b, d, towns[d.household_id], sorted({n.kind for n in d.notices}))
        for b in buildings
        for d in b.doors
    ]
    # On record with everyone whose door it names, one entry per town (a worker's is one);
    # each sheet carries its entry's mark, without the user's name (it is left at the door).
    marks: dict[int, watermark.Mark] = {}
    with transaction.atomic():
        for town in {t.pk: t for t in towns.values()}.values():
            notices_here = [n for b, d, t, _k in sheets if t.pk == town.pk for n in d.notices]
            entry = audit(
                request.user,
                AuditAction.PRINT,
                "door_notices",
                request.GET.get("building", "")[:19],
                detail={
                    "notices": len(notices_here),
                    "doors": sum(t.pk == town.pk for *_r, t, _k in sheets),
                },
                town_id=town.pk,
                people=_whom(notices_here),
            )
            marks[town.pk] = watermark.for_entry(entry)
    return render(
        request,
        "notices/print.html",
        {
            "sheets": [(b, d, t, k, marks[t.pk]) for b, d, t, k in sheets],
            "watermark": next(iter(marks.values()), None),
        },
    )


def _whom(notices: list[Notice]) -> list[tuple[str, int]]:
    """The people a print names, as the audit does: residents, and walk-ins."""
    found = [(RESIDENT, n.resident_id) for n in notices if n.resident_id is not None]
    return found + [
        (WALK_IN, n.walk_in_id)
        for n in notices
        if n.resident_id is None and n.walk_in_id is not None
    ]


@require_GET
@login_required
def outbox(request: AuthedRequest) -> HttpResponse:
    require(request.user, Can.VIEW_MESSAGES)
    found = scoped(request.user, Message.objects.all())
    shown = list(found.select_related("campaign", "community").order_by("-queued_at", "-pk")[:200])
    return render(
        request,
        "notices/outbox.html",
        {
            "messages_shown": shown,
            "counts": [
                (state, MessageState(state).label, n)
                for state, n in sorted(queries.by_state(found).items())
            ],
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def signature(request: AuthedRequest) -> HttpResponse:
    """What every message is signed with and the hotline it gives: a district commander sets
    the district's (its towns sign with it), a town commander the town's."""
    require(request.user, Can.VIEW_MESSAGES)
    user = request.user
    place: District | Town | None = (
        user.district if user.role == Role.DISTRICT_COMMANDER else user.town
    )
    if place is None:
        raise Http404("no town or district")
    form = SignatureForm(
        request.POST or None,
        initial={"sms_signature": place.sms_signature, "hotline": place.hotline},
    )
    if request.method == "POST" and form.is_valid():
        actions.set_signature(
            place, form.cleaned_data["sms_signature"], form.cleaned_data["hotline"]
        )
        messages.success(request, _("Saved: messages from now on are signed this way."))
        return redirect("notices:signature")
    sample_town = place if isinstance(place, Town) else place.towns.order_by("name").first()
    sample = (
        words.message(
            Kind.POOL_POSITIVE,
            language="zh-hans",
            signature=sample_town.message_signature,
            hotline=sample_town.message_hotline,
            at_door=True,
        )
        if sample_town
        else ""
    )
    return render(
        request,
        "notices/signature.html",
        {"form": form, "place": place, "sample": sample, "limit": words.ONE_PART},
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def delivery_report(request: HttpRequest, message_id: int, token: str) -> HttpResponse:
    """Kannel's call with a delivery report. The URL carries a signature only Doorstep can
    make, so a report for an unknown message or with a wrong signature is refused and logged,
    and changes nothing."""
    params = request.GET if request.method == "GET" else request.POST
    if not sender.signature_ok(message_id, token):
        log.warning("delivery report refused: bad signature for message %s", message_id)
        return HttpResponse("bad signature\n", status=403, content_type="text/plain")
    message = Message.objects.filter(pk=message_id).first()
    if message is None:
        log.warning("delivery report refused: no message %s", message_id)
        return HttpResponse("unknown message\n", status=404, content_type="text/plain")
    to = "".join(c for c in params.get("to", "") if c.isascii() and c.isdigit())
    if to and not to.endswith(message.phone):
        log.warning("delivery report refused: message %s did not go to that number", message_id)
        return HttpResponse("wrong number\n", status=403, content_type="text/plain")
    raw = params.get("type", "")
    if not (raw.isascii() and raw.isdigit() and len(raw) < 4):
        log.warning("delivery report refused: type %r for message %s", raw[:20], message_id)
        return HttpResponse("type must be a number\n", status=400, content_type="text/plain")
    actions.delivery_report(message, int(raw), params.get("reply", ""), timezone.now())
    return HttpResponse("ok\n", content_type="text/plain")

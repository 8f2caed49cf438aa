"""Special-needs pages: the community's queue (emergencies and births on top, with the alarm),
registering by a worker or the hotline, each step of the workflow, the exam-taker list, the
trip sheet for a driver or escort, and the residents' own form (public, rate-limited)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from doorstep.assistance import actions, queries
from doorstep.assistance.actions import Duplicate, NeedError, Who
from doorstep.assistance.models import ContactOutcome, How, Request, Source
from doorstep.canvass.models import NeedKind
from doorstep.core.http import AuthedRequest, require
from doorstep.core.inputs import number
from doorstep.core.moments import parse_moment
from doorstep.core.roles import Can
from doorstep.territory import secret
from doorstep.territory.models import Resident
from doorstep.territory.scoping import communities_for, scoped


def _scope(request: AuthedRequest) -> list[int] | None:
    require(request.user, Can.VIEW_NEEDS)
    return list(communities_for(request.user).values_list("pk", flat=True))


def _request(request: AuthedRequest, pk: int) -> Request:
    require(request.user, Can.VIEW_NEEDS)
    return get_object_or_404(
        scoped(request.user, Request.objects.select_related("community", "resident", "campaign")),
        pk=pk,
    )


def _when(raw: str) -> dt.datetime | None:
    return parse_moment(raw or "")


@require_GET
@login_required
def index(request: AuthedRequest) -> HttpResponse:
    """Open requests by priority; the alarm when an emergency or a birth is open."""
    communities = _scope(request)
    now = timezone.now()
    requests = list(scoped(request.user, queries.queue(communities))[:300])
    late = {r.pk for r in queries.overdue(requests, now)}
    only_late = request.GET.get("overdue") == "1"
    context = {
        "rows": queries.waiting(
            [r for r in requests if r.pk in late] if only_late else requests, now
        ),
        "late": late,
        "alarm": [r for r in requests if r.urgent],
        "only_late": only_late,
        "can_manage": request.user.can(Can.MANAGE_NEEDS),
    }
    if request.headers.get("HX-Request"):
        return render(request, "assistance/_queue.html", context)
    return render(request, "assistance/index.html", context)


def _form_context(request: AuthedRequest, **extra: object) -> dict[str, object]:
    return {
        "kinds": NeedKind.choices,
        "sources": [(Source.WORKER, Source.WORKER.label), (Source.HOTLINE, Source.HOTLINE.label)],
        "communities": communities_for(request.user).order_by("name"),
        "data": request.POST,
        **extra,
    }


@require_http_methods(["GET", "POST"])
@login_required
def new(request: AuthedRequest) -> HttpResponse:
    require(request.user, Can.MANAGE_NEEDS)
    if request.method == "GET":
        return render(request, "assistance/new.html", _form_context(request))
    data = request.POST
    try:
        community = None
        if data.get("person_code", "").strip():
            resident = actions.find_person(data["person_code"])
            if not scoped(request.user, Resident.objects.filter(pk=resident.pk)).exists():
                raise NeedError(
                    _("That person lives outside your communities; their community registers them.")
                )
            who = Who(resident=resident)
        else:
            who = actions.walk_in(
                data.get("name", ""), data.get("id_number", ""), data.get("phone", "")
            )
            community = communities_for(request.user).filter(pk=data.get("community") or 0).first()
        source = data.get("source", Source.WORKER)
        if source not in {Source.WORKER, Source.HOTLINE}:
            raise NeedError(_("Unknown source of the request."))
        found = actions.register(
            request.user,
            who,
            kind=data.get("kind", ""),
            needed_by=_when(data.get("needed_by", "")),
            source=source,
            community=community,
            destination=data.get("destination", ""),
            details=data.get("details", ""),
        )
    except Duplicate as exc:
        return render(
            request,
            "assistance/new.html",
            _form_context(request, error=str(exc), duplicate=exc.existing),
            status=409,
        )
    except NeedError as exc:
        return render(
            request, "assistance/new.html", _form_context(request, error=str(exc)), status=400
        )
    messages.success(request, _("Request registered."))
    return redirect("assistance:detail", need_id=found.pk)


@require_POST
@login_required
def merge(request: AuthedRequest, need_id: int) -> HttpResponse:
    require(request.user, Can.MANAGE_NEEDS)
    found = _request(request, need_id)
    try:
        actions.merge(
            request.user,
            found,
            request.POST.get("details", ""),
            _when(request.POST.get("needed_by", "")),
        )
    except NeedError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Merged into request #%(id)s.") % {"id": found.pk})
    return redirect("assistance:detail", need_id=found.pk)


@require_GET
@login_required
def detail(request: AuthedRequest, need_id: int) -> HttpResponse:
    found = _request(request, need_id)
    members = (
        list(Resident.objects.filter(household_id=found.household_id, moved_out=False))
        if found.household_id and not found.resident_id
        else []
    )
    return render(
        request,
        "assistance/detail.html",
        {
            "r": found,
            "timer": queries.timer(found, timezone.now()),
            "contacts": found.contacts.select_related("by"),
            "members": members,
            "outcomes": ContactOutcome.choices,
            "hows": How.choices,
            "can_manage": request.user.can(Can.MANAGE_NEEDS),
        },
    )


def _step(request: AuthedRequest, pk: int, apply) -> HttpResponse:  # type: ignore[no-untyped-def]
    require(request.user, Can.MANAGE_NEEDS)
    found = _request(request, pk)
    try:
        apply(found)
    except NeedError as exc:
        messages.error(request, str(exc))
    return redirect("assistance:detail", need_id=found.pk)


@require_POST
@login_required
def contact(request: AuthedRequest, need_id: int) -> HttpResponse:
    return _step(
        request,
        need_id,
        lambda r: actions.log_contact(
            request.user, r, request.POST.get("outcome", ""), request.POST.get("note", "")
        ),
    )


@require_POST
@login_required
def verify(request: AuthedRequest, need_id: int) -> HttpResponse:
    def apply(r: Request) -> None:
        resident = None
        if request.POST.get("resident"):
            resident = Resident.objects.filter(
                pk=number(request.POST["resident"]), household_id=r.household_id or 0
            ).first()
            if resident is None:
                raise NeedError(_("Choose a member of the household."))
        actions.verify(request.user, r, resident)

    return _step(request, need_id, apply)


@require_POST
@login_required
def arrange(request: AuthedRequest, need_id: int) -> HttpResponse:
    return _step(
        request,
        need_id,
        lambda r: actions.arrange(
            request.user,
            r,
            request.POST.get("how", ""),
            request.POST.get("place", ""),
            request.POST.get("single_tube") == "on",
        ),
    )


@require_POST
@login_required
def done(request: AuthedRequest, need_id: int) -> HttpResponse:
    return _step(request, need_id, lambda r: actions.finish(request.user, r))


@require_POST
@login_required
def decline(request: AuthedRequest, need_id: int) -> HttpResponse:
    return _step(
        request, need_id, lambda r: actions.decline(request.user, r, request.POST.get("reason", ""))
    )


@require_GET
@login_required
def exams(request: AuthedRequest) -> HttpResponse:
    """Exam takers by exam site and date, with their latest result."""
    takers = queries.exam_takers(
        _scope(request), within=scoped(request.user, Request.objects.all())
    )
    return render(request, "assistance/exams.html", {"takers": takers})


@require_GET
@login_required
def trip(request: AuthedRequest, need_id: int) -> HttpResponse:
    """What a driver or escort needs, and nothing more: whom (masked), from where, to where,
    by when, how. No document number, no medical details."""
    found = _request(request, need_id)
    return render(request, "assistance/trip.html", {"r": found})


@require_http_methods(["GET", "POST"])
def ask(request: HttpRequest) -> HttpResponse:
    """A resident registers their own need with their person code and the last six
    characters of their document number: the pair is checked and limited by
    ``territory.secret``, with the status look-up's keys; sends from one address are limited
    apart (``actions.NEEDS``). Until the pair is right, every answer is the same."""
    context: dict[str, object] = {"kinds": NeedKind.choices, "data": request.POST}
    if request.method == "GET":
        return render(request, "assistance/ask.html", context)
    data = request.POST
    address = str(request.META.get("REMOTE_ADDR", ""))
    if not actions.allow_needs(address, timezone.now()):
        context["error"] = actions.NEEDS.refusal()
        return render(request, "assistance/ask.html", context, status=429)
    pair = secret.check(data.get("code", ""), data.get("document", ""), address)
    if pair.resident is None:
        context["error"] = pair.message
        status = 429 if pair.outcome == secret.REFUSED else 400
        return render(request, "assistance/ask.html", context, status=status)
    try:
        found = actions.register(
            None,
            Who(resident=pair.resident),
            kind=data.get("kind", ""),
            needed_by=_when(data.get("needed_by", "")),
            source=Source.RESIDENT,
            destination=data.get("destination", ""),
            details=data.get("details", ""),
        )
    except Duplicate as exc:
        actions.merge(None, exc.existing, data.get("details", ""), _when(data.get("needed_by", "")))
        found = exc.existing
    except NeedError as exc:
        context["error"] = str(exc)
        return render(request, "assistance/ask.html", context, status=400)
    return render(request, "assistance/ask.html", {"registered": found})

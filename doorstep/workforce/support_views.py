"""The pages of support between towns: a town asks the district, the district sets quotas, a
sending town selects and sends its batches and confirms them home, everyone follows the people.

Who sees what: the receiving town sees the requests it made and, of the people sent, what the work
needs (name, unit, masked phone, state); the sending town its quotas and its batches; a district
commander all of the district's (``town_ids`` gives them every town of it).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from doorstep.core.http import AuthedRequest, require
from doorstep.core.inputs import is_number
from doorstep.core.roles import Can
from doorstep.territory.scoping import town_ids
from doorstep.workforce import queries
from doorstep.workforce.actions import WorkforceError, support
from doorstep.workforce.forms import AskForm, QuotaForm
from doorstep.workforce.models import (
    Batch,
    Duty,
    Muster,
    MusterStatus,
    Quota,
    Staff,
    SupportRequest,
    Team,
    TeamStatus,
)
from doorstep.workforce.views import _town_for, _towns_of


def _mine(user: object, queryset: QuerySet, *paths: str) -> QuerySet:  # type: ignore[type-arg]
    """Rows whose town at any of ``paths`` is one the user works in."""
    ids = town_ids(user)  # type: ignore[arg-type]
    if ids is None:
        return queryset
    match = Q()
    for path in paths:
        match |= Q(**{f"{path}__in": ids})
    return queryset.filter(match).distinct()


def _get_request_for_user(request: AuthedRequest, pk: int) -> SupportRequest:
    require(request.user, Can.VIEW_WORKFORCE)
    asked = SupportRequest.objects.select_related("town", "community", "site")
    return get_object_or_404(
        _mine(request.user, asked, "town_id", "quotas__sending_town_id"), pk=pk
    )


def _get_quota_for_user(request: AuthedRequest, pk: int) -> Quota:
    """A quota is the sending town's to fill."""
    require(request.user, Can.MANAGE_WORKFORCE)
    quotas = Quota.objects.select_related("request__town", "sending_town")
    return get_object_or_404(_mine(request.user, quotas, "sending_town_id"), pk=pk)


def _get_batch_for_user(request: AuthedRequest, pk: int) -> Batch:
    require(request.user, Can.VIEW_WORKFORCE)
    batches = Batch.objects.select_related("quota__request__town", "quota__sending_town")
    return get_object_or_404(
        _mine(request.user, batches, "quota__sending_town_id", "quota__request__town_id"), pk=pk
    )


def _sends(request: AuthedRequest, batch: Batch) -> bool:
    """Whether the user acts for the batch's sending town (departure, home)."""
    ids = town_ids(request.user)
    return request.user.can(Can.MANAGE_WORKFORCE) and (
        ids is None or batch.quota.sending_town_id in ids
    )


@require_GET
@login_required
def index(request: AuthedRequest) -> HttpResponse:
    require(request.user, Can.VIEW_WORKFORCE)
    town = _town_for(request)
    asked = SupportRequest.objects.filter(town=town).select_related("community", "site")
    # Every quota of an open request, and of a closed one while any of its people are not home.
    away = Muster.objects.filter(
        callup__batch__quota=OuterRef("pk"),
        callup__batch__departed_at__isnull=False,
        returned_at__isnull=True,
    ).exclude(status=MusterStatus.MOVED)
    quotas = (
        Quota.objects.filter(sending_town=town)
        .filter(Q(request__closed_at__isnull=True) | Exists(away))
        .select_related("request__town", "request__community", "request__site")
        .order_by("request__needed_by")
    )
    context: dict[str, object] = {
        "town": town,
        "towns": _towns_of(request),
        "asked": asked[:50],
        "quotas": quotas,
        "can_manage": request.user.can(Can.MANAGE_WORKFORCE),
        "form": AskForm(town=town) if request.user.can(Can.MANAGE_WORKFORCE) else None,
    }
    if town.district_id is not None and request.user.can(Can.MANAGE_SUPPORT):
        context["district_requests"] = (
            SupportRequest.objects.filter(district_id=town.district_id, closed_at__isnull=True)
            .select_related("town", "community", "site")
            .prefetch_related("quotas__sending_town")
        )
        context["picture"] = queries.support_picture(town.district_id)
    return render(request, "workforce/support.html", context)


@require_POST
@login_required
def ask(request: AuthedRequest) -> HttpResponse:
    require(request.user, Can.MANAGE_WORKFORCE)
    town = _town_for(request)
    form = AskForm(request.POST, town=town)
    if form.is_valid():
        data = form.cleaned_data
        try:
            asked = support.ask_for_people(
                request.user,
                town,
                people=data["people"],
                purpose=data["purpose"],
                muster_point=data["muster_point"],
                needed_by=data["needed_by"],
                community=data["community"],
                site=data["site"],
                note=data["note"],
            )
        except WorkforceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The district has your request."))
            return redirect("workforce:support_request", support_request_id=asked.pk)
    return render(request, "workforce/support_ask.html", {"form": form, "town": town}, status=400)


@require_GET
@login_required
def request_detail(request: AuthedRequest, support_request_id: int) -> HttpResponse:
    asked = _get_request_for_user(request, support_request_id)
    quotas = list(asked.quotas.select_related("sending_town").order_by("sending_town__name"))
    # A sending town sees its own batches; the asking town and the district see them all.
    batches = _mine(
        request.user,
        Batch.objects.filter(quota__request=asked),
        "quota__sending_town_id",
        "quota__request__town_id",
    ).order_by("quota__sending_town__name", "number")
    can_set = request.user.can(Can.MANAGE_SUPPORT) and asked.closed_at is None
    return render(
        request,
        "workforce/support_request.html",
        {
            "asked": asked,
            "quotas": quotas,
            "quota_total": sum(q.people for q in quotas),
            "lines": queries.batch_lines(batches),
            "quota_form": QuotaForm(request=asked) if can_set else None,
            "can_close": _asks(request, asked) and asked.closed_at is None,
        },
    )


@require_POST
@login_required
def set_quota(request: AuthedRequest, support_request_id: int) -> HttpResponse:
    asked = _get_request_for_user(request, support_request_id)
    require(request.user, Can.MANAGE_SUPPORT)
    form = QuotaForm(request.POST, request=asked)
    if not form.is_valid():
        messages.error(request, " ".join(str(m) for errors in form.errors.values() for m in errors))
        return redirect("workforce:support_request", support_request_id=asked.pk)
    try:
        quota = support.set_quota(
            request.user, asked, form.cleaned_data["sending_town"], form.cleaned_data["people"]
        )
    except WorkforceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(town)s sends %(people)d.")
            % {"town": quota.sending_town.name, "people": quota.people},
        )
    return redirect("workforce:support_request", support_request_id=asked.pk)


def _asks(request: AuthedRequest, asked: SupportRequest) -> bool:
    """Whether the user acts for the town that asked (or shares requests out: the district)."""
    if request.user.can(Can.MANAGE_SUPPORT):
        return True
    ids = town_ids(request.user)
    return request.user.can(Can.MANAGE_WORKFORCE) and (ids is None or asked.town_id in ids)


@require_POST
@login_required
def close(request: AuthedRequest, support_request_id: int) -> HttpResponse:
    """The asking town withdraws its request, or the district closes it; a sending town may
    not."""
    asked = _get_request_for_user(request, support_request_id)
    if not _asks(request, asked):
        require(request.user, Can.MANAGE_SUPPORT)
    support.close_request(request.user, asked)
    return redirect("workforce:support_request", support_request_id=asked.pk)


def _selectable(quota: Quota) -> list[dict[str, object]]:
    """The sending town's staff, each with why they cannot go now (if they cannot)."""
    staff = list(
        Staff.objects.filter(unit__town_id=quota.sending_town_id)
        .select_related("unit")
        .order_by("unit__name", "name")
    )
    ids = [s.pk for s in staff]
    on_duty = {
        d.staff_id: d.place
        for d in Duty.objects.filter(staff_id__in=ids, ended_at__isnull=True).select_related(
            "lane", "community"
        )
    }
    away = set(
        Staff.objects.filter(
            pk__in=ids,
            musters__callup__batch__isnull=False,
            musters__callup__batch__cancelled_at__isnull=True,
            musters__returned_at__isnull=True,
        )
        .exclude(musters__status=MusterStatus.MOVED)
        .values_list("pk", flat=True)
    )
    teamed = set(
        Team.members.through.objects.filter(staff_id__in=ids)
        .exclude(team__status=TeamStatus.STOOD_DOWN)
        .values_list("staff_id", flat=True)
    )
    rows = []
    for person in staff:
        busy = ""
        if person.pk in on_duty:
            busy = _("on duty at %(place)s") % {"place": on_duty[person.pk]}
        elif person.pk in away:
            busy = _("sent, not yet back")
        elif person.pk in teamed:
            busy = _("in a team")
        rows.append({"staff": person, "busy": busy})
    return rows


@require_http_methods(["GET", "POST"])
@login_required
def select(request: AuthedRequest, quota_id: int) -> HttpResponse:
    """The sending town's organiser ticks the people of the next batch (on a phone)."""
    quota = _get_quota_for_user(request, quota_id)
    error = ""
    if request.method == "POST":
        wanted = {int(v) for v in request.POST.getlist("staff") if is_number(v)}
        chosen = list(
            Staff.objects.filter(pk__in=wanted, unit__town_id=quota.sending_town_id).select_related(
                "unit"
            )
        )
        try:
            if len(chosen) != len(wanted):
                # Counted, not named: a sending town learns nothing of another town's staff.
                raise WorkforceError(
                    _("%(n)d of the people ticked are not staff of %(town)s; reload the page.")
                    % {"n": len(wanted) - len(chosen), "town": quota.sending_town.name}
                )
            batch = support.send_batch(request.user, quota, chosen)
        except WorkforceError as exc:
            error = str(exc)
        else:
            messages.success(
                request,
                ngettext(
                    "%(batch)s: %(people)d person selected. Press «Departed» when they leave.",
                    "%(batch)s: %(people)d people selected. Press «Departed» when they leave.",
                    batch.people,
                )
                % {"batch": batch, "people": batch.people},
            )
            return redirect("workforce:support_batch", batch_id=batch.pk)
    quota.refresh_from_db()
    rows = _selectable(quota)
    return render(
        request,
        "workforce/support_select.html",
        {
            "quota": quota,
            "rows": rows,
            # Who can go first, ticked on a phone; those who cannot, folded away with why.
            "free": [r for r in rows if not r["busy"]],
            "busy": [r for r in rows if r["busy"]],
            "room": quota.people - quota.selected,
            "error": error,
            "ticked": {int(v) for v in request.POST.getlist("staff") if is_number(v)},
        },
        status=400 if error else 200,
    )


@require_GET
@login_required
def batch_detail(request: AuthedRequest, batch_id: int) -> HttpResponse:
    batch = _get_batch_for_user(request, batch_id)
    people = queries.batch_people(batch)
    return render(
        request,
        "workforce/support_batch.html",
        {
            "batch": batch,
            "people": people,
            "line": queries.batch_lines(Batch.objects.filter(pk=batch.pk))[0],
            "sends": _sends(request, batch),
            "returnable": [p for p in people if p.state != queries.SentState.RETURNED],
        },
    )


@require_POST
@login_required
def depart(request: AuthedRequest, batch_id: int) -> HttpResponse:
    batch = _get_batch_for_user(request, batch_id)
    if not _sends(request, batch):
        require(request.user, Can.MANAGE_SUPPORT)
    if support.depart(request.user, batch):
        messages.success(request, _("%(batch)s has departed.") % {"batch": batch})
    return redirect("workforce:support_batch", batch_id=batch.pk)


@require_POST
@login_required
def call_off(request: AuthedRequest, batch_id: int) -> HttpResponse:
    """The sending town calls off a batch selected by mistake, before it leaves."""
    batch = _get_batch_for_user(request, batch_id)
    if not _sends(request, batch):
        require(request.user, Can.MANAGE_SUPPORT)
    try:
        freed = support.call_off(request.user, batch)
    except WorkforceError as exc:
        messages.error(request, str(exc))
    else:
        if freed:
            messages.success(
                request,
                _("%(batch)s is called off; its %(n)d people can be selected again.")
                % {"batch": batch, "n": freed},
            )
    return redirect("workforce:support_batch", batch_id=batch.pk)


@require_POST
@login_required
def home(request: AuthedRequest, batch_id: int) -> HttpResponse:
    """Confirm people back home safe: those ticked, or (``all``) everyone not yet back."""
    batch = _get_batch_for_user(request, batch_id)
    if not _sends(request, batch):
        require(request.user, Can.MANAGE_SUPPORT)
    ticked = [int(v) for v in request.POST.getlist("staff") if is_number(v)]
    if not ticked and not request.POST.get("all"):
        messages.error(request, _("Tick the people who are home, or confirm the whole batch."))
        return redirect("workforce:support_batch", batch_id=batch.pk)
    try:
        count = support.confirm_home(request.user, batch, ticked)
    except WorkforceError as exc:
        messages.error(request, str(exc))
        return redirect("workforce:support_batch", batch_id=batch.pk)
    if count:
        messages.success(request, _("%(count)d back home safe.") % {"count": count})
    else:
        messages.info(request, _("Nobody to confirm: those ticked are already home."))
    return redirect("workforce:support_batch", batch_id=batch.pk)

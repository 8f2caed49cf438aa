"""The commander's pages for closing a town's response, and the erase certificate.

A town commander sees their town, a district commander the district's towns, an administrator
every town. Each form is one action of ``closing.actions``, with its reason; the erase itself
is the operator's (``doorstep erase``, on a schedule), and this page says when it will run and
what stops it.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from doorstep.closing import actions, erase, views_data
from doorstep.closing.models import Certificate
from doorstep.core.http import AuthedRequest, require
from doorstep.core.roles import Can
from doorstep.territory.models import Closure, Town
from doorstep.territory.scoping import town_ids


def _towns(request: AuthedRequest) -> QuerySet[Town]:
    require(request.user, Can.CLOSE_RESPONSE)
    ids = town_ids(request.user)
    return Town.objects.all() if ids is None else Town.objects.filter(pk__in=ids)


@require_GET
@login_required
def index(request: AuthedRequest) -> HttpResponse:
    towns = list(_towns(request).order_by("name"))
    closures = {c.town_id: c for c in Closure.objects.filter(town__in=towns)}
    rows = [(town, closures.get(town.pk)) for town in towns]
    return render(request, "closing/index.html", {"rows": rows, "now": timezone.now()})


FORMS = {"close", "reopen", "retention", "hold", "release"}


@require_http_methods(["GET", "POST"])
@login_required
def town(request: AuthedRequest, town_id: int) -> HttpResponse:
    place = get_object_or_404(_towns(request), pk=town_id)
    if request.method == "POST":
        form = request.POST.get("form", "")
        reason = request.POST.get("reason", "")
        try:
            if form == "close":
                actions.close_response(request.user, place, reason)
                messages.success(request, _("The response is closed."))
            elif form == "reopen":
                actions.reopen(request.user, place, reason)
                messages.success(request, _("The response is open again."))
            elif form == "retention":
                days = request.POST.get("days", "")
                if not days.strip().isdigit():
                    raise actions.ClosingError(
                        _("Give the number of days to keep the data, e.g. 30.")
                    )
                actions.set_retention(request.user, place, int(days), reason)
                messages.success(request, _("The erase date is moved."))
            elif form == "hold":
                actions.set_hold(request.user, place, reason)
                messages.success(request, _("The data is held until the hold is released."))
            elif form == "release":
                actions.release_hold(request.user, place, reason)
                messages.success(request, _("The hold is released."))
            else:
                raise actions.ClosingError(_("Unknown form: reload the page."))
        except actions.ClosingError as refused:
            messages.error(request, str(refused))
        return redirect("closing:town", town_id=place.pk)
    closure = Closure.objects.filter(town=place).first()
    cert = Certificate.objects.filter(town=place).first()
    context = {
        "town": place,
        "closure": closure,
        "certificate": cert,
        "open_rounds": actions.open_rounds(place),
        "stops": erase.check(place) if closure is not None and not closure.is_erased else [],
        "now": timezone.now(),
    }
    return render(request, "closing/town.html", context)


def _certificate(request: AuthedRequest, town_id: int) -> Certificate:
    place = get_object_or_404(_towns(request), pk=town_id)
    return get_object_or_404(Certificate, town=place)


@require_GET
@login_required
def certificate_page(request: AuthedRequest, town_id: int) -> HttpResponse:
    cert = _certificate(request, town_id)
    return render(
        request,
        "closing/certificate.html",
        {"cert": cert, "lines": views_data.lines(cert), "problem": views_data.problem(cert)},
    )


@require_GET
@login_required
def certificate_pdf(request: AuthedRequest, town_id: int) -> HttpResponse:
    cert = _certificate(request, town_id)
    if not cert.complete:
        return HttpResponse(
            _("The erase has not finished: run doorstep erase again to complete it."),
            status=409,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(views_data.certificate_pdf(cert), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{cert.number}.pdf"'
    return response

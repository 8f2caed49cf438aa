"""The district's pages: the board (every town of the district, its wall screen and its panels,
polled as the town's command screen is) and the district daily report with its XLSX. A user sees
their own district (``User.district``) and no other: there is no district in the URL to change."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from doorstep.core.actions import audit
from doorstep.core.http import AuthedRequest, require
from doorstep.core.models import AuditAction
from doorstep.core.roles import Can
from doorstep.core.standby import from_standby
from doorstep.district import queries
from doorstep.district import report as district_report
from doorstep.territory.models import District

PANELS = ("towns", "alerts", "support")


def _district_for(request: AuthedRequest) -> District:
    """The user's own district: 403 without the capability, 404 without a district."""
    require(request.user, Can.VIEW_DISTRICT)
    if request.user.district_id is None:
        raise Http404
    return District.objects.get(pk=request.user.district_id)


def _panel_context(district: District, name: str) -> dict[str, object]:
    now = timezone.now()
    context: dict[str, object] = {"district": district, "now": now, "name": name}
    if name == "towns":
        rows, total = queries.towns(district.pk, now)
        context.update(rows=rows, total=total)
    elif name == "alerts":
        # The alerts need each round's pace, which needs its coverage only.
        rows, _total = queries.towns(district.pk, now, read=queries.coverage_only)
        context["alerts"] = queries.alerts(rows, now)
    elif name == "support":
        context["support"] = queries.support(district.pk, now)
    return context


@require_GET
@login_required
@from_standby
def board(request: AuthedRequest) -> HttpResponse:
    district = _district_for(request)
    panels = {
        name: render_to_string(
            f"district/_panel_{name}.html", _panel_context(district, name), request
        )
        for name in PANELS
    }
    return render(
        request,
        "district/board.html",
        {"district": district, "panels": panels, "wall": request.GET.get("wall") == "1"},
    )


@require_GET
@login_required
@from_standby
def panel(request: AuthedRequest, panel: str) -> HttpResponse:
    """One panel of the board, polled every 5 s while the tab is visible."""
    district = _district_for(request)
    if panel not in PANELS:
        raise Http404
    return render(request, f"district/_panel_{panel}.html", _panel_context(district, panel))


def _day(request: AuthedRequest) -> dt.date | None:
    """The report's day from ``?day=YYYY-MM-DD``; none (today) when absent or unreadable."""
    try:
        return dt.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        return None


def _audited(request: AuthedRequest, found: district_report.DistrictDaily, kind: str) -> None:
    with transaction.atomic():
        audit(
            request.user,
            AuditAction.EXPORT,
            "district_report",
            found.district.pk,
            detail={
                "district": found.district.name,
                "day": found.day.isoformat(),
                "as_of": found.at.isoformat(),
                "format": kind,
            },
        )


@require_GET
@login_required
def report(request: AuthedRequest) -> HttpResponse:
    """The district daily report as a page made for printing (and the browser's "Save as
    PDF"). Each viewing is audited, as the download is."""
    district = _district_for(request)
    found = district_report.daily(district, day=_day(request))
    _audited(request, found, "page")
    return render(
        request,
        "district/report.html",
        {
            "report": found,
            "support_header": district_report.support_header(),
            "support_rows": district_report.support_rows(found),
        },
    )


@require_GET
@login_required
def report_xlsx(request: AuthedRequest) -> HttpResponse:
    district = _district_for(request)
    found = district_report.daily(district, day=_day(request))
    _audited(request, found, "xlsx")
    response = HttpResponse(
        district_report.workbook(found),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    stamp = timezone.localtime(found.at).strftime("%Y%m%d-%H%M")
    name = f"district-report-{district.pk}-{found.day:%Y%m%d}-as-of-{stamp}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response

"""The case sheets' pages (流调): a round's list, a sheet with its hand-over and acknowledgement,
its reveal, its print view (A4) and its XLSX. Names are masked unless revealed with a reason;
every reveal, print and download is audited. The lab never opens them (it has no
``VIEW_CASES``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from doorstep.campaigns.models import Campaign
from doorstep.core import watermark
from doorstep.core.http import AuthedRequest, require
from doorstep.core.roles import Can
from doorstep.lab import cases
from doorstep.lab.actions import cases as case_actions
from doorstep.lab.models import CaseSheet
from doorstep.territory.actions import full_details_reason
from doorstep.territory.scoping import scoped_to_towns

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The most sheets a round's list shows (a round has a handful; a bad day, dozens).
LISTED = 500
_ORDER = {"open": 0, "handed": 1, "acknowledged": 2, "withdrawn": 3}


def _sheet_for(request: AuthedRequest, case_sheet_id: int) -> CaseSheet:
    require(request.user, Can.VIEW_CASES)
    return get_object_or_404(
        cases.for_user(request.user).select_related("campaign", "tube"), pk=case_sheet_id
    )


@require_GET
@login_required
def sheet_list(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    """The round's case sheets in the user's territory: those to hand over first, then those
    waiting to be received, then the received and the withdrawn."""
    require(request.user, Can.VIEW_CASES)
    campaign = get_object_or_404(
        scoped_to_towns(request.user, Campaign.objects.all()), pk=campaign_id
    )
    sheets = list(
        cases.for_user(request.user)
        .filter(campaign=campaign)
        .select_related(
            "tube", "resident", "walk_in", "household__unit__building", "community", "campaign"
        )
        .order_by("-opened_at", "-pk")[:LISTED]
    )
    sheets.sort(key=lambda s: _ORDER[s.state])
    counts = {state: sum(s.state == state for s in sheets) for state in _ORDER}
    return render(
        request,
        "lab/cases.html",
        {"campaign": campaign, "sheets": sheets, "counts": counts, "listed": LISTED},
    )


def _page(
    request: AuthedRequest,
    sheet: CaseSheet,
    data: cases.SheetData,
    status: int = 200,
    **extra: object,
) -> HttpResponse:
    user = request.user
    return render(
        request,
        "lab/case.html",
        {
            "campaign": sheet.campaign,
            "data": data,
            "sheet": data.sheet,
            "state": cases.state_label(data.sheet),
            "can_hand": user.can(Can.HAND_OVER_CASES),
            "can_reveal": user.can(Can.REVEAL_PERSONAL),
            "can_export": user.can(Can.EXPORT_PERSONAL),
            **extra,
        },
        status=status,
    )


@require_GET
@login_required
def sheet(request: AuthedRequest, case_sheet_id: int) -> HttpResponse:
    """The sheet, masked: the person, the household, the pool, the sampling, the zone, what was
    sent; the hand-over form (commander) and the acknowledgement form."""
    found = _sheet_for(request, case_sheet_id)
    return _page(request, found, cases.sheet_data(found, request.user))


@require_POST
@login_required
def reveal(request: AuthedRequest, case_sheet_id: int) -> HttpResponse:
    """The sheet with full names, documents and phones, for a reason; audited."""
    found = _sheet_for(request, case_sheet_id)
    require(request.user, Can.REVEAL_PERSONAL)
    reason = request.POST.get("reason", "").strip()
    if len(reason) < 4:
        data = cases.sheet_data(found, request.user)
        error = _("Say why you need the full details (at least 4 characters).")
        return _page(request, found, data, status=400, reveal_error=error)
    with transaction.atomic():
        data = cases.sheet_data(found, request.user, full=True)
        cases.audit_shown(request.user, data, reason[:300], "page", True)
    return _page(request, found, data, revealed=True)


@require_POST
@login_required
def hand(request: AuthedRequest, case_sheet_id: int) -> HttpResponse:
    require(request.user, Can.HAND_OVER_CASES)
    found = _sheet_for(request, case_sheet_id)
    try:
        case_actions.hand_over(
            request.user, found, request.POST.get("to", ""), request.POST.get("phone", "")
        )
    except case_actions.CaseRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Handed over. It stays an alert until it is received."))
    return redirect("lab:case", case_sheet_id=found.pk)


@require_POST
@login_required
def acknowledge(request: AuthedRequest, case_sheet_id: int) -> HttpResponse:
    found = _sheet_for(request, case_sheet_id)
    try:
        case_actions.acknowledge(request.user, found, request.POST.get("name", ""))
    except case_actions.CaseRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Received: the alert is cleared."))
    return redirect("lab:case", case_sheet_id=found.pk)


def _exported(
    request: AuthedRequest, found: CaseSheet, kind: str, capability: Can
) -> tuple[cases.SheetData, watermark.Mark] | None:
    """The sheet for a print or a download: full with a reason (and the capability), masked
    without one; audited either way, and marked with the audit entry (``core.watermark``).
    None (with a message) for a reason too short."""
    try:
        reason = full_details_reason(request.POST.get("reason", ""))[:300]
    except ValueError as exc:
        messages.error(request, str(exc))
        return None
    if reason:
        require(request.user, capability)
    with transaction.atomic():
        data = cases.sheet_data(found, request.user, full=bool(reason))
        entry = cases.audit_shown(request.user, data, reason, kind, bool(reason))
    return data, watermark.for_entry(entry)


@require_POST
@login_required
def print_sheet(request: AuthedRequest, case_sheet_id: int) -> HttpResponse:
    """The sheet as an A4 page to print (or save as PDF) and hand over on paper."""
    found = _sheet_for(request, case_sheet_id)
    exported = _exported(request, found, "print", Can.REVEAL_PERSONAL)
    if exported is None:
        return redirect("lab:case", case_sheet_id=found.pk)
    data, mark = exported
    return render(
        request,
        "lab/case_print.html",
        {
            "campaign": found.campaign,
            "data": data,
            "sheet": data.sheet,
            "state": cases.state_label(data.sheet),
            "printed_at": mark.at,
            "watermark": mark,
        },
    )


@require_POST
@login_required
def xlsx(request: AuthedRequest, case_sheet_id: int) -> HttpResponse:
    found = _sheet_for(request, case_sheet_id)
    exported = _exported(request, found, "xlsx", Can.EXPORT_PERSONAL)
    if exported is None:
        return redirect("lab:case", case_sheet_id=found.pk)
    response = HttpResponse(cases.workbook(*exported), content_type=XLSX)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    name = f"case-{found.tube.code}-{found.pk}-{stamp}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response

"""Command centre pages: the commander's live dashboard with its drill-downs and daily report,
and the public pages (site status, a resident's own status) that need no login and show no
personal data."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from doorstep.campaigns import actions as campaign_actions
from doorstep.campaigns import queries as campaign_queries
from doorstep.campaigns.models import Campaign, CampaignStatus, ZoneChange, ZoneWhy
from doorstep.canvass.models import Coverage
from doorstep.command import dashboard as board
from doorstep.command import public, zoning
from doorstep.command import report as daily_report
from doorstep.command import rounds as round_over_round
from doorstep.core import alerts as core_alerts
from doorstep.core import clocks
from doorstep.core.actions import acknowledge_alert, audit
from doorstep.core.http import AuthedRequest, redirect_back, require
from doorstep.core.inputs import number
from doorstep.core.models import AuditAction, AuditEntry, User
from doorstep.core.roles import Can
from doorstep.core.standby import from_standby
from doorstep.core.watermark import role_label
from doorstep.lab.pools import loop_counts
from doorstep.sampling import home
from doorstep.sampling import queries as sampling_queries
from doorstep.sampling.models import CustodyCheck, Site, Tube
from doorstep.territory.scoping import communities_for, scoped_to_towns, town_ids
from doorstep.workforce.queries import unit_contributions

# --- public --------------------------------------------------------------------------------


def _address(request: HttpRequest) -> str:
    # Behind a proxy, set it to pass the client's address as REMOTE_ADDR (docs/operators-guide.md).
    return str(request.META.get("REMOTE_ADDR", ""))


# The public site status is the same for every resident: each server process reads it at most
# once per DOORSTEP_PUBLIC_STATUS_SECONDS (per language), so that a flood of residents costs
# the database one read per interval, not one per page (bench/city.py).
_status_read: dict[str, tuple[float, list[public.SiteStatus]]] = {}


def _site_statuses() -> list[public.SiteStatus]:
    seconds = settings.PUBLIC_STATUS_SECONDS
    if seconds <= 0:
        return public.site_statuses()
    key = get_language() or ""
    now = time.monotonic()
    read = _status_read.get(key)
    if read is None or now - read[0] >= seconds:
        read = (now, public.site_statuses())
        _status_read[key] = read
    return read[1]


@require_GET
@from_standby
def status(request: HttpRequest) -> HttpResponse:
    """Every sampling site with its lanes, hours, whom it serves and its wait band."""
    context = {
        "sites": _site_statuses(),
        "now": timezone.now(),
        "target": clocks.WAIT_TARGET_MINUTES,
        "jammed": sampling_queries.JAMMED_MINUTES,
    }
    if request.headers.get("HX-Request"):
        return render(request, "command/_status_sites.html", context)
    return render(request, "command/status.html", context)


@require_http_methods(["GET", "POST"])
@from_standby
def me(request: HttpRequest) -> HttpResponse:
    """A resident's own status this round, for their person code and the last six characters
    of their document number. Read from the standby while it is fresh; the look-up's tries are
    written and counted on the primary (``core.limits``)."""
    found = None
    code = ""
    if request.method == "POST":
        code = request.POST.get("code", "")
        found = public.look_up(code, request.POST.get("document", ""), _address(request))
    status_code = 429 if found is not None and found.code == public.TOO_MANY else 200
    return render(request, "command/me.html", {"found": found, "code": code}, status=status_code)


# --- the commander's dashboard --------------------------------------------------------------


def _campaign(request: AuthedRequest, pk: int) -> Campaign:
    require(request.user, Can.VIEW_DASHBOARD)
    return get_object_or_404(scoped_to_towns(request.user, Campaign.objects.all()), pk=pk)


@require_GET
@login_required
def index(request: AuthedRequest) -> HttpResponse:
    """The running campaign's dashboard, or the list of campaigns to choose from."""
    require(request.user, Can.VIEW_DASHBOARD)
    campaigns = list(
        scoped_to_towns(request.user, Campaign.objects.select_related("town")).order_by(
            "-starts_at", "-id"
        )[:20]
    )
    running = [c for c in campaigns if c.status == CampaignStatus.ACTIVE]
    if len(running) == 1:
        return redirect("command:dashboard", campaign_id=running[0].pk)
    return render(request, "command/index.html", {"campaigns": campaigns})


PANELS = ("clock", "coverage", "sites", "specimens", "needs", "alerts", "chart", "staff")


def _back(request: AuthedRequest, campaign: Campaign) -> str:
    """Where an acknowledgement returns to: the dashboard as it is open (wall screen or not),
    which a panel's refresh names in htmx's HX-Current-URL header."""
    board_url = reverse("command:dashboard", args=[campaign.pk])
    if request.path == board_url:
        return request.get_full_path()
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    if current.path == board_url:
        return current.path + (f"?{current.query}" if current.query else "")
    return board_url


def _panel_context(request: AuthedRequest, campaign: Campaign, name: str) -> dict[str, object]:
    now = timezone.now()
    context: dict[str, object] = {"campaign": campaign, "now": now}
    if name in {"clock", "coverage"}:
        rows, total = board.coverage(campaign)
        context.update(rows=rows, total=total, totals=board.totals(campaign))
        context["clock"] = board.clock(campaign, now)
        context["loops"] = loop_counts(campaign)
        context["home"] = home.counts(campaign.pk, now)
    elif name == "sites":
        context["sites"] = board.sites(campaign, now)
    elif name == "specimens":
        context.update(
            totals=board.totals(campaign),
            boxes=board.boxes_in_transit(campaign, now),
            unboxed=sampling_queries.unboxed(campaign, now, limit=8),
            unboxed_count=sampling_queries.unboxed_count(campaign),
        )
    elif name == "alerts":
        context["alerts"] = board.alerts(campaign, now)
        context["can_ack"] = request.user.can(Can.ACK_ALERTS)
        context["back"] = _back(request, campaign)
    elif name == "chart":
        names = dict(
            Coverage.objects.filter(campaign=campaign).values_list(
                "community_id", "community__name"
            )
        )
        context["chart"] = board.chart(campaign, now, names)
    elif name == "needs":
        context["needs"] = board.needs(campaign, now)
    elif name == "staff":
        context["units"] = unit_contributions(
            campaign.town_id, now, since=campaign.starts_at, campaign=campaign
        )
    return context


@require_GET
@login_required
@from_standby
def dashboard(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign(request, campaign_id)
    panels = {
        name: render_to_string(
            f"command/_panel_{name}.html", _panel_context(request, campaign, name), request
        )
        for name in PANELS
    }
    return render(
        request,
        "command/dashboard.html",
        {
            "campaign": campaign,
            "panels": panels,
            "names": PANELS,
            # The wall screen: the whole board on one 1920x1080 screen, no scrolling.
            "wall": request.GET.get("wall") == "1",
        },
    )


@require_GET
@login_required
@from_standby
def panel(request: AuthedRequest, campaign_id: int, panel: str) -> HttpResponse:
    """One panel of the dashboard, polled every 5 s while the tab is visible."""
    campaign = _campaign(request, campaign_id)
    if panel not in PANELS:
        raise Http404
    return render(request, f"command/_panel_{panel}.html", _panel_context(request, campaign, panel))


@require_POST
@login_required
def ack(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    """Someone has seen an alert and is acting on it. Only an alert that holds now, in the
    user's scope, can be acknowledged; it stays listed, marked, while it holds."""
    require(request.user, Can.ACK_ALERTS)
    campaign = get_object_or_404(
        scoped_to_towns(request.user, Campaign.objects.all()), pk=campaign_id
    )
    key = request.POST.get("key", "")
    now = timezone.now()
    if key in {a.key for a in core_alerts.for_user(request.user, campaign, now)}:
        acknowledge_alert(request.user, campaign.pk, key, now)
    else:
        messages.warning(
            request, _("That alert no longer holds (or is not yours to see); nothing to do.")
        )
    return redirect_back(
        request, request.POST.get("next"), reverse("command:dashboard", args=[campaign.pk])
    )


# --- drill-down ----------------------------------------------------------------------------


@require_GET
@login_required
def community(request: AuthedRequest, campaign_id: int, community_id: int) -> HttpResponse:
    """The community's buildings in walking order, coloured by state: a schematic, not a map."""
    campaign = _campaign(request, campaign_id)
    cov = get_object_or_404(
        Coverage.objects.select_related("community"), campaign=campaign, community_id=community_id
    )
    tasks = board.community_tasks(campaign, community_id)
    return render(
        request,
        "command/community.html",
        {"campaign": campaign, "coverage": cov, "tasks": tasks, "now": timezone.now()},
    )


@require_GET
@login_required
def site(request: AuthedRequest, campaign_id: int, site_id: int) -> HttpResponse:
    """A site's lanes with their counts and staff, open tubes, the latest tubes and its boxes."""
    campaign = _campaign(request, campaign_id)
    found = get_object_or_404(
        Site.objects.filter(community__town_id=campaign.town_id).select_related("community"),
        pk=site_id,
    )
    now = timezone.now()
    detail = board.site_detail(campaign, found, now)
    if detail is None:
        raise Http404
    return render(
        request, "command/site.html", {"campaign": campaign, "detail": detail, "row": detail.row}
    )


@require_GET
@login_required
def tube(request: AuthedRequest, campaign_id: int, code: str) -> HttpResponse:
    """One tube: where and when, its members masked, its box and the box's custody."""
    campaign = _campaign(request, campaign_id)
    found = get_object_or_404(
        Tube.objects.select_related("lane", "site", "box", "retest_of"),
        campaign=campaign,
        code=code,
    )
    members = board.tube_members(found)
    checks = list(CustodyCheck.objects.filter(box=found.box).order_by("at")) if found.box_id else []
    return render(
        request,
        "command/tube.html",
        {"campaign": campaign, "tube": found, "members": members, "checks": checks},
    )


# --- the daily report ----------------------------------------------------------------------


@require_GET
@login_required
def report(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    """The daily report as a page made for printing (and for the browser's "Save as PDF")."""
    campaign = _campaign(request, campaign_id)
    found = daily_report.daily(campaign, day=_day(request))
    return render(
        request,
        "command/report.html",
        {
            "report": found,
            "summary": daily_report.summary_rows(found),
            "standing": daily_report.standing_rows(found),
        },
    )


def _day(request: AuthedRequest) -> dt.date | None:
    """The report's day from ``?day=YYYY-MM-DD``; none (today) when absent or unreadable."""
    try:
        return dt.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        return None


@require_GET
@login_required
def report_xlsx(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign(request, campaign_id)
    found = daily_report.daily(campaign, day=_day(request))
    with transaction.atomic():
        audit(
            request.user,
            AuditAction.EXPORT,
            "daily_report",
            campaign.pk,
            detail={
                "campaign": campaign.name,
                "day": found.day.isoformat(),
                "as_of": found.at.isoformat(),
            },
            # An aggregate report names nobody: the town, no people.
            town_id=campaign.town_id,
        )
    response = HttpResponse(
        daily_report.workbook(found),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    stamp = timezone.localtime(found.at).strftime("%Y%m%d-%H%M")
    name = f"daily-report-{campaign.pk}-{found.day:%Y%m%d}-as-of-{stamp}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- zones: what lifts, what a positive sealed ------------------------------------------------


def _zoning_campaign(request: AuthedRequest, pk: int) -> Campaign:
    require(request.user, Can.VIEW_CAMPAIGNS)
    return get_object_or_404(
        Campaign.objects.filter(buildings__community__in=communities_for(request.user)).distinct(),
        pk=pk,
    )


@require_GET
@login_required
def zones(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    """The round's sealed and controlled buildings with the lifting rule's answer and its
    evidence, the seals a positive set that wait for the commander, and each zone's history."""
    campaign = _zoning_campaign(request, campaign_id)
    mine = communities_for(request.user)
    chosen = number(request.GET.get("community", ""))
    scope = list(mine.filter(pk=chosen).values_list("pk", flat=True)) if chosen else None
    ids = scope if scope is not None else list(mine.values_list("pk", flat=True))
    now = timezone.now()
    answers = zoning.evidence(campaign, now, communities=ids)
    history = campaign_queries.zone_history(
        [a.building_id for a in answers], drills=campaign.is_drill
    )
    for answer in answers:
        answer.history = history.get(answer.building_id, [])[:10]
    seals = list(
        campaign_queries.unconfirmed_seals(campaign.pk).filter(community_id__in=ids).order_by("-at")
    )
    return render(
        request,
        "command/zones.html",
        {
            "campaign": campaign,
            "answers": answers,
            "seals": seals,
            "communities": mine.filter(pk__in=campaign.buildings.values("community_id")).order_by(
                "name"
            ),
            "chosen": chosen,
            "can_edit": request.user.can(Can.EDIT_ZONES),
            "now": now,
        },
    )


@require_POST
@login_required
def zones_lift(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    """Lift the chosen buildings one level. By the rule when every one of them may lift;
    otherwise only with a reason, kept on each change and in the audit log."""
    campaign = _zoning_campaign(request, campaign_id)
    require(request.user, Can.EDIT_ZONES)
    wanted = {number(v) for v in request.POST.getlist("building")} - {0}
    mine = list(communities_for(request.user).values_list("pk", flat=True))
    answers = zoning.evidence(campaign, timezone.now(), communities=mine, building_ids=wanted)
    back = reverse("command:zones", args=[campaign.pk])
    if not answers:
        messages.error(request, _("Choose at least one sealed or controlled building to lift."))
        return redirect(back)
    try:
        n = campaign_actions.lift(
            request.user,
            campaign,
            [a.building_id for a in answers],
            allowed=all(a.can_lift for a in answers),
            reason=request.POST.get("reason", ""),
        )
    except campaign_actions.CampaignError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    messages.success(request, _("%(n)d buildings lifted one level.") % {"n": n})
    return redirect(back)


@require_POST
@login_required
def zones_confirm(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    """The commander confirms the extent of a seal a positive set: the building, or the whole
    community."""
    campaign = _zoning_campaign(request, campaign_id)
    require(request.user, Can.EDIT_ZONES)
    change = get_object_or_404(
        ZoneChange.objects.select_related("campaign"),
        pk=number(request.POST.get("change", "")),
        campaign=campaign,
        why=ZoneWhy.RESULT,
        community__in=communities_for(request.user),
    )
    whole = request.POST.get("extent") == "community"
    n = campaign_actions.confirm_seal(request.user, change, whole_community=whole)
    if whole:
        messages.success(
            request,
            _("%(community)s is sealed: %(n)d more buildings.")
            % {"community": change.community.name, "n": n},
        )
    else:
        messages.success(
            request,
            _("The seal of %(building)s is confirmed.") % {"building": change.building.name},
        )
    return redirect(reverse("command:zones", args=[campaign.pk]))


@require_GET
@login_required
def compare(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    """Round over round: per community (or, with ``?community=``, per building), this round
    beside the previous one, and the people untested in both."""
    campaign = _zoning_campaign(request, campaign_id)
    mine = communities_for(request.user)
    chosen = number(request.GET.get("community", ""))
    community = mine.filter(pk=chosen).first() if chosen else None
    per_grid = request.GET.get("by") == "grid"
    if community is not None:
        rows = round_over_round.by_building(campaign, community.pk)
        if per_grid:
            rows = round_over_round.by_grid(rows)
    else:
        rows = round_over_round.by_community(campaign, list(mine.values_list("pk", flat=True)))
    return render(
        request,
        "command/compare.html",
        {"campaign": campaign, "rows": rows, "community": community, "per_grid": per_grid},
    )


# --- the export register ----------------------------------------------------------------------

# What each kind of export or print is, in the reader's words (``object_type`` of the entry).
EXPORT_KINDS = {
    "community": _lazy("Residents of a community"),
    "untested": _lazy("Untested list"),
    "case_sheet": _lazy("Case sheet (流调)"),
    "building": _lazy("Code sheets of a building"),
    "household": _lazy("Code sheet of a household"),
    "door_notices": _lazy("Notices to residents"),
    "drill_lane": _lazy("Drill lane codes"),
    "daily_report": _lazy("Daily report"),
    "district_report": _lazy("District daily report"),
}
# Exports of figures only, listed for completeness: they name nobody.
AGGREGATE_REPORTS = {"daily_report", "district_report"}
REGISTER_PAGE = 50


@dataclass(frozen=True)
class ExportRow:
    """One export or print as the register lists it."""

    entry: AuditEntry
    role: str
    what: str
    rows: int | None  # rows written or people shown; None when not recorded
    masked: bool | None  # None: not said (an aggregate report names nobody)
    erased: bool  # the town's personal data was erased: the details are gone
    aggregate: bool  # a report of figures: it names nobody


def _register_entries(user: User) -> QuerySet[AuditEntry]:
    """The personal exports and prints a user may see on the register, scoped like the audit:
    an administrator every town (or theirs), a commander their town, a district commander the
    towns of their district (and the district's own report)."""
    if not (user.can(Can.READ_AUDIT) or user.can(Can.VIEW_DASHBOARD)):
        raise PermissionDenied(Can.VIEW_DASHBOARD.value)
    entries = AuditEntry.objects.filter(action__in=[AuditAction.EXPORT, AuditAction.PRINT])
    towns = town_ids(user)
    if towns is not None:
        where = Q(town_id__in=towns)
        if user.is_district_wide and user.district_id is not None:
            where |= Q(object_type="district_report", object_id=str(user.district_id))
        entries = entries.filter(where)
    return entries.annotate(people_count=Count("people")).order_by("-at", "-id")


def _export_row(entry: AuditEntry) -> ExportRow:
    detail = entry.detail if isinstance(entry.detail, dict) else {}
    erased = detail.get("erased") is True
    what = str(EXPORT_KINDS.get(entry.object_type, entry.object_type))
    named = detail.get("community") or detail.get("campaign") or detail.get("district") or ""
    if isinstance(named, str) and named:
        what = f"{what}: {named}"
    if detail.get("format") == "print":
        what = f"{what} ({_('printed')})"
    elif detail.get("step") == "hand_over":
        what = f"{what} ({_('handed over')})"
    elif detail.get("step") == "acknowledge":
        what = f"{what} ({_('received')})"
    rows = detail.get("rows", detail.get("people"))
    if not isinstance(rows, int):
        rows = getattr(entry, "people_count", 0) or None
    masked = detail.get("masked")
    if masked is None and entry.action == AuditAction.PRINT:
        masked = True  # code sheets and notices show masked names, or none
    return ExportRow(
        entry,
        role_label(entry.role),
        what,
        None if erased else rows,
        None if erased or not isinstance(masked, bool) else masked,
        erased,
        entry.object_type in AGGREGATE_REPORTS,
    )


@require_GET
@login_required
def exports(request: AuthedRequest) -> HttpResponse:
    """The export register: every personal export and print (XLSX, print pages), newest first,
    with who made it, what, how many people, masked or in full, and the reason; an entry of a
    town whose data was erased says so. Each file and page carries its entry's number
    (``core.watermark``)."""
    page = Paginator(_register_entries(request.user), REGISTER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "command/exports.html",
        {"page": page, "rows": [_export_row(e) for e in page]},
    )

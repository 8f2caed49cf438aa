"""Paper lane sheets: print one for a lane of the running round, and key a filled one in.

Both pages are the lane's: whoever may open the lane page (a registrar on duty there, the
commander) may print and key its sheets, and nobody else (``lane_for_user``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from doorstep.campaigns.models import Campaign
from doorstep.campaigns.queries import running_in
from doorstep.core.http import AuthedRequest
from doorstep.core.inputs import is_number
from doorstep.sampling import paper, paper_keying, queries, rules
from doorstep.sampling.access import lane_for_user
from doorstep.sampling.models import Lane
from doorstep.sampling.paper import PaperError


def _round_and_rule(lane: Lane) -> tuple[Campaign | None, str]:
    campaign = running_in(lane.site.community_id)
    if campaign is None:
        return None, ""
    pools = queries.lane_pools({(campaign.pk, lane.site.community_id)})
    return campaign, next(iter(pools.values()))


def _number(raw: str, low: int, high: int, default: int) -> int:
    return int(raw) if is_number(raw) and len(raw) <= 4 and low <= int(raw) <= high else default


@require_GET
@login_required
def paper_sheet(request: AuthedRequest, lane_id: int) -> HttpResponse:
    """The printable sheets: ``sheet`` (the first one's number), ``sheets`` (how many, numbered
    on from it: a lane's stock printed at one time), ``tubes`` and ``pool`` may be chosen."""
    lane = lane_for_user(request, lane_id)
    campaign, lane_rule = _round_and_rule(lane)
    context: dict[str, Any] = {"lane": lane, "campaign": campaign, "pools": paper.POOLS}
    if campaign is not None:
        rule = request.GET.get("pool", "")
        rule = rule if rule in paper.POOLS else lane_rule
        seq = _number(request.GET.get("sheet", ""), 1, 999, paper.next_seq(campaign, lane))
        tubes = _number(request.GET.get("tubes", ""), 1, paper.MAX_TUBES, paper.default_tubes(rule))
        count = _number(request.GET.get("sheets", ""), 1, paper.MAX_SHEETS, 1)
        sheets = [
            paper.make_sheet(lane, campaign, n, tubes, rule)
            for n in range(seq, min(seq + count, 1000))
        ]
        context.update(
            sheets=sheets,
            sheet=sheets[0],
            count=count,
            max_sheets=paper.MAX_SHEETS,
            rule=rule,
            rule_label=rules.rule_label(rule),
            seq=seq,
            tubes=tubes,
            max_tubes=paper.MAX_TUBES,
            walk_in_rows=range(6),
            printed_at=timezone.now(),
        )
    return render(request, "sampling/paper_sheet.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def paper_key(request: AuthedRequest, lane_id: int) -> HttpResponse:
    """Key a filled sheet: "check" answers every line and records nothing; "record" records."""
    lane = lane_for_user(request, lane_id)
    campaign, lane_rule = _round_and_rule(lane)
    data = request.POST if request.method == "POST" else request.GET
    form = {
        "sheet": data.get("sheet", "")[:40],
        "day": data.get("day", "")[:20] or timezone.localdate().isoformat(),
        "pool": data.get("pool", "") if data.get("pool", "") in paper.POOLS else lane_rule,
        "time": data.get("time", "")[:10],
        "text": data.get("text", "")[: paper.MAX_TEXT + 1],
    }
    context: dict[str, Any] = {
        "lane": lane,
        "campaign": campaign,
        "form": form,
        "pools": [(p, rules.rule_label(p)) for p in paper.POOLS],
        "limits": {"tubes": paper.MAX_TUBES, "people": paper.MAX_PEOPLE},
    }
    status = 200
    if request.method == "POST" and campaign is not None:
        try:
            context["keyed"] = _keyed(request, lane, campaign, form)
        except PaperError as error:
            context["errors"] = error.lines
            status = 400
    return render(request, "sampling/paper_key.html", context, status=status)


def _keyed(
    request: AuthedRequest, lane: Lane, campaign: Campaign, form: dict[str, str]
) -> paper_keying.Keyed:
    sheet = paper.parse_sheet(form["sheet"], lane, campaign)
    try:
        day = dt.date.fromisoformat(form["day"])
    except ValueError:
        raise PaperError(
            _("“%(text)s” is not a date: type the date written on the sheet, e.g. %(example)s.")
            % {"text": form["day"][:20], "example": timezone.localdate().isoformat()}
        ) from None
    fallback = paper.read_time(form["time"]) if form["time"] else None
    tubes = paper.read(form["text"], campaign.barcode_pattern)
    do = paper_keying.check if request.POST.get("action") == "check" else paper_keying.key
    return do(request.user, lane, campaign, sheet, day, form["pool"], tubes, fallback)

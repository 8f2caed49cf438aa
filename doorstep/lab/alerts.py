"""The lab's alerts (``core.alerts``): positive and invalid tubes whose loop is still open, a
box whose count disagreed, results overdue (a confirmed positive is its case sheet's alert,
``lab.case_alerts``).

Each is read from the state it is about, so it clears itself: a pool's alert goes when every
member's retest is sampled, or when a correction makes the pool negative; a box's when a later
count agrees; the overdue results when they arrive.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count, F, Min, QuerySet, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils.translation import gettext as _

from doorstep.core import alerts, clocks
from doorstep.core.alerts import BAD, WARN, Alert
from doorstep.lab.models import OrderStatus, RetestOrder
from doorstep.sampling.models import Box, CustodyCheck, Result, Tube

# Enough to act on, in each campaign: the screen links to the full lists.
SHOWN = 50
POSITIVE_POOL, INVALID, POSITIVE_NO_RETEST = "positive_pool", "invalid", "positive_no_retest"
# (A positive single tube or retest is the case sheet's alert: ``lab.case_alerts``.)
COUNT_MISMATCH, RESULTS_LATE = "count_mismatch", "results_late"


def _pools_url(campaign_id: int, code: str) -> str:
    return reverse("lab:pools", args=[campaign_id]) + f"#pool-{code}"


def _newest(tubes: QuerySet[Tube]) -> list[Tube]:
    """The ``SHOWN`` newest results among these tubes of each campaign, newest first, in one
    query whatever the number of campaigns."""
    return list(
        tubes.annotate(
            nth=Window(
                RowNumber(),
                partition_by=[F("campaign_id")],
                order_by=[F("resulted_at").desc(), F("pk").desc()],
            )
        )
        .filter(nth__lte=SHOWN)
        .select_related("site")
        .order_by("-resulted_at", "-pk")
    )


def _open_loops(campaign: Any, now: dt.datetime) -> list[Alert]:
    """A positive pool until every member's retest is sampled (one alert per community with
    members still to sample); an invalid tube until every member is sampled again."""
    return _open_loops_many([campaign], now)[campaign.pk]


def _open_loops_many(campaigns: list[Any], now: dt.datetime) -> dict[int, list[Alert]]:
    """``_open_loops`` of several campaigns in two queries, whatever their number."""
    flagged = _newest(
        Tube.objects.filter(
            campaign__in=[c.pk for c in campaigns],
            result__in=[Result.POSITIVE, Result.INVALID],
            retest_of__isnull=True,
        ).exclude(capacity=1)
    )
    waiting: dict[int, dict[int, int]] = defaultdict(dict)
    names: dict[int, str] = {}
    ordered: set[int] = set()
    for tube_id, community_id, name, status, n in (
        RetestOrder.objects.filter(original_tube__in=flagged)
        .values_list("original_tube_id", "community_id", "community__name", "status")
        .annotate(n=Count("id"))
    ):
        ordered.add(tube_id)
        names[community_id] = name
        if status == OrderStatus.OPEN:
            waiting[tube_id][community_id] = n
    found: dict[int, list[Alert]] = {campaign.pk: [] for campaign in campaigns}
    for tube in flagged:
        positive = tube.result == Result.POSITIVE
        if positive and tube.pk not in ordered:
            found[tube.campaign_id].append(
                Alert(
                    POSITIVE_NO_RETEST,
                    BAD,
                    _("Positive pool %(code)s (%(site)s) has no retest order.")
                    % {"code": tube.code, "site": tube.site.name},
                    _pools_url(tube.campaign_id, tube.code),
                    f"{POSITIVE_NO_RETEST}:{tube.pk}",
                    tube.community_id,
                    tube.resulted_at,
                )
            )
        for community_id, n in sorted(waiting[tube.pk].items()):
            text = (
                _(
                    "Pool %(code)s is positive: %(n)d people in %(community)s must stay home and be re-sampled in single tubes."
                )
                if positive
                else _(
                    "Tube %(code)s is invalid: %(n)d people in %(community)s must be sampled again."
                )
            )
            found[tube.campaign_id].append(
                Alert(
                    POSITIVE_POOL if positive else INVALID,
                    BAD if positive else WARN,
                    text % {"code": tube.code, "n": n, "community": names[community_id]},
                    _pools_url(tube.campaign_id, tube.code),
                    f"{tube.result}:{tube.pk}:{community_id}",
                    community_id,
                    tube.resulted_at,
                )
            )
    return found


def _boxes(campaign: Any, now: dt.datetime) -> list[Alert]:
    """A box whose last count disagreed with what was scanned into it (``Box.flagged`` is set by
    the count that disagreed and cleared by the next that agrees)."""
    boxes = list(Box.objects.filter(campaign=campaign, flagged=True).select_related("site")[:SHOWN])
    last: dict[int, CustodyCheck] = {}
    for counted in CustodyCheck.objects.filter(box__in=boxes).order_by("at", "id"):
        last[counted.box_id] = counted
    found = []
    for box in boxes:
        check: CustodyCheck | None = last.get(box.pk)
        found.append(
            Alert(
                COUNT_MISMATCH,
                BAD,
                _(
                    "Box %(code)s (%(site)s): %(counted)d tubes counted at %(stage)s, %(scanned)d scanned. Recount and scan again."
                )
                % {
                    "code": box.code,
                    "site": box.site.name,
                    "counted": check.counted if check else 0,
                    "stage": check.get_stage_display() if check else "-",
                    "scanned": box.tube_count,
                },
                reverse("lab:index"),
                f"count_mismatch:{box.pk}:{check.pk if check else 0}",
                box.site.community_id,
                check.at if check else box.opened_at,
            )
        )
    return found


def _late(campaign: Any, now: dt.datetime) -> list[Alert]:
    """Tubes received more than 6 h ago with no result: one alert for the lab."""
    late = Tube.objects.filter(
        campaign=campaign, result="", received_at__lt=now - clocks.RESULTS_DUE
    ).aggregate(n=Count("id"), oldest=Min("received_at"))
    if not late["n"]:
        return []
    return [
        Alert(
            RESULTS_LATE,
            BAD,
            _("%(n)d tubes received more than 6 h ago have no result.") % {"n": late["n"]},
            reverse("lab:index"),
            "results_late",
            None,
            late["oldest"] + clocks.RESULTS_DUE,
        )
    ]


def register() -> None:
    alerts.register(
        "lab",
        _open_loops,
        kinds=[POSITIVE_POOL, INVALID, POSITIVE_NO_RETEST],
        many=_open_loops_many,
    )
    alerts.register("lab", _boxes, kinds=[COUNT_MISMATCH])
    alerts.register("lab", _late, kinds=[RESULTS_LATE])

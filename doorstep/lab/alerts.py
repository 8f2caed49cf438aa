"""The lab's alerts (``core.alerts``): positive and invalid tubes whose loop is still open, a
positive single tube, a box whose count disagreed, results overdue.

Each is read from the state it is about, so it clears itself: a pool's alert goes when every
member's retest is sampled, or when a correction makes the pool negative; a box's when a later
count agrees; the overdue results when they arrive.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count, Min, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from doorstep.core import alerts, clocks
from doorstep.core.alerts import BAD, WARN, Alert
from doorstep.lab.models import OrderStatus, RetestOrder
from doorstep.sampling.models import Box, CustodyCheck, Result, Tube

# Enough to act on: the screen links to the full lists.
SHOWN = 50


def _pools_url(campaign_id: int, code: str) -> str:
    return reverse("lab:pools", args=[campaign_id]) + f"#pool-{code}"


def produce(campaign: Any, now: dt.datetime) -> list[Alert]:
    return _open_loops(campaign) + _cases(campaign) + _boxes(campaign) + _late(campaign, now)


def _open_loops(campaign: Any) -> list[Alert]:
    """A positive pool until every member's retest is sampled (one alert per community with
    members still to sample); an invalid tube until every member is sampled again."""
    flagged = list(
        Tube.objects.filter(
            campaign=campaign, result__in=[Result.POSITIVE, Result.INVALID], retest_of__isnull=True
        )
        .exclude(capacity=1)
        .select_related("site")
        .order_by("-resulted_at")[:SHOWN]
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
    found = []
    for tube in flagged:
        positive = tube.result == Result.POSITIVE
        if positive and tube.pk not in ordered:
            found.append(
                Alert(
                    "positive_no_retest",
                    BAD,
                    _("Positive pool %(code)s (%(site)s) has no retest order.")
                    % {"code": tube.code, "site": tube.site.name},
                    _pools_url(campaign.pk, tube.code),
                    f"positive_no_retest:{tube.pk}",
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
            found.append(
                Alert(
                    "positive_pool" if positive else "invalid",
                    BAD if positive else WARN,
                    text % {"code": tube.code, "n": n, "community": names[community_id]},
                    _pools_url(campaign.pk, tube.code),
                    f"{tube.result}:{tube.pk}:{community_id}",
                    community_id,
                    tube.resulted_at,
                )
            )
    return found


def _cases(campaign: Any) -> list[Alert]:
    """A positive single tube: a case to hand over. It stays until someone acknowledges it."""
    return [
        Alert(
            "positive_case",
            BAD,
            _("Single tube %(code)s (%(site)s) is positive: hand the case over.")
            % {"code": tube.code, "site": tube.site.name},
            reverse("lab:tube", args=[tube.code]),
            f"positive_case:{tube.pk}",
            tube.community_id,
            tube.resulted_at,
            ack_clears=True,
        )
        for tube in Tube.objects.filter(campaign=campaign, result=Result.POSITIVE)
        .filter(Q(capacity=1) | Q(retest_of__isnull=False))
        .select_related("site")
        .order_by("-resulted_at")[:SHOWN]
    ]


def _boxes(campaign: Any) -> list[Alert]:
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
                "count_mismatch",
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
            "results_late",
            BAD,
            _("%(n)d tubes received more than 6 h ago have no result.") % {"n": late["n"]},
            reverse("lab:index"),
            "results_late",
            None,
            late["oldest"] + clocks.RESULTS_DUE,
        )
    ]


def register() -> None:
    alerts.register("lab", produce)

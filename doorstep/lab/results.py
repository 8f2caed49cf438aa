"""Results from the lab, one row at a time, as in the lab-results contract.

A negative pool clears its members. A positive pool orders a single-tube retest for every
member and alerts their communities; a positive single tube is a case and alerts too. An invalid
result orders a resample. Resending a result is a duplicate; a different result for a resulted
tube is a conflict unless it comes as a correction with a reason, which keeps the history.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.core.models import User
from doorstep.core.moments import parse_moment
from doorstep.core.scoping import town_ids
from doorstep.lab import retests
from doorstep.lab.models import Alert, AlertKind, OrderKind, ResultEntry
from doorstep.sampling import tally
from doorstep.sampling.models import Result, Tube, TubeStatus

WORDS = {
    "negative": Result.NEGATIVE,
    "阴性": Result.NEGATIVE,
    "neg": Result.NEGATIVE,
    "-": Result.NEGATIVE,
    "positive": Result.POSITIVE,
    "阳性": Result.POSITIVE,
    "pos": Result.POSITIVE,
    "+": Result.POSITIVE,
    "invalid": Result.INVALID,
    "无效": Result.INVALID,
}


class RowError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_row(row: dict[str, Any], user: User | None) -> dict[str, Any]:
    """Check one row without writing: the tube exists and may be resulted, the values parse."""
    code = str(row.get("tube") or "").strip().upper().replace(" ", "")
    if not code:
        raise RowError("invalid", _("“tube” is missing: give the tube barcode."))
    word = str(row.get("result") or "").strip().lower()
    result = WORDS.get(word)
    if result is None:
        raise RowError(
            "invalid",
            _("Result «%(value)s» is not negative, positive or invalid (阴性/阳性/无效).")
            % {"value": str(row.get("result") or "")[:20]},
        )
    ct = None
    if row.get("ct") not in (None, ""):
        try:
            ct = Decimal(str(row["ct"]))
        except InvalidOperation:
            raise RowError(
                "invalid", _("Ct «%(value)s» is not a number.") % {"value": str(row["ct"])[:20]}
            ) from None
        if not Decimal(0) <= ct < Decimal(100):
            raise RowError("invalid", _("Ct must be between 0 and 100."))
    tested_at = None
    if row.get("tested_at"):
        tested_at = parse_moment(str(row["tested_at"]))
        if tested_at is None:
            raise RowError("invalid", _("“tested_at” is not a date and time."))
    tubes = Tube.objects.filter(code=code)
    towns = town_ids(user) if user is not None else None
    if towns is not None:
        tubes = tubes.filter(campaign__town_id__in=towns)
    tube = tubes.select_related("box").order_by("-opened_at").first()
    if tube is None:
        raise RowError(
            "unknown_tube", _("No tube %(code)s was sampled; check the barcode.") % {"code": code}
        )
    if tube.status != TubeStatus.SEALED:
        raise RowError(
            "tube_open", _("Tube %(code)s was never sealed at its lane.") % {"code": code}
        )
    if tube.received_at is None:
        # A result for a tube the lab never scanned in is the re-keyed barcode the field guide
        # warns of: the tube must come in through its box, counted.
        raise RowError(
            "not_received",
            _(
                "Tube %(code)s has not been received at the lab: receive its box %(box)s first (scan it in and count), then record the result."
            )
            % {"code": code, "box": tube.box.code}
            if tube.box is not None
            else _(
                "Tube %(code)s has not been received at the lab and is in no box: check the barcode; the site must box it and send it."
            )
            % {"code": code},
        )
    reason = str(row.get("reason") or "").strip()
    correction = bool(row.get("correction")) or bool(reason)
    if tube.result and tube.result != result and not correction:
        raise RowError(
            "conflict",
            _("Tube %(code)s is already %(old)s. To change it, send a correction with a reason.")
            % {"code": code, "old": tube.get_result_display()},
        )
    if correction and len(reason) < 4 and tube.result and tube.result != result:
        raise RowError("invalid", _("A correction needs a reason (at least 4 characters)."))
    return {"tube": tube, "result": result, "ct": ct, "tested_at": tested_at, "reason": reason}


def _apply(user: User | None, parsed: dict[str, Any], now: dt.datetime) -> str:
    tube = Tube.objects.select_for_update().get(pk=parsed["tube"].pk)
    result = parsed["result"]
    if tube.result == result:
        return "duplicate"
    before = tube.result
    ResultEntry.objects.create(
        tube=tube,
        result=result,
        ct=parsed["ct"],
        tested_at=parsed["tested_at"],
        correction_reason=parsed["reason"] if before else "",
        recorded_by=user,
        recorded_at=now,
    )
    pooled = tube.capacity != 1 and tube.retest_of_id is None
    deltas = (
        {"positive_pools": (result == Result.POSITIVE) - (before == Result.POSITIVE)}
        if pooled
        else {}
    )
    if not before:
        deltas["results_pending"] = -1
    Tube.objects.filter(pk=tube.pk).update(result=result, resulted_at=now)
    tally.bump(tube.campaign_id, tally.places_of_tube(tube), **deltas)
    if before and before != Result.NEGATIVE:
        retests.cancel_retests(tube, now)
    if tube.retest_of_id is not None or tube.capacity == 1:
        retests.result_retests(tube, result, now)
    if result == Result.POSITIVE and pooled:
        retests.order_retests(tube, OrderKind.POSITIVE_POOL, now)
    elif result == Result.INVALID:
        retests.order_retests(tube, OrderKind.RESAMPLE, now)
    elif result == Result.POSITIVE:
        Alert.objects.create(
            campaign_id=tube.campaign_id,
            community_id=tube.community_id,
            kind=AlertKind.POSITIVE_CASE,
            tube=tube,
            people=tube.member_count,
            at=now,
        )
    return "accepted"


def record(
    user: User | None, rows: list[dict[str, Any]], now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Each row answered in order, like device events; a refused row does not stop the rest."""
    now = now or timezone.now()
    answers: list[dict[str, Any]] = []
    with transaction.atomic():
        for row in rows:
            tube_code = str(row.get("tube") or "") if isinstance(row, dict) else ""
            try:
                if not isinstance(row, dict):
                    raise RowError("invalid", _("Each result must be an object."))
                parsed = parse_row(row, user)
                with transaction.atomic():
                    status = _apply(user, parsed, now)
                answers.append({"tube": tube_code, "status": status})
            except RowError as refused:
                answers.append(
                    {
                        "tube": tube_code,
                        "status": "rejected",
                        "error": {"code": refused.code, "message": refused.message},
                    }
                )
    return answers

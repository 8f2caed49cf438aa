"""Results from the lab, one row at a time, as in the lab-results contract.

A negative pool clears its members. A positive pool orders a single-tube retest for every
member and alerts their communities; a positive single tube is a case and alerts too. An invalid
result orders a resample. Resending a result is a duplicate; a different result for a resulted
tube is a conflict unless it comes as a correction with a reason, which keeps the history.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.campaigns import actions as zoning
from doorstep.campaigns.models import Campaign
from doorstep.core.inputs import is_text
from doorstep.core.models import User
from doorstep.core.moments import parse_moment
from doorstep.lab.actions import cases, retests
from doorstep.lab.models import OrderKind, ResultEntry
from doorstep.notices import actions as telling
from doorstep.sampling import tally, walk_ins
from doorstep.sampling.models import Result, Tube, TubeMember, TubeStatus
from doorstep.territory import closures
from doorstep.territory.scoping import town_ids

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


class ResultRefused(Exception):
    """A result row refused, with the contract's error code and what to do. (Not the file
    import's ``core.tables.RowError``, which places a bad value at a row and a column.)"""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# Rows written per transaction: on SQLite a lane's scans wait for the writer, so a big file
# must not hold the lock for long (about a tenth of a second per chunk of negatives here).
CHUNK = 2_000


def _values(row: dict[str, Any]) -> dict[str, Any]:
    """What a row says, checked without the database."""
    if not is_text(row):
        raise ResultRefused(
            "invalid",
            _("The row holds characters that are not text (a NUL byte or a broken character)."),
        )
    code = str(row.get("tube") or "").strip().upper().replace(" ", "")
    if not code:
        raise ResultRefused("invalid", _("“tube” is missing: give the tube barcode."))
    word = str(row.get("result") or "").strip().lower()
    result = WORDS.get(word)
    if result is None:
        raise ResultRefused(
            "invalid",
            _("Result «%(value)s» is not negative, positive or invalid (阴性/阳性/无效).")
            % {"value": str(row.get("result") or "")[:20]},
        )
    ct = None
    if row.get("ct") not in (None, ""):
        try:
            ct = Decimal(str(row["ct"]))
        except InvalidOperation:
            raise ResultRefused(
                "invalid", _("Ct «%(value)s» is not a number.") % {"value": str(row["ct"])[:20]}
            ) from None
        if not ct.is_finite() or not Decimal(0) <= ct < Decimal(100):
            raise ResultRefused("invalid", _("Ct must be between 0 and 100."))
    tested_at = None
    if row.get("tested_at"):
        tested_at = parse_moment(str(row["tested_at"]))
        if tested_at is None:
            raise ResultRefused("invalid", _("“tested_at” is not a date and time."))
    reason = str(row.get("reason") or "").strip()[:300]
    correction = bool(row.get("correction")) or bool(reason)
    return {
        "code": code,
        "result": result,
        "ct": ct,
        "tested_at": tested_at,
        "reason": reason,
        "correction": correction,
    }


def _tubes(codes: set[str], user: User | None, lock: bool) -> dict[str, Tube]:
    """The newest tube of each code in the user's towns, a few thousand codes a query."""
    towns = town_ids(user) if user is not None else None
    found: dict[str, Tube] = {}
    ordered = sorted(codes)
    for start in range(0, len(ordered), CHUNK):
        tubes = Tube.objects.filter(code__in=ordered[start : start + CHUNK])
        if towns is not None:
            tubes = tubes.filter(campaign__town_id__in=towns)
        if lock:
            tubes = tubes.select_for_update(of=("self",))
        for tube in tubes.select_related("box").order_by("pk"):
            if tube.code not in found or tube.opened_at > found[tube.code].opened_at:
                found[tube.code] = tube
    return found


def _check_tube(values: dict[str, Any], tube: Tube | None) -> dict[str, Any]:
    code, result, reason = values["code"], values["result"], values["reason"]
    if tube is None:
        raise ResultRefused(
            "unknown_tube", _("No tube %(code)s was sampled; check the barcode.") % {"code": code}
        )
    if tube.status != TubeStatus.SEALED:
        raise ResultRefused(
            "tube_open", _("Tube %(code)s was never sealed at its lane.") % {"code": code}
        )
    if tube.received_at is None:
        # A result for a tube the lab never scanned in is the re-keyed barcode the field guide
        # warns of: the tube must come in through its box, counted.
        raise ResultRefused(
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
    if tube.result and tube.result != result and not values["correction"]:
        raise ResultRefused(
            "conflict",
            _("Tube %(code)s is already %(old)s. To change it, send a correction with a reason.")
            % {"code": code, "old": tube.get_result_display()},
        )
    if values["correction"] and len(reason) < 4 and tube.result and tube.result != result:
        raise ResultRefused("invalid", _("A correction needs a reason (at least 4 characters)."))
    return {**values, "tube": tube}


def check(
    rows: list[object], user: User | None, *, lock: bool = False
) -> list[dict[str, Any] | ResultRefused]:
    """Each row checked without writing, in order: the values parse, the tube exists in the
    user's towns, has been received and may be resulted. Tubes are read a few thousand at a
    time, whatever the number of rows."""
    values: list[dict[str, Any] | ResultRefused] = []
    for row in rows:
        try:
            if not isinstance(row, dict):
                raise ResultRefused("invalid", _("Each result must be an object."))
            values.append(_values(row))
        except ResultRefused as refused:
            values.append(refused)
    tubes = _tubes({v["code"] for v in values if isinstance(v, dict)}, user, lock)
    # A tube of a town whose personal data is erased takes no result: it would open retests
    # and notices for people who are no longer there (territory.closures, read FOR SHARE).
    towns = dict(
        Campaign.objects.filter(pk__in={t.campaign_id for t in tubes.values()}).values_list(
            "pk", "town_id"
        )
    )
    erased = closures.erased(towns.values())
    checked: list[dict[str, Any] | ResultRefused] = []
    for value in values:
        if isinstance(value, ResultRefused):
            checked.append(value)
            continue
        tube = tubes.get(value["code"])
        if tube is not None and towns.get(tube.campaign_id) in erased:
            checked.append(
                ResultRefused(
                    "town_erased",
                    _(
                        "Tube %(code)s belongs to a town whose personal data has been erased: "
                        "its result is no longer recorded."
                    )
                    % {"code": value["code"]},
                )
            )
            continue
        try:
            checked.append(_check_tube(value, tube))
        except ResultRefused as refused:
            checked.append(refused)
    return checked


def parse_row(row: dict[str, Any], user: User | None) -> dict[str, Any]:
    """One row checked without writing (``check`` for many)."""
    [checked] = check([row], user)
    if isinstance(checked, ResultRefused):
        raise checked
    return checked


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
        # Nobody is still to be told what the corrected result no longer says.
        telling.withdraw(tube, now)
        retests.cancel_retests(tube, now)
    if tube.retest_of_id is not None or tube.capacity == 1:
        retests.result_retests(tube, result, now)
    if not pooled and result == Result.POSITIVE:
        zoning.positive_found(tube.campaign_id, _buildings_of(tube), tube.code, now)
        cases.open_for(tube, now)
        retests.tell_household(tube, now)
    elif not pooled and before == Result.POSITIVE:
        zoning.positive_withdrawn(tube.code, now)
        cases.withdraw(tube, now)
    if result == Result.POSITIVE and pooled:
        retests.order_retests(tube, OrderKind.POSITIVE_POOL, now)
    elif result == Result.INVALID and tube.retest_of_id is None:
        # (An unreadable retest reopens its own order above: no second order for the person.)
        retests.order_retests(tube, OrderKind.RESAMPLE, now)
    return "accepted"


def _buildings_of(tube: Tube) -> set[int]:
    """The buildings of a tube's people: their households', or for a walk-in the household
    the address they gave traces to. A person found positive re-zones these (a pool does not:
    its members stay home until their retests say who it was)."""
    buildings = set()
    for member in TubeMember.objects.filter(tube=tube).select_related(
        "household__unit", "walk_in__household__unit"
    ):
        household = member.household or (
            walk_ins.home_of(member.walk_in) if member.walk_in else None
        )
        if household is not None:
            buildings.add(household.unit.building_id)
    return buildings


def _plain(parsed: dict[str, Any]) -> bool:
    """A first negative result for a pool: it sets nothing going, so it is written in bulk."""
    tube: Tube = parsed["tube"]
    return (
        parsed["result"] == Result.NEGATIVE
        and not tube.result
        and tube.capacity != 1
        and tube.retest_of_id is None
    )


def _record_plain(user: User | None, rows: list[dict[str, Any]], now: dt.datetime) -> None:
    ResultEntry.objects.bulk_create(
        [
            ResultEntry(
                tube=row["tube"],
                result=row["result"],
                ct=row["ct"],
                tested_at=row["tested_at"],
                recorded_by=user,
                recorded_at=now,
            )
            for row in rows
        ],
        batch_size=500,
    )
    Tube.objects.filter(pk__in=[row["tube"].pk for row in rows]).update(
        result=Result.NEGATIVE, resulted_at=now
    )
    moves: dict[tuple[int, str, int], Counter[str]] = {}
    for row in rows:
        tube = row["tube"]
        for scope, place_id in tally.places_of_tube(tube).items():
            moves.setdefault((tube.campaign_id, scope, place_id), Counter())["results_pending"] -= 1
    tally.bump_many(moves)


def record(
    user: User | None, rows: list[Any], now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Each row answered in order, like device events; a refused row does not stop the rest.

    Rows are written a chunk at a time, each chunk in its own transaction with its tubes
    locked: first negatives of pools (nearly every row of a day) in bulk, the rest (positives,
    invalid results, retests, corrections, a tube twice) one by one."""
    now = now or timezone.now()
    answers: list[dict[str, Any]] = []
    for start in range(0, len(rows), CHUNK):
        part = rows[start : start + CHUNK]
        with transaction.atomic():
            checked = check(part, user, lock=True)
            codes = Counter(c["code"] for c in checked if isinstance(c, dict))
            plain = [
                c for c in checked if isinstance(c, dict) and codes[c["code"]] == 1 and _plain(c)
            ]
            _record_plain(user, plain, now)
            done = {id(c) for c in plain}
            for row, outcome in zip(part, checked, strict=True):
                code = str(row.get("tube") or "") if isinstance(row, dict) else ""
                if isinstance(outcome, ResultRefused):
                    answers.append(_refused(code, outcome))
                elif id(outcome) in done:
                    answers.append({"tube": code, "status": "accepted"})
                else:
                    try:
                        with transaction.atomic():
                            status = _apply(user, parse_row(row, user), now)
                        answers.append({"tube": code, "status": status})
                    except ResultRefused as refused:
                        answers.append(_refused(code, refused))
    return answers


def _refused(code: str, refused: ResultRefused) -> dict[str, Any]:
    return {
        "tube": code,
        "status": "rejected",
        "error": {"code": refused.code, "message": refused.message},
    }

"""A paper sheet keyed in: its tubes become the device events the lane's phone would have sent,
through the one ingest engine, and each line gets an answer.

Each tube is sent as its open, then (when the open is on record) its people and its seal, each
event with a UUID from the sheet number, the tube code and the slot ("open", "seal", or whom
the line names: a line added or corrected later is a new event, the others stay the same). The answers are read for
the keyer: ``accepted``; ``duplicate`` (keyed from this sheet before); ``on_record`` (the
lane's phone sent it: a tube already opened or sealed at this lane, a person already in it);
``refused`` with the engine's words and what to do on paper; ``not_sent`` (the tube's line was
refused, so its people were not sent).

``check`` plays the whole sheet in a transaction rolled back at the end: the keyer sees every
refusal before anything is recorded, and fixes the lines while the tubes are still open.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.campaigns.models import Campaign
from doorstep.core import codes
from doorstep.core.models import User
from doorstep.sampling import ingest, rules
from doorstep.sampling.models import Lane, Tube, TubeMember
from doorstep.sampling.paper import NAMESPACE, PaperTube, SheetId
from doorstep.sampling.rules import Refusal

ACCEPTED, DUPLICATE, ON_RECORD, REFUSED, NOT_SENT = (
    "accepted",
    "duplicate",
    "on_record",
    "refused",
    "not_sent",
)
# An open refused because the tube is already at this lane: the phone opened (or sealed) it.
ON_RECORD_OPEN = {"tube_exists", "tube_sealed"}


@dataclass
class Row:
    """One line of the keyed sheet and what became of it."""

    line: int
    tube: str
    slot: str  # "tube", a box number, or "seal"
    status: str
    message: str
    typed: str = ""  # shown for a refused line only, to fix it
    person: str = ""  # the masked name the engine found


@dataclass
class Keyed:
    sheet: SheetId
    rows: list[Row] = field(default_factory=list)
    checked_only: bool = False

    @property
    def counts(self) -> Counter[str]:
        return Counter(row.status for row in self.rows)

    @property
    def refused(self) -> list[Row]:
        return [row for row in self.rows if row.status in {REFUSED, NOT_SENT}]


class _Rollback(Exception):
    def __init__(self, keyed: Keyed) -> None:
        self.keyed = keyed


def event_id(sheet: SheetId, tube: str, slot: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{sheet.number}|{tube}|{slot}"))


def key(
    user: User,
    lane: Lane,
    campaign: Campaign,
    sheet: SheetId,
    day: dt.date,
    pool: str,
    tubes: Sequence[PaperTube],
    fallback: dt.time | None = None,
    now: dt.datetime | None = None,
) -> Keyed:
    """Record the sheet: one tube after another, each in transactions of its own."""
    keying = _Keying(user, lane, campaign, sheet, day, pool, fallback, now or timezone.now())
    for tube in tubes:
        keying.tube(tube)
    return keying.keyed


def check(
    user: User,
    lane: Lane,
    campaign: Campaign,
    sheet: SheetId,
    day: dt.date,
    pool: str,
    tubes: Sequence[PaperTube],
    fallback: dt.time | None = None,
    now: dt.datetime | None = None,
) -> Keyed:
    """What keying the sheet would answer, with nothing recorded. The rows it reads stay
    locked until it ends, as a batch's would."""
    try:
        with transaction.atomic():
            keyed = key(user, lane, campaign, sheet, day, pool, tubes, fallback, now)
            raise _Rollback(keyed)
    except _Rollback as done:
        done.keyed.checked_only = True
        return done.keyed


# What to do on paper, by the engine's refusal code (the engine says what is wrong).
def _hints() -> dict[str, str]:
    return {
        "unknown_person": _(
            "Check the code against the box on the sheet. Someone not on the roster is typed as name, ID number, phone, address on one line."
        ),
        "bad_code": _("Check the code against the box on the sheet, or type the ID number."),
        "bad_id_number": _("Check the ID number against the sheet."),
        "not_a_person": _("Check the line against the box on the sheet."),
        "already_sampled": _(
            "If they were sampled again on purpose, type the reason after the code: «code ! reason»."
        ),
        "tube_full": _(
            "The people after the tube's pool size are not recorded: check the pool chosen above, or tell the site lead which tube holds their swabs."
        ),
        "zone_pool": _(
            "Their swab is in this tube but they are not recorded in it: tell the site lead; they are sampled again in a tube of their own kind."
        ),
        "tube_sealed": _(
            "Their swab is in this tube but the tube was sealed without them: tell the site lead; they are sampled again."
        ),
        "lane_busy": _(
            "A tube is still open at this lane on the phone: seal or discard it on the lane page, then key this sheet again."
        ),
        "invalid": _("Check the line against the sheet."),
        "conflict": _(
            "This line was keyed from this sheet before with other content (a code or a time); the first keying stands. Tell the site lead if it was wrong."
        ),
        "no_campaign": _("Paper sheets are keyed while their round is running."),
    }


def _local(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


class _Keying:
    def __init__(
        self,
        user: User,
        lane: Lane,
        campaign: Campaign,
        sheet: SheetId,
        day: dt.date,
        pool: str,
        fallback: dt.time | None,
        now: dt.datetime,
    ) -> None:
        self.user, self.lane, self.campaign, self.sheet = user, lane, campaign, sheet
        self.day, self.pool, self.fallback, self.now = day, pool, fallback, now
        self.keyed = Keyed(sheet)
        self.hints = _hints()

    def refused(self, line: int, tube: str, slot: str, message: str, typed: str = "") -> None:
        self.keyed.rows.append(Row(line, tube, slot, REFUSED, message, typed))

    def not_sent(self, tube: PaperTube) -> None:
        for person in tube.people:
            self.keyed.rows.append(
                Row(
                    person.line,
                    tube.code,
                    str(person.position),
                    NOT_SENT,
                    _(
                        "Not sent: the line of tube %(code)s was refused. Fix it and key the sheet again."
                    )
                    % {"code": tube.code},
                )
            )

    def moments(self, tube: PaperTube) -> tuple[dt.datetime, dt.datetime] | None:
        """The tube's opened and sealed moments from the sheet's date and its written times,
        checked: written, not later than now, not before the round, sealed after opened."""
        opened = tube.opened or self.fallback
        if opened is None:
            self.refused(
                tube.line,
                tube.code,
                "tube",
                _(
                    "Tube %(code)s has no time: type the time written in its box (e.g. 09:15, or 09:15-09:40 for opened and sealed) on the line after its barcode, or fill in the time used when none is written."
                )
                % {"code": tube.code},
            )
            return None
        zone = timezone.get_current_timezone()
        at = dt.datetime.combine(self.day, opened, tzinfo=zone)
        sealed_at = dt.datetime.combine(self.day, tube.sealed or opened, tzinfo=zone)
        if tube.sealed is not None and tube.opened is not None and tube.sealed < tube.opened:
            sealed_at += dt.timedelta(days=1)  # opened before midnight, sealed after
        earliest = self.campaign.starts_at - rules.EARLY
        message = ""
        if max(at, sealed_at) > self.now:
            message = _(
                "Tube %(code)s: %(at)s is later than now (%(now)s). Check the time written in the tube's box and the sheet's date."
            ) % {"code": tube.code, "at": _local(max(at, sealed_at)), "now": _local(self.now)}
        elif at < earliest:
            message = _(
                "Tube %(code)s: %(at)s is before this round began (%(start)s). Check the time written in the tube's box and the sheet's date."
            ) % {"code": tube.code, "at": _local(at), "start": _local(self.campaign.starts_at)}
        elif sealed_at < at:
            message = _(
                "Tube %(code)s: sealed at %(sealed)s, before it was opened at %(opened)s. Check the two times."
            ) % {"code": tube.code, "sealed": _local(sealed_at), "opened": _local(at)}
        if message:
            self.refused(tube.time_line or tube.line, tube.code, "tube", message)
            return None
        return at, sealed_at

    def tube(self, tube: PaperTube) -> None:
        if self.sheet.prints(tube.code) is False:
            self.refused(
                tube.line,
                tube.code,
                "tube",
                _(
                    "Tube %(code)s was printed on another sheet or for another lane, not on sheet %(sheet)s: key it with the sheet it is printed on, or check the code."
                )
                % {"code": tube.code, "sheet": self.sheet.number},
            )
            self.not_sent(tube)
            return
        moments = self.moments(tube)
        existing = Tube.objects.filter(campaign=self.campaign, code=tube.code).first()
        if moments is not None and existing is not None and existing.lane_id != self.lane.pk:
            self.refused(
                tube.line,
                tube.code,
                "tube",
                _(
                    "Tube %(code)s is on record at another lane: the code on this sheet must be a tube of this lane. Check the code."
                )
                % {"code": tube.code},
            )
            moments = None
        if moments is None:
            self.not_sent(tube)
            return
        at, sealed_at = moments
        opening = {
            "id": event_id(self.sheet, tube.code, "open"),
            "type": "tube.open",
            "at": at.isoformat(),
            "lane": self.lane.code,
            "tube": tube.code,
            "pool": self.pool,
        }
        answer = ingest.apply(self.user, [opening], self.now)[0]
        if not self.opened(tube, answer, existing):
            self.not_sent(tube)
            return
        events = [
            {
                "id": event_id(self.sheet, tube.code, person.key),
                "type": "tube.add",
                "at": at.isoformat(),
                "tube": tube.code,
                **{k: v for k, v in person.fields.items() if v},
            }
            for person in tube.people
        ]
        events.append(
            {
                "id": event_id(self.sheet, tube.code, "seal"),
                "type": "tube.seal",
                "at": sealed_at.isoformat(),
                "tube": tube.code,
            }
        )
        answers = ingest.apply(self.user, events, self.now)
        members = _Members(self.campaign, tube.code)
        for person, found in zip(tube.people, answers, strict=False):
            self.person_row(tube, person.line, str(person.position), person.text, found, members)
        self.sealed(tube, answers[-1], answer["status"] == ACCEPTED, sealed_at)

    def opened(self, tube: PaperTube, answer: dict[str, Any], existing: Tube | None) -> bool:
        status, error = answer["status"], answer.get("error", {})
        if status in {ACCEPTED, DUPLICATE}:
            message = (
                _("Tube %(code)s opened.") % {"code": tube.code}
                if status == ACCEPTED
                else _("Already keyed from this sheet: nothing new.")
            )
            self.keyed.rows.append(Row(tube.line, tube.code, "tube", status, message))
            return True
        if error.get("code") in ON_RECORD_OPEN and existing is not None:
            self.keyed.rows.append(
                Row(
                    tube.line,
                    tube.code,
                    "tube",
                    ON_RECORD,
                    _(
                        "Tube %(code)s is already on record (sent by the lane's phone): its people are checked one by one."
                    )
                    % {"code": tube.code},
                )
            )
            return True
        self.refused(tube.line, tube.code, "tube", self.words(error), tube.code)
        return False

    def person_row(
        self,
        tube: PaperTube,
        line: int,
        slot: str,
        typed: str,
        answer: dict[str, Any],
        members: _Members,
    ) -> None:
        status, error = answer["status"], answer.get("error", {})
        person = answer.get("person", "")
        if status == ACCEPTED:
            row = Row(line, tube.code, slot, status, _("Recorded."), person=person)
        elif status == DUPLICATE:
            row = Row(
                line, tube.code, slot, status, _("Already keyed from this sheet: nothing new.")
            )
        elif error.get("code") == "already_in_tube" or (
            error.get("code") == "tube_sealed" and members.holds(typed)
        ):
            row = Row(
                line,
                tube.code,
                slot,
                ON_RECORD,
                _("Already in tube %(code)s (sent by the lane's phone): nothing new.")
                % {"code": tube.code},
                person=person,
            )
        else:
            row = Row(line, tube.code, slot, REFUSED, self.words(error), typed, person)
        self.keyed.rows.append(row)

    def sealed(self, tube: PaperTube, answer: dict[str, Any], new: bool, at: dt.datetime) -> None:
        status, error = answer["status"], answer.get("error", {})
        line = tube.time_line or tube.line
        if status in {ACCEPTED, DUPLICATE}:
            message = (
                _("Tube %(code)s sealed at %(at)s.") % {"code": tube.code, "at": _local(at)}
                if status == ACCEPTED
                else _("Already keyed from this sheet: nothing new.")
            )
            self.keyed.rows.append(Row(line, tube.code, "seal", status, message))
        elif error.get("code") == "tube_sealed":
            self.keyed.rows.append(
                Row(
                    line,
                    tube.code,
                    "seal",
                    ON_RECORD,
                    _("Tube %(code)s was already sealed: nothing new.") % {"code": tube.code},
                )
            )
        else:
            self.refused(line, tube.code, "seal", self.words(error))
            if new and error.get("code") == "tube_empty":
                self.discard(tube, line, at)

    def discard(self, tube: PaperTube, line: int, at: dt.datetime) -> None:
        """A tube this keying opened in which nobody could be recorded is discarded, so that
        the lane is free for the next tube (its swabs are the site lead's to sort out)."""
        event = {
            "id": event_id(self.sheet, tube.code, "discard"),
            "type": "tube.discard",
            "at": at.isoformat(),
            "tube": tube.code,
            "reason": _("Paper sheet %(sheet)s: nobody could be recorded in it.")
            % {"sheet": self.sheet.number},
        }
        answer = ingest.apply(self.user, [event], self.now)[0]
        if answer["status"] in {ACCEPTED, DUPLICATE}:
            self.keyed.rows.append(
                Row(
                    line,
                    tube.code,
                    "seal",
                    answer["status"],
                    _(
                        "Tube %(code)s discarded: nobody in it could be recorded. Tell the site lead, who sorts out its swabs."
                    )
                    % {"code": tube.code},
                )
            )

    def words(self, error: dict[str, str]) -> str:
        message = error.get("message", "")
        hint = self.hints.get(error.get("code", ""), "")
        return f"{message} {hint}".strip()


class _Members:
    """Who is in a tube on record, read once and only when a refusal needs it: by person
    code, and by document number for those typed by their ID."""

    def __init__(self, campaign: Campaign, code: str) -> None:
        self.campaign, self.code = campaign, code
        self._keys: set[str] | None = None

    def holds(self, typed: str) -> bool:
        if self._keys is None:
            rows = TubeMember.objects.filter(
                tube__campaign=self.campaign, tube__code=self.code
            ).values_list("resident__person_code", "resident__id_number", "walk_in__id_number")
            self._keys = {value for row in rows for value in row if value}
        try:
            key = rules.person_key(typed.split("!")[0].split("！")[0])
        except Refusal:
            return False
        return (key.code or codes.normalise(key.number)) in self._keys or key.number in self._keys

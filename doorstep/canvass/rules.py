"""The door-to-door rules: what a tap must hold, who may record one where, and what counts as
the same tap twice. Each is written once, here, with its code and words; the building page asks
``may_record`` whether to show the buttons, and the engine (``canvass.outcomes``) holds every
tap to the same functions. Nothing here reads or writes the database: the engine gives each rule
the facts it read for the whole batch.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from doorstep.canvass.models import ExemptReason, NeedKind, Outcome, TaskStatus
from doorstep.core.inputs import is_number, is_text
from doorstep.core.moments import parse_moment
from doorstep.sampling.rules import as_templates

# A second tap of the same outcome on the same household this soon is a double tap.
DOUBLE_TAP = dt.timedelta(minutes=2)
# How far ahead of the server a phone's clock may run.
CLOCK_SKEW = dt.timedelta(minutes=5)
NOTE_LIMIT = 500


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Tap:
    """A tap as the phone sends it: every field text, checked by ``check``."""

    id: str
    household: object
    outcome: str
    exempt_reason: str = ""
    need_kind: str = ""
    need_by: str = ""
    note: str = ""
    at: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Tap:
        return cls(**{k: data.get(k, "") or "" for k in cls.__dataclass_fields__})  # type: ignore[arg-type]


@dataclass
class Checked:
    """A tap whose fields hold: its UUID, household id, outcome and the rest, typed."""

    uid: uuid.UUID
    household_id: int
    outcome: str
    exempt_reason: str
    need_kind: str
    need_by: dt.datetime | None
    note: str
    at: dt.datetime


def check(tap: Tap, now: dt.datetime) -> Checked:
    """The tap's own fields, or the refusal that says what is wrong."""
    if not is_text(list(vars(tap).values())):
        raise Refused(
            "invalid",
            _("The tap holds characters that are not text (a NUL byte or a broken character)."),
        )
    try:
        uid = uuid.UUID(str(tap.id))
    except ValueError:
        raise Refused("invalid", _("The tap has no valid id (a UUID made by the phone).")) from None
    if tap.outcome not in Outcome.values:
        raise Refused(
            "invalid", _("Unknown outcome «%(outcome)s».") % {"outcome": str(tap.outcome)[:40]}
        )
    reason = str(tap.exempt_reason)
    if tap.outcome == Outcome.EXEMPT and reason not in ExemptReason.values:
        raise Refused("invalid", _("Say why the household is exempt: choose a reason."))
    kind = str(tap.need_kind)
    if tap.outcome == Outcome.SPECIAL_NEED and kind not in NeedKind.values:
        raise Refused("invalid", _("Say what the special need is: choose a kind."))
    need_by = parse_moment(str(tap.need_by)) if tap.need_by else None
    if tap.need_by and need_by is None:
        raise Refused("invalid", _("“Needed by” is not a date and time."))
    note = str(tap.note).strip()
    if len(note) > NOTE_LIMIT:
        raise Refused("invalid", _("The note is too long: keep it under 500 characters."))
    at = parse_moment(str(tap.at)) if tap.at else now
    if at is None:
        raise Refused("invalid", _("The tap's time is not a date and time."))
    # A phone's clock a little ahead is taken at its word up to now; far ahead, not at all.
    at = min(at, now) if at <= now + CLOCK_SKEW else now
    household = str(tap.household)
    return Checked(
        uid,
        int(household) if is_number(household) else 0,
        str(tap.outcome),
        reason if tap.outcome == Outcome.EXEMPT else "",
        kind if tap.outcome == Outcome.SPECIAL_NEED else "",
        need_by,
        note,
        at,
    )


def in_building(c: Checked, households: Mapping[int, Any], building: str) -> None:
    """The tapped household is one of the building's (``households``: its households by id)."""
    if c.household_id not in households:
        raise Refused(
            "wrong_building",
            _("That household is not in %(building)s. Record it on its own building's page.")
            % {"building": building},
        )


@dataclass(frozen=True)
class Recorder:
    """Who taps: may they record outcomes at all, may they see people's details (the
    community's workers follow up after a building is done), and their door-to-door team on
    duty in the building's community, if any."""

    records_outcomes: bool
    follows_up: bool
    team_id: int | None


@dataclass(frozen=True)
class Holding:
    """The building's claim as the rules need it."""

    status: str
    team_id: int | None
    team: str
    building: str
    expires_at: dt.datetime | None


def lapsed_words() -> str:
    """What a tap made after its claim's lease ran out is told, by the server and, offline, by
    the page (``page_data``): %(building)s, %(at)s, %(minutes)s."""
    return _(
        "Your claim on %(building)s lapsed at %(at)s after %(minutes)s minutes without a "
        "recorded outcome. Claim it again to go on."
    )


def page_data(task: Holding, mine: bool, lease_minutes: int) -> dict[str, Any]:
    """What the building page checks offline, as data: while the phone has no signal no answer
    renews the claim, so a tap made after ``claimUntil`` will be refused as lapsed (the server
    holds it to ``may_record``); the page says so at the tap, in the server's words, and keeps
    the tap (a teammate's taps may have renewed the claim meanwhile: the server decides)."""
    until = task.expires_at if mine and task.status == TaskStatus.CLAIMED else None
    return {
        "claimUntil": int(until.timestamp() * 1000) if until else None,
        "building": task.building,
        "minutes": lease_minutes,
        "lapsed": as_templates({"lapsed": lapsed_words()})["lapsed"],
    }


def may_record(who: Recorder, task: Holding, at: dt.datetime, lapsed: str = "") -> None:
    """Whether ``who`` may record a tap made at ``at`` on the building. While a building is
    claimed only its team records; a tap made while the claim held counts even when it reaches
    the server after the lease ran out (it was made offline). After the building is done, its
    community's teams and workers record revisits and phone calls. ``lapsed``: the words for a
    lapsed claim (they name the lease, which the caller knows)."""
    if not who.records_outcomes:
        raise Refused("forbidden", _("Your role does not record door-to-door outcomes."))
    if task.status == TaskStatus.OPEN:
        raise Refused(
            "not_claimed",
            _("Nobody holds %(building)s. Claim it before recording outcomes.")
            % {"building": task.building},
        )
    if task.status == TaskStatus.DONE:
        if who.team_id is None and not who.follows_up:
            raise Refused("forbidden", _("Only the community's teams and workers follow up here."))
        return
    if who.team_id is None or task.team_id != who.team_id:
        raise Refused(
            "not_your_claim",
            _("%(building)s is held by %(team)s; only that team records outcomes there.")
            % {"building": task.building, "team": task.team or "?"},
        )
    if task.expires_at is not None and at > task.expires_at:
        raise Refused("lapsed", lapsed or _("Your claim has lapsed. Claim it again to go on."))


@dataclass(frozen=True)
class LastTap:
    """The household's latest recorded tap, as the double-tap rule needs it."""

    outcome: str
    exempt_reason: str
    recorded_by_id: int | None
    tapped_at: dt.datetime


def is_double_tap(last: LastTap | None, c: Checked, user_id: int) -> bool:
    """The same person tapped the same outcome on the household moments ago (a second press
    of the button, or the phone's outbox and the form both sending it): answered as a
    duplicate, recorded once."""
    return (
        last is not None
        and last.outcome == c.outcome
        and last.exempt_reason == c.exempt_reason
        and last.recorded_by_id == user_id
        and abs(c.at - last.tapped_at) < DOUBLE_TAP
    )


@dataclass(frozen=True)
class Recorded:
    """A tap already recorded under a UUID, for telling a replay from a conflict."""

    household_id: int
    outcome: str
    exempt_reason: str
    need_kind: str
    note: str
    tapped_at: dt.datetime
    room: str


def same(recorded: Recorded, c: Checked) -> bool:
    """A replay of a recorded tap: the same UUID with the same content."""
    return (
        recorded.household_id == c.household_id
        and recorded.outcome == c.outcome
        and recorded.exempt_reason == c.exempt_reason
        and recorded.need_kind == c.need_kind
        and recorded.note == c.note
    )

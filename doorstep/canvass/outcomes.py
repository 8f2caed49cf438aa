"""Recording household outcomes, one tap at a time or as a batch replayed from a phone's outbox.

Each tap carries the phone's UUID. The answer to each is one of ``accepted``, ``duplicate`` (the
same tap again, or the same outcome tapped twice in a row) or ``rejected`` with a code and a
message, in order; a rejected tap does not stop the others. Every accepted tap is committed
before the answer goes back, so the phone may forget it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.canvass import counters, hooks
from doorstep.canvass.actions import CanvassError, hhmm, lapsed_message, lease, team_of
from doorstep.canvass.models import (
    BuildingTask,
    ExemptReason,
    HouseholdState,
    NeedKind,
    Outcome,
    TaskStatus,
    Visit,
)
from doorstep.core.inputs import is_number, is_text
from doorstep.core.models import User
from doorstep.core.moments import parse_moment
from doorstep.core.roles import Can
from doorstep.sampling import home, tally
from doorstep.sampling.models import RoundSample
from doorstep.territory.models import Household, Resident
from doorstep.workforce.models import Team

# A second tap of the same outcome on the same household this soon is a double tap.
DOUBLE_TAP = dt.timedelta(minutes=2)
# How far ahead of the server a phone's clock may run.
CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclass
class Tap:
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
class Answer:
    id: str
    status: str  # accepted | duplicate | rejected
    code: str = ""
    message: str = ""
    household: int | None = None
    outcome: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"id": self.id, "status": self.status}
        if self.household is not None:
            data["household"] = self.household
            data["outcome"] = self.outcome
        if self.code:
            data["error"] = {"code": self.code, "message": self.message}
        elif self.message:
            data["message"] = self.message
        return data


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Checked:
    uid: uuid.UUID
    household: Household
    outcome: str
    exempt_reason: str
    need_kind: str
    need_by: dt.datetime | None
    note: str
    at: dt.datetime


def _check(tap: Tap, task: BuildingTask, now: dt.datetime) -> Checked:
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
    if len(note) > 500:
        raise Refused("invalid", _("The note is too long: keep it under 500 characters."))
    at = parse_moment(str(tap.at)) if tap.at else now
    if at is None:
        raise Refused("invalid", _("The tap's time is not a date and time."))
    at = min(at, now) if at <= now + CLOCK_SKEW else now
    household_id = str(tap.household)
    household = (
        Household.objects.filter(pk=int(household_id), unit__building_id=task.building_id)
        .select_related("unit")
        .first()
        if is_number(household_id)
        else None
    )
    if household is None:
        raise Refused(
            "wrong_building",
            _("That household is not in %(building)s. Record it on its own building's page.")
            % {"building": task.building.name},
        )
    return Checked(
        uid,
        household,
        str(tap.outcome),
        reason if tap.outcome == Outcome.EXEMPT else "",
        kind if tap.outcome == Outcome.SPECIAL_NEED else "",
        need_by,
        note,
        at,
    )


def _same(visit: Visit, c: Checked) -> bool:
    return (
        visit.household_id == c.household.pk
        and visit.outcome == c.outcome
        and visit.exempt_reason == c.exempt_reason
        and visit.need_kind == c.need_kind
        and visit.note == c.note
    )


def _may_record(user: User, team: Team | None, task: BuildingTask, c: Checked) -> Team | None:
    """The team the tap is recorded for, or a refusal. While a building is claimed only its team
    records; a tap made offline while the claim held still counts after the lease ran out."""
    if task.status == TaskStatus.OPEN:
        raise Refused(
            "not_claimed",
            _("Nobody holds %(building)s. Claim it before recording outcomes.")
            % {"building": task.building.name},
        )
    if task.status == TaskStatus.DONE:
        # Revisits and phone calls after completion: the community's people may record them.
        if team is None and not user.can(Can.REVEAL_PERSONAL):
            raise Refused("forbidden", _("Only the community's teams and workers follow up here."))
        return team
    assert task.expires_at is not None
    if team is None or task.team_id != team.pk:
        raise Refused(
            "not_your_claim",
            _("%(building)s is held by %(team)s; only that team records outcomes there.")
            % {"building": task.building.name, "team": task.team.name if task.team else "?"},
        )
    if c.at > task.expires_at:
        raise Refused("lapsed", lapsed_message(task))
    return team


def _apply(
    user: User, team: Team | None, task: BuildingTask, c: Checked, now: dt.datetime
) -> Answer:
    existing = Visit.objects.filter(client_uuid=c.uid).first()
    if existing is not None:
        if _same(existing, c):
            return Answer(str(c.uid), "duplicate", household=c.household.pk, outcome=c.outcome)
        raise Refused(
            "conflict",
            _(
                "This tap was already recorded as «%(outcome)s» for %(room)s at %(at)s; the new "
                "one differs. Check the household and tap again."
            )
            % {
                "outcome": existing.get_outcome_display(),
                "room": existing.household.room,
                "at": hhmm(existing.tapped_at),
            },
        )
    # The counters' fold counts sampled people into the same households: keep it out.
    tally.hold()
    task = (
        BuildingTask.objects.select_for_update(of=("self",))
        .select_related("team", "building", "campaign")
        .get(pk=task.pk)
    )
    team = _may_record(user, team, task, c)
    state = (
        HouseholdState.objects.select_for_update(of=("self",))
        .select_related("last_visit")
        .filter(campaign_id=task.campaign_id, household=c.household)
        .first()
    )
    if (
        state is not None
        and state.last_visit is not None
        and state.outcome == c.outcome
        and state.last_visit.exempt_reason == c.exempt_reason
        and state.last_visit.recorded_by_id == user.pk
        and abs(c.at - state.last_visit.tapped_at) < DOUBLE_TAP
    ):
        return Answer(
            str(c.uid),
            "duplicate",
            message=_("Already recorded at %(at)s.") % {"at": hhmm(state.last_visit.tapped_at)},
            household=c.household.pk,
            outcome=c.outcome,
        )
    visit = Visit.objects.create(
        client_uuid=c.uid,
        campaign_id=task.campaign_id,
        task=task,
        household=c.household,
        team=team,
        outcome=c.outcome,
        exempt_reason=c.exempt_reason,
        need_kind=c.need_kind,
        need_by=c.need_by,
        note=c.note,
        recorded_by=user,
        tapped_at=c.at,
        recorded_at=now,
    )
    before = state.outcome if state else ""
    misses = (state.misses if state else 0) + (c.outcome == Outcome.NOBODY_HOME)
    unsampled = 0
    if Outcome.EXEMPT in {c.outcome, state.outcome if state else ""}:
        unsampled = (
            Resident.objects.filter(household=c.household, moved_out=False)
            .exclude(
                # Counted samples only: the fold takes the rest off the exempt count.
                pk__in=RoundSample.objects.filter(campaign_id=task.campaign_id, folded=True).values(
                    "resident_id"
                )
            )
            .count()
        )
    deltas = counters.state_deltas(state, c.outcome, misses, unsampled)
    if state is None:
        HouseholdState.objects.create(
            campaign_id=task.campaign_id,
            household=c.household,
            task=task,
            community_id=task.community_id,
            outcome=c.outcome,
            exempt_reason=c.exempt_reason,
            misses=misses,
            last_visit=visit,
        )
    else:
        state.outcome, state.exempt_reason = c.outcome, c.exempt_reason
        state.misses, state.last_visit = misses, visit
        state.save(update_fields=["outcome", "exempt_reason", "misses", "last_visit"])
    counters.bump(task, **deltas)
    if Outcome.MOVED_OUT in {c.outcome, before} and c.outcome != before:
        # Moved out: its people are off the roster's counts and the untested list (and back on
        # them should a later tap say otherwise); the building is counted again from the rows.
        Resident.objects.filter(household=c.household).update(
            moved_out=c.outcome == Outcome.MOVED_OUT
        )
        counters.recount(task.campaign_id, [task.building_id])
        if c.outcome == Outcome.MOVED_OUT:
            home.moved_out(task.campaign_id, c.household.pk, now)  # nobody to sample there
        else:
            home.moved_back(task.campaign_id, c.household, now)
    if c.outcome == Outcome.HOME_SAMPLING:
        home.need_home(task.campaign_id, c.household, now)  # a sampling team's task
    elif before == Outcome.HOME_SAMPLING:
        home.not_needed(task.campaign_id, c.household.pk, now)
    if c.outcome == Outcome.SPECIAL_NEED:
        hooks.need_found(user, visit)  # the community's list of requests, in this transaction
    if task.status == TaskStatus.CLAIMED:
        # Activity extends the lease (and revives a lapsed one nobody else has taken).
        BuildingTask.objects.filter(pk=task.pk, team=team).update(expires_at=now + lease(task))
    return Answer(str(c.uid), "accepted", household=c.household.pk, outcome=c.outcome)


def record(
    user: User, task: BuildingTask, taps: list[Tap], now: dt.datetime | None = None
) -> list[Answer]:
    """Record each tap in its own transaction and answer each, in order."""
    now = now or timezone.now()
    team = team_of(user, task.community_id)
    return [_answer(user, team, task, tap, now) for tap in taps]


def _answer(
    user: User, team: Team | None, task: BuildingTask, tap: Tap, now: dt.datetime
) -> Answer:
    try:
        checked = _check(tap, task, now)
        try:
            with transaction.atomic():
                return _apply(user, team, task, checked, now)
        except IntegrityError:
            # The same UUID arrived on another connection at the same instant: now it is a
            # replay, and the second attempt answers it as one.
            with transaction.atomic():
                return _apply(user, team, task, checked, now)
    except Refused as refused:
        return Answer(str(tap.id), "rejected", refused.code, refused.message)


def record_one(user: User, task: BuildingTask, tap: Tap) -> Answer:
    """A single tap from a form; raises CanvassError with the message when it is refused."""
    answer = record(user, task, [tap])[0]
    if answer.status == "rejected":
        raise CanvassError(answer.message)
    return answer

"""The door-to-door engine: taps recorded the way the lanes' scans are, one batch at a time.

A single tap from the building page is a batch of one; a phone's outbox replays a batch. Each
tap carries the phone's UUID, and each is answered, in order, ``accepted``, ``duplicate`` (the
same tap again, or the same outcome tapped twice in a row) or ``rejected`` with a code and a
message; a rejected tap leaves nothing behind and does not stop the others. The batch is one
transaction, so every accepted tap is committed before the answer goes back and the phone may
forget it.

The shape is the ingest engine's: the taps' own fields are checked first (``rules.check``);
then one read takes what the batch needs (the claim, locked; the tapped households, their
states, locked; the UUIDs already recorded; unsampled members where an exemption comes or
goes); each tap is checked against it (``rules``: the building, replays, who may record, double
taps) and, accepted, changes it for the next; and what the batch did is written once, set-based
(``actions/taps.py``). A tap with consequences beyond its household (moved out or back, home
sampling) is written before them, as they read it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.canvass import counters, hooks, rules
from doorstep.canvass.actions import CanvassError, hhmm, lapsed_message, lease, team_of
from doorstep.canvass.actions import taps as store
from doorstep.canvass.models import BuildingTask, HouseholdState, Outcome, TaskStatus, Visit
from doorstep.canvass.rules import Checked, Refused, Tap
from doorstep.core.models import User
from doorstep.core.roles import Can
from doorstep.sampling import tally
from doorstep.sampling.actions import home
from doorstep.sampling.models import RoundSample
from doorstep.territory.models import Household, Resident
from doorstep.workforce.models import Team

__all__ = ["Answer", "Tap", "record", "record_one"]


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


def record(
    user: User, task: BuildingTask, taps: list[Tap], now: dt.datetime | None = None
) -> list[Answer]:
    """Record a batch of taps on one building, in one transaction, and answer each, in order:
    a single tap from a form is a batch of one, a phone's outbox a batch of many. A refused
    tap leaves nothing behind and does not stop the others."""
    now = now or timezone.now()
    checked: list[Checked | Answer] = []
    for tap in taps:
        try:
            checked.append(rules.check(tap, now))
        except Refused as refused:
            checked.append(Answer(str(tap.id), "rejected", refused.code, refused.message))
    todo = [c for c in checked if isinstance(c, Checked)]
    played: dict[int, Answer] = {}
    if todo:
        who = recorder(user, team_of(user, task.community_id))
        try:
            with transaction.atomic():
                played = _Batch(user, who, task.pk, now).play(todo)
        except IntegrityError:
            # A tap's UUID arrived on another connection at the same instant: played again on
            # fresh reads, it is a replay there and answered as one.
            with transaction.atomic():
                played = _Batch(user, who, task.pk, now).play(todo)
    return [played[id(c)] if isinstance(c, Checked) else c for c in checked]


def record_one(user: User, task: BuildingTask, tap: Tap) -> Answer:
    """A single tap from a form; raises CanvassError with the message when it is refused."""
    answer = record(user, task, [tap])[0]
    if answer.status == "rejected":
        raise CanvassError(answer.message)
    return answer


def recorder(user: User, team: Team | None) -> rules.Recorder:
    """The user as the rules see a recorder (``team``: their door-to-door team on duty in the
    building's community)."""
    return rules.Recorder(
        records_outcomes=user.can(Can.RECORD_OUTCOMES),
        follows_up=user.can(Can.REVEAL_PERSONAL),
        team_id=team.pk if team else None,
    )


def holding(task: BuildingTask) -> rules.Holding:
    """The building's claim as the rules see it."""
    return rules.Holding(
        task.status,
        task.team_id,
        task.team.name if task.team else "",
        task.building.name,
        task.expires_at,
    )


def may_record(user: User, team: Team | None, task: BuildingTask, at: dt.datetime) -> bool:
    """Whether the page offers the user the outcome buttons: the engine's rule, asked now."""
    try:
        rules.may_record(recorder(user, team), holding(task), at)
    except Refused:
        return False
    return True


class _Batch:
    """One batch's play: what it read once (the building's claim locked, the tapped households
    and their states, the UUIDs already recorded), the taps checked against it in order, each
    accepted tap changing it for the next, and the writes handed to ``actions.taps``."""

    def __init__(self, user: User, who: rules.Recorder, task_id: int, now: dt.datetime) -> None:
        self.user, self.who, self.now = user, who, now
        # The counters' fold counts sampled people into the same households: keep it out, and
        # take its lock before any row's, as it does.
        tally.hold()
        self.task = (
            BuildingTask.objects.select_for_update(of=("self",))
            .select_related("team", "building", "campaign")
            .get(pk=task_id)
        )
        self.visits: list[Visit] = []
        self.new: list[HouseholdState] = []
        self.changed: dict[int, HouseholdState] = {}
        self.deltas: Counter[str] = Counter()

    def play(self, taps: list[Checked]) -> dict[int, Answer]:
        task = self.task
        named = {c.household_id for c in taps}
        self.rooms = dict(
            Household.objects.filter(pk__in=named, unit__building_id=task.building_id).values_list(
                "pk", "room"
            )
        )
        self.recorded = {
            uid: rules.Recorded(household, outcome, reason, need, note, at, room)
            for uid, household, outcome, reason, need, note, at, room in Visit.objects.filter(
                client_uuid__in=[c.uid for c in taps]
            ).values_list(
                "client_uuid",
                "household_id",
                "outcome",
                "exempt_reason",
                "need_kind",
                "note",
                "tapped_at",
                "household__room",
            )
        }
        self.states = {
            s.household_id: s
            for s in HouseholdState.objects.select_for_update(of=("self",))
            .select_related("last_visit")
            .filter(campaign_id=task.campaign_id, household_id__in=list(self.rooms))
            .order_by("pk")
        }
        self._count_unsampled(taps)
        self.holding = holding(task)
        self.lapsed = lapsed_message(task) if task.expires_at is not None else ""
        answers: dict[int, Answer] = {}
        accepted = False
        for c in taps:
            try:
                answers[id(c)] = self._one(c)
            except Refused as refused:
                answers[id(c)] = Answer(str(c.uid), "rejected", refused.code, refused.message)
            if answers[id(c)].status == "accepted" and task.status == TaskStatus.CLAIMED:
                # Activity extends the lease, for the batch's next taps as for the next batch.
                accepted = True
                self.holding = dataclasses.replace(self.holding, expires_at=self.now + lease(task))
        self._flush()
        if accepted:
            store.extend(task, self.who.team_id, self.now + lease(task))
        return answers

    def _one(self, c: Checked) -> Answer:
        rules.in_building(c, self.rooms, self.task.building.name)
        known = self.recorded.get(c.uid)
        if known is not None:
            if rules.same(known, c):
                return Answer(str(c.uid), "duplicate", household=c.household_id, outcome=c.outcome)
            raise Refused(
                "conflict",
                _(
                    "This tap was already recorded as «%(outcome)s» for %(room)s at %(at)s; the "
                    "new one differs. Check the household and tap again."
                )
                % {
                    "outcome": Outcome(known.outcome).label,
                    "room": known.room,
                    "at": hhmm(known.tapped_at),
                },
            )
        rules.may_record(self.who, self.holding, c.at, self.lapsed)
        state = self.states.get(c.household_id)
        last = state.last_visit if state is not None else None
        if state is not None and last is not None:
            previous = rules.LastTap(
                state.outcome, last.exempt_reason, last.recorded_by_id, last.tapped_at
            )
            if rules.is_double_tap(previous, c, self.user.pk):
                return Answer(
                    str(c.uid),
                    "duplicate",
                    message=_("Already recorded at %(at)s.") % {"at": hhmm(last.tapped_at)},
                    household=c.household_id,
                    outcome=c.outcome,
                )
        self._accept(c, state)
        return Answer(str(c.uid), "accepted", household=c.household_id, outcome=c.outcome)

    def _accept(self, c: Checked, state: HouseholdState | None) -> None:
        task = self.task
        visit = Visit(
            client_uuid=c.uid,
            campaign_id=task.campaign_id,
            task=task,
            household_id=c.household_id,
            team_id=self.who.team_id,
            outcome=c.outcome,
            exempt_reason=c.exempt_reason,
            need_kind=c.need_kind,
            need_by=c.need_by,
            note=c.note,
            recorded_by=self.user,
            tapped_at=c.at,
            recorded_at=self.now,
        )
        self.visits.append(visit)
        self.recorded[c.uid] = rules.Recorded(
            c.household_id,
            c.outcome,
            c.exempt_reason,
            c.need_kind,
            c.note,
            c.at,
            self.rooms[c.household_id],
        )
        before = state.outcome if state else ""
        misses = (state.misses if state else 0) + (c.outcome == Outcome.NOBODY_HOME)
        unsampled = self.unsampled[c.household_id] if Outcome.EXEMPT in {c.outcome, before} else 0
        self.deltas.update(counters.state_deltas(state, c.outcome, misses, unsampled))
        if state is None:
            state = HouseholdState(
                campaign_id=task.campaign_id,
                household_id=c.household_id,
                task=task,
                community_id=task.community_id,
            )
            self.states[c.household_id] = state
            self.new.append(state)
        elif state.pk is not None:
            self.changed[state.pk] = state
        state.outcome, state.exempt_reason = c.outcome, c.exempt_reason
        state.misses, state.last_visit = misses, visit
        moved = Outcome.MOVED_OUT in {c.outcome, before} and c.outcome != before
        home_sampling = c.outcome == Outcome.HOME_SAMPLING
        if not (
            moved
            or home_sampling
            or before == Outcome.HOME_SAMPLING
            or c.outcome == Outcome.SPECIAL_NEED
        ):
            return
        # Consequences beyond the household's row read what this tap wrote: store it first.
        self._flush()
        household = Household.objects.select_related("unit__building").get(pk=c.household_id)
        if moved:
            store.moved(task, household, c.outcome == Outcome.MOVED_OUT, self.now)
            self._reread()
        if home_sampling:
            home.need_home(task.campaign_id, household, self.now)  # a sampling team's task
        elif before == Outcome.HOME_SAMPLING:
            home.not_needed(task.campaign_id, household.pk, self.now)
        if c.outcome == Outcome.SPECIAL_NEED:
            hooks.need_found(self.user, visit)  # the community's list of requests

    def _flush(self) -> None:
        if not self.visits:
            return
        store.store(self.task, self.visits, self.new, list(self.changed.values()), self.deltas)
        for state in self.new:
            self.changed.pop(state.pk, None)
        self.visits, self.new, self.changed, self.deltas = [], [], {}, Counter()

    def _count_unsampled(self, taps: list[Checked] | None = None) -> None:
        """Members of each household an exempt outcome comes to or leaves who are not
        sampled: what the exempt counter holds for it. Counted samples only (the fold takes
        the rest off the exempt count when it counts them)."""
        if taps is not None:
            self.exempt_homes = {
                c.household_id
                for c in taps
                if c.household_id in self.rooms
                and Outcome.EXEMPT
                in {c.outcome, getattr(self.states.get(c.household_id), "outcome", "")}
            }
        self.unsampled: Counter[int] = Counter()
        if not self.exempt_homes:
            return
        counted = RoundSample.objects.filter(campaign_id=self.task.campaign_id, folded=True).values(
            "resident_id"
        )
        self.unsampled.update(
            dict(
                Resident.objects.filter(household_id__in=self.exempt_homes, moved_out=False)
                .exclude(pk__in=counted)
                .values_list("household_id")
                .annotate(n=Count("id"))
                .values_list("household_id", "n")
            )
        )

    def _reread(self) -> None:
        """After a consequence that counts the building again (a household moved out or
        back): the households' states as they are now. The recount folds what the lanes left
        first, which may have made states for households this batch had none for (every member
        now sampled): those are read, and locked, like the rest."""
        known = [s.pk for s in self.states.values() if s.pk is not None]
        flags = dict(HouseholdState.objects.filter(pk__in=known).values_list("pk", "all_sampled"))
        for state in self.states.values():
            if state.pk in flags:
                state.all_sampled = flags[state.pk]
        for state in (
            HouseholdState.objects.select_for_update(of=("self",))
            .select_related("last_visit")
            .filter(campaign_id=self.task.campaign_id, household_id__in=list(self.rooms))
            .exclude(pk__in=known)
            .order_by("pk")
        ):
            self.states[state.household_id] = state
        self._count_unsampled()

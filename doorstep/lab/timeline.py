"""Where is my result? A person's own timeline this round, and the round's late results.

A sample moves through six steps: sampled (at a site's lane), its tube sealed, boxed (the box
sealed with the tube in it), the box handed to the courier, received by the lab, resulted. Each
step after the first should happen by a time computed from ``core.clocks`` and the step that
anchors it: the tube sealed within ``TUBE_OPEN_TOO_LONG`` of being opened, boxed within
``TUBE_BOX_DUE`` and handed over within ``HANDOFF_DUE`` of its sealing, at the lab within
``SPECIMEN_DUE`` of its sealing, resulted within ``RESULTS_DUE`` of its receipt. The step after
the last one reached *holds* the sample; it is late once its time has passed. A step left out
(a box the lab received without a courier's scan) is skipped, not holding.

The latest sample counts: a member of a positive or invalid pool has a retest of their own,
whose steps follow the pool's (no national figure says how soon a retest must be taken,
field-facts F4.3, so a retest not yet taken is never late). No name is in any of it: the lab
may read a timeline, and the pages that show a person add the masked name themselves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from doorstep.campaigns.models import Campaign
from doorstep.campaigns.queries import rounds_together
from doorstep.core import clocks
from doorstep.lab.models import OrderStatus, RetestOrder
from doorstep.sampling.models import Box, Result, RoundSample, Tube, TubeMember, TubeStatus
from doorstep.territory.models import Resident

SAMPLED, SEALED, BOXED, HANDED, RECEIVED, RESULTED = (
    "sampled",
    "sealed",
    "boxed",
    "handed",
    "received",
    "resulted",
)
STEPS = (SAMPLED, SEALED, BOXED, HANDED, RECEIVED, RESULTED)
LABELS = {
    SAMPLED: _("Sampled"),
    SEALED: _("Tube sealed"),
    BOXED: _("Boxed"),
    HANDED: _("Handed to the courier"),
    RECEIVED: _("Received by the lab"),
    RESULTED: _("Resulted"),
}


@dataclass(frozen=True)
class Step:
    key: str
    at: dt.datetime | None
    # Only on the step that holds the sample: when it should have happened, and whether that
    # time has passed.
    due_at: dt.datetime | None = None
    late: bool = False
    holding: bool = False
    skipped: bool = False  # not recorded, but a later step was

    @property
    def label(self) -> str:
        return str(LABELS[self.key])


@dataclass(frozen=True)
class Sample:
    """One sample of the person: the first, or a retest (taken, or ordered and waiting)."""

    steps: tuple[Step, ...]
    retest: bool = False
    site: str = ""
    lane: str = ""
    tube_code: str = ""
    box_code: str = ""
    result: str = ""  # sampling.Result, empty until resulted
    ordered_at: dt.datetime | None = None  # a retest ordered and not taken yet

    @property
    def result_label(self) -> str:
        return str(Result(self.result).label) if self.result else ""

    @property
    def holding(self) -> Step | None:
        return next((s for s in self.steps if s.holding), None)

    @property
    def last(self) -> Step | None:
        """The last step reached."""
        reached = [s for s in self.steps if s.at is not None]
        return reached[-1] if reached else None

    @property
    def late(self) -> bool:
        return any(s.late for s in self.steps)

    def at(self, key: str) -> dt.datetime | None:
        return self.steps[STEPS.index(key)].at


@dataclass(frozen=True)
class Timeline:
    campaign_id: int
    drill: bool
    samples: tuple[Sample, ...]  # oldest first; the last one counts

    @property
    def latest(self) -> Sample:
        return self.samples[-1]

    @property
    def earlier(self) -> tuple[Sample, ...]:
        return self.samples[:-1]

    @property
    def steps(self) -> tuple[Step, ...]:
        return self.latest.steps

    @property
    def holding(self) -> Step | None:
        return self.latest.holding

    @property
    def late(self) -> bool:
        return self.latest.late

    @property
    def sampled(self) -> bool:
        return any(s.at(SAMPLED) is not None for s in self.samples)


def _dues(tube: Tube) -> dict[str, dt.datetime | None]:
    """When each step of a tube should happen, from the step that anchors it."""
    sealed, received = tube.sealed_at, tube.received_at
    return {
        SAMPLED: None,
        SEALED: tube.opened_at + clocks.TUBE_OPEN_TOO_LONG,
        BOXED: sealed + clocks.TUBE_BOX_DUE if sealed else None,
        HANDED: sealed + clocks.HANDOFF_DUE if sealed else None,
        RECEIVED: sealed + clocks.SPECIMEN_DUE if sealed else None,
        RESULTED: received + clocks.RESULTS_DUE if received else None,
    }


def _steps(
    ats: dict[str, dt.datetime | None], dues: dict[str, dt.datetime | None], now: dt.datetime
) -> tuple[Step, ...]:
    reached = [n for n, key in enumerate(STEPS) if ats[key] is not None]
    last = reached[-1] if reached else -1
    steps = []
    for n, key in enumerate(STEPS):
        if n == last + 1:
            due = dues[key]
            steps.append(Step(key, None, due, due is not None and now >= due, holding=True))
        else:
            steps.append(Step(key, ats[key], skipped=ats[key] is None and n < last))
    return tuple(steps)


def sample_of(added_at: dt.datetime, tube: Tube, now: dt.datetime) -> Sample:
    """A person added to ``tube`` at ``added_at`` (the tube with its site, lane and box)."""
    box: Box | None = tube.box
    ats = {
        SAMPLED: added_at,
        SEALED: tube.sealed_at,
        BOXED: box.sealed_at if box else None,
        HANDED: box.handed_at if box else None,
        RECEIVED: tube.received_at,
        RESULTED: tube.resulted_at,
    }
    return Sample(
        _steps(ats, _dues(tube), now),
        retest=tube.retest_of_id is not None,
        site=tube.site.name,
        lane=tube.lane.name,
        tube_code=tube.code,
        box_code=box.code if box else "",
        result=tube.result,
    )


def _waiting(
    now: dt.datetime, retest: bool = False, ordered_at: dt.datetime | None = None
) -> Sample:
    """Not sampled yet (this round, or for a retest ordered): nothing is late before a sample."""
    none: dict[str, dt.datetime | None] = dict.fromkeys(STEPS)
    return Sample(_steps(none, none, now), retest=retest, ordered_at=ordered_at)


def _rounds(campaign: Campaign) -> list[int]:
    """The rounds whose tubes may hold this round's people (a district round's other towns)."""
    return [campaign.pk] if campaign.district_round_id is None else rounds_together(campaign.pk)


def timeline(resident: Resident, campaign: Campaign, now: dt.datetime | None = None) -> Timeline:
    """The resident's samples this round, oldest first, each with its steps; the latest counts."""
    now = now or timezone.now()
    members = (
        TubeMember.objects.filter(campaign_id__in=_rounds(campaign), resident=resident)
        .select_related("tube__site", "tube__lane", "tube__box")
        .order_by("added_at", "id")
    )
    samples = [sample_of(m.added_at, m.tube, now) for m in members]
    waiting = (
        RetestOrder.objects.filter(campaign=campaign, resident=resident, status=OrderStatus.OPEN)
        .order_by("-created_at", "-id")
        .values_list("created_at", flat=True)
        .first()
    )
    if waiting is not None:
        samples.append(_waiting(now, retest=True, ordered_at=waiting))
    return Timeline(campaign.pk, campaign.is_drill, tuple(samples) or (_waiting(now),))


# --- the round's late results ------------------------------------------------------------


@dataclass(frozen=True)
class LateRow:
    """A person whose latest sample is held past its time: by which step, since when."""

    resident_id: int
    masked_name: str
    home: str  # building, unit and room
    community: str
    sample: Sample
    step: Step  # the step that holds it
    late_by: dt.timedelta  # how long past the step's time

    @property
    def due_at(self) -> dt.datetime:
        assert self.step.due_at is not None
        return self.step.due_at

    @property
    def since(self) -> dt.datetime | None:
        """When the sample reached the step before the one that holds it."""
        last = self.sample.last
        return last.at if last else None


def _home(person: Resident) -> str:
    """Building, unit and room, as the retest list writes them (from rows already read)."""
    home = person.household
    return " ".join(p for p in (home.unit.building.name, home.unit.name, home.room) if p)


def late_tubes(now: dt.datetime) -> Q:
    """Tubes whose next step is past its time (the same clocks as ``_dues``): open too long;
    sealed and in no sealed box after ``TUBE_BOX_DUE``; in a sealed box not handed over after
    ``HANDOFF_DUE``; not at the lab after ``SPECIMEN_DUE``; received and not resulted after
    ``RESULTS_DUE``. ``late`` decides each candidate with ``sample_of``; this only keeps the
    read to the few that can be."""
    not_received = Q(received_at__isnull=True)
    return (
        Q(status=TubeStatus.OPEN, opened_at__lte=now - clocks.TUBE_OPEN_TOO_LONG)
        | (
            not_received
            & Q(box__sealed_at__isnull=True)
            & Q(sealed_at__lte=now - clocks.TUBE_BOX_DUE)
        )
        | (
            not_received
            & Q(box__handed_at__isnull=True)
            & Q(sealed_at__lte=now - clocks.HANDOFF_DUE)
        )
        | (not_received & Q(sealed_at__lte=now - clocks.SPECIMEN_DUE))
        | Q(resulted_at__isnull=True, received_at__lte=now - clocks.RESULTS_DUE)
    )


def late(
    campaign: Campaign, residents: QuerySet[Resident], now: dt.datetime | None = None
) -> list[LateRow]:
    """Every person of the round among ``residents`` (already scoped) whose latest sample is
    held past its time, the newest late first. One query whatever the number of people (two in
    a district round): the late tubes' members who are this round's people and were not
    sampled again since, with their tube, box, site, lane and home."""
    now = now or timezone.now()
    rounds = _rounds(campaign)
    later = TubeMember.objects.filter(
        campaign_id__in=rounds,
        resident_id=OuterRef("resident_id"),
        added_at__gt=OuterRef("added_at"),
    )
    members = (
        TubeMember.objects.filter(campaign_id__in=rounds, resident__in=residents)
        .filter(tube__in=Tube.objects.filter(campaign_id__in=rounds).filter(late_tubes(now)))
        .filter(
            Exists(
                RoundSample.objects.filter(campaign=campaign, resident_id=OuterRef("resident_id"))
            )
        )
        .exclude(Exists(later))
        .select_related(
            "tube__site",
            "tube__lane",
            "tube__box",
            "resident__household__unit__building",
            "resident__community",
        )
    )
    rows = []
    for m in members:
        sample = sample_of(m.added_at, m.tube, now)
        step = sample.holding
        if step is None or step.due_at is None or not step.late:
            continue
        person: Any = m.resident
        rows.append(
            LateRow(
                person.pk,
                person.masked_name,
                _home(person),
                person.community.name,
                sample,
                step,
                now - step.due_at,
            )
        )
    rows.sort(key=lambda r: (r.due_at, r.resident_id), reverse=True)
    return rows

"""Reads of the workforce: the muster board, who is where, lanes short of a role, unit hours."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Q, QuerySet, Sum, TextChoices
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from doorstep.campaigns.models import CampaignBuilding
from doorstep.core.clocks import LONG_SHIFT
from doorstep.sampling.models import Lane
from doorstep.workforce.models import (
    Batch,
    CallUp,
    Duty,
    DutyCounter,
    DutyRole,
    Muster,
    MusterStatus,
    PlaceKind,
    Quota,
    Staff,
    SupportRequest,
    Team,
    TeamStatus,
)


@dataclass
class Board:
    callup: CallUp
    asked: int
    arrived: int
    missing: int
    no_show: int
    minutes_to_assemble: int | None
    arrivals: list[Muster]
    still_missing: list[Muster]
    # Where people beyond the number asked for can be sent: the unit's other open call-ups.
    elsewhere: list[CallUp]
    moved: list[Muster]

    @property
    def over(self) -> int:
        """Arrivals beyond the number asked for: taken, and shown so the commander can send
        them where people are short."""
        return max(0, self.arrived - self.asked)


DAY = dt.timedelta(days=1)


def lanes_on_duty(user_id: int) -> set[int]:
    """The lanes the user is on duty at now: where a registrar may scan
    (``sampling.hooks.lanes_on_duty``, registered in ``workforce/signals.py``)."""
    return set(
        Duty.objects.filter(
            staff__user_id=user_id, ended_at__isnull=True, lane__isnull=False
        ).values_list("lane_id", flat=True)
    )


def open_lanes() -> set[int]:
    """The lanes that can take people now: a sampler and a registrar on duty at each (the one
    definition, for the residents' status page and the pace of a round)."""
    roles: dict[int, set[str]] = defaultdict(set)
    for place, role in DutyCounter.objects.filter(
        kind=PlaceKind.LANE, role__in=(DutyRole.SAMPLER, DutyRole.REGISTRAR), on_duty__gt=0
    ).values_list("place_id", "role"):
        roles[place].add(role)
    return {place for place, held in roles.items() if len(held) == 2}


def muster_board(callup: CallUp) -> Board:
    """Asked / arrived / missing from the call-up's counters; the names from its musters."""
    musters = list(
        Muster.objects.filter(callup=callup)
        .select_related("staff", "moved_to")
        .order_by("-arrived_at", "staff__name")
    )
    arrivals = [m for m in musters if m.status in (MusterStatus.ARRIVED, MusterStatus.STOOD_DOWN)]
    minutes = None
    if callup.last_arrival_at:
        minutes = max(0, round((callup.last_arrival_at - callup.created_at).total_seconds() / 60))
    return Board(
        callup=callup,
        asked=callup.requested,
        arrived=callup.arrived_count,
        missing=max(0, callup.requested - callup.arrived_count),
        no_show=callup.no_show_count,
        minutes_to_assemble=minutes,
        arrivals=arrivals,
        still_missing=[
            m for m in musters if m.status in (MusterStatus.CALLED, MusterStatus.NO_SHOW)
        ],
        elsewhere=list(
            CallUp.objects.filter(unit_id=callup.unit_id, muster_at__gte=callup.muster_at - DAY)
            .exclude(pk=callup.pk)
            .order_by("-muster_at")[:20]
        ),
        moved=[m for m in musters if m.status == MusterStatus.MOVED],
    )


def available_people(town_id: int) -> QuerySet[Staff]:
    """Checked in at one of the town's call-ups (its own people, or those sent by its district),
    not stood down, and in no team that is still out: who a team can be made of."""
    busy = Team.members.through.objects.exclude(team__status=TeamStatus.STOOD_DOWN).values(
        "staff_id"
    )
    return (
        Staff.objects.filter(musters__callup__town_id=town_id, musters__status=MusterStatus.ARRIVED)
        .exclude(pk__in=busy)
        .select_related("unit")
        .distinct()
        .order_by("unit__name", "name")
    )


@dataclass(frozen=True)
class OnDuty:
    """A duty on the who-is-where board: how long the person has been at it, and whether that
    is past the longest shift (``clocks.LONG_SHIFT``) without relief."""

    duty: Duty
    hours: float
    long: bool


@dataclass
class Place:
    name: str
    kind: str
    duties: list[OnDuty] = field(default_factory=list)


def staff_at_work_in(town_id: int) -> QuerySet[Staff]:
    """Whom the town's commander may put on its lanes: its own staff, and those its district
    sent who stand at one of its muster points now."""
    sent = Muster.objects.filter(callup__town_id=town_id, status=MusterStatus.ARRIVED).values(
        "staff_id"
    )
    return Staff.objects.filter(Q(town_id=town_id) | Q(pk__in=sent))


def who_is_where(town_id: int, now: dt.datetime | None = None) -> list[Place]:
    """Every place with people on duty: who, in which role, from which unit, since when."""
    now = now or timezone.now()
    duties = (
        Duty.objects.filter(town_id=town_id, ended_at__isnull=True)
        .select_related("staff", "unit", "community", "lane__site", "team")
        .order_by("community__name", "lane__site__name", "lane__name", "role", "started_at")
    )
    places: dict[tuple[str, int], Place] = {}
    for duty in duties:
        if duty.lane_id:
            key = (PlaceKind.LANE, duty.lane_id)
            name = f"{duty.community.name} · {duty.lane}"
        else:
            key = (PlaceKind.COMMUNITY, duty.community_id)
            name = duty.community.name
        place = places.setdefault(key, Place(name=name, kind=key[0]))
        since = now - duty.started_at
        place.duties.append(OnDuty(duty, since.total_seconds() / 3600, since > LONG_SHIFT))
    return list(places.values())


def short_of(counts: dict[str, int]) -> list[str]:
    """The roles a lane cannot work without (a sampler and a registrar) that nobody holds, from
    its people per role. A lane with nobody on duty is closed, not short of anyone."""
    if not any(counts.values()):
        return []
    return [r for r in (DutyRole.SAMPLER, DutyRole.REGISTRAR) if not counts.get(r)]


@dataclass
class LaneStatus:
    lane: Lane
    counts: dict[str, int]

    @property
    def missing(self) -> list[str]:
        return short_of(self.counts)

    @property
    def closed(self) -> bool:
        return not any(self.counts.values())


def lanes_status(town_id: int) -> list[LaneStatus]:
    """Every lane of the town with its people per role, read from the duty counters."""
    lanes = list(
        Lane.objects.filter(site__community__town_id=town_id).select_related("site__community")
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for place_id, role, n in DutyCounter.objects.filter(
        kind=PlaceKind.LANE, place_id__in=[lane.pk for lane in lanes]
    ).values_list("place_id", "role", "on_duty"):
        counts[place_id][role] = n
    return [LaneStatus(lane, counts[lane.pk]) for lane in lanes]


def lane_staffing(lane: Lane) -> dict[str, Any]:
    """A lane's page: its team and duties now, its counts (and what it is short of), the people
    who could be added (checked in, free) and those on duty at the town's other lanes."""
    town_id = lane.site.community.town_id
    duties = list(
        Duty.objects.filter(lane=lane, ended_at__isnull=True)
        .select_related("staff", "team")
        .order_by("role", "started_at")
    )
    counts: dict[str, int] = dict(
        DutyCounter.objects.filter(kind=PlaceKind.LANE, place_id=lane.pk).values_list(
            "role", "on_duty"
        )
    )
    on_duty = Duty.objects.filter(ended_at__isnull=True).values("staff_id")
    return {
        "lane": lane,
        "team": Team.objects.filter(lane=lane, status=TeamStatus.ON_DUTY).first(),
        "duties": duties,
        "status": LaneStatus(lane, counts),
        "free": list(available_people(town_id).exclude(pk__in=on_duty).order_by("name")),
        "elsewhere": list(
            Duty.objects.filter(town_id=town_id, ended_at__isnull=True, lane__isnull=False)
            .exclude(lane=lane)
            .select_related("staff", "lane__site")
            .order_by("lane__site__name", "lane__name", "staff__name")
        ),
    }


@dataclass
class UnitContribution:
    name: str
    people: int
    person_hours: float
    on_duty: int


def unit_contributions(
    town_id: int,
    now: dt.datetime | None = None,
    *,
    since: dt.datetime | None = None,
    campaign: Any = None,
) -> list[UnitContribution]:
    """Per support unit: people who served, person-hours (open duties count to now), on duty
    now. With ``since``, only the duties from then to ``now`` (hours clipped to it); with a
    ``campaign``, only duties in its communities: the round's staff, not the whole town's."""
    now = now or timezone.now()
    people: dict[str, set[int]] = defaultdict(set)
    hours: dict[str, float] = defaultdict(float)
    on_duty: dict[str, int] = defaultdict(int)
    duties = Duty.objects.filter(town_id=town_id, started_at__lt=now)
    if since is not None:
        duties = duties.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=since))
    if campaign is not None:
        duties = duties.filter(
            community_id__in=CampaignBuilding.objects.filter(campaign=campaign).values(
                "community_id"
            )
        )
    for unit, staff_id, started, ended in duties.values_list(
        "unit__name", "staff_id", "started_at", "ended_at"
    ):
        people[unit].add(staff_id)
        start = max(started, since) if since is not None else started
        end = min(ended or now, now)
        hours[unit] += max((end - start).total_seconds(), 0) / 3600
        if ended is None or ended > now:
            on_duty[unit] += 1
    return [
        UnitContribution(unit, len(people[unit]), round(hours[unit], 1), on_duty[unit])
        for unit in sorted(people)
    ]


# Support between the towns of a district -------------------------------------------------------


@dataclass
class SupportLine:
    """One town's side of the support picture (or the district's total): people asked for,
    put on quotas, selected in batches, departed, arrived at the muster point, on duty now,
    stood down and not yet home, back home safe; and hours on duty where they were sent."""

    town_id: int
    town: str
    asked: int = 0
    quota: int = 0
    selected: int = 0
    departed: int = 0
    arrived: int = 0
    on_duty: int = 0
    stood_down: int = 0
    returned: int = 0
    hours: float = 0.0

    @property
    def not_back(self) -> int:
        """Departed and not yet confirmed home: the count the day may not end on."""
        return max(0, self.departed - self.returned)

    def add(self, other: SupportLine) -> None:
        for name in (
            "asked",
            "quota",
            "selected",
            "departed",
            "arrived",
            "on_duty",
            "stood_down",
            "returned",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.hours = round(self.hours + other.hours, 1)


@dataclass
class SupportPicture:
    by_sending: list[SupportLine]
    by_receiving: list[SupportLine]
    total: SupportLine

    @property
    def unaccounted(self) -> int:
        return self.total.not_back


def support_picture(district_id: int, now: dt.datetime | None = None) -> SupportPicture:
    """The district's support, by sending town and by receiving town, from the requests' and
    quotas' numbers and the batches' and call-ups' counters. What is counted per person (on
    duty, stood down, hours) reads the open duties and musters of the batches: bounded by the
    people sent, never by the residents."""
    now = now or timezone.now()
    pairs: dict[tuple[int, int], SupportLine] = {}
    names: dict[int, str] = {}

    def line(sending: int, receiving: int) -> SupportLine:
        return pairs.setdefault((sending, receiving), SupportLine(0, ""))

    asked: dict[int, int] = defaultdict(int)
    requests = SupportRequest.objects.filter(district_id=district_id).select_related("town")
    for request in requests:
        asked[request.town_id] += request.people
        names[request.town_id] = request.town.name
    quotas = Quota.objects.filter(request__district_id=district_id).select_related("sending_town")
    receiving_of: dict[int, int] = {}
    for quota in quotas.values(
        "pk", "sending_town_id", "sending_town__name", "request__town_id", "people", "selected"
    ):
        names[quota["sending_town_id"]] = quota["sending_town__name"]
        receiving_of[quota["pk"]] = quota["request__town_id"]
        pair = line(quota["sending_town_id"], quota["request__town_id"])
        pair.quota += quota["people"]
        pair.selected += quota["selected"]
    for batch in Batch.objects.filter(quota__request__district_id=district_id).values(
        "quota__sending_town_id", "quota__request__town_id", "people", "departed_at"
    ):
        if batch["departed_at"] is not None:
            line(
                batch["quota__sending_town_id"], batch["quota__request__town_id"]
            ).departed += batch["people"]
    batch_callups = CallUp.objects.filter(batch__quota__request__district_id=district_id)
    for callup in batch_callups.values(
        "unit__town_id", "town_id", "arrived_count", "returned_count"
    ):
        pair = line(callup["unit__town_id"], callup["town_id"])
        pair.arrived += callup["arrived_count"]
        pair.returned += callup["returned_count"]
    sent = Muster.objects.filter(
        callup__batch__quota__request__district_id=district_id,
        callup__batch__cancelled_at__isnull=True,
    )
    for row in sent.filter(status=MusterStatus.STOOD_DOWN, returned_at__isnull=True).values(
        "callup__unit__town_id", "callup__town_id"
    ):
        line(row["callup__unit__town_id"], row["callup__town_id"]).stood_down += 1
    # Duties of the people sent, in the town they were sent to, since their batch departed.
    duties = Duty.objects.filter(
        Q(staff__musters__returned_at__isnull=True)
        | Q(started_at__lt=F("staff__musters__returned_at")),
        staff__musters__in=sent.exclude(status=MusterStatus.MOVED),
        town_id=F("staff__musters__callup__town_id"),
        started_at__gte=F("staff__musters__callup__batch__departed_at"),
        started_at__lt=now,
    )
    seen: set[int] = set()
    for duty in duties.values("pk", "unit__town_id", "town_id", "started_at", "ended_at"):
        if duty["pk"] in seen:
            continue
        seen.add(duty["pk"])
        pair = line(duty["unit__town_id"], duty["town_id"])
        end = min(duty["ended_at"] or now, now)
        pair.hours += max((end - duty["started_at"]).total_seconds(), 0) / 3600
        if duty["ended_at"] is None:
            pair.on_duty += 1

    def sums(key: int) -> list[SupportLine]:
        by: dict[int, SupportLine] = {}
        for (sending, receiving), pair in pairs.items():
            town = (sending, receiving)[key]
            by.setdefault(town, SupportLine(town, names.get(town, ""))).add(pair)
        if key == 1:
            for town, people in asked.items():
                by.setdefault(town, SupportLine(town, names[town])).asked += people
        return sorted(by.values(), key=lambda s: s.town)

    by_sending, by_receiving = sums(0), sums(1)
    total = SupportLine(0, "")
    for each in by_receiving:
        total.add(each)
    return SupportPicture(by_sending, by_receiving, total)


class SentState(TextChoices):
    SELECTED = "selected", _("Selected")
    DEPARTED = "departed", _("On the way")
    ARRIVED = "arrived", _("Arrived")
    ON_DUTY = "on_duty", _("On duty")
    STOOD_DOWN = "stood_down", _("Stood down")
    RETURNED = "returned", _("Back home safe")
    NO_SHOW = "no_show", _("Did not arrive")
    CALLED_OFF = "called_off", _("Called off")


@dataclass(frozen=True)
class Sent:
    """One person of a batch as the district follows them: the work needs their name, unit
    and a masked phone, never more of their staff record."""

    muster: Muster
    state: str
    where: str
    minutes_to_arrive: int | None

    @property
    def state_label(self) -> str:
        return str(SentState(self.state).label)


def batch_people(batch: Batch) -> list[Sent]:
    """Everyone of the batch with their state now, from their muster and any open duty."""
    musters = list(
        Muster.objects.filter(callup__batch=batch)
        .exclude(status=MusterStatus.MOVED)
        .select_related("staff__unit", "callup")
        .order_by("staff__unit__name", "staff__name")
    )
    duties = {
        d.staff_id: d
        for d in Duty.objects.filter(
            staff_id__in=[m.staff_id for m in musters], ended_at__isnull=True
        ).select_related("lane", "community")
    }
    people = []
    for muster in musters:
        duty = duties.get(muster.staff_id)
        if batch.cancelled_at is not None:
            state = SentState.CALLED_OFF
        elif muster.returned_at is not None:
            state = SentState.RETURNED
        elif duty is not None:
            state = SentState.ON_DUTY
        elif muster.status == MusterStatus.STOOD_DOWN:
            state = SentState.STOOD_DOWN
        elif muster.status == MusterStatus.ARRIVED:
            state = SentState.ARRIVED
        elif muster.status == MusterStatus.NO_SHOW:
            state = SentState.NO_SHOW
        elif batch.departed_at is not None:
            state = SentState.DEPARTED
        else:
            state = SentState.SELECTED
        minutes = None
        if muster.arrived_at and batch.departed_at:
            minutes = max(0, round((muster.arrived_at - batch.departed_at).total_seconds() / 60))
        people.append(Sent(muster, state, duty.place if duty else "", minutes))
    return people


@dataclass(frozen=True)
class BatchLine:
    batch: Batch
    states: dict[str, int]
    # From departure to the last arrival, once everyone selected has arrived.
    minutes_to_assemble: int | None

    @property
    def summary(self) -> list[tuple[str, str, int]]:
        """(state, label, people) in the order a person goes through them."""
        return [(s.value, str(s.label), self.states[s]) for s in SentState if self.states.get(s)]


def batch_lines(batches: QuerySet[Batch]) -> list[BatchLine]:
    lines = []
    for batch in batches.select_related("quota__sending_town", "quota__request__town"):
        people = batch_people(batch)
        states: dict[str, int] = defaultdict(int)
        for person in people:
            states[person.state] += 1
        arrivals = [p.muster.arrived_at for p in people if p.muster.arrived_at]
        minutes = None
        if batch.departed_at and arrivals and len(arrivals) == len(people):
            minutes = max(0, round((max(arrivals) - batch.departed_at).total_seconds() / 60))
        lines.append(BatchLine(batch, dict(states), minutes))
    return lines


def waiting_for_quotas(district_id: int) -> list[tuple[SupportRequest, int]]:
    """Open requests of the district not yet shared out in full, with how many are: what the
    district has still to decide."""
    found = (
        SupportRequest.objects.filter(district_id=district_id, closed_at__isnull=True)
        .select_related("town")
        .annotate(shared=Sum("quotas__people"))
        .order_by("needed_by", "pk")
    )
    return [(r, r.shared or 0) for r in found if (r.shared or 0) < r.people]  # type: ignore[attr-defined]

"""Every write of the surge workforce: call-ups, check-in, teams, duties, hand-overs, stand-downs
(support between the towns of a district is ``actions.support``).

Locking policy: check-in and no-show move a muster with a conditional UPDATE (the row count says
whether this call moved it), so a double scan from two phones counts once. Putting people on duty
relies on the ``one_open_duty_per_person`` constraint: the pre-check gives the clear message, the
constraint settles the race. Counters move with F() in the same transaction as the rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _

from doorstep.core import codes, counters
from doorstep.core.models import User
from doorstep.sampling.models import Lane, Site
from doorstep.territory.models import Community, Town
from doorstep.workforce.models import (
    LANE_ROLES,
    Batch,
    CallUp,
    Duty,
    DutyCounter,
    DutyRole,
    EndReason,
    Muster,
    MusterStatus,
    PlaceKind,
    Purpose,
    Staff,
    SupportUnit,
    Team,
    TeamStatus,
)


class WorkforceError(ValueError):
    """A refusal with a message that says what to do."""


def _hhmm(moment: dt.datetime) -> str:
    return time_format(timezone.localtime(moment), "H:i")


def new_worker_code() -> str:
    return codes.new_unique_code(
        codes.WORKER_CODE_BODY, lambda c: Staff.objects.filter(worker_code=c).exists()
    )


# Call-ups and check-in ---------------------------------------------------------------------


def check_destination(
    town: Town,
    purpose: str,
    muster_point: str,
    community: Community | None,
    site: Site | None,
) -> Community | None:
    """Where people are wanted, checked once for a call-up and a town's request alike: the
    purpose, the community (door to door) or site (lanes) of this town, and a muster point.
    Returns the community the people go to (a site's own)."""
    if purpose not in Purpose.values:
        raise WorkforceError(_("Choose the purpose: door to door or a sampling site."))
    if purpose == Purpose.DOOR_TO_DOOR and community is None:
        raise WorkforceError(_("Door to door needs the community the people go to."))
    if purpose == Purpose.SAMPLING and not isinstance(site, Site):
        raise WorkforceError(_("A sampling call-up needs the site the people go to."))
    if not muster_point.strip():
        raise WorkforceError(_("Say where people gather (the muster point)."))
    if isinstance(site, Site):
        community = site.community
    if community is not None and community.town_id != town.pk:
        raise WorkforceError(
            _("%(place)s is not in %(town)s.") % {"place": community.name, "town": town.name}
        )
    return community


@transaction.atomic
def create_callup(
    user: User | None,
    unit: SupportUnit,
    *,
    requested: int = 0,
    named: Sequence[Staff] = (),
    purpose: str,
    muster_point: str,
    muster_at: dt.datetime,
    community: Community | None = None,
    site: Site | None = None,
    town: Town | None = None,
    batch: Batch | None = None,
) -> CallUp:
    """Ask a unit for N people, or for these people, at a muster point and time, in the unit's
    own town or (``town``) another town of its district, as a batch of support does."""
    town = town or unit.town
    if town.pk != unit.town_id and (
        town.district_id is None or town.district_id != unit.town.district_id
    ):
        raise WorkforceError(
            _("%(unit)s is of %(home)s, which is not in the district of %(town)s.")
            % {"unit": unit.name, "home": unit.town.name, "town": town.name}
        )
    community = check_destination(town, purpose, muster_point, community, site)
    foreign = [s for s in named if s.unit_id != unit.pk]
    if foreign:
        raise WorkforceError(
            _("%(names)s are not staff of %(unit)s.")
            % {"names": ", ".join(s.name for s in foreign), "unit": unit.name}
        )
    requested = len(named) if named else requested
    if requested < 1:
        raise WorkforceError(_("Ask for at least one person, or name them."))
    callup = CallUp.objects.create(
        town=town,
        batch=batch,
        unit=unit,
        requested=requested,
        purpose=purpose,
        community=community,
        site=site if isinstance(site, Site) else None,
        muster_point=muster_point.strip(),
        muster_at=muster_at,
        named=bool(named),
        created_by=user,
    )
    Muster.objects.bulk_create([Muster(callup=callup, staff=s) for s in named])
    return callup


@dataclass
class CheckIn:
    staff: Staff
    muster: Muster
    first_time: bool
    message: str


def parse_worker_code(raw: str) -> str:
    code = codes.normalise(raw)
    if not code:
        raise WorkforceError(_("Nothing was scanned. Scan the worker code or type it."))
    if not codes.is_valid(code, codes.WORKER_CODE_BODY):
        raise WorkforceError(
            _(
                "«%(code)s» is not a worker code (8 characters with a check character). Scan again or type it carefully."
            )
            % {"code": raw.strip()[:20]}
        )
    return code


class ArrivedElsewhere(WorkforceError):
    """The person already stands at another call-up's muster point; ``move=True`` moves them."""

    def __init__(self, message: str, elsewhere: Muster) -> None:
        super().__init__(message)
        self.elsewhere = elsewhere


@transaction.atomic
def check_in(user: User | None, callup: CallUp, raw_code: str, *, move: bool = False) -> CheckIn:
    """Record an arrival at the muster point. A second scan of the same person is harmless. A
    person arrived in another call-up is refused with where they are, unless ``move``: then
    they leave that call-up (its count drops) and arrive here."""
    code = parse_worker_code(raw_code)
    # The town's own people, or those its district sent here on this call-up.
    staff = (
        Staff.objects.select_related("unit")
        .filter(Q(town=callup.town) | Q(musters__callup=callup), worker_code=code)
        .first()
    )
    if staff is None:
        raise WorkforceError(
            _(
                "No worker in %(town)s has the code %(code)s. Check that it is a worker code of this town."
            )
            % {"town": callup.town.name, "code": codes.display(code)}
        )
    return _arrive(user, callup, staff, move=move)


def _arrive(user: User | None, callup: CallUp, staff: Staff, *, move: bool) -> CheckIn:
    muster = Muster.objects.filter(callup=callup, staff=staff).first()
    if muster is None:
        _refuse_foreign(callup, staff)
        try:
            with transaction.atomic():
                muster = Muster.objects.create(callup=callup, staff=staff)
        except IntegrityError:  # the same person scanned on two phones at once
            muster = Muster.objects.get(callup=callup, staff=staff)
    if (
        muster.status == MusterStatus.STOOD_DOWN
        and callup.batch_id is not None
        and (Batch.objects.filter(pk=callup.batch_id, cancelled_at__isnull=False).exists())
    ):
        raise WorkforceError(
            _("%(name)s's batch was called off before it left; they are not expected here.")
            % {"name": staff.name}
        )
    if muster.status == MusterStatus.STOOD_DOWN:
        raise WorkforceError(
            _("%(name)s stood down at %(time)s and went off duty. A new call-up brings them back.")
            % {"name": staff.name, "time": _hhmm(muster.stood_down_at or timezone.now())}
        )
    now = timezone.now()
    if muster.status != MusterStatus.ARRIVED:
        elsewhere = _arrived_elsewhere(staff, callup)
        if elsewhere is not None and not move:
            raise _elsewhere_error(staff, elsewhere)
        if elsewhere is not None:
            _leave(elsewhere, callup)
    was_no_show = muster.status == MusterStatus.NO_SHOW
    try:
        with transaction.atomic():
            moved = Muster.objects.filter(
                pk=muster.pk,
                status__in=[MusterStatus.CALLED, MusterStatus.NO_SHOW, MusterStatus.MOVED],
            ).update(status=MusterStatus.ARRIVED, arrived_at=now, checked_in_by=user, moved_to=None)
    except IntegrityError:  # checked in at another call-up at the same moment
        raced = _arrived_elsewhere(staff, callup)
        assert raced is not None
        raise _elsewhere_error(staff, raced) from None
    muster.refresh_from_db()
    if not moved:
        return CheckIn(
            staff,
            muster,
            False,
            _("%(name)s already checked in at %(time)s.")
            % {"name": staff.name, "time": _hhmm(muster.arrived_at or now)},
        )
    CallUp.objects.filter(pk=callup.pk).update(
        arrived_count=F("arrived_count") + 1,
        no_show_count=F("no_show_count") - (1 if was_no_show else 0),
        last_arrival_at=now,
    )
    if callup.batch_id is not None:
        # Someone of a batch is here: the batch has left, whether or not its town said so.
        Batch.objects.filter(pk=callup.batch_id, departed_at__isnull=True).update(departed_at=now)
    CallUp.objects.filter(pk=callup.pk, first_arrival_at__isnull=True).update(first_arrival_at=now)
    return CheckIn(
        staff,
        muster,
        True,
        _("%(name)s (%(unit)s) checked in.") % {"name": staff.name, "unit": staff.unit.name},
    )


def _arrived_elsewhere(staff: Staff, callup: CallUp) -> Muster | None:
    return (
        Muster.objects.select_for_update(of=("self",))
        .filter(staff=staff, status=MusterStatus.ARRIVED)
        .exclude(callup=callup)
        .select_related("callup__unit")
        .first()
    )


def _elsewhere_error(staff: Staff, elsewhere: Muster) -> ArrivedElsewhere:
    there = elsewhere.callup
    return ArrivedElsewhere(
        _(
            "%(name)s already checked in at %(time)s at %(point)s (%(unit)s, for %(place)s). Move them to this call-up, or check in someone else."
        )
        % {
            "name": staff.name,
            "time": _hhmm(elsewhere.arrived_at or timezone.now()),
            "point": there.muster_point,
            "unit": there.unit.name,
            "place": there.destination or there.get_purpose_display(),
        },
        elsewhere,
    )


def _leave(muster: Muster, to: CallUp) -> None:
    """Take an arrived person out of their call-up for another: not while they are on duty or
    in a team, which must let them go first."""
    duty = (
        Duty.objects.filter(staff_id=muster.staff_id, ended_at__isnull=True)
        .select_related("staff", "lane__site", "community")
        .first()
    )
    if duty is not None:
        raise _open_duty_error([duty])
    team = (
        Team.objects.filter(members=muster.staff_id)
        .exclude(status=TeamStatus.STOOD_DOWN)
        .values_list("name", flat=True)
        .first()
    )
    if team is not None:
        raise WorkforceError(
            _("%(name)s is in the team %(team)s. Take them out of the team before moving them.")
            % {"name": muster.staff.name, "team": team}
        )
    Muster.objects.filter(pk=muster.pk).update(status=MusterStatus.MOVED, moved_to=to)
    CallUp.objects.filter(pk=muster.callup_id).update(arrived_count=F("arrived_count") - 1)


@transaction.atomic
def send_to(user: User | None, muster: Muster, callup: CallUp) -> CheckIn:
    """The commander sends an arrived person (one beyond what was asked for, say) to another
    call-up of their unit, where they count as arrived now."""
    if muster.status != MusterStatus.ARRIVED:
        raise WorkforceError(
            _("%(name)s is not checked in here; nothing to move.") % {"name": muster.staff.name}
        )
    if callup.pk == muster.callup_id:
        raise WorkforceError(_("Choose another call-up to send them to."))
    return _arrive(user, callup, muster.staff, move=True)


def _refuse_foreign(callup: CallUp, staff: Staff) -> None:
    """A person not on a named call-up, or from another unit, gets told where they belong."""
    if staff.unit_id != callup.unit_id:
        raise WorkforceError(
            _(
                "%(name)s is from %(their)s; this call-up is for %(unit)s. Check them in at their own call-up."
            )
            % {"name": staff.name, "their": staff.unit.name, "unit": callup.unit.name}
        )
    if callup.named:
        elsewhere = (
            Muster.objects.filter(staff=staff, status=MusterStatus.CALLED)
            .exclude(callup=callup)
            .select_related("callup")
            .first()
        )
        if elsewhere:
            raise WorkforceError(
                _("%(name)s is not on this call-up; they are called to %(point)s at %(time)s.")
                % {
                    "name": staff.name,
                    "point": elsewhere.callup.muster_point,
                    "time": _hhmm(elsewhere.callup.muster_at),
                }
            )
        raise WorkforceError(
            _("%(name)s is not on the list of this call-up. Ask the commander to add them.")
            % {"name": staff.name}
        )


@transaction.atomic
def mark_no_show(user: User, callup: CallUp, staff_ids: Iterable[int]) -> int:
    """People still missing are marked no-show; arriving later undoes it."""
    ids = list(staff_ids)
    moved = Muster.objects.filter(
        callup=callup, staff_id__in=ids, status=MusterStatus.CALLED
    ).update(status=MusterStatus.NO_SHOW)
    if moved:
        CallUp.objects.filter(pk=callup.pk).update(no_show_count=F("no_show_count") + moved)
    return moved


# Teams -------------------------------------------------------------------------------------


@transaction.atomic
def form_team(
    user: User | None,
    town: Town,
    name: str,
    leader: Staff | None,
    members: Sequence[Staff],
    callup: CallUp | None = None,
) -> Team:
    """A team of people who have checked in and are in no other team; the leader is a member."""
    if leader is None:
        raise WorkforceError(_("Choose the team's leader: a team cannot go out without one."))
    people = {s.pk: s for s in [leader, *members]}
    if not name.strip():
        raise WorkforceError(_("Give the team a name, e.g. «杨柳青镇第2组»."))
    arrived = set(
        Muster.objects.filter(
            staff_id__in=people, status=MusterStatus.ARRIVED, callup__town=town
        ).values_list("staff_id", flat=True)
    )
    missing = [s.name for pk, s in people.items() if pk not in arrived]
    if missing:
        raise WorkforceError(
            _("%(names)s have not checked in yet. Scan them in at the muster point first.")
            % {"names": ", ".join(missing)}
        )
    busy = (
        Team.members.through.objects.filter(staff_id__in=people)
        .exclude(team__status=TeamStatus.STOOD_DOWN)
        .select_related("team", "staff")
    )
    taken = [f"{m.staff.name} ({m.team.name})" for m in busy]
    if taken:
        raise WorkforceError(
            _("Already in another team: %(names)s. Stand that team down or hand over first.")
            % {"names": ", ".join(taken)}
        )
    team = Team.objects.create(town=town, name=name.strip(), leader=leader, callup=callup)
    team.members.set(people.values())
    return team


def _place_of(duty: Duty) -> str:
    return str(duty.lane) if duty.lane_id else str(duty.community)


def _open_duty_error(duties: Iterable[Duty]) -> WorkforceError:
    return WorkforceError(
        _("Already on duty elsewhere: %(who)s. Hand over or stand them down first.")
        % {
            "who": "; ".join(
                _("%(name)s at %(place)s since %(time)s")
                % {"name": d.staff.name, "place": _place_of(d), "time": _hhmm(d.started_at)}
                for d in duties
            )
        }
    )


def _bump(town_id: int, kind: str, place_id: int, role: str, delta: int) -> None:
    counters.add(
        DutyCounter,
        {"kind": kind, "place_id": place_id, "role": role},
        {"on_duty": delta},
        create={"town_id": town_id},
    )


def _count(duties: Iterable[Duty], delta: int) -> None:
    """Move the counters of every place a duty is at: the lane, its site, its community."""
    for duty in duties:
        _bump(duty.town_id, PlaceKind.COMMUNITY, duty.community_id, duty.role, delta)
        if duty.lane_id:
            _bump(duty.town_id, PlaceKind.LANE, duty.lane_id, duty.role, delta)
            _bump(duty.town_id, PlaceKind.SITE, duty.site_id or 0, duty.role, delta)


def roles_by_skill(team: Team) -> dict[int, str]:
    """Lane roles from what people can do: a sampler samples, a registrar registers, others keep order."""
    roles: dict[int, str] = {}
    for staff in team.members.all():
        skills = staff.skill_list
        if "sampler" in skills:
            roles[staff.pk] = DutyRole.SAMPLER
        elif "registrar" in skills:
            roles[staff.pk] = DutyRole.REGISTRAR
        else:
            roles[staff.pk] = DutyRole.ORDER_KEEPER
    return roles


def _roles_for(team: Team, lane: Lane | None, roles: dict[int, str]) -> dict[int, str]:
    members = list(team.members.all())
    if lane is None:
        return {
            s.pk: DutyRole.TEAM_LEADER if s.pk == team.leader_id else DutyRole.CANVASSER
            for s in members
        }
    chosen: dict[int, str] = {}
    unassigned = []
    for staff in members:
        role = roles.get(staff.pk, "")
        if role not in LANE_ROLES:
            unassigned.append(staff.name)
        chosen[staff.pk] = role
    if unassigned:
        raise WorkforceError(
            _("Give everyone a lane role (sampler, registrar or order keeper): %(names)s.")
            % {"names": ", ".join(unassigned)}
        )
    return chosen


def _start_duties(
    team: Team, community: Community, lane: Lane | None, roles: dict[int, str], at: dt.datetime
) -> list[Duty]:
    members = {s.pk: s for s in team.members.all()}
    clash = list(
        Duty.objects.filter(staff_id__in=members, ended_at__isnull=True).select_related(
            "staff", "lane__site", "community"
        )
    )
    if clash:
        raise _open_duty_error(clash)
    duties = [
        Duty(
            staff_id=pk,
            team=team,
            unit_id=members[pk].unit_id,
            town_id=team.town_id,
            community=community,
            site_id=lane.site_id if lane else None,
            lane=lane,
            role=roles[pk],
            started_at=at,
        )
        for pk in members
    ]
    try:
        with transaction.atomic():
            Duty.objects.bulk_create(duties)
    except IntegrityError:
        # Someone put one of them on duty between the check above and this insert.
        raced = Duty.objects.filter(staff_id__in=members, ended_at__isnull=True).select_related(
            "staff", "lane__site", "community"
        )
        raise _open_duty_error(raced) from None
    _count(duties, +1)
    team.status = TeamStatus.ON_DUTY
    team.community = community
    team.lane = lane
    team.save(update_fields=["status", "community", "lane"])
    return duties


@transaction.atomic
def assign_team(
    user: User | None,
    team: Team,
    *,
    community: Community | None = None,
    lane: Lane | None = None,
    roles: dict[int, str] | None = None,
) -> list[Duty]:
    """Put a team on duty: door to door in a community, or at a lane with a role each."""
    team = Team.objects.select_for_update().get(pk=team.pk)
    if team.status == TeamStatus.STOOD_DOWN:
        raise WorkforceError(_("%(team)s has stood down; form a new team.") % {"team": team.name})
    if team.status == TeamStatus.ON_DUTY:
        raise WorkforceError(
            _("%(team)s is already on duty at %(place)s; hand over first.")
            % {"team": team.name, "place": team.place}
        )
    if (community is None) == (lane is None):
        raise WorkforceError(_("Choose one place: a community (door to door) or a lane."))
    if lane is not None:
        community = lane.site.community
    assert community is not None
    if community.town_id != team.town_id:
        raise WorkforceError(_("That place is in another town."))
    return _start_duties(team, community, lane, _roles_for(team, lane, roles or {}), timezone.now())


def _end_duties(team: Team, reason: EndReason, at: dt.datetime) -> list[Duty]:
    duties = list(Duty.objects.select_for_update().filter(team=team, ended_at__isnull=True))
    Duty.objects.filter(pk__in=[d.pk for d in duties]).update(ended_at=at, end_reason=reason)
    _count(duties, -1)
    return duties


@transaction.atomic
def hand_over(
    user: User | None, outgoing: Team, incoming: Team, roles: dict[int, str] | None = None
) -> list[Duty]:
    """The incoming team takes the outgoing team's place at the same instant; the night shift
    is just another shift. The outgoing team is free for its next assignment."""
    outgoing = Team.objects.select_for_update().get(pk=outgoing.pk)
    incoming = Team.objects.select_for_update().get(pk=incoming.pk)
    if outgoing.status != TeamStatus.ON_DUTY:
        raise WorkforceError(
            _("%(team)s is not on duty; there is nothing to hand over.") % {"team": outgoing.name}
        )
    if incoming.status != TeamStatus.FORMED:
        raise WorkforceError(
            _("%(team)s cannot take over: it is %(status)s.")
            % {"team": incoming.name, "status": incoming.get_status_display()}
        )
    community, lane = outgoing.community, outgoing.lane
    assert community is not None
    chosen = _roles_for(incoming, lane, roles or (roles_by_skill(incoming) if lane else {}))
    now = timezone.now()
    _end_duties(outgoing, EndReason.HANDOVER, now)
    outgoing.status = TeamStatus.FORMED
    outgoing.community = None
    outgoing.lane = None
    outgoing.save(update_fields=["status", "community", "lane"])
    return _start_duties(incoming, community, lane, chosen, now)


@transaction.atomic
def stand_down(user: User | None, team: Team) -> int:
    """The team goes home: its duties end, and its people cannot check in again to the same
    call-up (a new call-up brings them back)."""
    team = Team.objects.select_for_update().get(pk=team.pk)
    if team.status == TeamStatus.STOOD_DOWN:
        raise WorkforceError(_("%(team)s has already stood down.") % {"team": team.name})
    now = timezone.now()
    ended = _end_duties(team, EndReason.STAND_DOWN, now)
    Muster.objects.filter(
        Q(staff__in=team.members.all()), status=MusterStatus.ARRIVED, callup__town=team.town_id
    ).update(status=MusterStatus.STOOD_DOWN, stood_down_at=now)
    team.status = TeamStatus.STOOD_DOWN
    team.save(update_fields=["status"])
    return len(ended)


# One person at a lane ------------------------------------------------------------------------


def _team_at(lane: Lane) -> Team:
    team = Team.objects.select_for_update().filter(lane=lane, status=TeamStatus.ON_DUTY).first()
    if team is None:
        raise WorkforceError(
            _("Nobody is on duty at %(lane)s. Put a team on the lane first.") % {"lane": lane}
        )
    return team


def _lane_role(role: str) -> str:
    if role not in LANE_ROLES:
        raise WorkforceError(_("Choose the lane role: sampler, registrar or order keeper."))
    return role


def _join(team: Team, lane: Lane, staff: Staff, role: str, at: dt.datetime) -> Duty:
    duty = Duty(
        staff=staff,
        team=team,
        unit_id=staff.unit_id,
        town_id=team.town_id,
        community_id=lane.site.community_id,
        site_id=lane.site_id,
        lane=lane,
        role=role,
        started_at=at,
    )
    try:
        with transaction.atomic():
            duty.save()
    except IntegrityError:  # put on duty elsewhere between the check and this insert
        raced = Duty.objects.filter(staff=staff, ended_at__isnull=True).select_related(
            "staff", "lane__site", "community"
        )
        raise _open_duty_error(raced) from None
    team.members.add(staff)
    _count([duty], +1)
    return duty


@transaction.atomic
def add_to_lane(user: User | None, lane: Lane, staff: Staff, role: str) -> Duty:
    """One checked-in person joins the team on duty at ``lane`` in ``role`` (a lane short of a
    registrar gets one), without handing the whole team over. The lane's counters, and so its
    "short of" flag and alert, move in the same transaction."""
    team = _team_at(lane)
    role = _lane_role(role)
    if not Muster.objects.filter(
        staff=staff, status=MusterStatus.ARRIVED, callup__town_id=team.town_id
    ).exists():
        raise WorkforceError(
            _("%(name)s has not checked in yet. Scan them in at the muster point first.")
            % {"name": staff.name}
        )
    clash = list(
        Duty.objects.filter(staff=staff, ended_at__isnull=True).select_related(
            "staff", "lane__site", "community"
        )
    )
    if clash:
        raise _open_duty_error(clash)
    other = (
        Team.objects.filter(members=staff)
        .exclude(status=TeamStatus.STOOD_DOWN)
        .exclude(pk=team.pk)
        .values_list("name", flat=True)
        .first()
    )
    if other is not None:
        raise WorkforceError(
            _("%(name)s is in the team %(team)s. Take them out of the team before moving them.")
            % {"name": staff.name, "team": other}
        )
    return _join(team, lane, staff, role, timezone.now())


@transaction.atomic
def move_to_lane(user: User | None, staff: Staff, lane: Lane, role: str) -> Duty:
    """A person on duty at one lane moves to another in ``role``: their duty there ends (moved)
    and one starts here, at the same instant; both lanes' counters move."""
    team = _team_at(lane)
    role = _lane_role(role)
    current = (
        Duty.objects.select_for_update()
        .filter(staff=staff, ended_at__isnull=True)
        .select_related("team")
        .first()
    )
    if current is None or current.lane_id is None:
        raise WorkforceError(
            _("%(name)s is not on duty at a lane; add them to the lane instead.")
            % {"name": staff.name}
        )
    if current.lane_id == lane.pk:
        raise WorkforceError(
            _("%(name)s is already at %(lane)s.") % {"name": staff.name, "lane": lane}
        )
    if current.team.leader_id == staff.pk:
        raise WorkforceError(
            _("%(name)s leads %(team)s. Hand the team over before moving its leader.")
            % {"name": staff.name, "team": current.team.name}
        )
    now = timezone.now()
    Duty.objects.filter(pk=current.pk).update(ended_at=now, end_reason=EndReason.MOVED)
    _count([current], -1)
    current.team.members.remove(staff)
    return _join(team, lane, staff, role, now)

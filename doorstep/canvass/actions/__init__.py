"""Claims on buildings, hand-overs and completion.

Locking policy: a claim is one conditional UPDATE on the task row and the row count says who
won, so of fifty leaders pressing "claim" at once exactly one gets the building. A team's own
row is locked first (``select_for_update``) so that a team cannot take two buildings at once
from two phones. Counters move with F() in the same transaction as the task.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _

from doorstep.canvass import counters, rules
from doorstep.canvass.models import (
    BuildingTask,
    FeedKind,
    FeedPost,
    HouseholdState,
    TaskStatus,
)
from doorstep.core.models import User
from doorstep.core.roles import Can
from doorstep.territory.models import Community, Household
from doorstep.workforce.models import Team, TeamStatus


class CanvassError(ValueError):
    """A refusal with a message that says what to do."""


class ClaimTaken(CanvassError):
    """Someone else holds the building; ``next_task`` is the nearest one still free."""

    def __init__(self, message: str, holder: str, next_task: BuildingTask | None) -> None:
        super().__init__(message)
        self.holder = holder
        self.next_task = next_task


def hhmm(moment: dt.datetime) -> str:
    return time_format(timezone.localtime(moment), "H:i")


def lease(task: BuildingTask) -> dt.timedelta:
    return dt.timedelta(minutes=task.campaign.claim_lease_minutes)


# Who may act ------------------------------------------------------------------------------


def door_to_door_teams(community: Community) -> list[Team]:
    return list(
        Team.objects.filter(
            community=community, lane__isnull=True, status=TeamStatus.ON_DUTY
        ).select_related("leader")
    )


def team_of(user: User, community_id: int) -> Team | None:
    """The door-to-door team the user is in, on duty in that community, if any."""
    staff = getattr(user, "staff", None) if user.is_authenticated else None
    if staff is None:
        return None
    return (
        Team.objects.filter(
            Q(leader=staff) | Q(members=staff),
            community_id=community_id,
            lane__isnull=True,
            status=TeamStatus.ON_DUTY,
        )
        .distinct()
        .first()
    )


def door_to_door_team(user: User) -> Team | None:
    """The door-to-door team the user leads or belongs to, wherever it is on duty."""
    staff = getattr(user, "staff", None) if user.is_authenticated else None
    if staff is None:
        return None
    return (
        Team.objects.filter(
            Q(leader=staff) | Q(members=staff),
            status=TeamStatus.ON_DUTY,
            lane__isnull=True,
            community__isnull=False,
        )
        .select_related("community", "leader")
        .distinct()
        .first()
    )


def leading_team(user: User, community: Community) -> Team:
    """The team the user leads door to door in this community, or a refusal saying why not."""
    team = team_of(user, community.pk)
    if team is None or team.leader.user_id != user.pk:
        raise CanvassError(
            _(
                "Only the leader of a team on door-to-door duty in %(community)s can do this. "
                "Ask the commander to put your team on duty there."
            )
            % {"community": community.name}
        )
    return team


# Claims ------------------------------------------------------------------------------------


def nearest_open(
    task_or_community: BuildingTask | Community, campaign_id: int
) -> list[BuildingTask]:
    """Unclaimed (or lapsed) buildings of the community, nearest first to where the team is."""
    if isinstance(task_or_community, BuildingTask):
        community_id, here = task_or_community.community_id, task_or_community.building.position
    else:
        community_id, here = task_or_community.pk, 0
    now = timezone.now()
    free = BuildingTask.objects.filter(campaign_id=campaign_id, community_id=community_id).filter(
        Q(status=TaskStatus.OPEN) | Q(status=TaskStatus.CLAIMED, expires_at__lte=now)
    )
    return sorted(
        free.select_related("building"),
        key=lambda t: (abs(t.building.position - here), t.building.position, t.pk),
    )


def _holder_message(task: BuildingTask) -> str:
    assert task.team is not None and task.expires_at is not None
    return _("%(building)s is being canvassed by %(team)s (claimed at %(at)s).") % {
        "building": task.building.name,
        "team": task.team.name,
        "at": hhmm(task.claimed_at or task.expires_at),
    }


def _post(task: BuildingTask, kind: str, team: Team, at: dt.datetime, **fields: object) -> FeedPost:
    return FeedPost.objects.create(
        campaign_id=task.campaign_id,
        community_id=task.community_id,
        task=task,
        kind=kind,
        team_name=team.name,
        building_name=task.building.name,
        at=at,
        **fields,
    )


@transaction.atomic
def claim(user: User, task: BuildingTask, now: dt.datetime | None = None) -> BuildingTask:
    """Take the building for the user's team until the lease runs out without activity."""
    now = now or timezone.now()
    team = leading_team(user, task.community)
    team = Team.objects.select_for_update().get(pk=team.pk)
    held = (
        BuildingTask.objects.filter(team=team, status=TaskStatus.CLAIMED, expires_at__gt=now)
        .exclude(pk=task.pk)
        .select_related("building")
        .first()
    )
    if held is not None:
        raise CanvassError(
            _("Your team already holds %(building)s. Complete or release it first.")
            % {"building": held.building.name}
        )
    claimed = dict(
        status=TaskStatus.CLAIMED,
        team=team,
        claimed_by=user,
        claimed_at=now,
        expires_at=now + lease(task),
    )
    rows = BuildingTask.objects.filter(pk=task.pk, status=TaskStatus.OPEN)
    if rows.update(**claimed):
        counters.bump(task, buildings_claimed=1)
    elif not (
        BuildingTask.objects.filter(pk=task.pk, status=TaskStatus.CLAIMED)
        .filter(Q(expires_at__lte=now) | Q(team=team))
        .update(**claimed)
    ):
        current = BuildingTask.objects.select_related("team", "building").get(pk=task.pk)
        if current.status == TaskStatus.DONE:
            raise CanvassError(
                _("%(building)s is already done.") % {"building": current.building.name}
            )
        nearest = [t for t in nearest_open(current, task.campaign_id) if t.pk != task.pk]
        message = _holder_message(current)
        if nearest:
            message += " " + _("The nearest free building is %(building)s.") % {
                "building": nearest[0].building.name
            }
        raise ClaimTaken(
            message, current.team.name if current.team else "", nearest[0] if nearest else None
        )
    task.refresh_from_db()
    _post(task, FeedKind.CLAIMED, team, now)
    return task


def _held_by(user: User, task: BuildingTask, now: dt.datetime, *, lapsed_ok: bool = False) -> Team:
    """The user's team, which must hold the task's claim (and, unless ``lapsed_ok``, still
    within its lease). Locks the task row."""
    task = (
        BuildingTask.objects.select_for_update(of=("self",)).select_related("team").get(pk=task.pk)
    )
    team = leading_team(user, task.community)
    if task.status == TaskStatus.DONE:
        raise CanvassError(_("%(building)s is already done.") % {"building": task.building.name})
    if task.status != TaskStatus.CLAIMED or task.team_id != team.pk:
        if task.status == TaskStatus.CLAIMED and task.expires_at and task.expires_at > now:
            raise CanvassError(_holder_message(task))
        raise CanvassError(
            _("Your team does not hold %(building)s. Claim it first.")
            % {"building": task.building.name}
        )
    assert task.expires_at is not None
    if not lapsed_ok and task.expires_at <= now:
        raise CanvassError(lapsed_message(task))
    return team


def lapsed_message(task: BuildingTask) -> str:
    assert task.expires_at is not None
    return rules.lapsed_words() % {
        "building": task.building.name,
        "at": hhmm(task.expires_at),
        "minutes": task.campaign.claim_lease_minutes,
    }


@transaction.atomic
def release(user: User, task: BuildingTask, now: dt.datetime | None = None) -> None:
    """Give the building back: it goes to the top of the claim list for the other teams."""
    now = now or timezone.now()
    team = _held_by(user, task, now, lapsed_ok=True)
    BuildingTask.objects.filter(pk=task.pk).update(
        status=TaskStatus.OPEN, team=None, claimed_by=None, claimed_at=None, expires_at=None
    )
    counters.bump(task, buildings_claimed=-1)
    _post(task, FeedKind.RELEASED, team, now)


@transaction.atomic
def hand_to(user: User, task: BuildingTask, other: Team, now: dt.datetime | None = None) -> None:
    """Pass the claim to another team on door-to-door duty in the same community."""
    now = now or timezone.now()
    team = _held_by(user, task, now)
    other = Team.objects.get(pk=other.pk)
    if other.pk == team.pk:
        raise CanvassError(_("Choose another team: yours already holds it."))
    if not (
        other.status == TeamStatus.ON_DUTY
        and other.community_id == task.community_id
        and other.lane_id is None
    ):
        raise CanvassError(
            _("%(team)s is not on door-to-door duty in %(community)s.")
            % {"team": other.name, "community": task.community.name}
        )
    if BuildingTask.objects.filter(
        team=other, status=TaskStatus.CLAIMED, expires_at__gt=now
    ).exists():
        raise CanvassError(
            _("%(team)s already holds a building; it must finish that one first.")
            % {"team": other.name}
        )
    BuildingTask.objects.filter(pk=task.pk, team=team).update(
        team=other, claimed_by=user, claimed_at=now, expires_at=now + lease(task)
    )
    _post(task, FeedKind.HANDED, team, now, other_team_name=other.name)


@transaction.atomic
def complete(user: User, task: BuildingTask, now: dt.datetime | None = None) -> FeedPost:
    """Every household has an outcome: post the progress line and send nobody-home households
    to the revisit list."""
    now = now or timezone.now()
    team = _held_by(user, task, now)
    missing = missing_households(task)
    if missing:
        rooms = ", ".join(f"{h.unit.name} {h.room}".strip() for h in missing[:10])
        more = len(missing) - 10
        raise CanvassError(
            _("%(n)s households have no outcome yet: %(rooms)s. Record them first.")
            % {"n": len(missing), "rooms": rooms + (f" (+{more})" if more > 0 else "")}
        )
    BuildingTask.objects.filter(pk=task.pk, status=TaskStatus.CLAIMED, team=team).update(
        status=TaskStatus.DONE, completed_at=now
    )
    counters.bump(task, buildings_claimed=-1, buildings_done=1)
    task.refresh_from_db()
    return _post(
        task,
        FeedKind.COMPLETED,
        team,
        now,
        households=task.households,
        notified=task.notified,
        nobody_home=task.nobody_home,
        others=task.with_outcome - task.notified - task.nobody_home,
    )


def missing_households(task: BuildingTask) -> list[Household]:
    recorded = HouseholdState.objects.filter(campaign_id=task.campaign_id, task=task).values(
        "household_id"
    )
    return list(
        Household.objects.filter(unit__building_id=task.building_id)
        .exclude(pk__in=recorded)
        .select_related("unit")
        .order_by("unit__name", "floor", "room")
    )


def may_follow_up(user: User, community_id: int) -> bool:
    """Revisits and phone calls after a building is done: its community's workers or a
    door-to-door team of the community."""
    if user.can(Can.REVEAL_PERSONAL):
        return True
    return team_of(user, community_id) is not None

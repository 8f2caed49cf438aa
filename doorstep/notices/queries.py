"""Reads of telling: the door visits of a community by building, how each member of a pool was
told, and a person's messages. Callers pass querysets already scoped to the user."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

from django.db.models import Count, QuerySet

from doorstep.canvass.models import BuildingTask
from doorstep.notices.models import Message, Notice

# Enough for a team's afternoon; the page says when there are more.
DOORS_SHOWN = 300


@dataclass
class Door:
    """A household to visit, with the notices to give there."""

    household_id: int
    place: str
    notices: list[Notice] = field(default_factory=list)


@dataclass
class BuildingDoors:
    building_id: int
    name: str
    community: str
    team: str  # the team holding its door-to-door task, "" if none
    doors: list[Door] = field(default_factory=list)
    drill: bool = False


def door_visits(notices: QuerySet[Notice]) -> tuple[list[BuildingDoors], list[Notice]]:
    """Notices waiting for a door visit, by building and household, oldest first; and those
    with no household to go to (a walk-in not traced yet)."""
    waiting = list(
        notices.filter(door_at__isnull=False, told_at=None, cancelled_at=None)
        .select_related("household__unit__building__community", "campaign", "resident", "walk_in")
        # Doors nobody has tried first, then the ones tried longest ago.
        .order_by("door_tries", "door_tried_at", "door_at", "pk")[:DOORS_SHOWN]
    )
    unplaced = [n for n in waiting if n.household_id is None]
    by_building: dict[int, BuildingDoors] = {}
    doors: dict[int, Door] = {}
    for n in waiting:
        if n.household is None or n.household_id is None:
            continue
        unit = n.household.unit
        building = unit.building
        group = by_building.get(building.pk)
        if group is None:
            group = by_building[building.pk] = BuildingDoors(
                building.pk, building.name, building.community.name, "", drill=n.campaign.is_drill
            )
        door = doors.get(n.household_id)
        if door is None:
            door = doors[n.household_id] = Door(
                n.household_id, " ".join(p for p in (unit.name, n.household.room) if p)
            )
            group.doors.append(door)
        door.notices.append(n)
    campaign_ids = {n.campaign_id for n in waiting}
    for task in BuildingTask.objects.filter(
        campaign_id__in=campaign_ids, building_id__in=by_building, team__isnull=False
    ).select_related("team"):
        by_building[task.building_id].team = str(task.team)
    return list(by_building.values()), unplaced


@dataclass(frozen=True)
class Told:
    """How a member of a pool was told, for the pools page."""

    how: str  # "sms", "door", "" (not yet)
    at: dt.datetime | None
    door_since: dt.datetime | None
    door_reason: str
    message_state: str


def told_of_members(member_ids: Collection[int]) -> dict[int, Told]:
    """Each member's notice (the latest, for a member told twice), in two queries."""
    notices = {
        n.member_id: n
        for n in Notice.objects.filter(member_id__in=list(member_ids), cancelled_at=None).order_by(
            "created_at", "pk"
        )
    }
    states = dict(
        Message.objects.filter(notice__in=[n.pk for n in notices.values()])
        .order_by("queued_at", "pk")
        .values_list("notice_id", "state")
    )
    return {
        member_id: Told(
            n.told_how,
            n.told_at,
            n.door_at,
            n.get_door_reason_display() if n.door_reason else "",
            states.get(n.pk, ""),
        )
        for member_id, n in notices.items()
        if member_id is not None
    }


def untold_causes(tube_ids: Collection[int]) -> set[int]:
    """The tubes, of these, with a person still to be told."""
    return set(
        Notice.objects.filter(
            cause_tube_id__in=list(tube_ids), told_at=None, cancelled_at=None
        ).values_list("cause_tube_id", flat=True)
    )


def sent_to(messages: QuerySet[Message]) -> QuerySet[Message]:
    return messages.order_by("queued_at", "pk")


def by_state(messages: QuerySet[Message]) -> dict[str, int]:
    """How many messages are in each state, in one query."""
    return dict(messages.order_by().values_list("state").annotate(n=Count("pk")))

"""Write: what a batch changed, in set-based statements, inside the batch's transaction.

Each kind of row is one statement whatever the batch's size (``core.bulk``); new rows' ids come
back with the INSERT. The order matters only for the database's own checks: existing tubes are
updated before new ones are inserted (a lane's sealed tube must be closed before its next one
opens), boxes and walk-ins before the rows that point at them. The counters are not touched:
their moves are recorded (``sampling.tally.move``) and folded in after the commit.
"""

from __future__ import annotations

import datetime as dt

from doorstep.core import bulk
from doorstep.sampling import hooks, tally
from doorstep.sampling.actions import home
from doorstep.sampling.ingest.play import Changes
from doorstep.sampling.ingest.world import BoxState, TubeState, World
from doorstep.sampling.models import (
    Box,
    CustodyCheck,
    DeviceEvent,
    RoundSample,
    Tube,
    TubeMember,
    WalkIn,
)


class Stale(Exception):
    """Another writer changed what this batch read (a retest order taken meanwhile): play the
    batch again on fresh reads."""


_TUBE_CHANGES = (
    "pool_rule",
    "capacity",
    "household",
    "member_count",
    "status",
    "sealed_at",
    "discarded_at",
    "discarded_by",
    "discard_reason",
    "box",
    "retest_of",
)
_TUBE_NEW = (
    "campaign",
    "code",
    "lane",
    "site",
    "community",
    "opened_at",
    "opened_by",
    "received_at",
    "result",
    *_TUBE_CHANGES,
)
_BOX_CHANGES = (
    "status",
    "tube_count",
    "sealed_at",
    "handed_at",
    "courier",
    "received_at",
    "received_by",
    "flagged",
)
_BOX_NEW = ("campaign", "code", "site", "opened_at", *_BOX_CHANGES)
_WALK_IN = (
    "campaign",
    "community",
    "name",
    "id_type",
    "id_number",
    "phone",
    "address",
    "created_at",
)
_MEMBER = (
    "tube",
    "campaign",
    "resident",
    "walk_in",
    "household",
    "community",
    "added_at",
    "override_reason",
)


def _tube_changes(tube: TubeState) -> tuple[object, ...]:
    return (
        tube.pool_rule,
        tube.capacity,
        tube.household_id,
        tube.member_count,
        tube.status,
        tube.sealed_at,
        tube.discarded_at,
        tube.discarded_by_id,
        tube.discard_reason,
        tube.box.pk if tube.box is not None else tube.box_id,
        tube.retest_of_id,
    )


def _box_changes(box: BoxState) -> tuple[object, ...]:
    return (
        box.status,
        box.tube_count,
        box.sealed_at,
        box.handed_at,
        box.courier,
        box.received_at,
        box.received_by_id,
        box.flagged,
    )


def _pk(box: BoxState) -> int:
    assert box.pk is not None, "boxes are written before the rows that point at them"
    return box.pk


def write(world: World, changes: Changes) -> None:
    _walk_ins(changes)
    _boxes(world, changes)
    _tubes(world, changes)
    bulk.insert(
        TubeMember,
        _MEMBER,
        [
            (
                m.tube.pk,
                m.tube.campaign_id,
                m.resident.id if m.resident else None,
                m.walk_in.pk if m.walk_in else None,
                m.resident.household_id if m.resident else None,
                m.resident.community_id if m.resident else m.tube.community_id,
                m.at,
                m.override,
            )
            for m in changes.members
        ],
    )
    bulk.insert(
        RoundSample,
        ("campaign", "resident", "community", "sampled_at", "folded"),
        [(c, p.id, p.community_id, at, False) for c, p, at in changes.round_samples],
    )
    if changes.takes:
        if not hooks.retests.take(
            [(order, tube.pk, original) for order, tube, original in changes.takes]  # type: ignore[misc]
        ):
            raise Stale
        home.retests_taken([order for order, _t, _g in changes.takes], world.now)
    bulk.insert(
        CustodyCheck,
        ("box", "stage", "counted", "in_system", "by", "at", "client_uuid"),
        [
            (_pk(c.box), c.stage, c.counted, c.in_system, c.by_id, c.at, c.uid)
            for c in changes.checks
        ],
    )
    for received, at in changes.received:
        _received(received, at, changes)
    bulk.insert(
        DeviceEvent, ("client_uuid", "type", "digest", "user", "at", "received_at"), changes.events
    )
    tally.move(changes.moves, changes.hours)


def _walk_ins(changes: Changes) -> None:
    rows = [
        (
            w.campaign_id,
            w.community_id,
            w.name,
            w.id_type,
            w.id_number,
            w.phone,
            w.address,
            w.created_at,
        )
        for w in changes.new_walk_ins
    ]
    ids = {
        (campaign, number): pk
        for pk, campaign, number in bulk.insert(
            WalkIn, _WALK_IN, rows, returning=("id", "campaign_id", "id_number")
        )
    }
    for walk_in in changes.new_walk_ins:
        walk_in.pk = ids[(walk_in.campaign_id, walk_in.id_number)]


def _boxes(world: World, changes: Changes) -> None:
    rows = [
        (b.campaign_id, b.code, b.site_id, b.opened_at, *_box_changes(b)) for b in changes.new_boxes
    ]
    ids = {
        (campaign, code): pk
        for pk, campaign, code in bulk.insert(
            Box, _BOX_NEW, rows, returning=("id", "campaign_id", "code")
        )
    }
    for box in changes.new_boxes:
        box.pk = ids[(box.campaign_id, box.code)]
    new = set(map(id, changes.new_boxes))
    bulk.update(
        Box,
        _BOX_CHANGES,
        [(b.pk, *_box_changes(b)) for b in world.boxes.values() if b.changed and id(b) not in new],
    )


def _tubes(world: World, changes: Changes) -> None:
    new = set(map(id, changes.new_tubes))
    bulk.update(
        Tube,
        _TUBE_CHANGES,
        [(t.pk, *_tube_changes(t)) for t in world.tubes.values() if t.changed and id(t) not in new],
    )
    rows = [
        (
            t.campaign_id,
            t.code,
            t.lane_id,
            t.site_id,
            t.community_id,
            t.opened_at,
            t.opened_by_id,
            None,
            "",
            *_tube_changes(t),
        )
        for t in changes.new_tubes
    ]
    ids = {
        (campaign, code): pk
        for pk, campaign, code in bulk.insert(
            Tube, _TUBE_NEW, rows, returning=("id", "campaign_id", "code")
        )
    }
    for tube in changes.new_tubes:
        tube.pk = ids[(tube.campaign_id, tube.code)]


def _received(box: BoxState, at: dt.datetime, changes: Changes) -> None:
    """A box received at the lab: its tubes not yet received start their results clock."""
    pending = Tube.objects.filter(box_id=_pk(box), received_at__isnull=True, result="")
    for lane_id, site_id, community_id in pending.values_list("lane_id", "site_id", "community_id"):
        changes.move(
            box.campaign_id,
            tally.places_of(
                box.campaign_id, lane_id=lane_id, site_id=site_id, community_id=community_id
            ),
            results_pending=1,
        )
    pending.update(received_at=at)

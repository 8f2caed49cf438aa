"""Write: what a batch changed, in set-based statements, inside the batch's transaction.

The order matters only for the database's own checks: existing tubes are updated before new
ones are inserted (a lane's sealed tube must be closed before its next one opens), boxes and
walk-ins before the rows that point at them. The counters are not touched: their moves are
recorded (``sampling.tally.move``) and folded in after the commit.
"""

from __future__ import annotations

from doorstep.core import bulk
from doorstep.sampling import home, hooks, tally
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


_TUBE_CHANGES = [
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
]
_BOX_CHANGES = [
    "status",
    "tube_count",
    "sealed_at",
    "handed_at",
    "courier",
    "received_at",
    "received_by",
    "flagged",
]


def _tube_row(tube: TubeState) -> Tube:
    assert tube.opened_at is not None
    return Tube(
        pk=tube.pk,
        campaign_id=tube.campaign_id,
        code=tube.code,
        lane_id=tube.lane_id,
        site_id=tube.site_id,
        community_id=tube.community_id,
        pool_rule=tube.pool_rule,
        capacity=tube.capacity,
        household_id=tube.household_id,
        status=tube.status,
        member_count=tube.member_count,
        opened_at=tube.opened_at,
        opened_by_id=tube.opened_by_id,
        sealed_at=tube.sealed_at,
        discarded_at=tube.discarded_at,
        discarded_by_id=tube.discarded_by_id,
        discard_reason=tube.discard_reason,
        box_id=tube.box.pk if tube.box is not None else tube.box_id,
        retest_of_id=tube.retest_of_id,
    )


def _box_row(box: BoxState) -> Box:
    assert box.opened_at is not None
    return Box(
        pk=box.pk,
        campaign_id=box.campaign_id,
        code=box.code,
        site_id=box.site_id,
        status=box.status,
        tube_count=box.tube_count,
        opened_at=box.opened_at,
        sealed_at=box.sealed_at,
        handed_at=box.handed_at,
        courier=box.courier,
        received_at=box.received_at,
        received_by_id=box.received_by_id,
        flagged=box.flagged,
    )


def _pk(box: BoxState) -> int:
    assert box.pk is not None, "boxes are written before the rows that point at them"
    return box.pk


def write(world: World, changes: Changes) -> None:
    walk_ins = [
        WalkIn(
            campaign_id=w.campaign_id,
            community_id=w.community_id,
            name=w.name,
            id_type=w.id_type,
            id_number=w.id_number,
            phone=w.phone,
            address=w.address,
            created_at=w.created_at,
        )
        for w in changes.new_walk_ins
    ]
    for walk_in, walk_in_row in zip(
        changes.new_walk_ins, WalkIn.objects.bulk_create(walk_ins), strict=True
    ):
        walk_in.pk = walk_in_row.pk
    new_boxes = Box.objects.bulk_create([_box_row(b) for b in changes.new_boxes])
    for box, box_row in zip(changes.new_boxes, new_boxes, strict=True):
        box.pk = box_row.pk
    Box.objects.bulk_update(
        [_box_row(b) for b in world.boxes.values() if b.changed and b not in changes.new_boxes],
        _BOX_CHANGES,
    )
    new = set(map(id, changes.new_tubes))
    Tube.objects.bulk_update(
        [_tube_row(t) for t in world.tubes.values() if t.changed and id(t) not in new],
        _TUBE_CHANGES,
    )
    created = Tube.objects.bulk_create([_tube_row(t) for t in changes.new_tubes])
    for tube, tube_row in zip(changes.new_tubes, created, strict=True):
        tube.pk = tube_row.pk
    bulk.insert(
        TubeMember,
        (
            "tube",
            "campaign",
            "resident",
            "walk_in",
            "household",
            "community",
            "added_at",
            "override_reason",
        ),
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
    if changes.takes and not hooks.retests.take(
        [(order, tube.pk, original) for order, tube, original in changes.takes]  # type: ignore[misc]
    ):
        raise Stale
    home.retests_taken([order for order, _t, _g in changes.takes], world.now)
    CustodyCheck.objects.bulk_create(
        [
            CustodyCheck(
                box_id=_pk(c.box),
                stage=c.stage,
                counted=c.counted,
                in_system=c.in_system,
                by_id=world.user.pk,
                at=c.at,
                client_uuid=c.uid,
            )
            for c in changes.checks
        ]
    )
    for received, at in changes.received:
        pending = Tube.objects.filter(box_id=_pk(received), received_at__isnull=True, result="")
        for lane_id, site_id, community_id in pending.values_list(
            "lane_id", "site_id", "community_id"
        ):
            changes.move(
                received.campaign_id,
                tally.places_of(
                    received.campaign_id,
                    lane_id=lane_id,
                    site_id=site_id,
                    community_id=community_id,
                ),
                results_pending=1,
            )
        pending.update(received_at=at)
    bulk.insert(
        DeviceEvent, ("client_uuid", "type", "payload", "user", "at", "received_at"), changes.events
    )
    tally.move(changes.moves, changes.hours)

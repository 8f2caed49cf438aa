"""The append-only tables carry only what a named query or a rule needs.

Every scan writes a device event, a member, a round sample and counter moves, and rewrites its
tube; each index is written with the row, and each database foreign key is checked for it at
COMMIT. So each table's indexes are pinned here with the query or rule each serves: an index
added without a line here fails, and so does one gone. The same goes for the keys the database
checks. Where the database checks nothing, the ingest engine is what keeps the references true
(it writes them from rows its batch has just read) and Django applies on_delete: the tests below
hold both, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, models
from django.db.models.deletion import Collector, ProtectedError

from doorstep.campaigns.models import Campaign
from doorstep.sampling import tally
from doorstep.sampling.models import (
    CustodyCheck,
    DeviceEvent,
    RoundSample,
    TallyMove,
    Tube,
    TubeMember,
)
from doorstep.testing import valid_id
from doorstep.testing.lanes import post, sealed_tube

pytestmark = pytest.mark.django_db

PK = "primary key"

# Each table's indexes: a named one by its name, a foreign key's by its column.
INDEXES: dict[type[models.Model], dict[str, str]] = {
    Tube: {
        PK: "",
        "tube_code_unique_in_campaign": "rule: a barcode once per round; a round's tubes",
        "one_open_tube_per_lane": "rule: one open tube per lane; the ingest's open tube at a lane",
        "tube_by_code": "ingest: a tube by the barcode scanned; the lab's results by code",
        "tube_clock": "specimen clock: sealed tubes not at the lab (overdue_tubes, unboxed)",
        "tube_by_lane": "lane page: a lane's tubes today; a lane deleted",
        "tube_by_status": "alerts: tubes left open; a round's open tubes before it closes",
        "tube_by_result": "lab alerts: results overdue, positive pools",
        "site_id": "dashboard: a site's latest tubes (site_detail)",
        "box_id": "a box's tubes: received at the lab, the box page",
    },
    TubeMember: {
        PK: "",
        "resident_once_per_tube": "rule: a resident once per tube",
        "walk_in_once_per_tube": "rule: a walk-in once per tube",
        "member_by_resident": "already sampled, timeline, public look-up; a round deleted",
        "member_by_walk_in": "ingest: known walk-ins; a walk-in found positive",
        "tube_id": "a tube's members: the ingest, the lane page, the lab",
    },
    RoundSample: {
        PK: "",
        "sampled_once_per_campaign": "rule: a person sampled once per round; a round's samples",
        "sample_unfolded": "fold: the samples not counted yet",
        "resident_id": "public look-up and timeline: the rounds a person was sampled in",
    },
    DeviceEvent: {PK: "", "device_event_uuid_unique": "rule: an event's UUID once; replays"},
    # The fold reads and deletes every row.
    TallyMove: {PK: ""},
    CustodyCheck: {
        PK: "",
        "custody_check_once_per_event": "rule: a refused count on record once",
        "box_id": "a box's counts: the lab's alerts, the tube page",
    },
}

# The references the database checks; every other foreign key of these tables is the engine's.
CHECKED: dict[type[models.Model], set[str]] = {
    Tube: {"campaign_id", "lane_id", "site_id", "box_id"},
    TubeMember: {"tube_id", "walk_in_id"},
    RoundSample: {"campaign_id", "resident_id"},
    DeviceEvent: set(),
    TallyMove: set(),
    CustodyCheck: {"box_id"},
}


def _constraints(model: type[models.Model]) -> dict[str, dict[str, Any]]:
    with connection.cursor() as cursor:
        found: dict[str, dict[str, Any]] = connection.introspection.get_constraints(
            cursor, model._meta.db_table
        )
    return found


def indexes(model: type[models.Model]) -> set[str]:
    """The table's indexes as the database has them: its own names for those the model names,
    the column for a foreign key's (whose name Django hashes)."""
    named = {i.name for i in model._meta.indexes} | {c.name for c in model._meta.constraints}
    found = set()
    for name, c in _constraints(model).items():
        if c["primary_key"]:
            found.add(PK)
        elif c["index"] or c["unique"]:
            found.add(name if name in named else ",".join(c["columns"]))
    return found


def checked(model: type[models.Model]) -> set[str]:
    return {c["columns"][0] for c in _constraints(model).values() if c["foreign_key"]}


@pytest.mark.parametrize("model", list(INDEXES), ids=lambda m: m.__name__)
def test_each_append_only_table_has_the_indexes_its_queries_and_rules_need_and_no_more(model):
    assert indexes(model) == set(INDEXES[model])


@pytest.mark.parametrize("model", list(CHECKED), ids=lambda m: m.__name__)
def test_the_database_checks_only_the_references_that_anchor_the_others(model):
    assert checked(model) == CHECKED[model]


def _engines(model: type[models.Model]) -> list[models.ForeignKey[Any, Any]]:
    """The foreign keys the database does not check."""
    return [
        f
        for f in model._meta.get_fields()
        if isinstance(f, models.ForeignKey) and f.column not in CHECKED[model]
    ]


def _busy_day(world: dict[str, Any]) -> None:
    """Every kind of row that names something without a database key: tubes of residents, of
    a household and of a walk-in, a discarded tube, a refused box count, a retest tube."""
    d, lane, people, family = (
        world["registrar"],
        world["lane"],
        world["people"],
        world["family"],
    )
    pool = sealed_tube(d, lane, people[:2])
    walk_in = {"name": "过路人", "id_number": valid_id(321), "phone": "13912345678"}
    assert d.codes(
        d.event("tube.open", lane=lane.code, tube="2112250002", pool="household"),
        *[d.event("tube.add", tube="2112250002", person=p.person_code) for p in family],
        d.event("tube.seal", tube="2112250002"),
        d.event("tube.open", lane=lane.code, tube="2112250003", pool=10),
        d.event("tube.add", tube="2112250003", walk_in=walk_in),
        d.event("tube.seal", tube="2112250003"),
        d.event("tube.open", lane=lane.code, tube="2112250004", pool=10),
        d.event("tube.discard", tube="2112250004"),
        d.event("box.open", lane=lane.code, box="BOX001"),
        d.event("box.add", box="BOX001", tube="2112250003"),
        d.event("box.seal", box="BOX001", count=5),
    ) == ["accepted"] * 11 + ["count_mismatch"]
    post(world, {"tube": pool.code, "result": "positive"})
    retest = sealed_tube(d, lane, people[:1], code="2112259001", pool=1)
    assert retest.retest_of == pool


def test_the_engine_names_only_rows_that_exist_and_copies_them_true(
    lane_world, settings, monkeypatch
):
    # The last scans' counter moves stay unfolded, to be looked at too.
    _busy_day(lane_world)
    settings.FOLD_INLINE = False
    monkeypatch.setattr(tally, "fold_soon", lambda: None)
    sealed_tube(
        lane_world["registrar"], lane_world["lane"], lane_world["people"][5:7], "2112250005"
    )
    for model in CHECKED:
        for field in _engines(model):
            named = model.objects.exclude(**{f"{field.attname}__isnull": True})
            assert named.exists(), f"the day wrote no {model.__name__}.{field.name}"
            parents = field.related_model._default_manager.values("pk")  # type: ignore[union-attr]
            missing = named.exclude(**{f"{field.attname}__in": parents})
            assert not missing.exists(), f"{model.__name__}.{field.name} names a missing row"
    # The copies are those of the rows they copy.
    for member in TubeMember.objects.select_related("tube", "resident", "walk_in"):
        person = member.resident or member.walk_in
        assert member.campaign_id == member.tube.campaign_id
        assert member.community_id == person.community_id  # type: ignore[union-attr]
        assert member.household_id == getattr(member.resident, "household_id", None)
    for tube in Tube.objects.select_related("lane__site"):
        assert (tube.site_id, tube.community_id) == (tube.lane.site_id, tube.lane.site.community_id)
    for sample in RoundSample.objects.select_related("resident"):
        assert sample.community_id == sample.resident.community_id


def test_a_deleted_round_takes_its_rows_and_its_unfolded_moves_with_it(
    lane_world, settings, monkeypatch
):
    settings.FOLD_INLINE = False
    monkeypatch.setattr(tally, "fold_soon", lambda: None)
    sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["people"][:3])
    assert TallyMove.objects.exists()
    events = DeviceEvent.objects.count()
    Campaign.objects.get(pk=lane_world["campaign"].pk).delete()
    assert not Tube.objects.exists() and not TubeMember.objects.exists()
    assert not RoundSample.objects.exists() and not TallyMove.objects.exists()
    # The event log is the devices' and stays, for their replays.
    assert DeviceEvent.objects.count() == events
    # A move left behind would name no round: the fold would write a counter row for it that
    # its COMMIT refuses (checked here, as the test's transaction never commits), every fold
    # after it too.
    tally.fold(wait=True)
    connection.check_constraints()


def test_a_deleted_user_leaves_the_record_without_a_name(lane_world):
    _busy_day(lane_world)
    user = lane_world["registrar_user"]
    assert DeviceEvent.objects.filter(user=user).exists()
    assert Tube.objects.filter(opened_by=user).exists()
    assert Tube.objects.filter(discarded_by=user).exists()
    assert CustodyCheck.objects.filter(by=user).exists()
    pk, events = user.pk, DeviceEvent.objects.filter(user=user).count()
    user.delete()
    assert not DeviceEvent.objects.filter(user_id=pk).exists()
    assert DeviceEvent.objects.filter(user=None).count() == events
    assert not Tube.objects.filter(opened_by_id=pk).exists()
    assert not Tube.objects.filter(discarded_by_id=pk).exists()
    assert not CustodyCheck.objects.filter(by_id=pk).exists()


def test_a_sampled_person_their_household_and_community_cannot_be_deleted(lane_world):
    """Django refuses what the database no longer would: each protected row a member or a tube
    names without a database key."""
    _busy_day(lane_world)
    member = TubeMember.objects.filter(tube__code="2112250002").select_related("resident")[0]
    resident = member.resident
    assert resident is not None
    for parent, protected in [
        (resident, member),
        (resident.household, member),
        (resident.household, Tube.objects.get(code="2112250002")),
        (resident.community, member),
        (Tube.objects.get(code="2112250001"), Tube.objects.get(code="2112259001")),
    ]:
        with pytest.raises(ProtectedError) as refused:
            Collector(using="default").collect([parent])
        assert protected in refused.value.protected_objects

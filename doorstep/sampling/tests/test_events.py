"""The scan-events contract: every answer and error code, in order, nothing half-written."""

import pytest
from django.utils import timezone

from doorstep.canvass.models import BuildingTask
from doorstep.core import alerts
from doorstep.sampling.models import (
    Box,
    BoxStatus,
    CustodyCheck,
    RoundSample,
    Scope,
    Tally,
    Tube,
    TubeMember,
    WalkIn,
)
from doorstep.testing import make_community, make_lane, make_town, valid_id
from doorstep.testing.lanes import add, open_tube

pytestmark = pytest.mark.django_db


def test_a_tube_is_opened_filled_from_the_zone_rule_and_sealed(lane_world):
    d, lane, people = lane_world["registrar"], lane_world["lane"], lane_world["people"]
    answers = d.codes(
        open_tube(d, lane),
        *[add(d, "2112250001", p.person_code) for p in people[:10]],
        d.event("tube.seal", tube="2112250001"),
    )
    assert answers == ["accepted"] * 12
    tube = Tube.objects.get()
    assert (tube.pool_rule, tube.capacity, tube.member_count, tube.status) == (
        "10",
        10,
        10,
        "sealed",
    )
    assert RoundSample.objects.count() == 10
    task = BuildingTask.objects.get(building__name="12号楼")
    assert task.sampled == 10
    lane_tally = Tally.objects.get(scope=Scope.LANE, place_id=lane.pk)
    assert (lane_tally.people, lane_tally.tubes_open, lane_tally.tubes_sealed) == (10, 0, 1)
    assert Tally.objects.get(scope=Scope.CAMPAIGN).people == 10


def test_the_eleventh_person_of_a_ten_tube_is_refused(lane_world):
    d, lane, people = lane_world["registrar"], lane_world["lane"], lane_world["people"]
    d.send(open_tube(d, lane), *[add(d, "2112250001", p.person_code) for p in people[:10]])
    [answer] = d.send(add(d, "2112250001", people[10].person_code))
    assert answer["error"]["code"] == "tube_full"
    assert "already holds 10 people. Seal it and open a new tube" in answer["error"]["message"]
    assert not RoundSample.objects.filter(resident=people[10]).exists()


def test_the_event_pool_overrides_the_zone(lane_world):
    d, lane, people = lane_world["registrar"], lane_world["lane"], lane_world["people"]
    answers = d.codes(
        open_tube(d, lane, pool=1),
        add(d, "2112250001", people[0].person_code),
        add(d, "2112250001", people[1].person_code),
    )
    assert answers == ["accepted", "accepted", "tube_full"]


def test_a_household_tube_refuses_another_household(lane_world):
    d, lane = lane_world["registrar"], lane_world["lane"]
    father, mother = lane_world["family"]
    answers = d.send(
        open_tube(d, lane, pool="household"),
        add(d, "2112250001", father.person_code),
        add(d, "2112250001", mother.person_code),
        add(d, "2112250001", lane_world["neighbour"].person_code),
    )
    assert [a["status"] for a in answers] == ["accepted", "accepted", "accepted", "rejected"]
    assert answers[3]["error"]["code"] == "wrong_household"
    assert "one household (301)" in answers[3]["error"]["message"]
    assert Tube.objects.get().pool_rule == "household"


def test_a_sealed_tube_takes_nobody_and_cannot_be_sealed_twice(lane_world):
    d, lane, people = lane_world["registrar"], lane_world["lane"], lane_world["people"]
    d.send(open_tube(d, lane), add(d, "2112250001", people[0].person_code))
    answers = d.codes(
        d.event("tube.seal", tube="2112250001"),
        add(d, "2112250001", people[1].person_code),
        d.event("tube.seal", tube="2112250001"),
    )
    assert answers == ["accepted", "tube_sealed", "tube_sealed"]
    assert Tube.objects.get().member_count == 1


def test_an_empty_tube_cannot_be_sealed(lane_world):
    d, lane = lane_world["registrar"], lane_world["lane"]
    answers = d.send(open_tube(d, lane), d.event("tube.seal", tube="2112250001"))
    assert answers[1]["error"]["code"] == "tube_empty"
    assert "empty" in answers[1]["error"]["message"]


def test_people_are_found_by_code_or_typed_id_number_and_refused_twice(lane_world):
    d, lane, people = lane_world["registrar"], lane_world["lane"], lane_world["people"]
    code = people[0].person_code
    spaced = f"{code[:3]}-{code[3:6]}-{code[6:]}".lower()
    answers = d.codes(
        open_tube(d, lane),
        add(d, "2112250001", spaced),
        add(d, "2112250001", people[1].id_number),
        add(d, "2112250001", people[0].id_number),
        add(d, "2112250001", "K7QM9XD4Z"),
        add(d, "2112250001", valid_id(999)),
        add(d, "2112250001", "hello"),
    )
    assert answers == [
        "accepted",
        "accepted",
        "accepted",
        "already_in_tube",
        "bad_code",
        "unknown_person",
        "not_a_person",
    ]


def test_someone_sampled_this_round_needs_an_override_reason(lane_world):
    d, lane, people = lane_world["registrar"], lane_world["lane"], lane_world["people"]
    d.send(
        open_tube(d, lane),
        add(d, "2112250001", people[0].person_code),
        d.event("tube.seal", tube="2112250001"),
        open_tube(d, lane, code="2112250002"),
    )
    [refused] = d.send(add(d, "2112250002", people[0].person_code))
    assert refused["error"]["code"] == "already_sampled"
    [again] = d.send(add(d, "2112250002", people[0].person_code, override="采样管破损，重采"))
    assert again["status"] == "accepted"
    assert TubeMember.objects.get(tube__code="2112250002").override_reason == "采样管破损，重采"
    assert RoundSample.objects.count() == 1


def test_a_walk_in_with_a_valid_id_is_accepted_and_flagged(lane_world):
    d, lane = lane_world["registrar"], lane_world["lane"]
    walk_in = {"name": "过路人", "id_number": valid_id(321), "phone": "13912345678"}
    answers = d.codes(
        open_tube(d, lane, pool=10),
        d.event("tube.add", tube="2112250001", walk_in=walk_in),
        d.event("tube.add", tube="2112250001", walk_in={**walk_in, "id_number": "123"}),
        d.event("tube.add", tube="2112250001", walk_in=walk_in),
    )
    assert answers == ["accepted", "accepted", "invalid", "already_in_tube"]
    person = WalkIn.objects.get()
    assert (person.name, person.phone) == ("过路人", "13912345678")


def test_a_walk_in_who_is_on_the_roster_is_counted_as_that_resident(lane_world):
    d, lane, people = lane_world["registrar"], lane_world["lane"], lane_world["people"]
    walk_in = {"name": "x", "id_number": people[0].id_number}
    d.send(open_tube(d, lane, pool=10), d.event("tube.add", tube="2112250001", walk_in=walk_in))
    assert not WalkIn.objects.exists()
    assert RoundSample.objects.get().resident == people[0]


def test_replays_are_duplicates_and_a_changed_payload_is_a_conflict(lane_world):
    d, lane, people = lane_world["registrar"], lane_world["lane"], lane_world["people"]
    opening = open_tube(d, lane)
    adding = add(d, "2112250001", people[0].person_code)
    assert d.codes(opening, adding) == ["accepted", "accepted"]
    assert d.codes(opening, adding) == ["duplicate", "duplicate"]
    assert d.codes({**adding, "person": people[1].person_code}) == ["conflict"]
    assert TubeMember.objects.count() == 1


def test_lanes_tubes_and_fields_are_checked(lane_world, other_community):
    d, lane = lane_world["registrar"], lane_world["lane"]
    elsewhere = make_lane(other_community, "别处采样点")
    far = make_lane(
        make_community(
            "远方社区",
            town=make_town("远方镇"),
        )
    )
    answers = d.send(
        open_tube(d, lane, code="no good!"),
        d.event("tube.open", lane="ZZZZZZ", tube="2112250001"),
        open_tube(d, elsewhere),
        open_tube(d, far),
        open_tube(d, lane, pool=7),
        open_tube(d, lane, pool="ten"),
        d.event("tube.open", lane=lane.code, tube=123),
        d.event("tube.add", tube="9999999999", person=lane_world["people"][0].person_code),
        {"id": "nope", "type": "tube.open"},
        d.event("tube.paint", tube="2112250001"),
        {**open_tube(d, lane), "at": "2999-01-01T00:00:00+08:00"},
        {**open_tube(d, lane), "at": "yesterday"},
        "not an object",
    )
    codes = [a.get("error", {}).get("code", a["status"]) for a in answers]
    assert codes == [
        "invalid",
        "unknown_lane",
        "forbidden",
        "forbidden",
        "invalid",
        "invalid",
        "invalid",
        "unknown_tube",
        "invalid",
        "invalid",
        "invalid",
        "invalid",
        "invalid",
    ]
    assert "not a tube barcode of this round" in answers[0]["error"]["message"]
    assert "more than 10 minutes in the future" in answers[10]["error"]["message"]
    assert "Unknown event type «tube.paint»" in answers[9]["error"]["message"]
    assert not Tube.objects.exists()


def test_a_tube_code_cannot_be_opened_twice(lane_world):
    d, lane = lane_world["registrar"], lane_world["lane"]
    assert d.codes(open_tube(d, lane), open_tube(d, lane)) == ["accepted", "tube_exists"]


def box_world(d, lane, people, tubes=2):  # type: ignore[no-untyped-def]
    events = []
    for n in range(tubes):
        code = f"21122500{n:02d}"
        events += [
            open_tube(d, lane, code=code, pool=1),
            add(d, code, people[n].person_code),
            d.event("tube.seal", tube=code),
        ]
    events.append(d.event("box.open", lane=lane.code, box="BOX001"))
    events += [d.event("box.add", box="BOX001", tube=f"21122500{n:02d}") for n in range(tubes)]
    assert set(d.codes(*events)) == {"accepted"}


def test_a_box_travels_sealed_handed_and_received_with_counts_that_agree(lane_world):
    d, lab, lane, people = (
        lane_world["registrar"],
        lane_world["lab"],
        lane_world["lane"],
        lane_world["people"],
    )
    box_world(d, lane, people)
    assert d.codes(
        d.event("box.seal", box="BOX001", count=2),
        d.event("box.handoff", box="BOX001", count=2, courier="李师傅"),
    ) == ["accepted", "accepted"]
    assert Tally.objects.get(scope=Scope.CAMPAIGN).boxes_in_transit == 1
    assert lab.codes(lab.event("box.receive", box="BOX001", count=2)) == ["accepted"]
    box = Box.objects.get()
    assert (box.status, box.courier, box.flagged) == (BoxStatus.RECEIVED, "李师傅", False)
    assert Tube.objects.filter(received_at__isnull=False).count() == 2
    campaign = Tally.objects.get(scope=Scope.CAMPAIGN)
    assert (campaign.boxes_in_transit, campaign.results_pending) == (0, 2)
    assert lab.codes(lab.event("box.receive", box="BOX001", count=2)) == ["box_received"]
    assert [c.stage for c in CustodyCheck.objects.all()] == ["seal", "handoff", "receive"]


def test_a_count_that_disagrees_is_refused_recorded_and_flagged(lane_world):
    d, lab, lane, people = (
        lane_world["registrar"],
        lane_world["lab"],
        lane_world["lane"],
        lane_world["people"],
    )
    box_world(d, lane, people)
    [answer] = d.send(d.event("box.seal", box="BOX001", count=3))
    assert answer["error"]["code"] == "count_mismatch"
    assert "3 tubes counted but 2 were scanned into box BOX001" in answer["error"]["message"]
    box = Box.objects.get()
    assert (box.status, box.flagged) == (BoxStatus.OPEN, True)
    check = CustodyCheck.objects.get()
    assert (check.counted, check.in_system, check.agrees) == (3, 2, False)
    [alert] = alerts.current(box.campaign, timezone.now(), apps={"lab"})
    assert (alert.kind, alert.severity) == ("count_mismatch", "bad")
    assert d.codes(d.event("box.seal", box="BOX001", count=2)) == ["accepted"]
    # A count that agrees clears the alert.
    assert alerts.current(box.campaign, timezone.now(), apps={"lab"}) == []
    assert d.codes(d.event("box.handoff", box="BOX001", count=1, courier="李师傅")) == [
        "count_mismatch"
    ]
    assert d.codes(d.event("box.handoff", box="BOX001", count=2, courier="李师傅")) == ["accepted"]
    assert lab.codes(lab.event("box.receive", box="BOX001", count=1)) == ["count_mismatch"]
    assert Box.objects.get().status == BoxStatus.IN_TRANSIT


def test_boxes_refuse_open_tubes_tubes_twice_and_a_registrar_receiving(lane_world):
    d, lane, people = lane_world["registrar"], lane_world["lane"], lane_world["people"]
    box_world(d, lane, people, tubes=1)
    answers = d.codes(
        open_tube(d, lane, code="2112259999"),
        d.event("box.add", box="BOX001", tube="2112259999"),
        d.event("box.add", box="BOX001", tube="2112250000"),
        d.event("box.add", box="NOBOX1", tube="2112250000"),
        d.event("box.open", lane=lane.code, box="BOX001"),
        d.event("box.handoff", box="BOX001", count=1, courier="x"),
        d.event("box.seal", box="BOX001", count="one"),
        d.event("box.receive", box="BOX001", count=1),
    )
    assert answers == [
        "accepted",
        "tube_open",
        "already_in_box",
        "unknown_box",
        "box_exists",
        "box_not_sealed",
        "invalid",
        "forbidden",
    ]


def _queries_for(d, lane, people, tubes, prefix):  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    events = []
    for t in range(tubes):
        code = f"{prefix}{t:02d}"
        events.append(open_tube(d, lane, code=code, pool=10))
        events += [add(d, code, p.person_code) for p in people[t * 3 : t * 3 + 3]]
        events.append(d.event("tube.seal", tube=code))
    with CaptureQueriesContext(connection) as captured:
        assert set(d.codes(*events)) == {"accepted"}
    return len(captured)


def test_a_plain_batch_is_written_in_bulk_with_a_fixed_number_of_queries(lane_world):
    d, lane, people = lane_world["registrar"], lane_world["lane"], lane_world["people"]
    _queries_for(d, lane, people[:3], 1, "21122579")  # warms the caches of a first request
    one = _queries_for(d, lane, people[3:6], 1, "21122580")
    two = _queries_for(d, lane, people[6:], 2, "21122581")
    assert one == two, (one, two)
    assert one < 40
    assert Tube.objects.filter(status="sealed").count() == 4
    assert TubeMember.objects.count() == 12 and RoundSample.objects.count() == 12
    assert Tally.objects.get(scope=Scope.LANE, place_id=lane.pk).people == 12


def test_one_bad_event_sends_the_batch_through_the_per_event_path_with_the_same_result(lane_world):
    d, lane, people = lane_world["registrar"], lane_world["lane"], lane_world["people"]
    answers = d.codes(
        open_tube(d, lane, pool=10),
        *[add(d, "2112250001", p.person_code) for p in people[:3]],
        add(d, "2112250001", people[0].person_code),
        d.event("tube.seal", tube="2112250001"),
    )
    assert answers == [
        "accepted",
        "accepted",
        "accepted",
        "accepted",
        "already_in_tube",
        "accepted",
    ]
    assert Tube.objects.get().member_count == 3
    assert Tally.objects.get(scope=Scope.LANE, place_id=lane.pk).people == 3

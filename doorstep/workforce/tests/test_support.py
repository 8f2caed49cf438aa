"""Support between the towns of a district: a town asks, the district sets quotas, a sending town
selects and sends batches, the receiving town checks them in and puts them to work, the sending
town confirms them home. The district's picture agrees with a recount of the people at every step.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from doorstep.core.roles import Role
from doorstep.sampling.models import Lane
from doorstep.territory.models import Town
from doorstep.testing import (
    make_community,
    make_district,
    make_lane,
    make_staff,
    make_town,
    make_unit,
    make_user,
)
from doorstep.workforce import actions, queries
from doorstep.workforce.actions import WorkforceError, support
from doorstep.workforce.models import (
    Batch,
    CallUp,
    Duty,
    DutyRole,
    Muster,
    MusterStatus,
    Purpose,
    Quota,
    Staff,
    SupportRequest,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def towns() -> dict[str, Town]:
    make_district("西青区", "中北镇", "杨柳青镇", "大寺镇")
    make_district("东丽区", "军粮城街")
    return {
        name: Town.objects.get(name=name) for name in ("中北镇", "杨柳青镇", "大寺镇", "军粮城街")
    }


@pytest.fixture
def lane(towns) -> Lane:
    return make_lane(make_community("阳光里社区", towns["中北镇"]), "阳光里广场", lanes=4)


@pytest.fixture
def ask(towns, lane) -> SupportRequest:
    return support.ask_for_people(
        make_user(Role.COMMANDER, town=towns["中北镇"]),
        towns["中北镇"],
        people=40,
        purpose=Purpose.SAMPLING,
        site=lane.site,
        muster_point="中北镇政府东门",
        needed_by=timezone.now() + dt.timedelta(minutes=30),
    )


def _cadres(town: Town, count: int, unit: str = "机关", skills: str = "") -> list[Staff]:
    home = make_unit(f"{town.name}{unit}", town)
    return [make_staff(home, skills=skills) for _ in range(count)]


def recount(district_id: int) -> dict[str, int]:
    """The people of the district's batches, counted one by one from their rows."""
    musters = Muster.objects.filter(callup__batch__quota__request__district_id=district_id)
    return {
        "selected": musters.count(),
        "departed": musters.filter(callup__batch__departed_at__isnull=False).count(),
        "arrived": musters.filter(arrived_at__isnull=False).count(),
        "on_duty": Duty.objects.filter(
            ended_at__isnull=True, staff__musters__in=musters.filter(returned_at__isnull=True)
        ).count(),
        "stood_down": musters.filter(
            status=MusterStatus.STOOD_DOWN, returned_at__isnull=True
        ).count(),
        "returned": musters.filter(returned_at__isnull=False).count(),
    }


def figures(district_id: int) -> dict[str, int]:
    total = queries.support_picture(district_id).total
    return {k: getattr(total, k) for k in recount(district_id)}


def test_the_founding_scene_from_request_to_back_home_safe(towns, ask, lane):
    district = towns["中北镇"].district_id
    chief = make_user(Role.DISTRICT_COMMANDER, district=towns["中北镇"].district)
    quota = support.set_quota(chief, ask, towns["杨柳青镇"], 30)
    support.set_quota(chief, ask, towns["大寺镇"], 10)
    cadres = _cadres(towns["杨柳青镇"], 20)
    medics = _cadres(towns["杨柳青镇"], 10, "卫生院", ",sampler,")
    batch = support.send_batch(None, quota, cadres + medics)
    assert str(batch) == "Batch 1"
    # One named call-up per unit, at the receiving town's muster point.
    callups = list(CallUp.objects.filter(batch=batch).order_by("requested"))
    assert [(c.town.name, c.requested, c.named) for c in callups] == [
        ("中北镇", 10, True),
        ("中北镇", 20, True),
    ]
    assert {c.muster_point for c in callups} == {"中北镇政府东门"}
    assert figures(district) == recount(district) == {
        "selected": 30, "departed": 0, "arrived": 0, "on_duty": 0, "stood_down": 0, "returned": 0,
    }  # fmt: skip
    assert support.depart(None, batch) is True
    assert support.depart(None, batch) is False
    # The receiving town scans them in with their own worker codes.
    receiver = make_user(Role.COMMANDER, town=towns["中北镇"])
    for person in cadres + medics:
        callup = next(c for c in callups if c.unit_id == person.unit_id)
        actions.check_in(receiver, callup, person.worker_code)
    assert figures(district) == recount(district)
    assert figures(district)["arrived"] == 30
    # A team of the receiving town from the sent people, at a lane.
    team_people = [medics[0], cadres[0], cadres[1]]
    assert set(queries.available_people(towns["中北镇"].pk)) >= set(team_people)
    team = actions.form_team(receiver, towns["中北镇"], "杨柳青镇第1组", cadres[0], team_people)
    actions.assign_team(
        receiver,
        team,
        lane=lane,
        roles={
            medics[0].pk: DutyRole.SAMPLER,
            cadres[0].pk: DutyRole.REGISTRAR,
            cadres[1].pk: DutyRole.ORDER_KEEPER,
        },
    )
    picture = queries.support_picture(district)
    assert figures(district) == recount(district)
    assert picture.total.on_duty == 3
    assert [(s.town, s.quota, s.selected, s.on_duty) for s in picture.by_sending] == [
        ("大寺镇", 10, 0, 0),
        ("杨柳青镇", 30, 30, 3),
    ]
    assert [(s.town, s.asked, s.arrived) for s in picture.by_receiving] == [("中北镇", 40, 30)]
    # Home is refused while three are at work, and nobody is marked.
    with pytest.raises(WorkforceError, match="Still at work"):
        support.confirm_home(None, batch)
    assert Muster.objects.filter(returned_at__isnull=False).count() == 0
    actions.stand_down(receiver, team)
    assert figures(district) == recount(district)
    assert figures(district)["stood_down"] == 3
    assert support.confirm_home(None, batch) == 30
    picture = queries.support_picture(district)
    assert figures(district) == recount(district)
    assert (picture.total.returned, picture.unaccounted) == (30, 0)
    assert picture.by_sending[1].hours >= 0


def test_those_not_back_are_counted_until_their_town_confirms_them(towns, ask):
    quota = support.set_quota(None, ask, towns["杨柳青镇"], 5)
    people = _cadres(towns["杨柳青镇"], 5)
    batch = support.send_batch(None, quota, people)
    assert queries.support_picture(towns["中北镇"].district_id).unaccounted == 0
    support.depart(None, batch)
    assert queries.support_picture(towns["中北镇"].district_id).unaccounted == 5
    support.confirm_home(None, batch, [people[0].pk, people[1].pk])
    assert queries.support_picture(towns["中北镇"].district_id).unaccounted == 3


def test_a_batch_over_the_quota_is_refused_with_the_room_left_and_nothing_is_written(towns, ask):
    quota = support.set_quota(None, ask, towns["杨柳青镇"], 5)
    support.send_batch(None, quota, _cadres(towns["杨柳青镇"], 3))
    with pytest.raises(WorkforceError, match="room for 2 more"):
        support.send_batch(None, quota, _cadres(towns["杨柳青镇"], 3, "卫生院"))
    quota.refresh_from_db()
    assert quota.selected == 3
    assert Batch.objects.count() == 1
    assert CallUp.objects.count() == 1
    assert Muster.objects.count() == 3


def test_batches_are_numbered_per_sending_and_receiving_town_across_requests(towns, ask, lane):
    quota = support.set_quota(None, ask, towns["杨柳青镇"], 10)
    first = support.send_batch(None, quota, _cadres(towns["杨柳青镇"], 4))
    again = support.ask_for_people(
        None,
        towns["中北镇"],
        people=35,
        purpose=Purpose.SAMPLING,
        site=lane.site,
        muster_point="富锦园社区居委会门前",
        needed_by=timezone.now(),
    )
    second = support.send_batch(
        None,
        support.set_quota(None, again, towns["杨柳青镇"], 30),
        _cadres(towns["杨柳青镇"], 4, "卫生院"),
    )
    other_town = support.send_batch(
        None, support.set_quota(None, again, towns["大寺镇"], 5), _cadres(towns["大寺镇"], 2)
    )
    assert (first.number, second.number, other_town.number) == (1, 2, 1)
    assert str(second) == "Batch 2"
    with translation.override("zh-hans"):
        assert str(second) == "第二批"


def test_a_person_on_duty_elsewhere_is_refused_by_name_and_place(towns, ask):
    quota = support.set_quota(None, ask, towns["杨柳青镇"], 5)
    home_lane = make_lane(make_community("柳口路社区", towns["杨柳青镇"]), "柳口路广场")
    people = _cadres(towns["杨柳青镇"], 2, skills=",sampler,")
    callup = actions.create_callup(
        None,
        people[0].unit,
        named=people,
        purpose=Purpose.SAMPLING,
        site=home_lane.site,
        muster_point="镇政府",
        muster_at=timezone.now(),
    )
    for person in people:
        actions.check_in(None, callup, person.worker_code)
    team = actions.form_team(None, towns["杨柳青镇"], "本镇1组", people[0], people)
    actions.assign_team(None, team, lane=home_lane, roles={p.pk: DutyRole.SAMPLER for p in people})
    with pytest.raises(WorkforceError) as refused:
        support.send_batch(None, quota, [people[0], *_cadres(towns["杨柳青镇"], 1, "卫生院")])
    assert people[0].name in str(refused.value) and str(home_lane) in str(refused.value)
    assert Batch.objects.count() == 0


def test_a_person_sent_and_not_back_cannot_be_sent_again(towns, ask):
    quota = support.set_quota(None, ask, towns["杨柳青镇"], 10)
    people = _cadres(towns["杨柳青镇"], 2)
    batch = support.send_batch(None, quota, people)
    with pytest.raises(WorkforceError, match="not yet back home"):
        support.send_batch(None, quota, people[:1])
    support.depart(None, batch)
    support.confirm_home(None, batch)
    assert support.send_batch(None, quota, people[:1]).number == 2


def test_only_the_sending_towns_staff_go_in_its_batch(towns, ask):
    quota = support.set_quota(None, ask, towns["杨柳青镇"], 5)
    with pytest.raises(WorkforceError, match="Not staff of 杨柳青镇"):
        support.send_batch(None, quota, _cadres(towns["大寺镇"], 1))


def test_a_town_outside_the_district_gets_no_quota_and_sends_nobody(towns, ask):
    with pytest.raises(WorkforceError, match="not a town of this district"):
        support.set_quota(None, ask, towns["军粮城街"], 5)
    far = make_unit("军粮城街机关", towns["军粮城街"])
    with pytest.raises(WorkforceError, match="not in the district of 中北镇"):
        actions.create_callup(
            None,
            far,
            named=[make_staff(far)],
            purpose=Purpose.DOOR_TO_DOOR,
            community=make_community("阳光里社区", towns["中北镇"]),
            muster_point="镇政府",
            muster_at=timezone.now(),
            town=towns["中北镇"],
        )
    assert not Quota.objects.exists() and not CallUp.objects.exists()


def test_a_town_does_not_send_its_own_people_to_itself(towns, ask):
    with pytest.raises(WorkforceError, match="choose another town"):
        support.set_quota(None, ask, towns["中北镇"], 5)


def test_a_quota_cannot_shrink_below_those_already_selected(towns, ask):
    quota = support.set_quota(None, ask, towns["杨柳青镇"], 5)
    support.send_batch(None, quota, _cadres(towns["杨柳青镇"], 4))
    with pytest.raises(WorkforceError, match="already selected 4"):
        support.set_quota(None, ask, towns["杨柳青镇"], 3)
    assert support.set_quota(None, ask, towns["杨柳青镇"], 4).people == 4


def test_a_town_in_no_district_has_nobody_to_ask(lane):
    alone = make_town("孤镇")
    with pytest.raises(WorkforceError, match="in no district"):
        support.ask_for_people(
            None,
            alone,
            people=5,
            purpose=Purpose.DOOR_TO_DOOR,
            community=make_community("孤镇社区", alone),
            muster_point="镇政府",
            needed_by=timezone.now(),
        )


@pytest.mark.parametrize("people", [0, -1, 2001, "30"])
def test_a_number_of_people_out_of_range_is_refused(towns, lane, people):
    with pytest.raises(WorkforceError, match="whole number from 1 to 2000"):
        support.ask_for_people(
            None,
            towns["中北镇"],
            people=people,
            purpose=Purpose.SAMPLING,
            site=lane.site,
            muster_point="镇政府",
            needed_by=timezone.now(),
        )


def test_a_sent_person_checks_in_only_at_their_own_batchs_muster(towns, ask, lane):
    quota = support.set_quota(None, ask, towns["杨柳青镇"], 5)
    sent = _cadres(towns["杨柳青镇"], 1)
    support.send_batch(None, quota, sent)
    stay_home = _cadres(towns["杨柳青镇"], 1)[0]
    own = actions.create_callup(
        None,
        make_unit("中北镇机关", towns["中北镇"]),
        requested=5,
        purpose=Purpose.SAMPLING,
        site=lane.site,
        muster_point="镇政府",
        muster_at=timezone.now(),
    )
    # Someone of another town who was not sent is no worker of this town.
    with pytest.raises(WorkforceError, match="No worker in 中北镇"):
        actions.check_in(None, own, stay_home.worker_code)
    batch_callup = CallUp.objects.get(batch__quota=quota)
    assert actions.check_in(None, batch_callup, sent[0].worker_code).first_time


def test_the_first_arrival_of_a_batch_that_never_said_departed_marks_it_departed(towns, ask):
    quota = support.set_quota(None, ask, towns["杨柳青镇"], 5)
    people = _cadres(towns["杨柳青镇"], 2)
    batch = support.send_batch(None, quota, people)
    actions.check_in(None, CallUp.objects.get(batch=batch), people[0].worker_code)
    batch.refresh_from_db()
    assert batch.departed_at is not None
    total = queries.support_picture(towns["中北镇"].district_id).total
    assert (total.departed, total.arrived) == (2, 1)


def test_the_quotas_never_add_up_to_more_than_the_town_asked_for(towns, ask):
    support.set_quota(None, ask, towns["杨柳青镇"], 30)
    with pytest.raises(WorkforceError, match="add up to 41, more than the 40 people 中北镇 asked"):
        support.set_quota(None, ask, towns["大寺镇"], 11)
    assert support.set_quota(None, ask, towns["大寺镇"], 10).people == 10
    # A quota may be set again within the request: its own share is not counted twice.
    assert support.set_quota(None, ask, towns["杨柳青镇"], 30).people == 30


@pytest.mark.parametrize("hours", [-25, 24 * 31])
def test_a_time_needed_far_in_the_past_or_future_is_refused(towns, lane, hours):
    with pytest.raises(WorkforceError, match="from today to 30 days ahead"):
        support.ask_for_people(
            None,
            towns["中北镇"],
            people=5,
            purpose=Purpose.SAMPLING,
            site=lane.site,
            muster_point="镇政府",
            needed_by=timezone.now() + dt.timedelta(hours=hours),
        )


def test_still_at_work_names_each_person_once(towns, ask, lane):
    quota = support.set_quota(None, ask, towns["杨柳青镇"], 5)
    people = _cadres(towns["杨柳青镇"], 1, skills=",sampler,")
    batch = support.send_batch(None, quota, people)
    actions.check_in(None, CallUp.objects.get(batch=batch), people[0].worker_code)
    team = actions.form_team(None, towns["中北镇"], "组", people[0], people)
    actions.assign_team(None, team, lane=lane, roles={people[0].pk: DutyRole.SAMPLER})
    with pytest.raises(WorkforceError) as refused:
        support.confirm_home(None, batch)
    assert str(refused.value).count(people[0].name) == 1


def test_a_batch_selected_by_mistake_is_called_off_before_it_leaves(towns, ask):
    quota = support.set_quota(None, ask, towns["杨柳青镇"], 3)
    people = _cadres(towns["杨柳青镇"], 3)
    wrong = support.send_batch(None, quota, people)
    assert support.call_off(None, wrong) == 3
    assert support.call_off(None, wrong) == 0
    quota.refresh_from_db()
    assert quota.selected == 0
    # Its people are free again, its number is kept, and nobody of it is expected anywhere.
    again = support.send_batch(None, quota, people)
    assert (again.number, again.people) == (2, 3)
    assert support.depart(None, wrong) is False
    with pytest.raises(WorkforceError, match="called off before it left"):
        actions.check_in(None, CallUp.objects.get(batch=wrong), people[0].worker_code)
    wrong.refresh_from_db()
    states = {p.state for p in queries.batch_people(wrong)}
    assert states == {"called_off"}
    total = queries.support_picture(towns["中北镇"].district_id).total
    assert (total.selected, total.stood_down, total.departed) == (3, 0, 0)


def test_a_batch_that_has_left_cannot_be_called_off(towns, ask):
    quota = support.set_quota(None, ask, towns["杨柳青镇"], 3)
    batch = support.send_batch(None, quota, _cadres(towns["杨柳青镇"], 2))
    support.depart(None, batch)
    with pytest.raises(WorkforceError, match="has left; when they are back, confirm them home"):
        support.call_off(None, batch)
    quota.refresh_from_db()
    assert quota.selected == 2

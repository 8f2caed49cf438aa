"""The support pages by role: the district sets quotas, the sending town selects and sends and
confirms home, the receiving town follows its people and sees of them only what the work needs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from doorstep.core.roles import Role
from doorstep.territory.models import Town
from doorstep.testing import (
    client_for,
    make_community,
    make_district,
    make_lane,
    make_staff,
    make_unit,
    make_user,
)
from doorstep.workforce import actions
from doorstep.workforce.actions import support
from doorstep.workforce.models import Batch, CallUp, Muster, Purpose, Quota, SupportRequest, Team

pytestmark = pytest.mark.django_db


def _soon() -> str:
    """A time the form accepts whatever day the suite runs: three hours from now, local."""
    return f"{timezone.localtime() + dt.timedelta(hours=3):%Y-%m-%dT%H:%M}"


@pytest.fixture
def scene():
    make_district("西青区", "中北镇", "杨柳青镇")
    make_district("东丽区", "军粮城街")
    towns = {t.name: t for t in Town.objects.all()}
    lane = make_lane(make_community("阳光里社区", towns["中北镇"]), "阳光里广场", lanes=4)
    asked = support.ask_for_people(
        None,
        towns["中北镇"],
        people=30,
        purpose=Purpose.SAMPLING,
        site=lane.site,
        muster_point="中北镇政府东门",
        needed_by=timezone.now() + dt.timedelta(minutes=30),
    )
    unit = make_unit("杨柳青镇机关", towns["杨柳青镇"])
    people = [make_staff(unit, name=f"杨柳{n}号") for n in range(4)]
    return {
        "towns": towns,
        "asked": asked,
        "people": people,
        "chief": make_user(Role.DISTRICT_COMMANDER, district=towns["中北镇"].district),
        "receiver": make_user(Role.COMMANDER, town=towns["中北镇"]),
        "sender": make_user(Role.COMMANDER, town=towns["杨柳青镇"]),
        "far": make_user(Role.DISTRICT_COMMANDER, district=towns["军粮城街"].district),
        "far_town": make_user(Role.COMMANDER, town=towns["军粮城街"]),
    }


def _url(name: str, *args: int) -> str:
    return reverse(f"workforce:{name}", args=args)


def test_the_receiving_town_asks_its_district_from_the_page(scene):
    town = scene["towns"]["中北镇"]
    site = scene["asked"].site
    response = client_for(scene["receiver"]).post(
        _url("support_ask") + f"?town={town.pk}",
        {
            "people": "80",
            "purpose": "sampling",
            "site": str(site.pk),
            "muster_point": "镇政府",
            "needed_by": _soon(),
        },
    )
    made = SupportRequest.objects.latest("pk")
    assert response.status_code == 302 and response.url == _url("support_request", made.pk)
    assert (made.town, made.people, made.district_id) == (town, 80, town.district_id)


def test_an_ask_for_a_site_of_another_town_is_refused_as_a_wrong_choice(scene):
    far_site = make_lane(
        make_community("军粮城社区", scene["towns"]["军粮城街"]), "军粮城广场"
    ).site
    response = client_for(scene["receiver"]).post(
        _url("support_ask"),
        {"people": "5", "purpose": "sampling", "site": str(far_site.pk),
         "muster_point": "镇政府", "needed_by": _soon()},
    )  # fmt: skip
    assert response.status_code == 400
    assert SupportRequest.objects.count() == 1


def test_the_district_sets_a_quota_and_the_sending_town_sends_a_batch(scene):
    asked, sending = scene["asked"], scene["towns"]["杨柳青镇"]
    response = client_for(scene["chief"]).post(
        _url("support_quota", asked.pk), {"sending_town": str(sending.pk), "people": "3"}
    )
    assert response.status_code == 302
    quota = Quota.objects.get(request=asked, sending_town=sending)
    sender = client_for(scene["sender"])
    page = sender.get(_url("support") + f"?town={sending.pk}")
    assert _url("support_select", quota.pk) in page.content.decode()
    picks = [str(p.pk) for p in scene["people"][:3]]
    response = sender.post(_url("support_select", quota.pk), {"staff": picks})
    batch = Batch.objects.get(quota=quota)
    assert response.status_code == 302 and response.url == _url("support_batch", batch.pk)
    assert sender.post(_url("support_depart", batch.pk)).status_code == 302
    batch.refresh_from_db()
    assert batch.departed_at is not None
    # The fourth does not fit: the page says so and keeps the ticks.
    response = sender.post(
        _url("support_select", quota.pk), {"staff": [str(scene["people"][3].pk)]}
    )
    assert response.status_code == 400
    assert "room for 0 more" in response.content.decode()


def test_a_town_commander_cannot_set_quotas(scene):
    asked, sending = scene["asked"], scene["towns"]["杨柳青镇"]
    # The receiving town sees its request but may not share it out; a town the district has
    # not asked does not see it at all.
    for user, status in ((scene["receiver"], 403), (scene["sender"], 404)):
        response = client_for(user).post(
            _url("support_quota", asked.pk), {"sending_town": str(sending.pk), "people": "3"}
        )
        assert response.status_code == status
    assert not Quota.objects.exists()


def test_a_quota_for_a_town_of_another_district_is_not_a_choice(scene):
    response = client_for(scene["chief"]).post(
        _url("support_quota", scene["asked"].pk),
        {"sending_town": str(scene["towns"]["军粮城街"].pk), "people": "3"},
        follow=True,
    )
    assert not Quota.objects.exists()
    assert "Select a valid choice" in response.content.decode()


@pytest.fixture
def sent(scene):
    quota = support.set_quota(None, scene["asked"], scene["towns"]["杨柳青镇"], 4)
    batch = support.send_batch(None, quota, scene["people"][:2])
    support.depart(None, batch)
    return batch


def test_the_receiving_town_sees_name_unit_and_a_masked_phone_and_nothing_more(scene, sent):
    page = client_for(scene["receiver"]).get(_url("support_batch", sent.pk)).content.decode()
    person = scene["people"][0]
    assert person.name in page and person.unit.name in page and person.masked_phone in page
    assert person.phone not in page and person.worker_code not in page
    # The sending town's staff list stays the sending town's.
    staff = client_for(scene["receiver"]).get(
        _url("staff") + f"?town={scene['towns']['杨柳青镇'].pk}"
    )
    assert staff.status_code == 404


def test_only_the_sending_side_confirms_departure_and_home(scene, sent):
    receiver = client_for(scene["receiver"])
    assert receiver.post(_url("support_home", sent.pk), {"all": "1"}).status_code == 403
    assert receiver.get(_url("support_select", sent.quota_id)).status_code == 404
    response = client_for(scene["sender"]).post(_url("support_home", sent.pk), {"all": "1"})
    assert response.status_code == 302
    assert Muster.objects.filter(callup__batch=sent, returned_at__isnull=False).count() == 2


def test_confirming_home_someone_still_at_work_says_who_and_marks_nobody(scene, sent):
    callup = CallUp.objects.get(batch=sent)
    people = scene["people"][:2]
    for person in people:
        actions.check_in(None, callup, person.worker_code)
    team = actions.form_team(None, scene["towns"]["中北镇"], "杨柳青镇第1组", people[0], people)
    actions.assign_team(None, team, community=callup.community)
    response = client_for(scene["sender"]).post(
        _url("support_home", sent.pk), {"all": "1"}, follow=True
    )
    assert (
        "Still at work" in response.content.decode() and people[0].name in response.content.decode()
    )
    assert not Muster.objects.filter(returned_at__isnull=False).exists()


@pytest.mark.parametrize("who", ["far", "far_town"])
def test_another_district_finds_nothing(scene, sent, who):
    client = client_for(scene[who])
    for url in (
        _url("support_request", scene["asked"].pk),
        _url("support_batch", sent.pk),
    ):
        assert client.get(url).status_code == 404
    assert client.post(_url("support_home", sent.pk), {"all": "1"}).status_code == 404
    assert client.post(_url("support_depart", sent.pk)).status_code == 404


def test_a_role_without_the_workforce_sees_no_support_page(scene, sent):
    worker = make_user(Role.CANVASSER, make_community("阳光里社区", scene["towns"]["中北镇"]))
    client = client_for(worker)
    assert client.get(_url("support")).status_code == 403
    assert client.get(_url("support_batch", sent.pk)).status_code == 403


@pytest.mark.parametrize(
    "name", ["support_ask", "support_quota", "support_close", "support_depart", "support_home"]
)
def test_writes_answer_405_to_get(scene, sent, name):
    args = {"support_ask": (), "support_quota": (scene["asked"].pk,),
            "support_close": (scene["asked"].pk,)}.get(name, (sent.pk,))  # fmt: skip
    assert client_for(scene["chief"]).get(_url(name, *args)).status_code == 405


def test_the_district_commander_sees_the_picture_and_every_open_request(
    scene, sent, django_assert_max_num_queries
):
    client = client_for(scene["chief"])
    with django_assert_max_num_queries(30):
        page = client.get(_url("support") + f"?town={scene['towns']['中北镇'].pk}")
    text = page.content.decode()
    assert 'id="by-sending"' in text and "杨柳青镇" in text
    assert "2 people sent and not yet confirmed home" in text


def test_a_district_commander_switches_between_the_towns_of_the_district(scene, sent):
    towns = scene["towns"]
    page = client_for(scene["chief"]).get(_url("index") + f"?town={towns['杨柳青镇'].pk}")
    text = page.content.decode()
    assert 'id="town-switch"' in text and "中北镇" in text and "军粮城街" not in text
    # The receiving town's list names the batch its call-up belongs to.
    page = client_for(scene["chief"]).get(_url("index") + f"?town={towns['中北镇'].pk}")
    assert "Batch 1" in page.content.decode()
    # A town's commander has one town: no switch; another district's town is not found.
    mine = client_for(scene["receiver"]).get(_url("index")).content.decode()
    assert 'id="town-switch"' not in mine
    far = client_for(scene["receiver"]).get(_url("index") + f"?town={towns['军粮城街'].pk}")
    assert far.status_code == 404


def test_the_receiving_town_forms_a_team_of_the_people_sent_on_its_page(scene, sent):
    callup = CallUp.objects.get(batch=sent)
    people = scene["people"][:2]
    for person in people:
        actions.check_in(None, callup, person.worker_code)
    town = scene["towns"]["中北镇"]
    client = client_for(scene["receiver"])
    page = client.get(_url("team_create") + f"?town={town.pk}").content.decode()
    assert people[0].name in page
    response = client.post(
        _url("team_create") + f"?town={town.pk}",
        {"name": "杨柳青镇第1组", "members": [str(p.pk) for p in people], "leader": people[0].pk},
    )
    assert response.status_code == 302
    team = Team.objects.get(name="杨柳青镇第1组")
    assert (team.town, set(team.members.all())) == (town, set(people))


def test_only_the_asking_town_or_the_district_closes_a_request(scene, sent):
    asked = scene["asked"]
    sender = client_for(scene["sender"])
    assert "Close the request" not in sender.get(_url("support_request", asked.pk)).content.decode()
    assert sender.post(_url("support_close", asked.pk)).status_code == 403
    asked.refresh_from_db()
    assert asked.closed_at is None
    assert client_for(scene["receiver"]).post(_url("support_close", asked.pk)).status_code == 302
    asked.refresh_from_db()
    assert asked.closed_at is not None
    # Closed, it stays on the sending town's page while its people are not home.
    page = sender.get(_url("support")).content.decode()
    assert _url("support_request", asked.pk) in page
    support.confirm_home(None, sent)
    page = sender.get(_url("support")).content.decode()
    assert _url("support_request", asked.pk) not in page


def test_a_sending_town_sees_only_its_own_batches_of_a_request(scene, sent):
    other = scene["towns"]["中北镇"].district.towns.create(name="大寺镇")
    quota = support.set_quota(None, scene["asked"], other, 1)
    theirs = support.send_batch(None, quota, [make_staff(make_unit("大寺镇机关", other))])
    page = client_for(scene["sender"]).get(_url("support_request", scene["asked"].pk))
    text = page.content.decode()
    assert _url("support_batch", sent.pk) in text
    assert _url("support_batch", theirs.pk) not in text
    everyone = client_for(scene["receiver"]).get(_url("support_request", scene["asked"].pk))
    assert _url("support_batch", theirs.pk) in everyone.content.decode()


def test_a_quota_form_error_reads_as_text(scene):
    response = client_for(scene["chief"]).post(
        _url("support_quota", scene["asked"].pk),
        {"sending_town": str(scene["towns"]["杨柳青镇"].pk), "people": "-1"},
        follow=True,
    )
    text = response.content.decode()
    assert "greater than or equal to 0" in text and "errorlist" not in text


@pytest.mark.parametrize("when", ["0001-01-01T00:00", "2020-01-01T00:00", "9999-12-31T23:59"])
def test_a_time_needed_out_of_range_is_refused_with_the_reason(scene, when):
    response = client_for(scene["receiver"]).post(
        _url("support_ask"),
        {"people": "5", "purpose": "door_to_door",
         "community": str(scene["asked"].community_id), "muster_point": "镇政府",
         "needed_by": when},
    )  # fmt: skip
    assert response.status_code == 400
    assert SupportRequest.objects.count() == 1


def test_ticking_someone_of_another_town_is_refused_by_count_not_name(scene):
    quota = support.set_quota(None, scene["asked"], scene["towns"]["杨柳青镇"], 4)
    stranger = make_staff(make_unit("军粮城街机关", scene["towns"]["军粮城街"]), name="外区某人")
    response = client_for(scene["sender"]).post(
        _url("support_select", quota.pk), {"staff": [str(scene["people"][0].pk), str(stranger.pk)]}
    )
    text = response.content.decode()
    assert response.status_code == 400
    assert "1 of the people ticked are not staff of 杨柳青镇" in text and "外区某人" not in text
    assert not Batch.objects.exists()


def test_the_sending_town_calls_off_a_batch_from_its_page_and_the_receiver_may_not(scene):
    quota = support.set_quota(None, scene["asked"], scene["towns"]["杨柳青镇"], 4)
    batch = support.send_batch(None, quota, scene["people"][:2])
    assert client_for(scene["receiver"]).post(_url("support_call_off", batch.pk)).status_code == 403
    sender = client_for(scene["sender"])
    assert 'id="call-off"' in sender.get(_url("support_batch", batch.pk)).content.decode()
    assert sender.post(_url("support_call_off", batch.pk)).status_code == 302
    batch.refresh_from_db()
    assert batch.cancelled_at is not None
    page = sender.get(_url("support_batch", batch.pk)).content.decode()
    assert 'id="called-off"' in page and 'id="depart"' not in page


def test_the_select_page_puts_who_can_go_first_and_folds_away_who_cannot(scene, sent):
    quota = Quota.objects.get(pk=sent.quota_id)
    page = client_for(scene["sender"]).get(_url("support_select", quota.pk)).content.decode()
    free, busy = page.split('id="busy"')
    for person in scene["people"][2:]:
        assert f'name="staff" value="{person.pk}"' in free
    for person in scene["people"][:2]:
        assert person.name in busy and person.name not in free
    assert "2 people cannot go now" in busy and "sent, not yet back" in busy

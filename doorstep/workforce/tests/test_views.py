import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from doorstep.testing import client_for, make_lane, make_staff, make_unit
from doorstep.workforce import actions
from doorstep.workforce.models import CallUp, Purpose, Staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def callup(commander, community):
    unit = make_unit(town=community.town)
    return actions.create_callup(
        commander,
        unit,
        requested=2,
        purpose=Purpose.DOOR_TO_DOOR,
        community=community,
        muster_point="居委会门前",
        muster_at=timezone.now(),
    )


def test_a_scan_through_htmx_answers_with_the_message_and_the_tally(leader, callup):
    staff = make_staff(callup.unit, name="张三")
    url = reverse("workforce:check_in", args=[callup.pk])
    response = client_for(leader).post(
        url, {"code": staff.worker_code}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "张三" in html and "checked in" in html and "1 of 2 arrived" in html
    assert "<html" not in html


def test_a_bad_scan_without_htmx_is_a_400_page_with_the_message(leader, callup):
    response = client_for(leader).post(
        reverse("workforce:check_in", args=[callup.pk]), {"code": "nonsense"}
    )
    assert response.status_code == 400
    assert "is not a worker code" in response.content.decode()


def test_the_board_fragment_polls_and_shows_the_counts(leader, callup):
    actions.check_in(leader, callup, make_staff(callup.unit).worker_code)
    response = client_for(leader).get(
        reverse("workforce:board", args=[callup.pk]), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert 'hx-trigger="every 3s" data-poll' in html
    assert (
        '<div class="stat" id="arrived">1</div>' in html
        and '<div class="stat" id="missing">1</div>' in html
    )


def test_a_call_up_form_without_people_says_what_is_missing(commander, community):
    unit = make_unit(town=community.town)
    response = client_for(commander).post(
        reverse("workforce:callup_create"),
        {
            "unit": unit.pk,
            "purpose": "door_to_door",
            "community": community.pk,
            "muster_point": "A",
            "muster_at": "2026-12-01T08:00",
        },
    )
    assert response.status_code == 400
    assert "Ask for a number of people, or name them" in response.content.decode()
    assert not CallUp.objects.exists()


def test_the_staff_import_page_reports_bad_rows(commander):
    data = "单位,姓名,手机号\n杨柳青镇,张三,12\n".encode()
    response = client_for(commander).post(
        reverse("workforce:staff_import"), {"file": SimpleUploadedFile("s.csv", data)}
    )
    assert response.status_code == 400
    assert "row 2" in response.content.decode()
    assert not Staff.objects.exists()


def test_forming_a_team_of_someone_not_checked_in_is_refused_on_the_page(commander, callup):
    absent = make_staff(callup.unit, name="没来的人")
    response = client_for(commander).post(
        reverse("workforce:team_create"),
        {"name": "第1组", "members": [absent.pk], "leader": absent.pk},
    )
    assert response.status_code == 400
    assert "没来的人 have not checked in yet" in response.content.decode()


def test_a_staff_member_sees_their_worker_code_after_logging_in(leader, community):
    staff = make_staff(make_unit(town=community.town))
    staff.user = leader
    staff.save(update_fields=["user"])
    html = client_for(leader).get(reverse("home")).content.decode()
    assert staff.worker_code_display in html and "<svg" in html


@pytest.mark.parametrize("name", ["workforce:board", "workforce:where", "workforce:index"])
def test_workforce_pages_run_the_same_number_of_queries_for_2_or_12_people(
    name, commander, community, callup
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lane = make_lane(community)
    client = client_for(commander)
    url = reverse(name, args=[callup.pk]) if name == "workforce:board" else reverse(name)
    counts = []
    for n in (2, 12):
        people = [make_staff(callup.unit) for _ in range(n)]
        for p in people:
            actions.check_in(commander, callup, p.worker_code)
        team = actions.form_team(commander, community.town, f"组{n}", people[0], people)
        actions.assign_team(
            commander, team, lane=lane, roles={p.pk: "sampler" for p in people}
        ) if n == 2 else actions.assign_team(commander, team, community=community)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1], counts

"""The support picture on the district's board and in its daily report: asked, sent, arrived,
on duty and back home, by sending and by receiving town, as the workforce app counts it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from doorstep.core.roles import Role
from doorstep.district import report
from doorstep.testing import client_for, make_staff, make_unit, make_user
from doorstep.workforce import actions
from doorstep.workforce.actions import support
from doorstep.workforce.models import CallUp, Purpose, Quota
from doorstep.workforce.queries import support_picture

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(district_world):  # type: ignore[no-untyped-def]
    """中北镇 asked for 5; 杨柳青镇 was given a quota of 3, sent a batch of 3, and 2 arrived."""
    zhongbei, yangliu = district_world["zhongbei"], district_world["yangliu"]
    home, there = yangliu["community"].town, zhongbei["community"].town
    ask = support.ask_for_people(
        make_user(Role.COMMANDER, town=there),
        there,
        people=5,
        purpose=Purpose.SAMPLING,
        site=zhongbei["lane"].site,
        muster_point="中北镇政府东门",
        needed_by=timezone.now() + dt.timedelta(minutes=30),
    )
    quota = support.set_quota(None, ask, home, 3)
    cadres = [make_staff(make_unit("杨柳青镇机关", home)) for _ in range(3)]
    batch = support.send_batch(None, quota, cadres)
    support.depart(None, batch)
    callup = CallUp.objects.get(batch=batch)
    for person in cadres[:2]:
        actions.check_in(None, callup, person.worker_code)
    return district_world


def test_the_panel_shows_support_by_sending_and_by_receiving_town(sent, chief):
    response = client_for(chief).get(reverse("district:panel", args=["support"]))
    html = response.content.decode()
    yangliu = sent["yangliu"]["community"].town
    zhongbei = sent["zhongbei"]["community"].town
    sending = html.split('id="support-sending"')[1].split("</table>")[0]
    receiving = html.split('id="support-receiving"')[1].split("</table>")[0]
    cells = '<td class="num">{}</td>' * 5
    assert (
        f'<tr data-town="{yangliu.pk}"><td>杨柳青镇</td>' + cells.format(3, 3, 2, 0, 0) in sending
    )
    assert (
        f'<tr data-town="{zhongbei.pk}"><td>中北镇</td>' + cells.format(5, 3, 2, 0, 0) in receiving
    )
    assert "3 people sent are not yet back home." in html
    # Hours on duty where they were sent, per sending town (none yet: nobody is on duty).
    assert 'data-figure="hours">0.0<' in sending


def test_the_report_shows_support_sent_and_returned_by_sending_town(sent, chief):
    found = report.daily(sent["district"])
    picture = support_picture(sent["district"].pk)
    assert report.support_rows(found) == [
        ("杨柳青镇", 3, 3, 3, 2, 0, 0, 0.0),
        ("District total", 3, 3, 3, 2, 0, 0, 0.0),
    ]
    assert found.support.unaccounted == picture.unaccounted == 3
    html = client_for(chief).get(reverse("district:report")).content.decode()
    assert "3 people sent are not yet back home." in html
    assert "<th>杨柳青镇</th>" in html


def test_a_request_not_yet_shared_out_needs_the_district_until_it_is(sent, chief):
    client = client_for(chief)
    alerts = client.get(reverse("district:panel", args=["alerts"])).content.decode()
    assert 'data-kind="unshared"' in alerts
    assert "中北镇 asks for 5 people: 3 shared out between the towns." in alerts
    [asked] = {q.request for q in Quota.objects.all()}
    support.set_quota(None, asked, sent["yangliu"]["community"].town, 5)
    alerts = client.get(reverse("district:panel", args=["alerts"])).content.decode()
    assert 'data-kind="unshared"' not in alerts

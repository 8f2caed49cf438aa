"""The signature and hotline every message gives: set by the district for its towns, by a town
for itself; checked, and shown as the message it makes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from doorstep.core.roles import Role
from doorstep.notices.models import Message
from doorstep.testing import client_for, make_district, make_user
from doorstep.testing.lanes import post, sealed_tube

pytestmark = pytest.mark.django_db


def test_the_districts_signature_and_the_towns_hotline_sign_every_message(lane_world, commander):
    town = commander.town
    district = make_district("西青区")
    town.district = district
    town.save()
    chief = make_user(Role.DISTRICT_COMMANDER, district=district)
    url = reverse("notices:signature")
    refused = client_for(chief).post(url, {"sms_signature": "西青 区", "hotline": "call me"})
    page = refused.content.decode()
    assert refused.status_code == 200 and "no spaces or brackets" in page
    assert client_for(chief).post(
        url, {"sms_signature": "【西青区防控办】", "hotline": "022-12345"}
    )
    client_for(commander).post(url, {"sms_signature": "中北镇", "hotline": "022-27391234"})
    district.refresh_from_db()
    town.refresh_from_db()
    assert (district.sms_signature, town.hotline) == ("西青区防控办", "022-27391234")
    page = client_for(commander).get(url).content.decode()
    assert "【西青区防控办】" in page  # the district's signature wins over the town's own

    people = lane_world["people"][:1]
    pool = sealed_tube(lane_world["registrar"], lane_world["lane"], people)
    post(lane_world, {"tube": pool.code, "result": "positive"})
    text = Message.objects.get().text
    assert text.startswith("【西青区防控办】") and "022-27391234" in text


def test_a_worker_may_not_set_the_signature(worker):
    assert client_for(worker).get(reverse("notices:signature")).status_code == 403

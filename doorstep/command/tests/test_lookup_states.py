"""The resident's look-up says one consistent thing per state: not sampled, waiting, negative,
in a positive pool (stay home: a sampler comes, or go to site X), retest taken, cleared at T,
positive, sample again; the pool's time is never mixed with the retest's."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from doorstep.campaigns.models import CampaignBuilding, PoolRule, Zone
from doorstep.command import public
from doorstep.core.models import Attempt
from doorstep.testing.lanes import post, sealed_tube

pytestmark = pytest.mark.django_db


def state(person):  # type: ignore[no-untyped-def]
    Attempt.objects.all().delete()  # the look-up's tries per code, which this test spends fast
    return public.look_up(person.person_code, person.id_number[-6:], "10.9.0.1")


def page(person):  # type: ignore[no-untyped-def]
    Attempt.objects.all().delete()
    response = Client(headers={"Accept-Language": "en"}).post(
        reverse("command:me"),
        {"code": person.person_code, "document": person.id_number[-6:]},
        REMOTE_ADDR=f"10.9.1.{person.pk % 250}",
    )
    return response.content.decode()


def test_each_step_of_a_positive_pool_at_the_door(lane_world):
    person = lane_world["people"][0]
    assert state(person).state == "not_sampled"
    assert reverse("command:status") in page(person)
    pool = sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["people"][:3])
    assert state(person).state == "waiting"
    assert "Result: not back yet." in page(person)
    post(lane_world, {"tube": pool.code, "result": "positive"})
    found = state(person)
    assert (found.state, found.stay_home, found.site_name) == ("retest_home", True, "广场采样点")
    shown = page(person)
    assert "Stay at home: a sampler will come to your door" in shown
    assert "go to" not in shown  # one instruction, not two
    retest = sealed_tube(
        lane_world["registrar"], lane_world["lane"], [person], code="2112259001", pool=1
    )
    found = state(person)
    assert (found.state, found.stay_home) == ("retest_sampled", True)
    assert found.sampled_at == pool.sealed_at  # the pool's time stays the pool's
    assert "Stay at home until its result." in page(person)
    post(lane_world, {"tube": retest.code, "result": "negative"})
    found = state(person)
    assert (found.state, found.stay_home) == ("cleared", False)
    shown = page(person)
    assert "Your single-tube retest was negative: cleared at" in shown
    assert "Stay at home" not in shown


def test_a_recall_to_a_site_names_the_site(lane_world):
    CampaignBuilding.objects.filter(campaign=lane_world["campaign"]).update(
        zone=Zone.PREVENTION, pool_rule=PoolRule.TWENTY
    )
    person = lane_world["people"][0]
    pool = sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["people"][:2])
    post(lane_world, {"tube": pool.code, "result": "positive"})
    found = state(person)
    assert (found.state, found.go_to, found.stay_home) == ("retest_site", "广场采样点", True)
    assert "Stay at home except to go to 广场采样点 for a single-tube sample." in page(person)


def test_negative_positive_case_and_sample_again(lane_world):
    first, second, third = lane_world["people"][:3]
    d, lane = lane_world["registrar"], lane_world["lane"]
    negative = sealed_tube(d, lane, [first])
    post(lane_world, {"tube": negative.code, "result": "negative"})
    assert state(first).state == "negative" and "Result: negative." in page(first)
    single = sealed_tube(d, lane, [second], code="2112250002", pool=1)
    post(lane_world, {"tube": single.code, "result": "positive"})
    assert state(second).state == "case"
    assert "the health authorities will contact you" in page(second)
    unread = sealed_tube(d, lane, [third], code="2112250003")
    post(lane_world, {"tube": unread.code, "result": "invalid"})
    found = state(third)
    assert (found.state, found.go_to, found.stay_home) == ("resample", "广场采样点", False)
    assert "Your sample could not be read. Go to 广场采样点" in page(third)

"""Telling the people a result concerns: a notice per person, a message to each phone in the
result's own transaction, a door visit for whoever a message does not reach in time, and the
pool's loop that cannot close with someone never told. (Through the real gateway:
``test_gateway.py``.)"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from doorstep.campaigns.actions import lift, set_community_zone
from doorstep.campaigns.models import Zone
from doorstep.core import clocks
from doorstep.lab.models import RetestOrder
from doorstep.notices import actions, sender
from doorstep.notices.models import Kind, Message, MessageState, Notice
from doorstep.testing import client_for
from doorstep.testing.lanes import post, sealed_tube

pytestmark = pytest.mark.django_db


def _positive_pool(world, people):  # type: ignore[no-untyped-def]
    pool = sealed_tube(world["registrar"], world["lane"], people)
    post(world, {"tube": pool.code, "result": "positive"})
    return pool


def test_every_member_of_a_positive_pool_is_told_in_the_results_transaction(lane_world):
    people = lane_world["people"][:4]
    people[3].phone = ""
    people[3].save()
    pool = _positive_pool(lane_world, people)
    notices = {n.resident_id: n for n in Notice.objects.filter(cause_tube=pool)}
    assert set(notices) == {p.pk for p in people}
    assert {n.kind for n in notices.values()} == {Kind.POOL_POSITIVE}
    # No phone: a door visit from the start.
    assert notices[people[3].pk].door_at is not None
    assert notices[people[3].pk].door_reason == "no_phone"
    messages = list(Message.objects.filter(notice__cause_tube=pool))
    assert sorted(m.resident_id for m in messages) == sorted(p.pk for p in people[:3])
    for m in messages:
        assert m.state == MessageState.QUEUED
        # Never a name or a document number; the door is coming (12号楼 is controlled).
        assert not any(p.name in m.text or p.id_number in m.text for p in people)
        assert "上门" in m.text and "复检" in m.text
        assert (
            notices[m.resident_id].due_at == notices[m.resident_id].created_at + clocks.TELL_WITHIN
        )


def test_a_notice_not_delivered_in_fifteen_minutes_becomes_a_door_visit(lane_world):
    people = lane_world["people"][:3]
    pool = _positive_pool(lane_world, people)
    pool.refresh_from_db()
    result_at = pool.resulted_at
    assert result_at is not None
    delivered = Message.objects.get(resident=people[0])
    actions.delivery_report(
        delivered, actions.DLR_DELIVERED, "", result_at + dt.timedelta(minutes=2)
    )
    assert actions.escalate_due(result_at + dt.timedelta(minutes=14)) == 0
    assert actions.escalate_due(result_at + clocks.TELL_WITHIN) == 2
    told = {n.resident_id: n for n in Notice.objects.filter(cause_tube=pool)}
    assert told[people[0].pk].told_how == "sms" and told[people[0].pk].door_at is None
    assert {told[p.pk].door_reason for p in people[1:]} == {"late"}


def test_a_failed_message_goes_to_the_door_at_once(lane_world):
    pool = _positive_pool(lane_world, lane_world["people"][:2])
    message = Message.objects.filter(notice__cause_tube=pool).first()
    assert message is not None
    actions.delivery_report(message, actions.DLR_SMSC_FAILED, "rejected", timezone.now())
    notice = Notice.objects.get(pk=message.notice_id)
    assert notice.door_reason == "failed" and notice.door_at is not None
    message.refresh_from_db()
    assert message.state == MessageState.FAILED and message.failed_at is not None


def test_the_loop_does_not_close_while_a_member_was_never_told(lane_world, leader):
    people = lane_world["people"][:2]
    people[1].phone = ""
    people[1].save()
    pool = _positive_pool(lane_world, people)
    Message.objects.filter(resident=people[0]).update(state=MessageState.ACCEPTED)
    actions.delivery_report(
        Message.objects.get(resident=people[0]), actions.DLR_DELIVERED, "", timezone.now()
    )
    retests = [
        sealed_tube(lane_world["registrar"], lane_world["lane"], [p], code=f"2112259{i}", pool=1)
        for i, p in enumerate(people)
    ]
    post(lane_world, *[{"tube": t.code, "result": "negative"} for t in retests])
    pool.refresh_from_db()
    assert set(RetestOrder.objects.values_list("status", flat=True)) == {"resulted"}
    assert pool.retest_closed_at is None  # one member was never told

    client = client_for(leader)
    page = client.get(reverse("notices:doors"), headers={"Accept-Language": "en"}).content.decode()
    notice = Notice.objects.get(resident=people[1])
    assert f'id="door-{notice.household_id}"' in page and "No mobile number" in page
    assert people[1].name not in page  # masked
    client.post(reverse("notices:told"), {"notice": [notice.pk]})
    notice.refresh_from_db()
    assert notice.told_how == "door" and notice.knocked_by == leader
    pool.refresh_from_db()
    assert pool.retest_closed_at is not None
    page = client.get(reverse("notices:doors")).content.decode()
    assert 'id="no-doors"' in page


def test_the_pools_page_says_how_and_when_each_member_was_told(lane_world, commander):
    people = lane_world["people"][:2]
    people[1].phone = ""
    people[1].save()
    pool = _positive_pool(lane_world, people)
    actions.delivery_report(
        Message.objects.get(resident=people[0]), actions.DLR_DELIVERED, "", timezone.now()
    )
    page = (
        client_for(commander)
        .get(reverse("lab:pools", args=[pool.campaign_id]), headers={"Accept-Language": "en"})
        .content.decode()
    )
    assert page.count('data-told="sms"') == 1
    assert page.count('data-told="door-waiting"') == 1


def test_an_invalid_tube_tells_its_members_to_come_back(lane_world):
    people = lane_world["people"][:2]
    tube = sealed_tube(lane_world["registrar"], lane_world["lane"], people)
    post(lane_world, {"tube": tube.code, "result": "invalid"})
    assert set(Notice.objects.values_list("kind", flat=True)) == {Kind.INVALID}
    assert Message.objects.filter(kind=Kind.INVALID).count() == 2


def test_a_positive_single_tube_tells_the_whole_household(lane_world):
    family = lane_world["family"]
    tube = sealed_tube(lane_world["registrar"], lane_world["lane"], family[:1], pool=1)
    post(lane_world, {"tube": tube.code, "result": "positive"})
    told = Notice.objects.filter(kind=Kind.HOUSEHOLD_POSITIVE)
    assert {n.resident_id for n in told} == {p.pk for p in family}
    # A correction withdraws what is not told yet, and its messages are not sent.
    post(lane_world, {"tube": tube.code, "result": "negative", "reason": "复核为阴性"})
    assert not told.filter(cancelled_at=None).exists()
    assert not Message.objects.filter(state=MessageState.QUEUED).exists()


def test_a_negative_retest_is_told_too(lane_world):
    people = lane_world["people"][:1]
    _positive_pool(lane_world, people)
    retest = sealed_tube(
        lane_world["registrar"], lane_world["lane"], people, code="21122599", pool=1
    )
    post(lane_world, {"tube": retest.code, "result": "negative"})
    assert Message.objects.filter(kind=Kind.RETEST_NEGATIVE, resident=people[0]).count() == 1


def test_an_english_speaker_gets_english(lane_world):
    person = lane_world["people"][0]
    person.language = "en"
    person.save()
    _positive_pool(lane_world, [person])
    text = Message.objects.get(resident=person).text
    assert "stay home" in text and "复检" not in text


def test_delivery_reports_with_a_wrong_signature_or_for_no_message_are_refused(lane_world, client):
    _positive_pool(lane_world, lane_world["people"][:1])
    message = Message.objects.get()
    good = reverse("notices:dlr", args=[message.pk, sender.signature(message.pk)])
    forged = reverse("notices:dlr", args=[message.pk, "0" * 32])
    assert client.get(forged, {"type": "1"}).status_code == 403
    other = message.pk + 1000
    assert (
        client.get(
            reverse("notices:dlr", args=[other, sender.signature(other)]), {"type": "1"}
        ).status_code
        == 404
    )
    assert client.get(good, {"type": "x"}).status_code == 400
    message.refresh_from_db()
    assert message.state == MessageState.QUEUED  # nothing changed
    assert client.get(good, {"type": "1"}).status_code == 200
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED


def test_a_sealed_building_books_its_people_and_lifting_it_tells_them(lane_world, commander):
    campaign, community = lane_world["campaign"], lane_world["people"][0].community
    # 12号楼 (controlled) is sealed: its twelve people are told to wait at their doors.
    set_community_zone(commander, campaign, community, Zone.SEALED)
    booked = Message.objects.filter(kind=Kind.HOME_VISIT)
    assert {m.resident_id for m in booked} >= {p.pk for p in lane_world["people"]}
    assert all("上门" in m.text or "门口" in m.text for m in booked)
    # Lifting 13号楼 (sealed from the start) tells its people they may go out.
    sealed = lane_world["family"][0].household.unit.building
    lift(commander, campaign, [sealed.pk], allowed=True)
    lifted = Message.objects.filter(kind=Kind.SEAL_LIFTED)
    family = {p.pk for p in [*lane_world["family"], lane_world["neighbour"]]}
    assert {m.resident_id for m in lifted} == family
    assert sealed.name in lifted.first().text  # type: ignore[union-attr]


def test_a_drill_texts_nobody_and_practises_every_notice_at_the_door(lane_world, leader):
    campaign = lane_world["campaign"]
    type(campaign).objects.filter(pk=campaign.pk).update(is_drill=True)
    pool = _positive_pool(lane_world, lane_world["people"][:3])
    assert not Message.objects.exists()
    notices = Notice.objects.filter(cause_tube=pool)
    assert {n.door_reason for n in notices} == {"drill"}
    page = client_for(leader).get(reverse("notices:doors")).content.decode()
    assert "data-drill" in page

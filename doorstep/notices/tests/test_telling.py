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
from doorstep.campaigns.models import CampaignBuilding, Zone
from doorstep.core import clocks
from doorstep.lab.models import RetestOrder
from doorstep.notices import actions, sender
from doorstep.notices.models import Kind, Message, MessageState, Notice
from doorstep.sampling.actions import walk_ins as walk_in_actions
from doorstep.sampling.models import WalkIn
from doorstep.testing import client_for, valid_id
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
    set_community_zone(commander, campaign, community, Zone.SEALED, note="发现阳性")
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


def test_a_result_corrected_and_corrected_back_tells_everyone_again(lane_world):
    people = lane_world["people"][:2]
    pool = _positive_pool(lane_world, people)
    post(lane_world, {"tube": pool.code, "result": "negative", "reason": "录错了一行"})
    assert set(Notice.objects.values_list("cancelled_at", flat=True)) != {None}
    post(lane_world, {"tube": pool.code, "result": "positive", "reason": "复核确为阳性结果"})
    notices = Notice.objects.filter(cause_tube=pool)
    assert notices.count() == 2 and not notices.filter(cancelled_at__isnull=False).exists()
    # A message each again, and retests ordered again: the loop is open until they are told.
    assert Message.objects.filter(state=MessageState.QUEUED, notice__in=notices).count() == 2
    assert set(RetestOrder.objects.values_list("status", flat=True)) == {"open"}
    pool.refresh_from_db()
    assert pool.retest_closed_at is None


def test_an_unreadable_retest_tells_the_person_to_be_sampled_again(lane_world):
    people = lane_world["people"][:1]
    _positive_pool(lane_world, people)
    retest = sealed_tube(
        lane_world["registrar"], lane_world["lane"], people, code="21122598", pool=1
    )
    post(lane_world, {"tube": retest.code, "result": "invalid"})
    [again] = Notice.objects.filter(cause_tube=retest)
    assert again.kind == Kind.INVALID and again.resident_id == people[0].pk
    assert Message.objects.filter(notice=again).exists()


def test_a_delivered_report_after_a_failure_tells_nobody(lane_world, client):
    _positive_pool(lane_world, lane_world["people"][:1])
    message = Message.objects.get()
    url = reverse("notices:dlr", args=[message.pk, sender.signature(message.pk)])
    assert client.get(url, {"type": "16", "to": message.phone}).status_code == 200
    assert client.get(url, {"type": "1", "to": message.phone}).status_code == 200
    notice = Notice.objects.get()
    assert notice.told_at is None and notice.door_reason == "failed"
    # A report naming another number than the message's is refused.
    assert client.get(url, {"type": "1", "to": "13900000000"}).status_code == 403


def test_a_site_retest_names_the_site(lane_world):
    person = lane_world["people"][0]
    CampaignBuilding.objects.filter(building=person.household.unit.building).update(
        zone=Zone.PREVENTION
    )
    _positive_pool(lane_world, [person])
    text = Message.objects.get(resident=person).text
    assert lane_world["lane"].site.name in text and "复检" in text


def test_a_positive_walk_ins_household_found_later_is_told_then(lane_world, worker):
    d, lane = lane_world["registrar"], lane_world["lane"]
    walk_in = {"name": "过路人", "id_number": valid_id(), "phone": "13912345678", "address": "不详"}
    d.send(
        d.event("tube.open", lane=lane.code, tube="21122597", pool=1),
        d.event("tube.add", tube="21122597", walk_in=walk_in),
        d.event("tube.seal", tube="21122597"),
    )
    post(lane_world, {"tube": "21122597", "result": "positive"})
    told = Notice.objects.filter(kind=Kind.HOUSEHOLD_POSITIVE)
    assert told.count() == 1 and told.get().household_id is None  # the walk-in alone, no door
    family = lane_world["family"]
    walk_in_actions.trace(worker, WalkIn.objects.get(), "13号楼301")
    assert {n.resident_id for n in told.exclude(resident=None)} == {p.pk for p in family}
    assert set(told.values_list("household_id", flat=True)) == {family[0].household_id}


def test_nobody_home_keeps_the_door_on_the_list_and_says_how_often(lane_world, canvasser):
    people = lane_world["people"][:2]
    for p in people:
        p.phone = ""
        p.save()
    _positive_pool(lane_world, people)
    first, second = Notice.objects.order_by("pk")
    client = client_for(canvasser)
    client.post(reverse("notices:not_home"), {"notice": [first.pk]})
    client.post(reverse("notices:not_home"), {"notice": [first.pk]})
    first.refresh_from_db()
    assert (first.door_tries, first.told_at) == (2, None)
    page = client.get(reverse("notices:doors"), headers={"Accept-Language": "en"}).content.decode()
    assert 'data-tries="2"' in page and "2 knocks, nobody home" in page
    # The door nobody has tried yet comes first.
    assert (
        page.index(f'id="door-{second.household_id}"')
        < page.index(f'id="door-{first.household_id}"')
        or second.household_id == first.household_id
    )
    client.post(reverse("notices:told"), {"notice": [first.pk]})
    first.refresh_from_db()
    assert first.told_how == "door"


def test_told_at_the_door_settles_only_door_visits(lane_world, canvasser):
    _positive_pool(lane_world, lane_world["people"][:1])
    notice = Notice.objects.get()  # texted, its message on its way: not a door visit yet
    client_for(canvasser).post(reverse("notices:told"), {"notice": [notice.pk]})
    notice.refresh_from_db()
    assert notice.told_at is None

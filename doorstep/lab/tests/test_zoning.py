"""Zones follow results: a person found positive seals their building at once and asks the
commander for the extent; a zone lifts by the rule after the configured days once a later
round has tested everyone; every change is kept with its reason; the answer is the same on
the page and in the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from doorstep.api.actions import issue_token
from doorstep.campaigns import actions
from doorstep.campaigns.models import (
    BuildingPositive,
    CampaignBuilding,
    PoolRule,
    Zone,
    ZoneChange,
    ZoneWhy,
)
from doorstep.command import zoning
from doorstep.core import alerts
from doorstep.core.models import AuditEntry
from doorstep.core.roles import Role
from doorstep.territory.models import Town
from doorstep.testing import client_for, make_building, make_campaign, make_user
from doorstep.testing.lanes import add, open_tube, post, sealed_tube

pytestmark = pytest.mark.django_db


def zone_of(campaign, building_id):  # type: ignore[no-untyped-def]
    return CampaignBuilding.objects.get(campaign=campaign, building_id=building_id)


def test_a_person_found_positive_seals_their_controlled_building_at_once(lane_world, commander):
    campaign, person = lane_world["campaign"], lane_world["people"][0]
    building = person.household.unit.building_id
    tube = sealed_tube(lane_world["registrar"], lane_world["lane"], [person], pool=1)
    post(lane_world, {"tube": tube.code, "result": "positive"})

    row = zone_of(campaign, building)
    assert (row.zone, row.pool_rule) == (Zone.SEALED, PoolRule.HOUSEHOLD)
    change = ZoneChange.objects.get(building_id=building)
    assert (change.from_zone, change.to_zone, change.why, change.tube_code) == (
        Zone.CONTROLLED,
        Zone.SEALED,
        ZoneWhy.RESULT,
        tube.code,
    )
    [alert] = alerts.current(campaign, timezone.now(), apps={"campaigns"})
    assert alert.kind == "sealed_by_result" and alert.critical
    assert "12号楼" in alert.text and tube.code in alert.text

    # The zone in force decides the next scan: a neighbour may no longer join a pool of ten.
    d = lane_world["registrar"]
    neighbour = lane_world["people"][5]
    assert d.codes(
        open_tube(d, lane_world["lane"], "2112250077", pool=10),
        add(d, "2112250077", neighbour.person_code),
    ) == ["accepted", "zone_pool"]


def test_the_commander_confirms_the_extent_and_the_alert_clears(lane_world, commander):
    campaign, person = lane_world["campaign"], lane_world["people"][0]
    other = make_building(person.community, "14号楼", position=14)
    campaign_row = CampaignBuilding.objects.create(
        campaign=campaign,
        building=other,
        community=person.community,
        zone=Zone.PREVENTION,
        pool_rule=PoolRule.TWENTY,
    )
    tube = sealed_tube(lane_world["registrar"], lane_world["lane"], [person], pool=1)
    post(lane_world, {"tube": tube.code, "result": "positive"})
    change = ZoneChange.objects.get(why=ZoneWhy.RESULT)

    page = client_for(commander).get(reverse("command:zones", args=[campaign.pk]))
    assert b"Sealed by a positive: confirm the extent" in page.content
    response = client_for(commander).post(
        reverse("command:zones_confirm", args=[campaign.pk]),
        {"change": change.pk, "extent": "community"},
    )
    assert response.status_code == 302
    campaign_row.refresh_from_db()
    assert campaign_row.zone == Zone.SEALED
    assert ZoneChange.objects.get(building=other).why == ZoneWhy.COMMANDER
    assert alerts.current(campaign, timezone.now(), apps={"campaigns"}) == []
    assert AuditEntry.objects.filter(detail__confirmed_seal=change.building_id).exists()


def test_a_positive_pool_changes_no_zone(lane_world):
    tube = sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["people"][:10])
    post(lane_world, {"tube": tube.code, "result": "positive", "ct": 30})
    assert not ZoneChange.objects.exists()
    assert not BuildingPositive.objects.exists()


def test_a_correction_withdraws_the_positive_and_the_seal_waits_for_a_decision(lane_world):
    campaign, person = lane_world["campaign"], lane_world["people"][0]
    tube = sealed_tube(lane_world["registrar"], lane_world["lane"], [person], pool=1)
    post(lane_world, {"tube": tube.code, "result": "positive"})
    post(lane_world, {"tube": tube.code, "result": "negative", "reason": "sample swap"})
    assert BuildingPositive.objects.get().withdrawn_at is not None
    assert zone_of(campaign, person.household.unit.building_id).zone == Zone.SEALED
    assert [a.kind for a in alerts.current(campaign, timezone.now(), apps={"campaigns"})] == [
        "sealed_by_result"
    ]


def _sample_everyone(world, people, first=2112256000):  # type: ignore[no-untyped-def]
    for n, person in enumerate(people):
        sealed_tube(world["registrar"], world["lane"], [person], code=str(first + n), pool=1)


def test_a_sealed_building_lifts_after_the_days_once_a_later_round_tested_everyone(
    lane_world, commander
):
    round1 = lane_world["campaign"]
    sealed = lane_world["family"][0].household.unit.building_id
    people = [*lane_world["family"], lane_world["neighbour"]]
    eight_days_ago = timezone.now() - dt.timedelta(days=8)
    actions.positive_found(round1.pk, [sealed], "2112200001", eight_days_ago)

    def answer():  # type: ignore[no-untyped-def]
        [found] = zoning.evidence(
            round1,
            timezone.now(),
            communities=[round1.buildings.first().community_id],
            building_ids=[sealed],
        )
        return found

    # Eight days clear, but nobody has been tested since the positive.
    first = answer()
    assert (first.days_clear, first.last_round, first.untested_last_round) == (8, "第1轮", 3)
    assert not first.can_lift
    assert "3 residents untested in 第1轮" in first.why_not

    _sample_everyone(lane_world, people)
    second = answer()
    assert second.untested_last_round == 0
    assert second.can_lift and second.lifts_to == Zone.CONTROLLED

    response = client_for(commander).post(
        reverse("command:zones_lift", args=[round1.pk]), {"building": sealed}
    )
    assert response.status_code == 302
    assert zone_of(round1, sealed).zone == Zone.CONTROLLED
    lifted = ZoneChange.objects.get(building_id=sealed, to_zone=Zone.CONTROLLED)
    assert (lifted.why, lifted.by) == (ZoneWhy.RULE, commander)
    # The lift starts the next level's clock: controlled to prevention is days away.
    third = answer()
    assert (third.zone, third.days_clear, third.can_lift) == (Zone.CONTROLLED, 0, False)


def test_lifting_against_the_rule_needs_a_reason_and_keeps_it(lane_world, commander):
    campaign = lane_world["campaign"]
    sealed = lane_world["family"][0].household.unit.building_id
    actions.positive_found(campaign.pk, [sealed], "2112200002", timezone.now())
    url = reverse("command:zones_lift", args=[campaign.pk])
    client = client_for(commander)
    page = client.post(url, {"building": sealed}, follow=True)
    assert b"give a reason to lift anyway" in page.content
    assert zone_of(campaign, sealed).zone == Zone.SEALED
    client.post(url, {"building": sealed, "reason": "区指挥部决定"})
    change = ZoneChange.objects.get(building_id=sealed)
    assert (change.why, change.note, change.to_zone) == (
        ZoneWhy.COMMANDER,
        "区指挥部决定",
        Zone.CONTROLLED,
    )


def test_lowering_a_community_by_hand_needs_a_reason(lane_world, commander):
    campaign = lane_world["campaign"]
    community = lane_world["people"][0].community
    with pytest.raises(actions.CampaignError, match="give a reason"):
        actions.set_community_zone(commander, campaign, community, Zone.PREVENTION)
    assert (
        actions.set_community_zone(commander, campaign, community, Zone.PREVENTION, note="全员阴性")
        == CampaignBuilding.objects.filter(campaign=campaign).count()
    )
    assert set(ZoneChange.objects.values_list("why", "note")) == {(ZoneWhy.COMMANDER, "全员阴性")}


def test_the_next_round_keeps_the_zones_in_force(lane_world):
    round1 = lane_world["campaign"]
    person = lane_world["people"][0]
    tube = sealed_tube(lane_world["registrar"], lane_world["lane"], [person], pool=1)
    post(lane_world, {"tube": tube.code, "result": "positive"})
    actions.close_round(None, round1, confirmed=True)
    round2 = make_campaign(person.community, name="第2轮")
    assert dict(round2.buildings.values_list("building__name", "zone")) == dict(
        round1.buildings.values_list("building__name", "zone")
    )
    assert zone_of(round2, person.household.unit.building_id).zone == Zone.SEALED


def test_the_api_gives_the_pages_answer_to_those_who_may_read_it(lane_world, commander, lab):
    campaign = lane_world["campaign"]
    sealed = lane_world["family"][0].household.unit.building_id
    actions.positive_found(campaign.pk, [sealed], "2112200003", timezone.now())
    url = f"/api/v1/campaigns/{campaign.pk}/lift"

    def get(user):  # type: ignore[no-untyped-def]
        token = issue_token(user)[1]
        return client_for(user).get(url, headers={"Authorization": f"Bearer {token}"})

    found = get(commander)
    assert found.status_code == 200
    by_building = {a["building_id"]: a for a in found.json()}
    assert by_building[sealed]["zone"] == "sealed" and by_building[sealed]["can_lift"] is False
    page = zoning.evidence(
        campaign, timezone.now(), communities=[lane_world["people"][0].community_id]
    )
    assert {a.building_id: a.can_lift for a in page} == {
        b: a["can_lift"] for b, a in by_building.items()
    }
    assert get(lab).status_code == 403
    stranger = make_user(Role.COMMANDER, town=Town.objects.create(name="远方镇"))
    assert get(stranger).status_code == 404


def test_a_full_round_since_the_positive_counts_while_a_newer_round_runs(lane_world):
    round1 = lane_world["campaign"]
    sealed = lane_world["family"][0].household.unit.building_id
    community = lane_world["family"][0].community_id
    actions.positive_found(round1.pk, [sealed], "2112200004", timezone.now() - dt.timedelta(days=9))
    _sample_everyone(lane_world, [*lane_world["family"], lane_world["neighbour"]])
    actions.close_round(None, round1, confirmed=True)
    round2 = make_campaign(lane_world["family"][0].community, name="第2轮")
    [found] = zoning.evidence(
        round2, timezone.now(), communities=[community], building_ids=[sealed]
    )
    assert found.zone == Zone.SEALED  # carried into the new round
    assert (found.last_round, found.untested_last_round, found.can_lift) == ("第1轮", 0, True)

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from doorstep.campaigns.actions import CampaignError, create_campaign, set_community_zone
from doorstep.campaigns.models import Campaign, CampaignBuilding, PoolRule, Zone
from doorstep.core.models import AuditAction, AuditEntry
from doorstep.testing import client_for, make_building, make_community, make_town

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(community, other_community):
    for n in range(3):
        make_building(community, f"{n}号楼")
    make_building(other_community, "1号楼")
    return create_campaign(community.town, "第1轮", communities=[community, other_community])


def test_the_deadline_defaults_to_24_hours_after_the_start(community):
    make_building(community)
    start = timezone.now()
    campaign = create_campaign(community.town, "第1轮", communities=[community], starts_at=start)
    assert campaign.deadline - start == dt.timedelta(hours=24)


def test_a_deadline_before_the_start_is_refused(community):
    make_building(community)
    start = timezone.now()
    with pytest.raises(CampaignError, match="after the start"):
        create_campaign(
            community.town, "x", communities=[community], starts_at=start, deadline=start
        )


def test_a_campaign_over_nothing_is_refused(community):
    with pytest.raises(CampaignError, match="at least one"):
        create_campaign(community.town, "x", communities=[community])


def test_a_building_of_another_town_is_refused(community):
    near = make_building(community)
    far = make_building(make_community("远社区", town=make_town("外镇")))
    with pytest.raises(CampaignError, match="its town"):
        create_campaign(community.town, "x", buildings=[near, far])


def test_prevention_is_20_in_1_by_default(campaign):
    assert set(CampaignBuilding.objects.values_list("zone", "pool_rule")) == {
        (Zone.PREVENTION, PoolRule.TWENTY)
    }


@pytest.mark.parametrize(
    ("zone", "rule"),
    [
        (Zone.SEALED, PoolRule.HOUSEHOLD),
        (Zone.CONTROLLED, PoolRule.TEN),
        (Zone.PREVENTION, PoolRule.TWENTY),
    ],
)
def test_a_whole_community_is_zoned_at_once_with_the_field_guide_pool_rule(
    campaign, community, other_community, commander, zone, rule
):
    assert set_community_zone(commander, campaign, community, zone, note="演练分区") == 3
    assert set(
        CampaignBuilding.objects.filter(community=community).values_list("zone", "pool_rule")
    ) == {(zone, rule)}
    assert CampaignBuilding.objects.get(community=other_community).zone == Zone.PREVENTION
    assert AuditEntry.objects.get(action=AuditAction.ZONES).detail["buildings"] == 3


def test_an_unknown_zone_is_refused(campaign, community, commander):
    with pytest.raises(CampaignError, match="Unknown zone"):
        set_community_zone(commander, campaign, community, "red")


def test_the_zone_form_applies_and_says_what_changed(campaign, community, commander):
    client = client_for(commander)
    response = client.post(
        reverse("campaigns:zones", args=[campaign.pk]),
        {"community": community.pk, "zone": "sealed", "note": "发现阳性"},
        follow=True,
    )
    assert "3 buildings are now" in response.content.decode()
    assert CampaignBuilding.objects.filter(community=community, zone=Zone.SEALED).count() == 3


def test_the_zone_form_reports_a_bad_zone(campaign, community, commander):
    response = client_for(commander).post(
        reverse("campaigns:zones", args=[campaign.pk]),
        {"community": community.pk, "zone": "purple"},
        follow=True,
    )
    assert "Unknown zone" in response.content.decode()


def test_the_campaign_page_shows_zones_per_community(
    campaign, commander, django_assert_max_num_queries
):
    client = client_for(commander)
    with django_assert_max_num_queries(10):
        html = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "阳光里社区" in html and "和苑社区" in html


def test_a_commander_creates_a_campaign_over_chosen_communities(
    commander, community, other_community
):
    make_building(community)
    make_building(community, "2号楼")
    response = client_for(commander).post(
        reverse("campaigns:create"),
        {
            "name": "第2轮",
            "communities": [community.pk],
            "starts_at": "2026-12-01T08:00",
            "zone": "controlled",
        },
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get(name="第2轮")
    assert campaign.deadline - campaign.starts_at == dt.timedelta(hours=24)
    assert campaign.starts_at.hour == 0  # 08:00 in Shanghai is 00:00 UTC
    assert set(
        CampaignBuilding.objects.filter(campaign=campaign).values_list("zone", "pool_rule")
    ) == {(Zone.CONTROLLED, PoolRule.TEN)}


def test_a_campaign_form_without_communities_says_what_is_missing(commander):
    response = client_for(commander).post(
        reverse("campaigns:create"), {"name": "x", "starts_at": "2026-12-01T08:00"}
    )
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert not Campaign.objects.exists()


def test_a_campaign_over_communities_without_buildings_is_refused_with_the_reason(
    commander, community
):
    response = client_for(commander).post(
        reverse("campaigns:create"),
        {
            "name": "x",
            "communities": [community.pk],
            "starts_at": "2026-12-01T08:00",
            "zone": "prevention",
        },
    )
    assert response.status_code == 400
    assert "at least one community or building" in response.content.decode()


def test_a_community_outside_the_commanders_town_cannot_be_chosen(commander):
    far = make_community("远社区", town=make_town("外镇"))
    make_building(far)
    response = client_for(commander).post(
        reverse("campaigns:create"),
        {
            "name": "x",
            "communities": [far.pk],
            "starts_at": "2026-12-01T08:00",
            "zone": "prevention",
        },
    )
    assert response.status_code == 400
    assert not Campaign.objects.exists()


def test_the_zone_form_starts_on_the_communitys_current_zone(campaign, community, commander):
    set_community_zone(commander, campaign, community, Zone.CONTROLLED, note="密接所在")
    html = (
        client_for(commander).get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    )
    form = html[html.index(f'name="community" value="{community.pk}"') :]
    form = form[: form.index("</form>")]
    assert '<option value="controlled" selected>' in form
    assert '<option value="sealed" selected>' not in form

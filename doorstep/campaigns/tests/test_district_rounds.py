"""A district round: started by the district commander over chosen towns of the district, all
of them at once or none; refused for a town outside the district or one with a round running,
with what to do; closed in every town; never a drill; a positive found through it reaches the
resident's own building."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from doorstep.api.actions import issue_token
from doorstep.campaigns.actions import (
    CampaignError,
    NeedsConfirmation,
    close_round,
    create_campaign,
    positive_found,
)
from doorstep.campaigns.actions import district as actions
from doorstep.campaigns.models import (
    BuildingPositive,
    Campaign,
    CampaignBuilding,
    CampaignStatus,
    DistrictRound,
    Zone,
)
from doorstep.core.models import AuditAction, AuditEntry
from doorstep.core.roles import Role
from doorstep.territory.models import Town
from doorstep.testing import (
    client_for,
    make_building,
    make_campaign,
    make_community,
    make_district,
    make_household,
    make_lane,
    make_lane_team,
    make_resident,
    make_town,
    make_user,
)
from doorstep.testing.lanes import Device, open_tube

pytestmark = pytest.mark.django_db


@pytest.fixture
def xiqing():  # type: ignore[no-untyped-def]
    """西青区: 中北镇 (two communities) and 杨柳青镇 and 大寺镇 (one each), one resident per
    building; 东丽区's 军粮城街 beside it."""
    district = make_district("西青区")
    towns = {}
    for name, places in (("中北镇", 2), ("杨柳青镇", 1), ("大寺镇", 1)):
        town = make_town(name, district)
        for n in range(places):
            community = make_community(f"{name}{n}社区", town)
            make_resident(make_household(make_building(community, "1号楼"), "101"))
        towns[name] = town
    far = make_town("军粮城街", make_district("东丽区"))
    make_resident(make_household(make_building(make_community("军粮城社区", far), "1号楼")))
    towns["军粮城街"] = far
    return {"district": district, **towns}


def _start(xiqing, *names: str) -> DistrictRound:  # type: ignore[no-untyped-def]
    return actions.start_district_round(
        None, xiqing["district"], "全区第1轮", [xiqing[n] for n in names]
    )


def test_a_district_round_runs_one_campaign_per_town_over_the_whole_town(xiqing):
    chief = make_user(Role.DISTRICT_COMMANDER, district=xiqing["district"])
    district_round = actions.start_district_round(
        chief, xiqing["district"], "全区第1轮", [xiqing["中北镇"], xiqing["杨柳青镇"]]
    )
    campaigns = list(district_round.campaigns.order_by("town__name"))
    assert {c.town for c in campaigns} == {xiqing["中北镇"], xiqing["杨柳青镇"]}
    assert {c.status for c in campaigns} == {CampaignStatus.ACTIVE}
    assert not any(c.is_drill for c in campaigns)
    zhongbei = next(c for c in campaigns if c.town == xiqing["中北镇"])
    assert CampaignBuilding.objects.filter(campaign=zhongbei).count() == 2  # both communities
    assert district_round.status == CampaignStatus.ACTIVE
    assert AuditEntry.objects.filter(
        action=AuditAction.ROUND, object_type="district_round", object_id=str(district_round.pk)
    ).exists()


@pytest.mark.parametrize(
    ("towns", "words"),
    [
        (("中北镇",), "two towns or more"),
        (
            ("中北镇", "军粮城街"),
            "军粮城街: not a town of 西青区. Choose only towns of your district",
        ),
    ],
)
def test_a_round_over_one_town_or_a_town_of_another_district_is_refused(xiqing, towns, words):
    with pytest.raises(CampaignError, match=words):
        _start(xiqing, *towns)
    assert not DistrictRound.objects.exists() and not Campaign.objects.exists()


def test_a_town_with_a_round_running_is_named_and_nothing_starts(xiqing):
    running = make_campaign(*xiqing["杨柳青镇"].communities.all(), name="杨柳青镇第2轮")
    with pytest.raises(CampaignError) as refused:
        _start(xiqing, "中北镇", "杨柳青镇")
    assert "杨柳青镇 «杨柳青镇第2轮» (1 community)" in str(refused.value)
    assert "Close it first" in str(refused.value) and "leave that town out" in str(refused.value)
    assert not DistrictRound.objects.exists()
    assert list(Campaign.objects.all()) == [running]


def test_a_town_with_no_roster_is_named(xiqing):
    xiqing["王稳庄镇"] = make_town("王稳庄镇", xiqing["district"])
    with pytest.raises(CampaignError, match="王稳庄镇: no buildings on the roster yet"):
        _start(xiqing, "中北镇", "王稳庄镇")


def test_a_drill_is_never_part_of_a_district_round(xiqing):
    district_round = _start(xiqing, "中北镇", "杨柳青镇")
    with pytest.raises(CampaignError, match="A drill is never part of a district round"):
        create_campaign(
            xiqing["大寺镇"],
            "演练",
            communities=xiqing["大寺镇"].communities.all(),
            drill=True,
            district_round=district_round,
        )
    # The database holds it too.
    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.filter(district_round=district_round).update(is_drill=True)


def test_closing_lists_what_is_open_in_every_town_then_closes_them_all(xiqing):
    district_round = _start(xiqing, "中北镇", "杨柳青镇", "大寺镇")
    dasi = district_round.campaigns.get(town=xiqing["大寺镇"])
    # 大寺镇's commander closed their own part already; 杨柳青镇 has a tube still open.
    close_round(None, dasi)
    community = xiqing["杨柳青镇"].communities.get()
    lane = make_lane(community)
    clerk = make_user(Role.REGISTRAR, community)
    make_lane_team(lane, clerk)
    d = Device(issue_token(clerk)[1])
    assert d.codes(open_tube(d, lane)) == ["accepted"]
    with pytest.raises(NeedsConfirmation) as asked:
        actions.close_district_round(None, district_round)
    assert [line.split(":")[0] for line in asked.value.items] == ["杨柳青镇"]
    assert district_round.campaigns.filter(status=CampaignStatus.ACTIVE).count() == 2
    closed = actions.close_district_round(None, district_round, confirmed=True)
    assert {c.town.name for c in closed} == {"中北镇", "杨柳青镇"}
    assert not district_round.campaigns.filter(status=CampaignStatus.ACTIVE).exists()
    district_round.refresh_from_db()
    assert (district_round.status, district_round.closed_at is not None) == (
        CampaignStatus.CLOSED,
        True,
    )
    with pytest.raises(CampaignError, match="only a running round can close"):
        actions.close_district_round(None, district_round)


def test_a_positive_through_another_towns_lane_reaches_the_residents_own_building(xiqing):
    district_round = _start(xiqing, "中北镇", "杨柳青镇")
    home = district_round.campaigns.get(town=xiqing["中北镇"])
    away = district_round.campaigns.get(town=xiqing["杨柳青镇"])
    row = CampaignBuilding.objects.filter(campaign=home).first()
    CampaignBuilding.objects.filter(pk=row.pk).update(zone=Zone.CONTROLLED)
    [seal] = positive_found(away.pk, [row.building_id], "2112250001", timezone.now())
    assert (seal.campaign_id, seal.building_id, seal.to_zone) == (
        home.pk,
        row.building_id,
        "sealed",
    )
    assert BuildingPositive.objects.get().campaign_id == home.pk
    # A town's own round reaches no other town's building.
    alone = make_campaign(*xiqing["军粮城街"].communities.all(), name="军粮城街第1轮")
    assert positive_found(alone.pk, [row.building_id], "2112250002", timezone.now()) == []


# Pages ---------------------------------------------------------------------------------------


def test_the_district_commander_starts_a_round_over_chosen_towns(xiqing):
    chief = make_user(Role.DISTRICT_COMMANDER, district=xiqing["district"])
    client = client_for(chief)
    page = client.get(reverse("campaigns:district_round_create"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "大寺镇" in text and "军粮城街" not in text
    towns = [xiqing["中北镇"].pk, xiqing["大寺镇"].pk]
    response = client.post(
        reverse("campaigns:district_round_create"),
        {"name": "全区第1轮", "towns": towns, "zone": Zone.PREVENTION},
    )
    district_round = DistrictRound.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "campaigns:district_round", kwargs={"district_round_id": district_round.pk}
    )
    assert set(district_round.campaigns.values_list("town_id", flat=True)) == set(towns)
    detail = client.get(response["Location"]).content.decode()
    assert "中北镇" in detail and "Close the round in every town" in detail


def test_the_form_refuses_a_town_outside_the_district_and_names_a_running_round(xiqing):
    client = client_for(make_user(Role.DISTRICT_COMMANDER, district=xiqing["district"]))
    url = reverse("campaigns:district_round_create")
    far = xiqing["军粮城街"].pk
    response = client.post(url, {"name": "全区", "towns": [xiqing["中北镇"].pk, far]})
    assert response.status_code == 400
    assert "Choose only towns of your district" in response.content.decode()
    make_campaign(*xiqing["大寺镇"].communities.all(), name="大寺镇第5轮")
    response = client.post(
        url,
        {"name": "全区", "towns": [xiqing["中北镇"].pk, xiqing["大寺镇"].pk], "zone": "prevention"},
    )
    assert response.status_code == 400
    assert "大寺镇第5轮" in response.content.decode()
    assert not DistrictRound.objects.exists()


def test_each_district_round_page_answers_every_role_as_it_should(xiqing):
    district_round = _start(xiqing, "中北镇", "杨柳青镇")
    chief = client_for(make_user(Role.DISTRICT_COMMANDER, district=xiqing["district"]))
    other = client_for(make_user(Role.DISTRICT_COMMANDER, district=make_district("东丽区")))
    town_commander = client_for(make_user(Role.COMMANDER, town=xiqing["中北镇"]))
    detail = reverse("campaigns:district_round", kwargs={"district_round_id": district_round.pk})
    close = reverse(
        "campaigns:district_round_close", kwargs={"district_round_id": district_round.pk}
    )
    listing, create = (
        reverse("campaigns:district_rounds"),
        reverse("campaigns:district_round_create"),
    )
    for url in (listing, create, detail):
        assert town_commander.get(url).status_code == 403, url
        assert chief.post(url if url != create else listing).status_code == 405, url
    assert town_commander.post(close).status_code == 403
    assert chief.get(close).status_code == 405
    assert other.get(detail).status_code == 404
    assert other.post(close, {"confirm": "yes"}).status_code == 404
    assert "全区第1轮" not in other.get(listing).content.decode()
    assert chief.get(detail).status_code == 200
    assert chief.post(close, {"confirm": "yes"}).status_code == 302
    district_round.refresh_from_db()
    assert district_round.status == CampaignStatus.CLOSED


def test_the_list_costs_the_same_queries_for_one_round_or_many(xiqing):
    client = client_for(make_user(Role.DISTRICT_COMMANDER, district=xiqing["district"]))
    url = reverse("campaigns:district_rounds")
    district_round = _start(xiqing, "中北镇", "杨柳青镇")
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(captured.captured_queries))
        actions.close_district_round(None, district_round, confirmed=True)
        district_round = _start(xiqing, "中北镇", "杨柳青镇", "大寺镇")
    assert counts[0] == counts[1], counts
    assert "中北镇、杨柳青镇" in client.get(url).content.decode()


def test_a_town_is_in_one_district_round_at_a_time(xiqing):
    """A town already in a running district round cannot join another: nothing starts."""
    _start(xiqing, "中北镇", "杨柳青镇")
    with pytest.raises(CampaignError, match="already running"):
        _start(xiqing, "杨柳青镇", "大寺镇")
    assert Town.objects.get(name="大寺镇").campaigns.count() == 0


def test_a_town_with_a_round_running_is_named_once_with_its_round_not_every_community(xiqing):
    town = xiqing["中北镇"]
    create_campaign(town, "中北镇第3轮", communities=list(town.communities.all()))
    Campaign.objects.filter(name="中北镇第3轮").update(status=CampaignStatus.ACTIVE)
    with pytest.raises(CampaignError) as refused:
        _start(xiqing, "中北镇", "杨柳青镇")
    message = str(refused.value)
    assert "中北镇 «中北镇第3轮» (2 communities)" in message
    assert "中北镇0社区" not in message

"""Rounds over days: a round runs from when the commander starts it until closed, in its own
communities; a planned round takes nothing from the running one; two rounds run side by side
in different communities and everyone works in the one of their community."""

from __future__ import annotations

import pytest
from django.urls import reverse

from doorstep.api.actions import issue_token
from doorstep.campaigns import actions, queries
from doorstep.campaigns.models import CampaignStatus
from doorstep.core.models import AuditAction, AuditEntry
from doorstep.core.roles import Role
from doorstep.sampling import ingest
from doorstep.sampling.models import Tube
from doorstep.testing import (
    client_for,
    make_building,
    make_campaign,
    make_community,
    make_door_team,
    make_household,
    make_lane,
    make_lane_team,
    make_resident,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_rounds(community):  # type: ignore[no-untyped-def]
    """阳光里 (round A, running) and 新村 (round B, running) of one town; round C planned over
    阳光里 for tomorrow."""
    other = make_community("新村社区", town=community.town)
    for place, name in ((community, "1号楼"), (other, "9号楼")):
        make_resident(make_household(make_building(place, name), "101"))
    a = make_campaign(community, name="第3轮(阳光里)")
    b = make_campaign(other, name="第3轮(新村)")
    c = make_campaign(community, name="第4轮", start=False)
    return {"a": a, "b": b, "c": c, "here": community, "there": other}


def test_a_planned_round_is_current_nowhere(two_rounds):
    here, there = two_rounds["here"], two_rounds["there"]
    assert queries.running_in(here.pk) == two_rounds["a"]
    assert queries.running_in(there.pk) == two_rounds["b"]
    assert two_rounds["c"].status == CampaignStatus.PLANNED


def test_each_leader_claims_in_the_round_of_their_community(two_rounds):
    here_leader = make_user(Role.TEAM_LEADER, two_rounds["here"])
    there_leader = make_user(Role.TEAM_LEADER, two_rounds["there"])
    make_door_team(two_rounds["here"], "阳光里1组", user=here_leader)
    make_door_team(two_rounds["there"], "新村1组", user=there_leader)
    here = client_for(here_leader).get(reverse("canvass:index")).content.decode()
    there = client_for(there_leader).get(reverse("canvass:index")).content.decode()
    assert "第3轮(阳光里)" in here and "1号楼" in here and "9号楼" not in here
    assert "第3轮(新村)" in there and "9号楼" in there and "1号楼" not in there


def test_workers_go_to_their_round_and_the_commander_chooses(two_rounds, commander):
    worker = make_user(Role.COMMUNITY_WORKER, two_rounds["there"])
    response = client_for(worker).get(reverse("canvass:index"))
    assert response["Location"] == reverse("canvass:coverage", args=[two_rounds["b"].pk])
    page = client_for(commander).get(reverse("canvass:index")).content.decode()
    assert "第3轮(阳光里)" in page and "第3轮(新村)" in page and "第4轮" not in page


def test_each_registrar_scans_into_the_round_of_their_lane(two_rounds):
    for key, round_key in (("here", "a"), ("there", "b")):
        registrar = make_user(Role.REGISTRAR, two_rounds[key])
        lane = make_lane(two_rounds[key])
        make_lane_team(lane, registrar, name=f"采样{key}")
        code = "2112250001" if key == "here" else "2112250002"
        answers = ingest.apply(
            registrar,
            [
                {
                    "id": f"00000000-0000-4000-8000-00000000000{len(key)}",
                    "type": "tube.open",
                    "at": two_rounds[round_key].starts_at.isoformat(),
                    "lane": lane.code,
                    "tube": code,
                    "pool": 10,
                }
            ],
        )
        assert [a["status"] for a in answers] == ["accepted"], answers
        token = issue_token(registrar)[1]
        lanes = client_for(registrar).get(
            "/api/v1/lanes", headers={"Authorization": f"Bearer {token}"}
        )
        assert [lane_["community"] for lane_ in lanes.json()] == [two_rounds[key].name]
    assert dict(Tube.objects.values_list("code", "campaign_id")) == {
        "2112250001": two_rounds["a"].pk,
        "2112250002": two_rounds["b"].pk,
    }


def test_starting_over_a_running_round_is_refused_with_its_names(two_rounds, commander):
    response = client_for(commander).post(
        reverse("campaigns:start", args=[two_rounds["c"].pk]), follow=True
    )
    assert "Close the round running there first: 阳光里社区 (第3轮(阳光里))" in (
        response.content.decode()
    )
    two_rounds["c"].refresh_from_db()
    assert two_rounds["c"].status == CampaignStatus.PLANNED


def test_closing_with_specimens_open_asks_first_then_closes_and_starts_the_next(
    two_rounds, commander
):
    a = two_rounds["a"]
    registrar = make_user(Role.REGISTRAR, two_rounds["here"])
    lane = make_lane(two_rounds["here"])
    make_lane_team(lane, registrar)
    ingest.apply(
        registrar,
        [
            {
                "id": "00000000-0000-4000-8000-000000000001",
                "type": "tube.open",
                "at": a.starts_at.isoformat(),
                "lane": lane.code,
                "tube": "2112250009",
                "pool": 10,
            }
        ],
    )
    client = client_for(commander)
    asked = client.post(reverse("campaigns:close", args=[a.pk]))
    assert asked.status_code == 409
    assert "Tube 2112250009 is open at 广场采样点 1号通道" in asked.content.decode()
    a.refresh_from_db()
    assert a.status == CampaignStatus.ACTIVE

    closed = client.post(reverse("campaigns:close", args=[a.pk]), {"confirm": "yes"})
    assert closed["Location"] == reverse("command:report", args=[a.pk])
    a.refresh_from_db()
    assert a.status == CampaignStatus.CLOSED and a.closed_at is not None
    steps = AuditEntry.objects.filter(action=AuditAction.ROUND, object_id=str(a.pk))
    assert [e.detail["step"] for e in steps.order_by("at", "id")] == ["start", "close"]
    assert steps.get(detail__step="close").detail["left_open"] == [
        "Tube 2112250009 is open at 广场采样点 1号通道"
    ]

    client.post(reverse("campaigns:start", args=[two_rounds["c"].pk]))
    assert queries.running_in(two_rounds["here"].pk) == two_rounds["c"]


def test_a_round_steps_only_forward(two_rounds):
    with pytest.raises(actions.CampaignError, match="only a planned round can start"):
        actions.start_round(None, two_rounds["a"])
    with pytest.raises(actions.CampaignError, match="only a running round can close"):
        actions.close_round(None, two_rounds["c"])

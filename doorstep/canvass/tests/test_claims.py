import datetime as dt

import pytest
from django.utils import timezone

from doorstep.canvass import actions
from doorstep.canvass.actions import CanvassError, ClaimTaken
from doorstep.canvass.models import BuildingTask, Coverage, FeedPost, TaskStatus
from doorstep.canvass.outcomes import record
from doorstep.core.roles import Role
from doorstep.territory.models import Building
from doorstep.testing import make_door_team, make_user, tap

pytestmark = pytest.mark.django_db


def coverage(street) -> Coverage:  # type: ignore[no-untyped-def]
    return Coverage.objects.get(campaign=street["campaign"])


def test_a_campaign_opens_one_task_per_building_with_its_counts(street):
    task = street["task"]
    assert (task.status, task.households, task.residents) == (TaskStatus.OPEN, 4, 8)
    cov = coverage(street)
    assert (cov.buildings, cov.households, cov.residents) == (3, 6, 10)


def test_a_leader_claims_a_building_for_the_team_until_the_lease_runs_out(street, leader):
    now = timezone.now()
    task = actions.claim(leader, street["task"], now=now)
    assert task.status == TaskStatus.CLAIMED
    assert task.team == street["team"]
    assert task.expires_at == now + dt.timedelta(minutes=45)
    assert coverage(street).buildings_claimed == 1
    assert FeedPost.objects.get().kind == "claimed"


def test_the_loser_is_told_who_holds_it_and_offered_the_nearest_free_building(street, leader):
    actions.claim(leader, street["task"])
    with pytest.raises(ClaimTaken) as refused:
        actions.claim(street["rival_leader"], street["task"])
    assert refused.value.holder == "杨柳青镇第2组"
    assert "12号楼 is being canvassed by 杨柳青镇第2组" in str(refused.value)
    # 11号楼 and 13号楼 are both one away from 12号楼; the lower position comes first.
    assert refused.value.next_task == street["task11"]
    assert "The nearest free building is 11号楼" in str(refused.value)
    assert coverage(street).buildings_claimed == 1


def test_the_nearest_free_building_is_the_nearest_not_the_first_by_position(street, leader):
    """11号楼 moved to position 5 (seven away from 12号楼): 13号楼, one away, comes first
    though 11号楼 is first by position (the test above cannot tell the two orders apart)."""
    Building.objects.filter(pk=street["task11"].building_id).update(position=5)
    actions.claim(leader, street["task"])
    with pytest.raises(ClaimTaken) as refused:
        actions.claim(street["rival_leader"], street["task"])
    assert refused.value.next_task == street["task13"]
    assert "The nearest free building is 13号楼" in str(refused.value)


def test_an_expired_claim_is_simply_claimable_again(street, leader):
    start = timezone.now()
    actions.claim(leader, street["task"], now=start)
    with pytest.raises(ClaimTaken):
        actions.claim(street["rival_leader"], street["task"], now=start + dt.timedelta(minutes=44))
    task = actions.claim(
        street["rival_leader"], street["task"], now=start + dt.timedelta(minutes=46)
    )
    assert task.team == street["rival"]
    assert coverage(street).buildings_claimed == 1


def test_each_recorded_outcome_extends_the_lease(street, leader):
    start = timezone.now() - dt.timedelta(minutes=40)
    actions.claim(leader, street["task"], now=start)
    later = start + dt.timedelta(minutes=30)
    [answer] = record(leader, street["task"], [tap(street["households"][0])], now=later)
    assert answer.status == "accepted"
    task = BuildingTask.objects.get(pk=street["task"].pk)
    assert task.expires_at == later + dt.timedelta(minutes=45)
    # At start + 50 min the original lease would have run out; the extended one still holds.
    with pytest.raises(ClaimTaken):
        actions.claim(street["rival_leader"], task, now=start + dt.timedelta(minutes=50))


def test_the_lease_follows_the_campaign_setting(street, leader):
    campaign = street["campaign"]
    campaign.claim_lease_minutes = 20
    campaign.save(update_fields=["claim_lease_minutes"])
    now = timezone.now()
    task = actions.claim(leader, BuildingTask.objects.get(pk=street["task"].pk), now=now)
    assert task.expires_at == now + dt.timedelta(minutes=20)


def test_only_a_leader_of_a_team_on_duty_in_the_community_may_claim(
    street, worker, other_community
):
    with pytest.raises(CanvassError, match="Only the leader of a team on door-to-door duty"):
        actions.claim(worker, street["task"])
    elsewhere = make_user(Role.TEAM_LEADER, other_community)
    make_door_team(other_community, "外社区组", elsewhere)
    with pytest.raises(CanvassError, match="Only the leader"):
        actions.claim(elsewhere, street["task"])
    assert BuildingTask.objects.get(pk=street["task"].pk).status == TaskStatus.OPEN


def test_a_team_member_who_is_not_its_leader_may_not_claim(street, canvasser):
    team = street["team"]
    member = team.members.exclude(pk=team.leader_id).get()
    member.user = canvasser
    member.save(update_fields=["user"])
    with pytest.raises(CanvassError, match="Only the leader"):
        actions.claim(canvasser, street["task"])


def test_a_team_holds_one_building_at_a_time(street, leader):
    actions.claim(leader, street["task"])
    with pytest.raises(CanvassError, match="already holds 12号楼"):
        actions.claim(leader, street["task13"])


def test_claiming_the_building_you_hold_again_renews_it(street, leader):
    start = timezone.now()
    actions.claim(leader, street["task"], now=start)
    task = actions.claim(leader, street["task"], now=start + dt.timedelta(minutes=50))
    assert task.expires_at == start + dt.timedelta(minutes=95)
    assert coverage(street).buildings_claimed == 1


def test_a_released_building_is_free_again(street, leader):
    actions.claim(leader, street["task"])
    actions.release(leader, street["task"])
    task = BuildingTask.objects.get(pk=street["task"].pk)
    assert (task.status, task.team) == (TaskStatus.OPEN, None)
    assert coverage(street).buildings_claimed == 0
    actions.claim(street["rival_leader"], task)


def test_nobody_else_may_release_or_complete_a_claim(street, leader):
    actions.claim(leader, street["task"])
    with pytest.raises(CanvassError, match="is being canvassed by 杨柳青镇第2组"):
        actions.release(street["rival_leader"], street["task"])
    with pytest.raises(CanvassError, match="is being canvassed by"):
        actions.complete(street["rival_leader"], street["task"])


def test_a_claim_can_be_handed_to_another_team(street, leader):
    actions.claim(leader, street["task"])
    actions.hand_to(leader, street["task"], street["rival"])
    task = BuildingTask.objects.get(pk=street["task"].pk)
    assert task.team == street["rival"]
    post = FeedPost.objects.filter(kind="handed").get()
    assert (post.team_name, post.other_team_name) == ("杨柳青镇第2组", "精武镇第3组")


def test_a_claim_cannot_be_handed_to_a_team_elsewhere(street, leader, other_community):
    actions.claim(leader, street["task"])
    far = make_door_team(other_community, "外社区组")
    with pytest.raises(CanvassError, match="not on door-to-door duty in"):
        actions.hand_to(leader, street["task"], far)


def test_a_building_with_households_left_cannot_be_completed(street, leader):
    actions.claim(leader, street["task"])
    record(leader, street["task"], [tap(street["households"][0])])
    with pytest.raises(
        CanvassError, match="3 households have no outcome yet: 1单元 201, 2单元 101"
    ):
        actions.complete(leader, street["task"])
    assert BuildingTask.objects.get(pk=street["task"].pk).status == TaskStatus.CLAIMED


def test_completing_posts_the_progress_line_and_leaves_the_claim_list(street, leader):
    actions.claim(leader, street["task"])
    h = street["households"]
    outcomes = ["notified", "notified", "nobody_home", "notified"]
    answers = record(leader, street["task"], [tap(x, o) for x, o in zip(h, outcomes, strict=True)])
    assert [a.status for a in answers] == ["accepted"] * 4
    post = actions.complete(leader, street["task"])
    assert (post.households, post.notified, post.nobody_home, post.others) == (4, 3, 1, 0)
    assert street["task"] not in actions.nearest_open(
        street["task"].community, street["campaign"].pk
    )
    cov = coverage(street)
    assert (cov.buildings_claimed, cov.buildings_done, cov.revisits) == (0, 1, 1)


def test_an_expired_claim_cannot_be_completed_until_claimed_again(street, leader):
    start = timezone.now() - dt.timedelta(hours=2)
    actions.claim(leader, street["task"], now=start)
    record(leader, street["task"], [tap(h) for h in street["households"]], now=start)
    with pytest.raises(CanvassError, match=r"Your claim on 12号楼 lapsed at .* after 45 minutes"):
        actions.complete(leader, street["task"])
    actions.claim(leader, street["task"])
    actions.complete(leader, street["task"])
    assert BuildingTask.objects.get(pk=street["task"].pk).status == TaskStatus.DONE


def test_a_done_building_cannot_be_claimed(street, leader):
    actions.claim(leader, street["task"])
    record(leader, street["task"], [tap(h) for h in street["households"]])
    actions.complete(leader, street["task"])
    with pytest.raises(CanvassError, match="already done"):
        actions.claim(street["rival_leader"], street["task"])

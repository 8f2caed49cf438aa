import datetime as dt
import uuid

import pytest
from django.utils import timezone

from doorstep.canvass import actions, queries
from doorstep.canvass.models import BuildingTask, Coverage, HouseholdState, Visit
from doorstep.canvass.outcomes import Tap, record
from doorstep.sampling.actions import record_sampled
from doorstep.testing import make_building, make_household, tap

pytestmark = pytest.mark.django_db


@pytest.fixture
def claimed(street, leader):  # type: ignore[no-untyped-def]
    actions.claim(leader, street["task"])
    return street


def coverage(street) -> Coverage:  # type: ignore[no-untyped-def]
    return Coverage.objects.get(campaign=street["campaign"])


def _states(world):  # type: ignore[no-untyped-def]
    """The community's households in the round, as the revisit list reads them."""
    return HouseholdState.objects.filter(
        campaign=world["campaign"], community_id=world["task"].community_id
    )


def task_of(street) -> BuildingTask:  # type: ignore[no-untyped-def]
    return BuildingTask.objects.get(pk=street["task"].pk)


def test_an_outcome_is_recorded_and_counted(claimed, leader):
    [answer] = record(
        leader, claimed["task"], [tap(claimed["households"][0], note="门口贴了告知书")]
    )
    assert answer.as_dict() == {
        "id": answer.id,
        "status": "accepted",
        "household": claimed["households"][0].pk,
        "outcome": "notified",
    }
    visit = Visit.objects.get()
    assert (visit.note, visit.team, visit.recorded_by) == (
        "门口贴了告知书",
        claimed["team"],
        leader,
    )
    task = task_of(claimed)
    assert (task.with_outcome, task.covered, task.notified) == (1, 1, 1)
    cov = coverage(claimed)
    assert (cov.with_outcome, cov.covered, cov.notified) == (1, 1, 1)


def test_replaying_the_same_tap_records_it_once(claimed, leader):
    t = tap(claimed["households"][0], "nobody_home")
    first = record(leader, claimed["task"], [t])
    again = record(leader, claimed["task"], [t, t])
    assert [a.status for a in first + again] == ["accepted", "duplicate", "duplicate"]
    assert Visit.objects.count() == 1
    assert HouseholdState.objects.get().misses == 1
    assert coverage(claimed).revisits == 1


def test_the_same_uuid_with_another_outcome_is_a_conflict(claimed, leader):
    t = tap(claimed["households"][0], "notified")
    record(leader, claimed["task"], [t])
    changed = Tap(id=t.id, household=t.household, outcome="refused")
    [answer] = record(leader, claimed["task"], [changed])
    assert answer.status == "rejected"
    assert answer.code == "conflict"
    assert "already recorded as «Notified» for 101" in answer.message
    assert HouseholdState.objects.get().outcome == "notified"


def test_a_double_tap_records_once_and_says_so(claimed, leader):
    h = claimed["households"][0]
    answers = record(leader, claimed["task"], [tap(h, "notified"), tap(h, "notified")])
    assert [a.status for a in answers] == ["accepted", "duplicate"]
    assert answers[1].message.startswith("Already recorded at")
    assert Visit.objects.count() == 1
    assert task_of(claimed).notified == 1


def test_a_changed_outcome_moves_the_counters(claimed, leader):
    h = claimed["households"][0]
    record(leader, claimed["task"], [tap(h, "nobody_home")])
    record(leader, claimed["task"], [tap(h, "notified")])
    task = task_of(claimed)
    assert (task.with_outcome, task.covered, task.notified, task.nobody_home) == (1, 1, 1, 0)
    assert coverage(claimed).revisits == 0


def test_a_rejected_tap_does_not_stop_the_others(claimed, leader, other_community):
    outside = make_household(make_household().unit.building, "999")
    elsewhere = make_household(make_building(other_community))
    h = claimed["households"]
    answers = record(
        leader,
        claimed["task"],
        [
            tap(h[0]),
            tap(elsewhere),
            Tap(id="not-a-uuid", household=h[1].pk, outcome="notified"),
            tap(h[1], "dancing"),
            tap(h[2], "exempt"),
            tap(h[2], "special_need"),
            tap(outside),
            tap(h[3]),
        ],
    )
    assert [(a.status, a.code) for a in answers] == [
        ("accepted", ""),
        ("rejected", "wrong_building"),
        ("rejected", "invalid"),
        ("rejected", "invalid"),
        ("rejected", "invalid"),
        ("rejected", "invalid"),
        ("rejected", "wrong_building"),
        ("accepted", ""),
    ]
    assert "not in 12号楼" in answers[1].message
    assert "Say why the household is exempt" in answers[4].message
    assert "Say what the special need is" in answers[5].message
    assert Visit.objects.count() == 2


def test_outcomes_need_a_claim_by_your_own_team(street, leader):
    h = street["households"][0]
    [unclaimed] = record(leader, street["task"], [tap(h)])
    assert (unclaimed.code, unclaimed.message) == (
        "not_claimed",
        "Nobody holds 12号楼. Claim it before recording outcomes.",
    )
    actions.claim(street["rival_leader"], street["task"])
    [theirs] = record(leader, street["task"], [tap(h)])
    assert theirs.code == "not_your_claim"
    assert "held by 精武镇第3组" in theirs.message
    assert not Visit.objects.exists()


def test_a_tap_made_after_the_lease_ran_out_is_refused(street, leader):
    start = timezone.now() - dt.timedelta(hours=1)
    actions.claim(leader, street["task"], now=start)
    [answer] = record(leader, street["task"], [tap(street["households"][0])])
    assert answer.code == "lapsed"
    assert "Claim it again to go on" in answer.message


def test_a_tap_made_offline_while_the_claim_held_counts_when_it_arrives_late(street, leader):
    start = timezone.now() - dt.timedelta(hours=1)
    actions.claim(leader, street["task"], now=start)
    offline = tap(street["households"][0], at=(start + dt.timedelta(minutes=10)).isoformat())
    [answer] = record(leader, street["task"], [offline])
    assert answer.status == "accepted"
    assert Visit.objects.get().tapped_at == start + dt.timedelta(minutes=10)
    # The late tap revived the claim nobody else had taken.
    assert task_of(street).expires_at > timezone.now()


def test_a_team_member_records_outcomes_on_the_teams_claim(claimed, canvasser):
    team = claimed["team"]
    member = team.members.exclude(pk=team.leader_id).get()
    member.user = canvasser
    member.save(update_fields=["user"])
    [answer] = record(canvasser, claimed["task"], [tap(claimed["households"][0])])
    assert answer.status == "accepted"


def test_nobody_home_twice_moves_the_household_from_revisit_to_phone(claimed, leader, worker):
    h = claimed["households"][0]
    record(
        leader,
        claimed["task"],
        [tap(h, "nobody_home")] + [tap(x) for x in claimed["households"][1:]],
    )
    actions.complete(leader, claimed["task"])
    [row] = queries.revisits(_states(claimed))
    assert (row.state.follow_up, len(row.members)) == ("revisit", 2)
    # The revisit after completion is recorded by the community worker from the revisit list.
    [answer] = record(worker, claimed["task"], [tap(h, "nobody_home")])
    assert answer.status == "accepted"
    [row] = queries.revisits(_states(claimed))
    assert (row.state.follow_up, row.state.misses) == ("phone", 2)
    cov = coverage(claimed)
    assert (cov.revisits, cov.phone_calls) == (0, 1)
    record(worker, claimed["task"], [tap(h, "notified", note="电话已通知")])
    assert queries.revisits(_states(claimed)) == []
    cov = coverage(claimed)
    assert (cov.revisits, cov.phone_calls, cov.covered) == (0, 0, 4)


def test_the_untested_list_is_roster_minus_sampled_minus_exempt(claimed, leader):
    campaign, h = claimed["campaign"], claimed["households"]
    people = list(h[0].residents.all())
    record_sampled(campaign.pk, people[:1], timezone.now())
    record(leader, claimed["task"], [tap(h[1], "exempt", exempt_reason="tested_elsewhere")])
    names = list(queries.untested(campaign.pk, building_id=claimed["task"].building_id))
    assert len(names) == 8 - 1 - 2
    assert people[0] not in names and people[1] in names
    assert not set(h[1].residents.all()) & set(names)
    task = task_of(claimed)
    assert (task.sampled, task.exempt, task.untested) == (1, 2, 5)
    cov = coverage(claimed)
    assert cov.untested == 10 - 1 - 2
    assert queries.untested(campaign.pk, community_id=claimed["task"].community_id).count() == 7


def test_sampling_a_member_of_an_exempt_household_is_not_counted_twice(claimed, leader):
    campaign, h = claimed["campaign"], claimed["households"]
    record(leader, claimed["task"], [tap(h[1], "exempt", exempt_reason="isolating")])
    record_sampled(campaign.pk, list(h[1].residents.all()), timezone.now())
    record_sampled(campaign.pk, list(h[1].residents.all()), timezone.now())
    task = task_of(claimed)
    assert (task.sampled, task.exempt, task.untested) == (2, 0, 6)
    # Changing the outcome afterwards leaves nobody unsampled to un-exempt.
    record(leader, claimed["task"], [tap(h[1], "notified")])
    assert task_of(claimed).exempt == 0


def test_a_special_need_keeps_its_kind_and_time(claimed, leader):
    need_by = (timezone.now() + dt.timedelta(hours=20)).replace(microsecond=0)
    t = tap(
        claimed["households"][0],
        "special_need",
        need_kind="graduate_exam",
        need_by=need_by.isoformat(),
        note="考研 明早8点 南开大学",
    )
    record(leader, claimed["task"], [t])
    visit = Visit.objects.get(client_uuid=uuid.UUID(t.id))
    assert (visit.need_kind, visit.need_by) == ("graduate_exam", need_by)


def test_a_tap_with_a_nul_or_a_broken_character_is_refused_alone(claimed, leader):
    households = claimed["households"]
    answers = record(
        leader,
        claimed["task"],
        [
            tap(households[0], note="门口\x00贴了"),
            tap(households[1], note="\ud800"),
            tap(households[2], need_by="2021-02-30T09:00"),
            tap(households[3]),
        ],
    )
    assert [a.status for a in answers] == ["rejected", "rejected", "rejected", "accepted"]
    assert "not text" in answers[0].message and answers[1].code == "invalid"
    assert answers[2].message == "“Needed by” is not a date and time."
    assert Visit.objects.count() == 1


def test_nobody_home_and_refused_are_not_covered_and_home_sampling_waits_for_the_sample(
    claimed, leader
):
    households = claimed["households"]
    record(
        leader,
        claimed["task"],
        [
            tap(households[0], "nobody_home"),
            tap(households[1], "refused"),
            tap(households[2], "home_sampling"),
        ],
    )
    task = task_of(claimed)
    assert (task.with_outcome, task.covered) == (3, 0)
    assert (coverage(claimed).with_outcome, coverage(claimed).covered) == (3, 0)
    record(
        leader,
        claimed["task"],
        [tap(households[3], "special_need", need_kind="dialysis", need_by="")],
    )
    assert task_of(claimed).covered == 1


def test_a_household_whose_members_are_all_sampled_is_covered_and_leaves_the_revisit_list(
    claimed, leader
):
    h = claimed["households"][0]
    record(leader, claimed["task"], [tap(h, "nobody_home")])
    assert coverage(claimed).revisits == 1 and task_of(claimed).covered == 0
    members = list(h.residents.filter(moved_out=False))
    record_sampled(claimed["campaign"].pk, members[:1], timezone.now())
    assert task_of(claimed).covered == 0  # one member is still to be sampled
    record_sampled(claimed["campaign"].pk, members[1:], timezone.now())
    assert task_of(claimed).covered == 1
    cov = coverage(claimed)
    assert (cov.covered, cov.revisits) == (1, 0)
    assert queries.revisits(_states(claimed)) == []
    # A household nobody knocked at, sampled at a site, is covered too (once).
    other = claimed["households"][1]
    record_sampled(claimed["campaign"].pk, list(other.residents.all()), timezone.now())
    record_sampled(claimed["campaign"].pk, list(other.residents.all()), timezone.now())
    assert task_of(claimed).covered == 2
    # Then a tap of "notified" changes nothing in the count: it was covered already.
    record(leader, claimed["task"], [tap(other, "notified")])
    assert task_of(claimed).covered == 2 and task_of(claimed).with_outcome == 2

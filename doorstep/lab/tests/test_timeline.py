"""Where is my result? A person's timeline names each step as the sample moves (sampled, sealed,
boxed, handed to the courier, received, resulted), the step that holds it with the time it
should move by (from ``core.clocks``), and a retest's own steps; the round's late list finds
every late person in one query and each page shows only the user's own people."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from doorstep.campaigns.models import Campaign
from doorstep.core import clocks
from doorstep.core.models import Attempt
from doorstep.core.roles import Role
from doorstep.lab import timeline as timelines
from doorstep.lab.templatetags.timeline import when
from doorstep.sampling.models import Box, Tube, TubeMember
from doorstep.territory.models import Building, Grid, Resident, Town
from doorstep.testing import client_for, make_user
from doorstep.testing.lanes import add, open_tube, post, sealed_tube, to_the_lab

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


def held(person, campaign, now=None):  # type: ignore[no-untyped-def]
    """The step that holds the person's latest sample: (step, due, late)."""
    step = timelines.timeline(person, campaign, now).holding
    return (step.key, step.due_at, step.late) if step else None


def test_the_timeline_names_each_step_and_when_the_next_should_happen(lane_world):
    campaign, d, lane = lane_world["campaign"], lane_world["registrar"], lane_world["lane"]
    person = lane_world["people"][0]
    found = timelines.timeline(person, campaign)
    assert not found.sampled and held(person, campaign) == ("sampled", None, False)

    assert {
        a["status"] for a in d.send(open_tube(d, lane), add(d, "2112250001", person.person_code))
    } == {"accepted"}
    tube = Tube.objects.select_related("site", "lane").get()
    member = TubeMember.objects.get(resident=person)
    found = timelines.timeline(person, campaign)
    assert found.sampled and found.steps[0].at == member.added_at
    assert (found.latest.site, found.latest.lane) == (tube.site.name, tube.lane.name)
    due = tube.opened_at + clocks.TUBE_OPEN_TOO_LONG
    assert held(person, campaign) == ("sealed", due, False)
    assert held(person, campaign, due + dt.timedelta(minutes=1)) == ("sealed", due, True)

    d.send(d.event("tube.seal", tube=tube.code))
    tube.refresh_from_db()
    assert held(person, campaign) == ("boxed", tube.sealed_at + clocks.TUBE_BOX_DUE, False)
    d.send(d.event("box.open", lane=lane.code, box="BOX001"))
    d.send(d.event("box.add", box="BOX001", tube=tube.code))
    found = timelines.timeline(person, campaign)
    # In a box still open: not boxed until the box is sealed with it.
    assert found.latest.box_code == "BOX001" and found.holding.key == "boxed"

    d.send(d.event("box.seal", box="BOX001", count=1))
    box = Box.objects.get()
    found = timelines.timeline(person, campaign)
    assert found.latest.at("boxed") == box.sealed_at
    assert held(person, campaign) == ("handed", tube.sealed_at + clocks.HANDOFF_DUE, False)

    d.send(d.event("box.handoff", box="BOX001", count=1, courier="李师傅"))
    box.refresh_from_db()
    assert timelines.timeline(person, campaign).latest.at("handed") == box.handed_at
    due = tube.sealed_at + clocks.SPECIMEN_DUE
    assert held(person, campaign) == ("received", due, False)
    assert held(person, campaign, due) == ("received", due, True)

    lab = lane_world["lab"]
    assert lab.codes(lab.event("box.receive", box="BOX001", count=1)) == ["accepted"]
    tube.refresh_from_db()
    assert timelines.timeline(person, campaign).latest.at("received") == tube.received_at
    due = tube.received_at + clocks.RESULTS_DUE
    assert held(person, campaign) == ("resulted", due, False)
    assert held(person, campaign, due + HOUR) == ("resulted", due, True)

    post(lane_world, {"tube": tube.code, "result": "negative"})
    tube.refresh_from_db()
    found = timelines.timeline(person, campaign, tube.resulted_at + 10 * HOUR)
    assert found.holding is None and not found.late
    assert found.latest.at("resulted") == tube.resulted_at
    assert found.latest.result == "negative" and found.latest.result_label == "Negative"
    assert [s.at is not None for s in found.steps] == [True] * 6


def test_a_box_the_lab_received_without_a_courier_scan_skips_that_step(lane_world):
    campaign, person = lane_world["campaign"], lane_world["people"][0]
    tube = sealed_tube(lane_world["registrar"], lane_world["lane"], [person])
    post(lane_world, {"tube": tube.code, "result": "negative"})  # boxed, sealed and received
    found = timelines.timeline(person, campaign)
    handed = found.steps[3]
    assert (handed.key, handed.at, handed.skipped, handed.holding) == ("handed", None, True, False)
    assert found.holding is None


def test_a_positive_pool_member_s_latest_sample_is_their_own_retest(lane_world):
    campaign, d, lane = lane_world["campaign"], lane_world["registrar"], lane_world["lane"]
    person = lane_world["people"][0]
    pool = sealed_tube(d, lane, lane_world["people"][:3])
    post(lane_world, {"tube": pool.code, "result": "positive"})
    found = timelines.timeline(person, campaign, timezone.now() + 48 * HOUR)
    # Ordered and not taken: no figure says how soon, so it is never late.
    assert found.latest.retest and found.latest.ordered_at is not None
    assert found.holding.key == "sampled" and found.holding.due_at is None and not found.late
    assert [s.result for s in found.earlier] == ["positive"]

    retest = sealed_tube(d, lane, [person], code="2112259001", pool=1)
    found = timelines.timeline(person, campaign)
    assert found.latest.retest and found.latest.tube_code == retest.code
    assert len(found.samples) == 2 and found.earlier[0].tube_code == pool.code
    assert held(person, campaign) == ("boxed", retest.sealed_at + clocks.TUBE_BOX_DUE, False)


def _late_world(lane_world):  # type: ignore[no-untyped-def]
    """Tubes held at different steps, their clocks moved back so that some are late now:
    people[0:3] in a tube received 7 h ago (result late), people[3:6] sealed 90 min ago in no
    box (boxing late; people[5] sampled again since, on time), people[6:9] sealed now (on
    time), people[9] in a tube open 40 min (sealing late)."""
    d, lane, people = lane_world["registrar"], lane_world["lane"], lane_world["people"]
    now = timezone.now()
    received = sealed_tube(d, lane, people[0:3], code="2112250001")
    to_the_lab(lane_world, received.code)  # boxed and received, with no courier's scan
    Tube.objects.filter(pk=received.pk).update(sealed_at=now - 8 * HOUR, received_at=now - 7 * HOUR)
    unboxed = sealed_tube(d, lane, people[3:6], code="2112250002")
    Tube.objects.filter(pk=unboxed.pk).update(sealed_at=now - 90 * dt.timedelta(minutes=1))
    sealed_tube(d, lane, people[6:9], code="2112250003")
    d.send(open_tube(d, lane, "2112250004"), add(d, "2112250004", people[9].person_code))
    Tube.objects.filter(code="2112250004").update(opened_at=now - 40 * dt.timedelta(minutes=1))
    # people[5]'s tube was dropped: sampled again, and that tube is on time.
    again = [
        open_tube(d, lane.site.lanes.exclude(pk=lane.pk).get(), "2112250005"),
        add(d, "2112250005", people[5].person_code, override="采样管破损，重采"),
        d.event("tube.seal", tube="2112250005"),
    ]
    assert d.codes(*again) == ["accepted"] * 3
    return {t.code: t for t in Tube.objects.all()}


def test_the_late_list_names_each_late_person_and_the_step_that_holds_them(
    lane_world, community, django_assert_max_num_queries
):
    campaign, people = lane_world["campaign"], lane_world["people"]
    tubes = _late_world(lane_world)
    everyone = Resident.objects.filter(community=community)
    now = timezone.now()
    with django_assert_max_num_queries(1):
        rows = timelines.late(campaign, everyone, now)
    by_person = {r.resident_id: (r.step.key, r.due_at) for r in rows}
    received, unboxed, opened = tubes["2112250001"], tubes["2112250002"], tubes["2112250004"]
    assert by_person == {
        **{p.pk: ("resulted", received.received_at + clocks.RESULTS_DUE) for p in people[0:3]},
        **{p.pk: ("boxed", unboxed.sealed_at + clocks.TUBE_BOX_DUE) for p in people[3:5]},
        people[9].pk: ("sealed", opened.opened_at + clocks.TUBE_OPEN_TOO_LONG),
    }
    # Newest late first: the open tube (late 10 min), then boxing (30 min), then the result.
    assert [r.step.key for r in rows] == ["sealed"] + ["boxed"] * 2 + ["resulted"] * 3
    assert rows[-1].since == received.received_at and rows[0].late_by > dt.timedelta(0)
    # The one rule: the list holds exactly the people whose own timeline is late.
    assert {p.pk for p in everyone if timelines.timeline(p, campaign, now).late} == set(by_person)
    # Scoped by the queryset it is given.
    some = Resident.objects.filter(pk__in=[people[0].pk, people[6].pk])
    assert [r.resident_id for r in timelines.late(campaign, some, now)] == [people[0].pk]


def test_the_late_list_reads_in_one_query_however_many_are_late(
    lane_world, community, django_assert_max_num_queries
):
    d, lane, people = lane_world["registrar"], lane_world["lane"], lane_world["people"]
    everyone = Resident.objects.filter(community=community)
    later = timezone.now() + 12 * HOUR
    sealed_tube(d, lane, people[:2], code="2112250001")
    with django_assert_max_num_queries(1):
        assert len(timelines.late(lane_world["campaign"], everyone, later)) == 2
    sealed_tube(d, lane, people[2:10], code="2112250002")
    sealed_tube(d, lane, people[10:12], code="2112250003")
    with django_assert_max_num_queries(1):
        assert len(timelines.late(lane_world["campaign"], everyone, later)) == 12


def test_the_late_page_is_masked_scoped_and_marks_a_drill(
    lane_world, community, worker, outsider, lab, django_assert_max_num_queries
):
    campaign, people = lane_world["campaign"], lane_world["people"]
    _late_world(lane_world)
    url = reverse("lab:late", args=[campaign.pk])
    client = client_for(worker)
    with django_assert_max_num_queries(9):  # sign-in, scope, round, the one read, the nav
        page = client.get(url).content.decode()
    assert 'id="late-count">6 people late<' in page
    assert page.count('data-step="boxed"') == 2 and page.count('data-step="resulted"') == 3
    assert people[0].masked_name in page and people[0].name not in page
    assert reverse("lab:timeline", args=[people[0].pk]) in page
    assert "data-drill" not in page
    assert (
        reverse("lab:late", args=[campaign.pk])
        in client_for(worker).get(reverse("lab:pools", args=[campaign.pk])).content.decode()
    )

    # A grid worker sees the late people of their grid only.
    grid = Grid.objects.create(community=community, name="第一网格")
    other = Grid.objects.create(community=community, name="第二网格")
    Building.objects.filter(pk=people[0].household.unit.building_id).update(grid=grid)
    mine = make_user(Role.COMMUNITY_WORKER, community)
    mine.grids.set([grid])
    assert 'id="late-count">6 people late<' in client_for(mine).get(url).content.decode()
    elsewhere = make_user(Role.COMMUNITY_WORKER, community)
    elsewhere.grids.set([other])
    assert 'id="late-count">0 people late<' in client_for(elsewhere).get(url).content.decode()
    # A worker of another community of the town sees nobody; another town, no round; the lab,
    # no page.
    assert 'id="late-count">0 people late<' in client_for(outsider).get(url).content.decode()
    far = make_user(Role.COMMANDER, town=Town.objects.create(name="远方镇"))
    assert client_for(far).get(url).status_code == 404
    assert client_for(lab).get(url).status_code == 403

    Campaign.objects.filter(pk=campaign.pk).update(is_drill=True)
    page = client_for(worker).get(url).content.decode()
    rows = re.findall(r"<tr data-step=[^>]*>.*?</tr>", page, re.S)
    assert len(rows) == 6 and all("data-drill" in r and "badge drill" in r for r in rows)


def test_a_worker_reads_a_resident_s_timeline_in_their_scope_only(
    lane_world, community, worker, outsider, canvasser
):
    person = lane_world["people"][0]
    _late_world(lane_world)
    url = reverse("lab:timeline", args=[person.pk])
    page = client_for(worker).get(url).content.decode()
    assert person.masked_name in page and person.name not in page
    assert 'data-late="yes"' in page and "Late: held at “Resulted”" in page
    # Sampled, sealed, boxed and received; handed skipped (the lab received the box unscanned).
    assert page.count('data-state="done"') == 4 and page.count('data-state="skipped"') == 1
    assert "2112250001" in page  # the tube, for the worker to ask the lab about
    # A drill's timeline says so, and nothing outside the marked page names the person.
    Campaign.objects.filter(pk=lane_world["campaign"].pk).update(is_drill=True)
    page = client_for(worker).get(url).content.decode()
    assert "<main data-drill>" in page and "badge drill" in page
    assert person.masked_name not in page.split("<main", 1)[0]
    detail = client_for(worker).get(reverse("territory:resident", args=[person.pk]))
    assert url in detail.content.decode()
    assert (
        url
        not in client_for(canvasser)
        .get(reverse("territory:resident", args=[person.pk]))
        .content.decode()
    )
    assert client_for(canvasser).get(url).status_code == 403
    assert client_for(outsider).get(url).status_code == 404
    grid = Grid.objects.create(community=community, name="第二网格")
    held_to_grid = make_user(Role.COMMUNITY_WORKER, community)
    held_to_grid.grids.set([grid])
    assert client_for(held_to_grid).get(url).status_code == 404


def _look_up(person):  # type: ignore[no-untyped-def]
    Attempt.objects.all().delete()
    response = Client(headers={"Accept-Language": "en"}).post(
        reverse("command:me"),
        {"code": person.person_code, "document": person.id_number[-6:]},
        REMOTE_ADDR="10.9.2.1",
    )
    return response.content.decode()


def test_status_me_shows_where_the_sample_is_and_names_a_late_step(lane_world):
    people = lane_world["people"]
    tubes = _late_world(lane_world)
    received, unboxed = tubes["2112250001"], tubes["2112250002"]
    page = _look_up(people[0])
    due = received.received_at + clocks.RESULTS_DUE
    assert (
        f"Your sample reached the lab at {when(received.received_at)}; "
        f"the result was expected by {when(due)} and is late."
    ) in page
    assert 'data-late="yes"' in page and 'data-step="resulted"' in page
    assert "2112250001" not in page  # a resident needs no tube code
    page = _look_up(people[3])
    assert "should have been packed in a box by" in page and 'data-step="boxed"' in page
    on_time = tubes["2112250003"]
    page = _look_up(people[6])
    assert (
        f"Your tube was sealed at {when(on_time.sealed_at)}; it should be packed in a box by "
        f"{when(on_time.sealed_at + clocks.TUBE_BOX_DUE)}."
    ) in page
    assert 'data-late="no"' in page
    assert unboxed.code not in page

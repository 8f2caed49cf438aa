"""The commander's dashboard: its figures come from the counters the actions keep, each alert
names the place and links to act, the drill-downs mask people, and the daily report is exported
with an audit entry."""

import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from doorstep.campaigns.models import Campaign, CampaignStatus
from doorstep.canvass import actions as canvass
from doorstep.canvass.models import BuildingTask
from doorstep.command import dashboard, report
from doorstep.command.views import PANELS
from doorstep.core.models import AuditEntry
from doorstep.sampling.actions import report_queue
from doorstep.sampling.models import Box, BoxStatus, HourTally, Scope, Tube
from doorstep.testing import (
    client_for,
    make_door_team,
    make_household,
    make_resident,
)
from doorstep.testing.lanes import post as post_results
from doorstep.testing.lanes import sealed_tube
from doorstep.workforce.models import Duty, DutyCounter, DutyRole, PlaceKind


def panel(commander, campaign, name):  # type: ignore[no-untyped-def]
    response = client_for(commander).get(reverse("command:panel", args=[campaign.pk, name]))
    assert response.status_code == 200
    return response.content.decode()


def sealed_now(d, lane, people, code="2112250001"):  # type: ignore[no-untyped-def]
    """A tube of ``people`` scanned and sealed just now (the shared helper scans in 2021)."""
    at = timezone.now().isoformat()
    events = [d.event("tube.open", lane=lane.code, tube=code, pool=10, at=at)]
    events += [d.event("tube.add", tube=code, person=p.person_code, at=at) for p in people]
    events.append(d.event("tube.seal", tube=code, at=at))
    assert {a["status"] for a in d.send(*events)} == {"accepted"}
    return Tube.objects.get(code=code)


def kinds(campaign, now=None):  # type: ignore[no-untyped-def]
    return [a.kind for a in dashboard.alerts(campaign, now or timezone.now())]


def test_scans_move_the_clock_coverage_lane_and_hourly_figures(lane_world, commander):
    campaign, lane = lane_world["campaign"], lane_world["lane"]
    sealed_now(lane_world["registrar"], lane, lane_world["people"][:3])
    assert 'data-testid="people">3<' in panel(commander, campaign, "clock")
    assert 'data-testid="lane-people">3<' in panel(commander, campaign, "sites")
    assert "3+0/" in panel(commander, campaign, "coverage")
    hour = timezone.now().astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    assert dict(HourTally.objects.filter(hour=hour).values_list("scope", "people")) == {
        Scope.LANE: 3,
        Scope.COMMUNITY: 3,
        Scope.CAMPAIGN: 3,
    }
    chart = dashboard.chart(campaign, timezone.now(), {})
    assert chart.total.points[-1] == 3 and chart.total.total == 3
    assert "<svg" in panel(commander, campaign, "chart")


def test_the_per_event_path_counts_hours_only_for_accepted_scans(lane_world):
    d, lane, people = lane_world["registrar"], lane_world["lane"], lane_world["people"]
    sealed_tube(d, lane, people[:2])
    # A batch with a refusal (people[0] again) goes event by event: only people[2] counts.
    d.send(
        d.event("tube.open", lane=lane.code, tube="2112250002", pool=10),
        d.event("tube.add", tube="2112250002", person=people[0].person_code),
        d.event("tube.add", tube="2112250002", person=people[2].person_code),
    )
    assert HourTally.objects.get(scope=Scope.CAMPAIGN).people == 3


def test_the_panels_cost_the_same_queries_for_more_residents_and_scans(lane_world, commander):
    campaign, lane, d = lane_world["campaign"], lane_world["lane"], lane_world["registrar"]
    sealed_tube(d, lane, lane_world["people"][:2])
    client = client_for(commander)

    def counts() -> dict[str, int]:
        found = {}
        for name in PANELS:
            with CaptureQueriesContext(connection) as queries:
                client.get(reverse("command:panel", args=[campaign.pk, name]))
            found[name] = len(queries)
        return found

    before = counts()
    home = lane_world["people"][0].household
    more = [
        make_resident(make_household(home.unit.building, f"9{n:02d}"), f"新{n}") for n in range(30)
    ]
    sealed_tube(d, lane, more[:10], code="2112250003")
    sealed_tube(d, lane, lane_world["people"][2:6], code="2112250004")
    assert counts() == before


def test_only_the_commander_sees_the_dashboard(lane_world, commander, canvasser, outsider):
    url = reverse("command:dashboard", args=[lane_world["campaign"].pk])
    assert client_for(commander).get(url).status_code == 200
    assert client_for(canvasser).get(url).status_code == 403
    assert client_for(outsider).get(url).status_code == 403


def test_the_index_goes_to_the_running_campaign(lane_world, commander):
    response = client_for(commander).get(reverse("command:index"))
    assert response["Location"] == reverse("command:dashboard", args=[lane_world["campaign"].pk])


def test_a_lapsed_claim_is_an_alert_with_a_link_to_the_building(lane_world, leader):
    campaign = lane_world["campaign"]
    community = lane_world["lane"].site.community
    make_door_team(community, user=leader)
    task = BuildingTask.objects.filter(campaign=campaign).first()
    assert task is not None
    canvass.claim(leader, task, now=timezone.now() - dt.timedelta(hours=2))
    [alert] = [a for a in dashboard.alerts(campaign, timezone.now()) if a.kind == "claim_stalled"]
    assert alert.url == reverse("canvass:task", args=[task.pk])
    assert task.building.name in alert.text


def test_buildings_not_started_alert_only_when_time_is_short(lane_world):
    campaign = lane_world["campaign"]
    assert "not_started" not in kinds(campaign, campaign.starts_at)
    assert "not_started" in kinds(campaign, campaign.deadline - dt.timedelta(hours=2))


def test_a_lane_short_of_a_registrar_and_a_long_wait_are_alerts(lane_world, registrar):
    campaign, lane = lane_world["campaign"], lane_world["lane"].site.lanes.last()
    town = lane.site.community.town
    DutyCounter.objects.create(
        town=town, kind=PlaceKind.LANE, place_id=lane.pk, role=DutyRole.SAMPLER, on_duty=1
    )
    report_queue(registrar, lane, 100)
    found = dashboard.alerts(campaign, timezone.now())
    short = [a for a in found if a.kind == "lane_short"]
    assert len(short) == 1 and "Registrar" in short[0].text and lane.name in short[0].text
    assert [a.severity for a in found if a.kind == "long_wait"] == ["bad"]


def test_a_tube_left_open_and_a_box_late_for_the_lab_are_alerts(lane_world):
    campaign, lane, d = lane_world["campaign"], lane_world["lane"], lane_world["registrar"]
    now = timezone.now()
    d.send(d.event("tube.open", lane=lane.code, tube="2112250009", pool=10, at=now.isoformat()))
    assert "tube_open" not in kinds(campaign, now)
    assert "tube_open" in kinds(campaign, now + dt.timedelta(minutes=31))
    next_lane = lane.site.lanes.exclude(pk=lane.pk).first()
    tube = sealed_now(d, next_lane, lane_world["people"][:2])
    box = Box.objects.create(
        campaign=campaign, code="BOX009", site=lane.site, status=BoxStatus.IN_TRANSIT, opened_at=now
    )
    Tube.objects.filter(pk=tube.pk).update(box=box)
    assert "box_clock" not in kinds(campaign, now + dt.timedelta(hours=2))
    late = [
        a
        for a in dashboard.alerts(campaign, now + dt.timedelta(hours=3, minutes=10))
        if a.kind == "box_clock"
    ]
    assert [a.severity for a in late] == ["warn"] and "BOX009" in late[0].text
    overdue = [
        a
        for a in dashboard.alerts(campaign, now + dt.timedelta(hours=4, minutes=5))
        if a.kind == "box_clock"
    ]
    assert [a.severity for a in overdue] == ["bad"]


def test_results_overdue_and_a_positive_pool_without_orders_are_alerts(lane_world):
    campaign, lane, d = lane_world["campaign"], lane_world["lane"], lane_world["registrar"]
    tube = sealed_tube(d, lane, lane_world["people"][:2])
    now = timezone.now()
    Tube.objects.filter(pk=tube.pk).update(received_at=now - dt.timedelta(hours=7))
    assert "results_late" in kinds(campaign, now)
    post_results(lane_world, {"tube": tube.code, "result": "positive"})
    assert "results_late" not in kinds(campaign, now)
    assert "positive_no_retest" not in kinds(campaign, now)  # the result ordered the retests
    other = sealed_tube(d, lane, lane_world["people"][2:4], code="2112250005")
    Tube.objects.filter(pk=other.pk).update(result="positive")  # e.g. from before Doorstep
    found = [a for a in dashboard.alerts(campaign, now) if a.kind == "positive_no_retest"]
    assert len(found) == 1 and other.code in found[0].text


def test_staff_past_12_hours_are_an_alert(lane_world):
    campaign = lane_world["campaign"]
    make_door_team(lane_world["lane"].site.community)
    assert "long_shift" not in kinds(campaign)
    Duty.objects.update(started_at=timezone.now() - dt.timedelta(hours=13))
    assert "long_shift" in kinds(campaign)


def test_the_community_schematic_colours_buildings_by_state(lane_world, commander, leader):
    campaign = lane_world["campaign"]
    community = lane_world["lane"].site.community
    make_door_team(community, user=leader)
    task = BuildingTask.objects.filter(campaign=campaign).order_by("building__position").first()
    assert task is not None
    canvass.claim(leader, task)
    page = (
        client_for(commander)
        .get(reverse("command:community", args=[campaign.pk, community.pk]))
        .content.decode()
    )
    assert page.count('data-status="claimed"') == 1
    assert reverse("canvass:task", args=[task.pk]) in page


def test_site_and_tube_drill_down_mask_people(lane_world, commander):
    campaign, lane = lane_world["campaign"], lane_world["lane"]
    people = lane_world["people"][:2]
    tube = sealed_tube(lane_world["registrar"], lane, people)
    client = client_for(commander)
    site = client.get(reverse("command:site", args=[campaign.pk, lane.site_id])).content.decode()
    assert tube.code in site and reverse("command:tube", args=[campaign.pk, tube.code]) in site
    page = client.get(reverse("command:tube", args=[campaign.pk, tube.code])).content.decode()
    assert people[0].masked_name in page
    assert people[0].name not in page


def test_the_daily_report_prints_and_exports_with_an_audit_entry(lane_world, commander):
    campaign = lane_world["campaign"]
    sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["people"][:3])
    client = client_for(commander)
    page = client.get(reverse("command:report", args=[campaign.pk])).content.decode()
    assert '<th>Residents sampled</th><td class="num">3</td><td class="num">3</td>' in page
    response = client.get(reverse("command:report_xlsx", args=[campaign.pk]))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    summary = {row[0]: row[1:] for row in book.worksheets[0].iter_rows(values_only=True)}
    assert summary["Residents sampled"] == (3, 3) and summary["Tubes sealed"] == (1, 1)
    assert summary["Sampled (residents)"] == (None, 3)
    communities = list(book.worksheets[1].iter_rows(values_only=True))
    assert communities[1][0] == lane_world["lane"].site.community.name
    assert (communities[1][1], communities[1][7]) == (3, 3)  # this day, and the round
    entry = AuditEntry.objects.get(object_type="daily_report")
    assert (entry.action, entry.user, entry.object_id) == ("export", commander, str(campaign.pk))


@pytest.mark.parametrize("name", ["nonsense", "../clock"])
def test_an_unknown_panel_is_404(lane_world, commander, name):
    url = f"/command/{lane_world['campaign'].pk}/panels/{name}/"
    assert client_for(commander).get(url).status_code == 404


def test_a_closed_rounds_report_adds_no_hours_for_a_team_left_on_duty(lane_world):
    """The lane's team stays on duty after the round closes; the round's person-hours stop at
    its close."""
    campaign = lane_world["campaign"]
    closed = timezone.now() + dt.timedelta(hours=1)
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.CLOSED, closed_at=closed)
    campaign.refresh_from_db()
    later = report.daily(campaign, now=closed + dt.timedelta(hours=1))
    much_later = report.daily(campaign, now=closed + dt.timedelta(hours=4))
    assert later.round.person_hours == much_later.round.person_hours
    assert 1.9 <= later.round.person_hours <= 2.1  # two people for the hour before the close

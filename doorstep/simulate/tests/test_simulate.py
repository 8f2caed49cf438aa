"""The simulator on a small town with a fixed seed: every step accepted by the real system, and
the forecast read back from the database equal to the one the simulator's own record gives."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from doorstep.canvass.models import Visit
from doorstep.command import dashboard
from doorstep.core.models import User
from doorstep.sampling.models import Box, RoundSample, Tube
from doorstep.simulate import day, forecast, plan
from doorstep.simulate.clock import SimClock, running
from doorstep.simulate.run import simulate
from doorstep.testing import client_for
from doorstep.workforce.models import Duty

START = dt.datetime(2026, 12, 5, 7, 0, tzinfo=dt.UTC)
# A positive rate high enough that a town of 600 has positives, so the retests run too.
BEHAVIOUR = day.Behaviour(positive_rate=0.01)


@pytest.fixture(scope="module")
def small_day(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        result = simulate(600, 12, 12, behaviour=BEHAVIOUR, seed=7, start=START, progress=str)
        yield result
        # The module's day is kept for its tests; the next module starts from a clean database.
        call_command("flush", verbosity=0, interactive=False)


def test_every_step_is_accepted_by_the_system(small_day) -> None:  # type: ignore[no-untyped-def]
    assert small_day.refusals == []
    assert small_day.requests > 50


@pytest.mark.django_db
def test_the_database_gives_the_simulators_own_forecast(small_day) -> None:  # type: ignore[no-untyped-def]
    from_db = forecast.from_database(small_day.setup.campaign)
    from_record = forecast.from_record(small_day.record, small_day.setup.shape, small_day.staffing)
    assert from_db.comparable() == from_record.comparable()


@pytest.mark.django_db
def test_each_figure_is_the_rows_it_counts(small_day) -> None:  # type: ignore[no-untyped-def]
    campaign = small_day.setup.campaign
    f = small_day.forecast
    record = small_day.record
    _rows, total = dashboard.coverage(campaign)
    assert f.sampled == total.sampled == len(record.sampled)
    assert f.sampled == RoundSample.objects.filter(campaign=campaign).count()
    assert 0.9 * 600 < f.sampled < 600  # no-shows, nobody home and home sampling stay untested
    assert f.tubes == Tube.objects.filter(campaign=campaign).count() == len(record.tubes)
    assert f.tubes_unresulted == 0 == Tube.objects.filter(resulted_at__isnull=True).count()
    # Every box left the site and reached the lab.
    assert not Box.objects.filter(campaign=campaign, received_at__isnull=True).exists()
    # Every household got an outcome, once.
    assert Visit.objects.filter(campaign=campaign).count() == f.households == record.households
    # The figures of the day: the pace and the targets.
    sampled = sorted(record.sampled.values())
    assert f.hours_to["50"] == pytest.approx(sampled[299] / 60, abs=1e-3)
    assert f.hours_to["100"] is None  # not everyone came
    assert f.sampling_target_met == (sampled[-1] <= 6 * 60)
    # The 24 h target counts the same people as the 6 h one, everyone who came
    # (planning.targets): their swabs and every result within 24 h.
    last_result = f.last_result_hours
    assert last_result is not None and f.day_target_met == (
        sampled[-1] <= 24 * 60 and f.tubes_unresulted == 0 and last_result <= 24
    )
    assert f.last_sampled_hours == pytest.approx(sampled[-1] / 60, abs=1e-3)
    # Positives: each person truly positive whose pool was swabbed is named by a retest.
    swabbed_positive = {p for p in record.positives if p in record.sampled}
    assert swabbed_positive and f.positives_found == len(swabbed_positive)
    # Staff: every person on the roster of teams served a duty that ended.
    assert f.staff == sum(len(t.people) for t in record.teams)
    assert not Duty.objects.filter(ended_at__isnull=True).exists()


def test_a_seed_gives_the_same_day_whatever_records_it(small_day) -> None:  # type: ignore[no-untyped-def]
    again = day.play(small_day.setup.shape, small_day.staffing, BEHAVIOUR, seed=7)
    assert again.sampled == small_day.record.sampled
    assert [t.resulted for t in again.tubes] == [t.resulted for t in small_day.record.tubes]
    other = day.play(small_day.setup.shape, small_day.staffing, BEHAVIOUR, seed=8)
    assert other.sampled != small_day.record.sampled


def test_more_lanes_finish_sooner() -> None:
    shape = day.synthetic(6000, seed=3)
    few = forecast.from_record(
        day.play(shape, day.Staffing.spread(shape, 12, 24)),
        shape,
        day.Staffing.spread(shape, 12, 24),
    )
    many = forecast.from_record(
        day.play(shape, day.Staffing.spread(shape, 24, 24)),
        shape,
        day.Staffing.spread(shape, 24, 24),
    )
    assert many.hours_to["90"] < few.hours_to["90"]  # type: ignore[operator]
    assert max(s.longest_wait or 0 for s in many.sites) < max(
        s.longest_wait or 0 for s in few.sites
    )


def test_the_clock_is_the_simulated_one_only_inside() -> None:
    clock = SimClock(START)
    clock.minutes = 90
    with running(clock):
        assert timezone.now() == START + dt.timedelta(minutes=90)
    assert abs(timezone.now() - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


def test_the_plot_draws_the_targets() -> None:
    drawing = forecast.svg([0.5, 1.0, 2.0, 7.0], 10, "第1轮")
    assert drawing.startswith("<svg") and drawing.count("<line") == 5
    assert ">6 h<" in drawing and ">24 h<" in drawing and "第1轮" in drawing


@pytest.mark.django_db
def test_the_review_page_shows_the_days_own_figures(small_day) -> None:  # type: ignore[no-untyped-def]
    campaign = small_day.setup.campaign
    commander = User.objects.get(username=f"sim-commander-{small_day.setup.town.pk}")
    page = client_for(commander).get(reverse("simulate:review", args=[campaign.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-testid="sampled">{small_day.forecast.sampled}<' in html
    stage, _why = small_day.forecast.bottleneck()
    assert (stage == "none") == ("Every stage kept its target." in html)


@pytest.mark.django_db
def test_the_review_sets_the_plan_beside_the_day(small_day) -> None:  # type: ignore[no-untyped-def]
    """The plan is the model played on the round's own roster with the lanes of its sites and
    the door-to-door teams it had on duty."""
    campaign = small_day.setup.campaign
    commander = User.objects.get(username=f"sim-commander-{small_day.setup.town.pk}")
    expected = plan.planned(campaign)
    assert expected.forecast.people == small_day.forecast.people
    # The day's lanes plus each site's home-sampling lane; the day's door-to-door teams.
    assert list(expected.staffing.lanes) == [n + 1 for n in small_day.staffing.lanes]
    assert list(expected.staffing.door_teams) == list(small_day.staffing.door_teams)
    html = (
        client_for(commander)
        .get(reverse("simulate:review", args=[campaign.pk]) + "?plan=1")
        .content.decode()
    )
    assert f'data-testid="plan-sampled">{expected.forecast.sampled}<' in html
    assert f'data-testid="sampled">{small_day.forecast.sampled}<' in html
    assert "The plan" in html and 'id="compare-plan"' not in html

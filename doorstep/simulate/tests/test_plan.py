"""The planner's answer is the smallest staffing that meets the 6 h target on the confidence
asked for: one lane fewer does not; a staffing that cannot pass stops playing days as soon as
its verdict is settled; and the command prints the same answer as JSON."""

import io
import json

from django.core.management import call_command

from doorstep.simulate import day
from doorstep.simulate.plan import Planner

TOWN = day.synthetic(3000, communities=2)


def _planner(**options: object) -> Planner:
    return Planner(TOWN, day.Behaviour(), days=3, workers=1, **options)  # type: ignore[arg-type]


def test_the_answer_meets_the_target_and_one_lane_fewer_does_not():
    planner = _planner()
    best = planner.smallest()
    assert planner.good(best) and best.met == 3 and len(best.forecasts) == 3
    lanes, teams = sum(best.staffing.lanes), sum(best.staffing.door_teams)
    fewer = planner.trial(day.Staffing.spread(TOWN, lanes - 1, teams))
    assert not planner.good(fewer)


def test_a_staffing_that_cannot_pass_stops_at_its_first_missed_day():
    lines: list[str] = []
    planner = _planner(progress=lines.append)
    hopeless = planner.trial(day.Staffing.spread(TOWN, 2, 2))
    assert (len(hopeless.forecasts), hopeless.met) == (1, 0)
    assert not planner.good(hopeless)
    assert "target met on 0 of 1 days played" in lines[-1]


def test_the_command_prints_the_answer_as_json():
    out = io.StringIO()
    call_command(
        "plan", "--residents", "600", "--days", "2", "--workers", "1", "--json", stdout=out
    )
    answer = json.loads(out.getvalue())
    assert answer["residents"] == 600 and answer["days_meeting_target"] == answer["days"] == 2
    # 600 residents in 12 communities share sites: the lanes are the sites' lanes, fewer than
    # one a community (planning/tests/test_sharing.py holds the rule).
    assert answer["lanes"] == sum(s["lanes"] for s in answer["sites"]) >= 1
    assert answer["lanes"] < len(answer["per_community"])
    assert answer["lab_machines"] >= 1

"""``doorstep plan-lanes``: how many sampling lanes a site needs, by simulating its day.

    doorstep plan-lanes --people 100000                  the fewest lanes that sample everyone
                                                         within 6 h on 9 days in 10
    doorstep plan-lanes --people 3000 --lanes 4          the forecast for four lanes
    doorstep plan-lanes --people 3000 --per-hour 131 --json

Residents arrive evenly over ``--hours`` (default 5.5: the last call half an hour before the
6 h target); each lane serves ``--per-hour`` people
(default 85, Xi'an). Nothing is written: this is the queue model alone, not the real system.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from doorstep.planning.plan import LanePlan, fewest_lanes
from doorstep.planning.sites import (
    ARRIVAL_HOURS,
    LANE_PER_HOUR,
    QUEUE_TARGET_MINUTES,
    TARGET_HOURS,
    Arrivals,
    Service,
    SiteDay,
    simulate,
)


class Command(BaseCommand):
    help = "Plan a sampling site's lanes by simulating its day (queue model only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--people", type=int, required=True, help="residents to sample")
        parser.add_argument("--lanes", type=int, help="forecast this many lanes instead")
        parser.add_argument(
            "--hours", type=float, default=ARRIVAL_HOURS, help="arrival window (hours)"
        )
        parser.add_argument("--target-hours", type=float, default=TARGET_HOURS)
        parser.add_argument("--per-hour", type=float, default=LANE_PER_HOUR)
        parser.add_argument("--days", type=int, default=10, help="simulated days (seeds)")
        parser.add_argument("--confidence", type=float, default=0.9)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: object, **options: object) -> None:
        people = int(options["people"])  # type: ignore[call-overload]
        days = int(options["days"])  # type: ignore[call-overload]
        if people < 1 or days < 1:
            raise CommandError("--people and --days must be at least 1.")
        service = Service(per_hour=float(options["per_hour"]))  # type: ignore[arg-type]
        hours = float(options["hours"])  # type: ignore[arg-type]
        target = float(options["target_hours"])  # type: ignore[arg-type]
        if options["lanes"]:
            day = SiteDay(int(options["lanes"]), Arrivals.even(people, hours), service)  # type: ignore[call-overload]
            forecasts = [simulate(day, seed) for seed in range(1, days + 1)]
            plan = LanePlan(day.lanes, sum(f.meets(target) for f in forecasts), days, forecasts)
        else:
            try:
                plan = fewest_lanes(
                    people,
                    hours=hours,
                    target_hours=target,
                    confidence=float(options["confidence"]),  # type: ignore[arg-type]
                    days=days,
                    service=service,
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        median = plan.median
        answer = {
            "people": people,
            "lanes": plan.lanes,
            "days_meeting_target": plan.met,
            "days": plan.days,
            "hours_to_50": round(median.hours_to(0.5), 2),
            "hours_to_90": round(median.hours_to(0.9), 2),
            "hours_to_100": round(median.hours_to(1.0), 2),
            "mean_wait_minutes": round(median.mean_wait, 1),
            "p90_wait_minutes": round(median.p90_wait, 1),
            "longest_wait_minutes": round(median.longest_wait, 1),
            "longest_queue": median.longest_queue,
        }
        if options["json"]:
            self.stdout.write(json.dumps(answer))
            return
        self.stdout.write(
            f"{plan.lanes} lanes for {people:,} people at {service.per_hour:g} an hour a lane: "
            f"everyone sampled within {target:g} h on {plan.met} of {plan.days} simulated days."
        )
        self.stdout.write(
            f"The median day: 50 % by {answer['hours_to_50']} h, 90 % by "
            f"{answer['hours_to_90']} h, all by {answer['hours_to_100']} h; wait mean "
            f"{answer['mean_wait_minutes']} min, 90th percentile {answer['p90_wait_minutes']} "
            f"min, longest {answer['longest_wait_minutes']} min (target "
            f"{QUEUE_TARGET_MINUTES:g}); longest queue {answer['longest_queue']} people."
        )

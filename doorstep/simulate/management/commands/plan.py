"""``doorstep plan``: the smallest staffing for a day, or when a running round will finish.

    doorstep plan --residents 100000            lanes and door-to-door teams that meet the 6 h
                                                sampling target on 9 days in 10 (simulated)
    doorstep plan --town 中北镇                  the same for a town's own roster
    doorstep plan --residents 20000 --lanes 24 --door-teams 20
                                                this staffing's forecast, and what to add where
    doorstep plan --campaign 3                  a running round: when each site finishes at the
                                                last hour's pace, and with one more lane

The search plays whole days of the simulator's model (nothing is written) over ``--days``
random seeds; ``doorstep simulate`` then plays the chosen staffing through the real system.
"""

from __future__ import annotations

import contextlib
import json
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from doorstep.campaigns.models import Campaign
from doorstep.simulate import day, forecast, plan, system
from doorstep.territory.models import Community, Town


class Command(BaseCommand):
    help = "Plan the staffing of a campaign day by simulating it, or forecast a running round."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--residents", type=int, help="a town of this many (synthetic)")
        parser.add_argument("--town", help="the town whose roster to plan for")
        parser.add_argument("--campaign", type=int, help="a running round to forecast")
        parser.add_argument("--lanes", type=int, help="forecast this many lanes instead")
        parser.add_argument("--door-teams", type=int)
        parser.add_argument("--days", type=int, default=5, help="random days per staffing")
        parser.add_argument("--confidence", type=float, default=0.9)
        parser.add_argument("--per-hour", type=float, default=day.Behaviour.per_hour)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: object, **options: object) -> None:
        if options["campaign"]:
            return self._pace(int(options["campaign"]), bool(options["json"]))  # type: ignore[call-overload]
        shape = self._shape(options)
        behaviour = day.Behaviour(per_hour=float(options["per_hour"]))  # type: ignore[arg-type]
        quiet = bool(options["json"])
        planner = plan.Planner(
            shape,
            behaviour,
            days=int(options["days"]),  # type: ignore[call-overload]
            confidence=float(options["confidence"]),  # type: ignore[arg-type]
            workers=int(options["workers"]),  # type: ignore[call-overload]
            progress=(lambda line: None) if quiet else self.stdout.write,
        )
        began = time.perf_counter()
        given = None
        with contextlib.closing(planner):
            if options["lanes"]:
                teams = int(options["door_teams"] or len(shape.communities))  # type: ignore[call-overload]
                try:
                    given = planner.trial(day.Staffing.spread(shape, int(options["lanes"]), teams))  # type: ignore[call-overload]
                except ValueError as exc:
                    raise CommandError(str(exc)) from exc
            try:
                best = planner.smallest()
                machines, _lab = planner.lab(best.staffing)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        seconds = time.perf_counter() - began
        self._report(shape, best, given, seconds, quiet, machines, behaviour.lab_machines)

    def _shape(self, options: dict[str, object]) -> day.Shape:
        if options["town"]:
            town = Town.objects.filter(name=options["town"]).first()
            if town is None:
                raise CommandError(f"No town called {options['town']}.")
            return system.shape_of(list(Community.objects.filter(town=town).order_by("pk")))
        if not options["residents"]:
            raise CommandError("Say what to plan: --residents N, --town NAME or --campaign ID.")
        people = int(options["residents"])  # type: ignore[call-overload]
        if people < 100:
            raise CommandError("--residents: at least 100.")
        return day.synthetic(people)

    def _report(
        self,
        shape: day.Shape,
        best: plan.Trial,
        given: plan.Trial | None,
        seconds: float,
        as_json: bool,
        machines: int,
        assumed_machines: int,
    ) -> None:
        staffing, median = best.staffing, best.median
        answer = {
            "residents": shape.people,
            "lanes": sum(staffing.lanes),
            "door_teams": sum(staffing.door_teams),
            "staff": staffing.people + 2 * len(shape.communities),
            "days_meeting_target": best.met,
            "days": len(best.forecasts),
            "per_community": [
                {"community": name, "lanes": lanes, "door_teams": teams}
                for name, lanes, teams in plan.spread_summary(shape, staffing)
            ],
            "median_day": median.as_json(),
            "lab_machines": machines,
            "seconds": round(seconds, 1),
        }
        if given is not None:
            answer["given"] = {
                "lanes": sum(given.staffing.lanes),
                "door_teams": sum(given.staffing.door_teams),
                "days_meeting_target": given.met,
                "median_day": given.median.as_json(),
                "add": [
                    {
                        "community": c.name,
                        "lanes": staffing.lanes[i] - given.staffing.lanes[i],
                        "door_teams": staffing.door_teams[i] - given.staffing.door_teams[i],
                    }
                    for i, c in enumerate(shape.communities)
                ],
            }
        if as_json:
            self.stdout.write(json.dumps(answer, ensure_ascii=False))
            return
        self.stdout.write(
            f"\nThe smallest staffing found for {shape.people:,} residents: {answer['lanes']} lanes "
            f"and {answer['door_teams']} door-to-door teams of {staffing.door_team_size} "
            f"({answer['staff']:,} people with the home-sampling pairs); the 6 h target met on "
            f"{best.met} of {len(best.forecasts)} simulated days. Found in {seconds:.0f} s."
        )
        self.stdout.write("\nThe median day:\n" + forecast.table(median))
        self.stdout.write(
            f"\nThe lab: {machines} machines (plates of {day.Behaviour.plate_tubes}, "
            f"{day.Behaviour.run_minutes:g} min a run) get every tube resulted within 6 h of "
            f"receipt; the day above assumed {assumed_machines}."
        )
        if given is not None:
            self.stdout.write(
                f"\nThe staffing given ({answer['given']['lanes']} lanes, "  # type: ignore[index]
                f"{answer['given']['door_teams']} teams) met the target on {given.met} of "  # type: ignore[index]
                f"{len(given.forecasts)} days. What to add where:"
            )
            for row in answer["given"]["add"]:  # type: ignore[index]
                if row["lanes"] or row["door_teams"]:
                    self.stdout.write(
                        f"  {row['community']}: {row['lanes']:+d} lanes, {row['door_teams']:+d} teams"
                    )

    def _pace(self, campaign_id: int, as_json: bool) -> None:
        campaign = Campaign.objects.filter(pk=campaign_id).first()
        if campaign is None:
            raise CommandError(f"No round {campaign_id}.")
        now = timezone.now()
        rows = plan.pace(campaign, now)
        found = [
            {
                "site": r.site.name,
                "lanes": r.lanes,
                "per_hour": r.per_hour,
                "left": r.left,
                "finish": r.finish.isoformat() if r.finish else None,
                "finish_one_more_lane": r.finish_one_more.isoformat()
                if r.finish_one_more
                else None,
            }
            for r in rows
        ]
        if as_json:
            self.stdout.write(json.dumps(found, ensure_ascii=False))
            return
        for r in found:
            self.stdout.write(
                f"{r['site']}: {r['lanes']} lanes, {r['per_hour']} in the last hour, {r['left']} left; "
                f"done {r['finish'] or 'never at this pace'}, with one more lane "
                f"{r['finish_one_more_lane'] or '-'}"
            )

"""``doorstep plan``: the smallest staffing for a day, or when a running round will finish.

    doorstep plan --residents 100000            lanes and door-to-door teams that meet the 6 h
                                                sampling target on 9 days in 10 (simulated)
    doorstep plan --town 中北镇                  the same for a town's own roster
    doorstep plan --residents 20000 --lanes 24 --door-teams 20
                                                this staffing's forecast, and what to add where
    doorstep plan --campaign 3                  a running round: when each site finishes at the
                                                last hour's pace, and with one more lane

Small neighbouring communities share a site, its lanes and its door-to-door teams when that is
cheaper (``doorstep.planning.sharing``): a run of neighbours in the town's community order (the
territory holds no map) shares one site of at most 3,000 people (F1.4g); a community bigger than
that keeps its own. ``--no-sharing`` plans one site per community, as before. The output says
which communities share which site and each lane's load against what it can swab in an hour.

The day's summary judges the 6 h and 24 h targets once (``doorstep.planning.targets``) and
every line about them is derived from those verdicts.

The search plays whole days of the simulator's model (nothing is written) over ``--days``
random seeds; ``doorstep simulate`` then plays the chosen staffing through the real system.
"""

from __future__ import annotations

import contextlib
import json
import math
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from doorstep.campaigns.models import Campaign
from doorstep.planning import sharing, targets
from doorstep.simulate import day, forecast, plan, system
from doorstep.territory.models import Community, Town

NEIGHBOURS = (
    "Neighbours are the communities next to each other in the town's community order (the "
    "order they were entered): the territory holds no map."
)


def figures(f: forecast.Forecast) -> targets.DayFigures:
    """A forecast's figures, as the targets are judged on them."""
    return targets.DayFigures(
        residents=f.people,
        sampled=f.sampled,
        sampled_by_target=f.sampled_by_target,
        last_swab_hours=f.last_sampled_hours,
        tubes=f.tubes,
        tubes_unresulted=f.tubes_unresulted,
        last_result_hours=f.last_result_hours,
    )


def merged(shape: day.Shape, sites: list[sharing.SharedSite]) -> day.Shape:
    """The town as the day sees it when each shared site is one place: a site's communities'
    buildings in the town's order, walked by the site's door teams, its people queueing at its
    lanes. The site carries the name of the community it stands in."""
    communities = []
    for site in sites:
        members = [shape.communities[i] for i in site.members]
        host = members[site.host]
        communities.append(
            day.Community(host.id, host.name, [b for c in members for b in c.buildings])
        )
    return day.Shape(communities, shape.codes)


def pace(b: day.Behaviour) -> sharing.Pace:
    """What a lane's load is reckoned on: its pace, the arrival window, the share who come."""
    return sharing.Pace(b.per_hour, b.arrival_hours, 1 - b.no_show)


def sites_of(town: day.Shape, b: day.Behaviour, share: bool = True) -> list[sharing.SharedSite]:
    """The town's sites: neighbours sharing where that is cheaper, or one per community."""
    named = [(c.name, c.people) for c in town.communities]
    return sharing.share_sites(named, pace(b)) if share else sharing.separate_sites(named)


def smallest(planner: plan.Planner, sites: list[sharing.SharedSite]) -> plan.Trial:
    """``Planner.smallest``'s two steps with the lanes given to the sites by need
    (``sharing.spread_lanes``: each site at least the fewest lanes within their capacity, so
    that no lane takes more arrivals an hour than it swabs) rather than by people alone, which
    starves a big site beside small ones. Lanes first, with door teams to spare (twice the
    on-paper figure); then the fewest door teams that still meet the target with those lanes."""
    shape, b = planner.shape, planner.behaviour
    households = sum(len(bl.households) for c in shape.communities for bl in c.buildings)
    # On paper: a team's three canvassers reach 3 x 60 / (minutes a household) households an
    # hour, climbing aside (as ``Planner.smallest``).
    on_paper = math.ceil(households * b.household_minutes * 1.5 / 3 / 60 / plan.DOOR_HOURS)
    spare = day.share(shape, max(len(sites), 2 * on_paper))
    # From the town's lanes on paper (where ``Planner.smallest`` starts), or more if a site needs
    # more to keep each lane within what it swabs an hour.
    low = max(
        sum(sharing.lanes_needed(sites, pace(b))),
        sharing.lanes_on_paper(shape.people, pace(b)),
    )
    by_lanes = planner.fewest(
        lambda n: day.Staffing(sharing.spread_lanes(sites, n, pace(b)), spare), low
    )
    lanes = by_lanes.staffing.lanes
    return planner.fewest(
        lambda n: day.Staffing(lanes, day.share(shape, n)), max(len(sites), on_paper // 2)
    )


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
        parser.add_argument(
            "--no-sharing",
            action="store_true",
            help="one site, with its own lanes and door teams, per community",
        )
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: object, **options: object) -> None:
        if options["campaign"]:
            return self._pace(int(options["campaign"]), bool(options["json"]))  # type: ignore[call-overload]
        town = self._shape(options)
        behaviour = day.Behaviour(per_hour=float(options["per_hour"]))  # type: ignore[arg-type]
        sites = sites_of(town, behaviour, share=not options["no_sharing"])
        shape = merged(town, sites)
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
                lanes = int(options["lanes"])  # type: ignore[call-overload]
                try:
                    given = planner.trial(
                        day.Staffing(
                            sharing.spread_lanes(sites, lanes, pace(behaviour)),
                            day.share(shape, teams),
                        )
                    )
                except ValueError as exc:
                    raise CommandError(str(exc)) from exc
            try:
                best = smallest(planner, sites)
                machines, _lab = planner.lab(best.staffing)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        seconds = time.perf_counter() - began
        self._report(
            town, sites, behaviour, best, given, seconds, quiet, machines, behaviour.lab_machines
        )

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
        town: day.Shape,
        sites: list[sharing.SharedSite],
        behaviour: day.Behaviour,
        best: plan.Trial,
        given: plan.Trial | None,
        seconds: float,
        as_json: bool,
        machines: int,
        assumed_machines: int,
    ) -> None:
        staffing, median = best.staffing, best.median
        tally = targets.Tally.of([figures(f) for f in best.forecasts])
        sampling, whole_day = targets.judge(figures(median))
        loads = [
            sharing.Load(site, staffing.lanes[k], pace(behaviour)) for k, site in enumerate(sites)
        ]
        median_day = median.as_json()
        # The median day's verdicts are the targets' own (one definition of each, in
        # ``planning.targets``), so that nothing in the answer says otherwise.
        median_day["sampling_target_met"] = sampling.met
        median_day["day_target_met"] = whole_day.met
        answer: dict[str, object] = {
            "residents": town.people,
            "communities": len(town.communities),
            "lanes": sum(staffing.lanes),
            "door_teams": sum(staffing.door_teams),
            "staff": staffing.people + 2 * len(sites),
            "days_meeting_target": tally.sampling,
            "days_meeting_day_target": tally.day,
            "days": tally.days,
            "targets": {
                "sampling": {**sampling.as_json(), "days_met": tally.sampling},
                "day": {**whole_day.as_json(), "days_met": tally.day},
                "never_came": figures(median).never_came,
            },
            "neighbours": "the town's community order",
            "sites": [
                {
                    "site": site.name,
                    "communities": list(site.names),
                    "residents": site.residents,
                    "lanes": load.lanes,
                    "door_teams": staffing.door_teams[k],
                    "arrivals_per_lane_hour": round(load.per_lane_hour, 1),
                    "lane_per_hour": load.pace.per_hour,
                    "within_capacity": load.within,
                }
                for k, (site, load) in enumerate(zip(sites, loads, strict=True))
            ],
            "per_community": [
                {
                    "community": name,
                    "site": site.name,
                    "shared_with": [other for other in site.names if other != name],
                    "lanes": staffing.lanes[k],
                    "door_teams": staffing.door_teams[k],
                }
                for k, site in enumerate(sites)
                for name in site.names
            ],
            "median_day": median_day,
            "lab_machines": machines,
            "seconds": round(seconds, 1),
        }
        if given is not None:
            answer["given"] = {
                "lanes": sum(given.staffing.lanes),
                "door_teams": sum(given.staffing.door_teams),
                "days_meeting_target": targets.Tally.of(
                    [figures(f) for f in given.forecasts]
                ).sampling,
                "median_day": given.median.as_json(),
                "add": [
                    {
                        "site": site.name,
                        "communities": list(site.names),
                        "lanes": staffing.lanes[k] - given.staffing.lanes[k],
                        "door_teams": staffing.door_teams[k] - given.staffing.door_teams[k],
                    }
                    for k, site in enumerate(sites)
                ],
            }
        if as_json:
            self.stdout.write(json.dumps(answer, ensure_ascii=False))
            return
        shared = sum(1 for s in sites if s.shared)
        # The days are played with the lab the behaviour assumes; the lab is sized after them.
        lab_note = (
            f" (the days played had {assumed_machines} lab machines; the lab is sized below)"
            if tally.day < tally.days
            else ""
        )
        self.stdout.write(
            f"\nThe smallest staffing found for {town.people:,} residents in "
            f"{len(town.communities)} communities: {answer['lanes']} lanes at {len(sites)} "
            f"site{'s' if len(sites) != 1 else ''} and {answer['door_teams']} door-to-door teams of {staffing.door_team_size} "
            f"({answer['staff']:,} people with the home-sampling pairs); {tally.line()}"
            f"{lab_note}. Found in {seconds:.0f} s."
        )
        self.stdout.write(
            f"\nSites ({shared} shared by neighbouring communities; a shared site serves at most "
            f"{sharing.SITE_PEOPLE:,} people). {NEIGHBOURS} A lane swabs "
            f"{behaviour.per_hour:g} people an hour:"
        )
        for k, (site, load) in enumerate(zip(sites, loads, strict=True)):
            who = f"shared by {', '.join(site.names)}" if site.shared else f"{site.names[0]} alone"
            self.stdout.write(
                f"  {site.name}采样点, {who}: {site.residents:,} residents, {load.lanes} lanes "
                f"(about {load.per_lane_hour:.0f} arrivals an hour each, "
                f"{'within' if load.within else 'OVER'} capacity), "
                f"{staffing.door_teams[k]} door teams"
            )
        self.stdout.write("\nThe median day:\n" + self._day(median))
        self.stdout.write(
            f"\nThe lab: {machines} machine{'s' if machines != 1 else ''} (plates of "
            f"{day.Behaviour.plate_tubes}, {day.Behaviour.run_minutes:g} min a run) "
            f"{'get' if machines != 1 else 'gets'} every tube resulted within 6 h of "
            f"receipt; the day above assumed {assumed_machines}."
        )
        if given is not None:
            add = answer["given"]
            self.stdout.write(
                f"\nThe staffing given ({add['lanes']} lanes, "  # type: ignore[index]
                f"{add['door_teams']} teams) met the 6 h sampling target on "  # type: ignore[index]
                f"{add['days_meeting_target']} of {len(given.forecasts)} days. What to add where:"  # type: ignore[index]
            )
            for row in add["add"]:  # type: ignore[index]
                if row["lanes"] or row["door_teams"]:
                    self.stdout.write(
                        f"  {row['site']}采样点 ({', '.join(row['communities'])}): "
                        f"{row['lanes']:+d} lanes, {row['door_teams']:+d} teams"
                    )

    @staticmethod
    def _day(f: forecast.Forecast) -> str:
        """The day's table, its target lines derived from ``planning.targets``."""

        def at(value: float | None) -> str:
            return "not reached" if value is None else f"{value:.2f} h"

        stage, why = f.bottleneck()
        lines = [
            f"Residents {f.people:,}; sampled {f.sampled:,} "
            f"({100 * f.sampled / max(f.people, 1):.1f} %), walk-ins {f.walk_ins:,}",
            f"Sampled 50 % at {at(f.hours_to['50'])}, 90 % at {at(f.hours_to['90'])}, "
            f"100 % at {at(f.hours_to['100'])} (of the roster)",
            *targets.lines(figures(f)),
            f"Door to door: {f.households_by_hours['5']:,} of {f.households:,} households by "
            f"5 h, {f.households_by_hours['9']:,} by 9 h, the last at {at(f.door_hours)}",
            f"Tubes {f.tubes:,}: {f.tubes_late} reached the lab after 4 h, {f.results_late} "
            f"resulted more than 6 h after receipt; positives found by retest {f.positives_found}",
            f"Staff {f.staff:,}, {f.staff_hours:,.1f} staff hours",
            f"Bottleneck: {stage} ({why})",
            "",
            f"{'site':<16} {'lanes':>5} {'sampled':>8} {'longest queue':>14} {'mean wait':>10} "
            f"{'longest':>8}",
        ]
        for s in f.sites:
            mean = "" if s.mean_wait is None else f"{s.mean_wait:.1f} min"
            longest = "" if s.longest_wait is None else f"{s.longest_wait:.0f} min"
            lines.append(
                f"{s.name:<16} {s.lanes:>5} {s.sampled:>8,} {s.longest_queue:>14,} {mean:>10} "
                f"{longest:>8}"
            )
        return "\n".join(lines)

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

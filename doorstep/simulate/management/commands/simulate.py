"""``doorstep simulate``: play a campaign day through Doorstep itself, in simulated time.

    doorstep simulate --residents 3000 --lanes 12 --door-teams 12
    doorstep simulate --residents 100000 --lanes 20 --door-teams 60 --hours 24 --json
    doorstep simulate --residents 20000 --lanes 24 --speed 60 --serve 8010   watch it at 60x

It builds a town of its own (flagged as demo data), starts a round, calls up the staff and plays
the day: muster, door to door, the lanes' scans over the device API, boxes, couriers, the lab's
results and the retests, every step through the actions and API the pages and devices use. At
the end it prints the forecast read back from the database: a table, or JSON, and a plot (SVG).
It writes a whole town, so it refuses a database that holds a real one: give it a database of
its own (``DOORSTEP_HOME=$(mktemp -d)``, or another ``DATABASE_URL``).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from doorstep.core.models import User
from doorstep.demo.terminal import Progress, Step
from doorstep.simulate import day, forecast, system
from doorstep.simulate.run import STEPS, Result, serve, simulate
from doorstep.territory.queries import real_towns


def next_morning() -> dt.datetime:
    """07:00 tomorrow in the server's zone: the day a district would rehearse for."""
    zone = ZoneInfo(settings.TIME_ZONE)
    tomorrow = dt.datetime.now(zone).date() + dt.timedelta(days=1)
    return dt.datetime.combine(tomorrow, dt.time(7), tzinfo=zone)


class Command(BaseCommand):
    help = "Play a campaign day through Doorstep in simulated time and print its forecast."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--residents", type=int, default=3000)
        parser.add_argument("--lanes", type=int, help="lanes in all (default: one per 700 people)")
        parser.add_argument("--door-teams", type=int, help="door-to-door teams of 4 in all")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--hours", type=float, default=36.0, help="stop the day after this")
        parser.add_argument("--speed", type=float, default=0.0, help="x real time; 0: at once")
        parser.add_argument("--serve", type=int, help="serve the pages on this port meanwhile")
        parser.add_argument("--start", help="the round's start (ISO), default 07:00 tomorrow")
        parser.add_argument("--pool", type=int, default=day.Behaviour.pool, choices=(5, 10, 20))
        parser.add_argument("--per-hour", type=float, default=day.Behaviour.per_hour)
        parser.add_argument("--positive-rate", type=float, default=day.Behaviour.positive_rate)
        parser.add_argument("--drill", action="store_true", help="mark the round as a drill")
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--svg", help="write the plot of sampled people here")

    def handle(self, *args: object, **options: object) -> None:
        # The steps on stderr, so stdout stays the forecast (a table, or JSON); the stream
        # itself, as the command's wrapper ends every write with a new line.
        progress = Progress(1 + len(STEPS), getattr(self.stderr, "_out", sys.stderr))
        progress(Step("the database's tables"))
        call_command("migrate", verbosity=0)
        progress.clear()
        real = real_towns()
        if real:
            raise CommandError(
                f"This database holds real towns ({', '.join(real)}). The simulator writes a town "
                "of its own: run it on a database of its own, e.g. DOORSTEP_HOME=$(mktemp -d) "
                "doorstep simulate ..."
            )
        residents = int(options["residents"])  # type: ignore[call-overload]
        if residents < 100:
            raise CommandError("--residents: at least 100.")
        given_lanes, given_teams = options["lanes"], options["door_teams"]
        lanes = given_lanes if isinstance(given_lanes, int) else max(12, round(residents / 700))
        teams = given_teams if isinstance(given_teams, int) else max(12, round(residents / 2500))
        start = next_morning()
        if options["start"]:
            try:
                start = dt.datetime.fromisoformat(str(options["start"]))
            except ValueError as exc:
                raise CommandError(f"--start: {exc}; e.g. 2026-12-05T07:00+08:00") from exc
            if start.tzinfo is None:
                raise CommandError("--start needs its UTC offset, e.g. 2026-12-05T07:00+08:00")
        behaviour = day.Behaviour(
            pool=int(options["pool"]),  # type: ignore[call-overload]
            per_hour=float(options["per_hour"]),  # type: ignore[arg-type]
            positive_rate=float(options["positive_rate"]),  # type: ignore[arg-type]
        )
        quiet = bool(options["json"])

        def say(line: str) -> None:
            if not quiet:
                progress.clear()
                self.stdout.write(line)

        def watch(setup: system.Setup) -> None:
            if options["serve"]:
                password = secrets.token_urlsafe(9)
                commander = User.objects.get(username=f"sim-commander-{setup.town.pk}")
                commander.set_password(password)
                commander.save(update_fields=["password"])
                serve(int(options["serve"]))  # type: ignore[call-overload]
                say(
                    f"Watch at http://127.0.0.1:{options['serve']}/command/ as "
                    f"{commander.username} / {password}"
                )

        try:
            result = simulate(
                residents,
                lanes,
                teams,
                behaviour=behaviour,
                seed=int(options["seed"]),  # type: ignore[call-overload]
                start=start,
                hours=float(options["hours"]),  # type: ignore[arg-type]
                speed=float(options["speed"]),  # type: ignore[arg-type]
                drill=bool(options["drill"]),
                progress=progress,
                before_play=watch,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            progress.clear()
        if options["svg"]:
            Path(str(options["svg"])).write_text(
                forecast.svg(
                    forecast.swab_hours_from_database(result.setup.campaign),
                    result.forecast.people,
                    result.setup.campaign.name,
                )
            )
        self._report(result, quiet)

    def _report(self, result: Result, as_json: bool) -> None:
        run = {
            "campaign": result.setup.campaign.pk,
            "lanes": sum(result.staffing.lanes),
            "door_teams": sum(result.staffing.door_teams),
            "build_seconds": round(result.build_seconds, 1),
            "play_seconds": round(result.play_seconds, 1),
            "requests": result.requests,
            "events": result.events,
            "events_per_second": round(result.events_per_second, 1),
            "refusals": [vars(r) for r in result.refusals[:20]],
            "refused": len(result.refusals),
        }
        if as_json:
            self.stdout.write(json.dumps({"run": run, "forecast": result.forecast.as_json()}))
        else:
            self.stdout.write(forecast.table(result.forecast))
            self.stdout.write(
                f"\nPlayed in {run['play_seconds']} s (town built in {run['build_seconds']} s): "
                f"{result.requests:,} API requests, {result.events:,} device events, "
                f"{run['events_per_second']:,} events/s through the real ingest."
            )
            for refusal in result.refusals[:20]:
                self.stdout.write(
                    f"REFUSED at {refusal.minute:.0f} min, {refusal.step}: {refusal.answer}"
                )
        if result.refusals:
            raise CommandError(f"{len(result.refusals)} steps were refused (see above).")

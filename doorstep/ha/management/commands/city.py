"""``doorstep city``: a city's deployment on this machine, for a demo, a drill or a benchmark.

    doorstep city up [--dir DIR] [--lanes 2] [--residents 1] [--demo 3000]
                     HAProxy at the edge, lane and residents' nodes (doorstep serve), PgBouncer,
                     three PostgreSQL nodes under Patroni with pgBackRest; --demo builds a demo
                     town of that many residents and serves it with the demo's logins
    doorstep city status            what the edge sees of every node, and the database's nodes
    doorstep city kill NODE         kill an app node (lane1, res1...) or a database node
                                    (node1..., or "primary") as a dead machine would
    doorstep city start NODE        start it again
    doorstep city down              stop everything and remove the folder

The layout and its limits are in ``doorstep.ha.city`` and docs/operators-guide.md.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from doorstep.ha import drill
from doorstep.ha.city import City
from doorstep.ha.cluster import Missing, NotReady, default_dir


def _default() -> Path:
    return default_dir().with_name(default_dir().name.replace("-ha-", "-city-"))


class Command(BaseCommand):
    help = "Run a city's deployment (edge, app nodes, pooler, database cluster) on this machine."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["up", "status", "kill", "start", "down"])
        parser.add_argument("node", nargs="?", help="kill/start: lane1, res1, node1... or primary")
        parser.add_argument("--dir", default=str(_default()), help="where the city lives")
        parser.add_argument("--lanes", type=int, default=2, help="lane nodes (devices, staff)")
        parser.add_argument("--residents", type=int, default=1, help="residents' nodes")
        parser.add_argument(
            "--demo", type=int, default=0, metavar="RESIDENTS", help="build a demo town"
        )

    def handle(self, *args: object, **options: object) -> None:
        root = Path(str(options["dir"]))
        action = str(options["action"])
        try:
            if action == "up":
                self.up(root, options)
                return
            try:
                city = City.load(root)
            except FileNotFoundError:
                raise CommandError(
                    f"No city in {root}: start one with `doorstep city up`."
                ) from None
            if action == "status":
                self.status(city)
            elif action == "down":
                city.remove()
                self.stdout.write(f"Stopped and removed the city in {root}.")
            else:
                self.kill_or_start(city, action, str(options["node"] or ""))
        except (Missing, NotReady, FileExistsError, PermissionError, KeyError) as exc:
            raise CommandError(str(exc)) from None

    def up(self, root: Path, options: dict[str, object]) -> None:
        lanes, residents = int(options["lanes"]), int(options["residents"])  # type: ignore[call-overload]
        if lanes < 1 or residents < 1:
            raise CommandError("A city needs at least one lane node and one residents' node.")
        started = time.monotonic()
        city = City.create(root, lanes=lanes, residents=residents)
        demo = int(options["demo"])  # type: ignore[call-overload]
        city.demo = demo > 0

        def prepare(c: City) -> None:
            if demo:
                drill.doorstep(["demo", "--residents", str(demo), "--no-serve"], c.direct_env())

        try:
            city.start(prepare=prepare)
        except BaseException:
            city.remove()
            raise
        self.stdout.write(f"The city is up in {time.monotonic() - started:.0f} s, in {root}.\n")
        self.status(city)
        self.stdout.write(
            f"\nOpen http://127.0.0.1:{city.edge}/ (the edge). Drill: `doorstep city kill lane1`, "
            "`doorstep city kill primary`, then `doorstep city start NODE`; "
            "`doorstep city down` removes it all.\n"
            f"Commands against its database: DATABASE_URL={city.url()} (through PgBouncer)."
        )

    def status(self, city: City) -> None:
        self.stdout.write(f"edge http://127.0.0.1:{city.edge}/   PgBouncer 127.0.0.1:{city.pooler}")
        self.stdout.write(f"{'backend':<12} {'server':<8} status")
        for row in city.edge_servers():
            self.stdout.write(f"{row['backend']:<12} {row['server']:<8} {row['status']}")
        for name, alive in city.alive().items():
            if not alive:
                self.stdout.write(f"{name}: not running")

    def kill_or_start(self, city: City, action: str, name: str) -> None:
        if not name:
            raise CommandError(f"Name the node, for example: doorstep city {action} lane1")
        cluster = city.cluster
        if name == "primary":
            primary = cluster.primary()
            if primary is None:
                raise CommandError("There is no primary; see `doorstep city status`.")
            name = primary.name
        if name in {n.name for n in cluster.nodes}:
            node = cluster.node(name)
            if action == "kill":
                started = time.monotonic()
                was_primary = node is cluster.primary()
                cluster.kill(node)
                self.stdout.write(f"Killed database node {name}.")
                if was_primary:
                    new = cluster.wait_primary(60, other_than=node)
                    self.stdout.write(
                        f"{new.name} is the primary after {time.monotonic() - started:.1f} s."
                    )
            else:
                cluster.start_node(node)
                cluster.wait_healthy(90)
                self.stdout.write(f"Started database node {name}.")
            return
        app = city.app(name)
        if action == "kill":
            city.kill_app(app)
            self.stdout.write(f"Killed {name}: the edge sends its requests to the others.")
        else:
            city.start_app(app)
            city.wait_app(app)
            city.wait_up(30)
            self.stdout.write(f"Started {name}: the edge sends to it again.")
        self.status(city)

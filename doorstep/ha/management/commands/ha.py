"""``doorstep ha``: a highly available database on this machine, for a demo or a drill.

    doorstep ha up [--dir var/ha] [--async]   three PostgreSQL nodes with Patroni and etcd
    doorstep ha status                        who is primary, who is synchronous, the lag
    doorstep ha kill [NODE]                   kill a node as a dead machine would (the primary
                                              by default) and time the failover
    doorstep ha start NODE                    bring a killed node back (it rejoins as a standby)
    doorstep ha down                          stop everything and remove the folder

``up`` prints the DATABASE_URL to export: it lists the three nodes, and libpq connects to the
primary, whichever it is.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from doorstep.ha.cluster import Cluster, Missing, NotReady, default_dir


class Command(BaseCommand):
    help = (
        "Run a three-node PostgreSQL cluster (Patroni, etcd) on this machine for a demo or a drill."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["up", "status", "kill", "start", "down"])
        parser.add_argument("node", nargs="?", help="kill/start: the node's name (node1...)")
        parser.add_argument(
            "--dir",
            default=str(default_dir()),
            help="where the cluster lives (its data, configuration and logs)",
        )
        parser.add_argument(
            "--async",
            dest="asynchronous",
            action="store_true",
            help="asynchronous replication: the control that can lose acknowledged writes",
        )

    def handle(self, *args: object, **options: object) -> None:
        root = Path(str(options["dir"]))
        action = str(options["action"])
        try:
            if action == "up":
                self.up(root, synchronous=not options["asynchronous"])
                return
            cluster = self.existing(root)
            if action == "status":
                self.status(cluster)
            elif action == "kill":
                self.kill(cluster, options["node"])  # type: ignore[arg-type]
            elif action == "start":
                if not options["node"]:
                    raise CommandError(
                        "Name the node to start, for example: doorstep ha start node1"
                    )
                cluster.start_node(cluster.node(str(options["node"])))
                cluster.wait_healthy(90)
                self.status(cluster)
            else:
                cluster.remove()
                self.stdout.write(f"Stopped and removed the cluster in {root}.")
        except (Missing, NotReady, FileExistsError, PermissionError) as exc:
            raise CommandError(str(exc)) from None

    @staticmethod
    def existing(root: Path) -> Cluster:
        try:
            return Cluster.load(root)
        except FileNotFoundError:
            raise CommandError(f"No cluster in {root}: start one with `doorstep ha up`.") from None

    def up(self, root: Path, synchronous: bool) -> None:
        started = time.monotonic()
        cluster = Cluster.create(root, synchronous=synchronous)
        try:
            cluster.start()
            cluster.create_database("doorstep")
        except BaseException:
            cluster.remove()
            raise
        self.stdout.write(
            f"A {'synchronous' if synchronous else 'asynchronous (control)'} cluster of "
            f"{len(cluster.nodes)} nodes is up in {time.monotonic() - started:.0f} s, in {root}.\n"
        )
        self.status(cluster)
        self.stdout.write(
            "\nPoint Doorstep at it (every node is listed; libpq finds the primary):\n\n"
            f"    export DATABASE_URL='{cluster.url()}'\n"
            "    doorstep migrate && doorstep serve\n\n"
            "Read the dashboard and the public status from a standby (optional):\n\n"
            f"    export DATABASE_STANDBY_URL='{cluster.node_url(cluster.standbys()[0])}'\n\n"
            "Watch it: `doorstep ha status` (or `patronictl -c "
            f"{root / 'node1.yml'} list`). Drill: `doorstep ha kill` kills the primary's node "
            "and times the failover; `doorstep ha start NODE` brings it back; "
            "`doorstep ha down` removes it all."
        )

    def status(self, cluster: Cluster) -> None:
        members = cluster.members()
        if not members:
            self.stdout.write("No node answers: the cluster is stopped.")
            return
        by_name = {m["name"]: m for m in members}
        self.stdout.write(f"{'node':<7} {'port':>6}  {'role':<13} {'state':<10} lag")
        for node in cluster.nodes:
            member = by_name.get(node.name, {})
            role = {"leader": "primary", "sync_standby": "sync standby"}.get(
                member.get("role", ""), member.get("role", "down")
            )
            lag = member.get("lag", "")
            self.stdout.write(
                f"{node.name:<7} {node.port:>6}  {role:<13} {member.get('state', '-'):<10} {lag}"
            )
        if cluster.synchronous and not cluster.sync_standbys():
            self.stdout.write(
                "No synchronous standby: writes wait until one is back (nothing is acknowledged "
                "that only one machine holds)."
            )

    def kill(self, cluster: Cluster, name: str | None) -> None:
        victim = cluster.node(name) if name else cluster.primary()
        if victim is None:
            raise CommandError("There is no primary to kill; see `doorstep ha status`.")
        was_primary = victim is cluster.primary()
        started = time.monotonic()
        cluster.kill(victim)
        self.stdout.write(f"Killed {victim.name} (Patroni and PostgreSQL, SIGKILL).")
        if was_primary:
            new = cluster.wait_primary(60, other_than=victim)
            self.stdout.write(
                f"{new.name} is the primary after {time.monotonic() - started:.1f} s."
            )
        self.status(cluster)

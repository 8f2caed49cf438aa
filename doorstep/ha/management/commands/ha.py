"""``doorstep ha``: a highly available database on this machine, for a demo or a drill.

    doorstep ha up [--dir var/ha] [--async]   three PostgreSQL nodes with Patroni and etcd
        [--archive]                           ...whose every node archives its WAL with
                                              pgBackRest (into DIR/backup)
    doorstep ha status                        who is primary, who is synchronous, the lag
    doorstep ha kill [NODE]                   kill a node as a dead machine would (the primary
                                              by default) and time the failover
    doorstep ha start NODE                    bring a killed node back (it rejoins as a standby)
    doorstep ha backup                        a full backup from the primary, timed
    doorstep ha restore [--to TIME]           restore the newest backup and the archive up
                                              to TIME (default: all of it) into a fresh
                                              folder, started on a free port, timed
    doorstep ha restore --remove              stop and remove the restored copy
    doorstep ha restore --drill               the measured drill: backup, RPO, RTO
    doorstep ha down                          stop everything and remove the folder

``up`` prints the DATABASE_URL to export: it lists the three nodes, and libpq connects to the
primary, whichever it is.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from doorstep.ha.backup import Backups, restore_drill
from doorstep.ha.cluster import Cluster, Missing, NotReady, default_dir


class Command(BaseCommand):
    help = (
        "Run a three-node PostgreSQL cluster (Patroni, etcd) on this machine for a demo or a drill."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "action", choices=["up", "status", "kill", "start", "backup", "restore", "down"]
        )
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
        parser.add_argument(
            "--archive",
            action="store_true",
            help="up: every node archives its WAL into a pgBackRest repository (DIR/backup)",
        )
        parser.add_argument(
            "--to",
            dest="target",
            help="restore: the moment to go back to, ISO 8601 (2026-12-25T10:41:00+08:00; "
            "without an offset, in the server's time zone); default: everything archived",
        )
        parser.add_argument(
            "--into", help="restore: a fresh folder for the restored copy (default DIR/restored)"
        )
        parser.add_argument(
            "--remove", action="store_true", help="restore: stop and remove the restored copy"
        )
        parser.add_argument(
            "--drill",
            action="store_true",
            help="restore: the measured drill (backup, RPO, RTO), best run under load",
        )

    def handle(self, *args: object, **options: object) -> None:
        root = Path(str(options["dir"]))
        action = str(options["action"])
        try:
            if action == "up":
                self.up(root, not options["asynchronous"], bool(options["archive"]))
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
            elif action == "backup":
                self.backup(Backups.of(cluster))
            elif action == "restore":
                self.restore(Backups.of(cluster), options)
            else:
                if cluster.archive is not None:
                    self.remove_restored(Backups.of(cluster))
                cluster.remove()
                self.stdout.write(f"Stopped and removed the cluster in {root}.")
        except (Missing, NotReady, FileExistsError, PermissionError, RuntimeError) as exc:
            raise CommandError(str(exc)) from None

    @staticmethod
    def existing(root: Path) -> Cluster:
        try:
            return Cluster.load(root)
        except FileNotFoundError:
            raise CommandError(f"No cluster in {root}: start one with `doorstep ha up`.") from None

    def up(self, root: Path, synchronous: bool, archive: bool) -> None:
        started = time.monotonic()
        backups = Backups.create_cluster(root, synchronous=synchronous) if archive else None
        cluster = backups.cluster if backups else Cluster.create(root, synchronous=synchronous)
        try:
            cluster.start()
            cluster.create_database("doorstep")
            if backups is not None:
                backups.setup()
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
        if backups is not None:
            self.stdout.write(
                f"\nEvery node archives its WAL into {backups.repo} (pgBackRest, stanza "
                f"doorstep, configuration {backups.config}); a segment is closed at least every "
                f"{cluster.archive_timeout} s. Take a full backup with `doorstep ha backup`; "
                "restore with `doorstep ha restore --to TIME`."
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

    # Backups ----------------------------------------------------------------------------------

    def backup(self, backups: Backups) -> None:
        seconds = backups.backup("full")
        newest = backups.newest_backup()
        size, stored = newest["info"]["size"], newest["info"]["repository"]["delta"]
        self.stdout.write(
            f"Full backup {newest['label']} taken from the primary in {seconds:.1f} s: "
            f"{_mb(size)} of database, {_mb(stored)} in the repository {backups.repo}."
        )
        self.stdout.write(
            f"Backups kept: {', '.join(b['label'] for b in backups.info().get('backup', []))}"
        )

    def restore(self, backups: Backups, options: dict[str, object]) -> None:
        if options["remove"]:
            if not self.remove_restored(backups):
                self.stdout.write("There is no restored copy to remove.")
            return
        if options["drill"]:
            self.stdout.write(json.dumps(restore_drill(backups.cluster, backups), indent=2))
            return
        running = backups.remembered()
        if running is not None:
            raise CommandError(
                f"A restored copy already runs in {running.data} (port {running.port}): "
                "remove it first with `doorstep ha restore --remove`."
            )
        target = _moment(str(options["target"])) if options["target"] else None
        if backups.cluster.primary() is not None:
            # What the primary has committed so far goes into the archive first.
            backups.archive_now()
        else:
            self.stdout.write("No primary answers: restoring from what the archive holds.")
        into = Path(str(options["into"])) if options["into"] else backups.cluster.root / "restored"
        restored = backups.restore(into.resolve(), target)
        backups.remember(restored)
        self.stdout.write(
            f"Restored {'up to ' + target.isoformat() if target else 'everything archived'} "
            f"into {restored.data} and took writes after {restored.seconds:.1f} s (restore "
            "and recovery). It runs on its own, outside Patroni:\n\n"
            f"    export DATABASE_URL='{restored.url()}'\n\n"
            "Remove it with `doorstep ha restore --remove`."
        )

    def remove_restored(self, backups: Backups) -> bool:
        restored = backups.remembered()
        if restored is None:
            return False
        restored.remove()
        backups.forget()
        self.stdout.write(f"Stopped and removed the restored copy in {restored.data}.")
        return True


def _moment(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"--to {text!r} is not a time: write it as 2026-12-25T10:41:00+08:00."
        ) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if moment > timezone.now():
        raise CommandError(f"--to {text} is in the future: nothing is archived after now.")
    return moment


def _mb(size: object) -> str:
    return f"{int(str(size)) / 1e6:.1f} MB"

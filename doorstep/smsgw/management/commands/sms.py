"""``doorstep sms``: a real SMS gateway on this machine (Kannel with a fake SMS centre), for a
demo or a rehearsal of the text messages.

    doorstep sms up [--dir DOORSTEP_HOME/sms] [--failing-prefix 1990]
                                  bearerbox, smsbox and fakesmsc on free loopback ports
    doorstep sms status           which parts run, bearerbox's queue, the last messages the
                                  fake SMS centre got
    doorstep sms down             stop every part (the folder keeps the logs and the store)

``up`` prints the sendsms URL to export as ``DOORSTEP_SMS_URL``. The processes outlive the
command; ``status`` and ``down`` find them again through ``gateway.json`` in the folder.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from doorstep.smsgw.kannel import STATE, Gateway, Missing, NotReady


class Command(BaseCommand):
    help = "Run Kannel (bearerbox, smsbox) with a fake SMS centre on this machine for a demo."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["up", "status", "down", "url"])
        parser.add_argument(
            "--dir",
            default=str(Path(settings.HOME) / "sms"),
            help="where the gateway lives (its configuration, logs and store)",
        )
        parser.add_argument(
            "--failing-prefix",
            default=None,
            help="up: numbers starting with it are refused (sendsms 403, delivery report 16)",
        )
        parser.add_argument(
            "--if-needed",
            action="store_true",
            help="up: a gateway already running in the folder is fine (`make demo` uses it)",
        )

    def handle(self, *args: object, **options: object) -> None:
        folder = Path(str(options["dir"])).resolve()
        action = str(options["action"])
        try:
            if action == "up":
                prefix = options["failing_prefix"]
                if options["if_needed"] and self.running(folder):
                    self.stdout.write(f"The gateway in {folder} already runs.")
                    return
                self.up(folder, str(prefix) if prefix else None)
                return
            gateway = self.existing(folder)
            if action == "url":
                # For scripts: DOORSTEP_SMS_URL=$(doorstep sms url)
                self.stdout.write(gateway.sendsms_url)
            elif action == "status":
                self.status(gateway)
            else:
                gateway.down()
                self.stdout.write(f"Stopped the gateway in {folder} (its logs stay there).")
        except (Missing, NotReady, FileExistsError) as exc:
            raise CommandError(str(exc)) from None

    @staticmethod
    def running(folder: Path) -> bool:
        return (folder / STATE).exists() and any(Gateway.load(folder).status().running.values())

    @staticmethod
    def existing(folder: Path) -> Gateway:
        if not (folder / STATE).exists():
            raise CommandError(f"No gateway in {folder}: start one with `doorstep sms up`.")
        return Gateway.load(folder)

    def up(self, folder: Path, failing_prefix: str | None) -> None:
        if (folder / STATE).exists():
            old = Gateway.load(folder)
            if any(old.status().running.values()):
                raise CommandError(
                    f"A gateway already runs in {folder}: `doorstep sms status`, or "
                    "`doorstep sms down` first."
                )
        started = time.monotonic()
        gateway = Gateway(folder, failing_prefix=failing_prefix)
        gateway.up()
        self.stdout.write(
            f"Kannel is up in {time.monotonic() - started:.1f} s, in {folder}.\n\n"
            "Point Doorstep at it:\n\n"
            f"    export DOORSTEP_SMS_URL='{gateway.sendsms_url}'\n\n"
            "Its delivery reports go to the dlr-url Doorstep gives with each message "
            "(DOORSTEP_SMS_CALLBACK_URL), so Doorstep must be reachable from this machine.\n"
            "What the fake SMS centre received: `doorstep sms status`; the logs are "
            f"{folder}/*.log. `doorstep sms down` stops it."
        )
        if failing_prefix:
            self.stdout.write(f"Numbers starting with {failing_prefix} are refused.")

    def status(self, gateway: Gateway) -> None:
        status = gateway.status()
        parts = ", ".join(f"{part} {'up' if up else 'down'}" for part, up in status.running.items())
        self.stdout.write(f"{parts}\nsendsms: {gateway.sendsms_url}")
        if status.smsc is not None:
            self.stdout.write(
                f"SMS centre: {status.smsc}; messages queued {status.queued}, in the store "
                f"{status.stored}, sent {status.sent}; delivery reports {status.dlr_received}"
            )
        received = gateway.received()
        self.stdout.write(f"The fake SMS centre has received {len(received)} message(s).")
        for receiver, text in received[-5:]:
            self.stdout.write(f"  {receiver}: {text}")

"""``doorstep send-messages``: the sender on its own (``doorstep serve`` also runs one in a
thread of each process). ``--once`` makes one pass and prints what happened."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from doorstep.notices import sender


class Command(BaseCommand):
    help = "Send the text messages waiting in the outbox through the SMS gateway (Kannel)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds between passes (default 1)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.SMS_URL:
            self.stderr.write(
                "DOORSTEP_SMS_URL is not set: messages wait in the outbox (notices still go to "
                "the door at their time). Set it to Kannel's sendsms URL, e.g. "
                "http://127.0.0.1:13013/cgi-bin/sendsms?username=doorstep&password=...; "
                "`doorstep sms up` starts a gateway for a demo and prints it."
            )
        if options["once"]:
            report = sender.send_due()
            self.stdout.write(
                f"accepted {report.accepted}, refused {report.refused}, to retry {report.retry}, "
                f"unknown {report.unknown}, to the door {report.to_door}"
            )
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        self.stdout.write(f"sending through {settings.SMS_URL.split('?')[0] or '(no gateway)'}")
        sender.run(stop, float(options["interval"]))

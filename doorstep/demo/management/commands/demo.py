from __future__ import annotations

import os
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from doorstep.core import demo_logins
from doorstep.demo import town as demo
from doorstep.demo.terminal import Progress, Step, table
from doorstep.territory.models import Town
from doorstep.territory.queries import real_towns


class Command(BaseCommand):
    help = "Build (or reuse) the demo town and serve it on http://127.0.0.1:8000."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--residents", type=int, default=20_000, help="how many residents (default 20000)"
        )
        parser.add_argument(
            "--rebuild", action="store_true", help="start over even if a demo exists"
        )
        parser.add_argument(
            "--no-serve", action="store_true", help="build, print the users, and stop"
        )
        parser.add_argument(
            "--host",
            default="127.0.0.1",
            help="the address to serve on (default 127.0.0.1; 0.0.0.0: every network, with "
            "the address others type in DOORSTEP_ALLOWED_HOSTS)",
        )
        parser.add_argument("--port", type=int, default=8000, help="default 8000")

    def handle(self, *args: object, **options: object) -> None:
        wanted = int(options["residents"])  # type: ignore[call-overload]
        if wanted < 100:
            self.stderr.write("--residents must be at least 100.")
            raise SystemExit(2)
        database = settings.DATABASES["default"]
        self.stdout.write(
            f"Database: {str(database['ENGINE']).rsplit('.', 1)[-1]} {database['NAME']}"
        )
        # The steps on stderr (the stream itself: the command's wrapper ends every write with
        # a new line, and a terminal's progress line is rewritten in place).
        progress = Progress(1 + len(demo.STEPS), getattr(self.stderr, "_out", sys.stderr))
        progress(Step("the database's tables"))
        call_command("migrate", interactive=False, verbosity=0)
        progress.clear()
        real = real_towns()
        if real:
            self.stderr.write(
                f"This database holds real towns ({', '.join(real)}); the demo never goes beside "
                "real data. Point DOORSTEP_HOME or DATABASE_URL at another database."
            )
            raise SystemExit(1)
        found = demo.existing_demo()
        if found and found[1] == wanted and not options["rebuild"]:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Reusing the demo already built here ({found[1]:,} residents); --rebuild starts over."
                )
            )
        else:
            if found or not _empty():
                why = (
                    f"it has {found[1]:,} residents, you asked for {wanted:,}"
                    if found
                    else "the database holds other data"
                )
                if not found and not options["rebuild"]:
                    self.stderr.write(
                        "This database holds data that is not the demo; refusing to erase it. "
                        "Point DOORSTEP_HOME or DATABASE_URL at another database, or pass --rebuild."
                    )
                    raise SystemExit(1)
                self.stdout.write(f"Rebuilding the demo ({why}).")
                call_command("flush", interactive=False, verbosity=0)
            self.stdout.write(f"Building the demo town with {wanted:,} residents…")
            started = time.perf_counter()
            result = demo.build_demo(wanted, progress=progress)
            progress.clear()
            self.stdout.write(
                self.style.SUCCESS(
                    f"Built {result.residents:,} residents in {result.households:,} households and "
                    f"{result.buildings:,} buildings in {time.perf_counter() - started:.1f} s."
                )
            )
        self.stdout.write("\nOne user per role (demo password for all):")
        # Lined up by the columns a terminal gives them: a Chinese role name takes two a character.
        for line in table(demo_logins.demo_users(), gap="  "):
            self.stdout.write(line)
        if options["no_serve"]:
            return
        self.stdout.write(
            f"\nServing on http://{options['host']}:{options['port']}/  (Ctrl+C stops)"
        )
        # The gateway's delivery reports come back to this server (its workers read it).
        os.environ.setdefault("DOORSTEP_SMS_CALLBACK_URL", f"http://127.0.0.1:{options['port']}")
        call_command("serve", host=options["host"], port=options["port"], demo=True)


def _empty() -> bool:
    return not Town.objects.exists()

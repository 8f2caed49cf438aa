from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from doorstep.core.models import User
from doorstep.core.roles import Can
from doorstep.lab.results_file import import_results


class Command(BaseCommand):
    help = "Record lab results from a CSV or XLSX file (tube, result[, ct][, tested_at]): all rows or none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--user", default="", help="the lab login to record them under (default: the system)"
        )

    def handle(self, *args: object, **options: object) -> None:
        path = options["file"]
        assert isinstance(path, Path)
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        user = None
        if options["user"]:
            user = User.objects.filter(username=str(options["user"]), is_active=True).first()
            if user is None or not user.can(Can.RECORD_RESULTS):
                raise CommandError(
                    f"{options['user']!r} is not an active lab user; give a lab login with --user."
                )
        with path.open("rb") as file:
            report = import_results(user, file, path.name)
        if not report.ok:
            for error in report.errors:
                self.stderr.write(error.as_line())
            raise CommandError(report.summary())
        self.stdout.write(self.style.SUCCESS(report.summary()))

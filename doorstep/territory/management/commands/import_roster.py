from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from doorstep.territory.actions import import_roster


class Command(BaseCommand):
    help = "Import a roster (CSV in UTF-8/GBK, or XLSX): all rows or none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--town", required=True, help="the town the roster belongs to")
        parser.add_argument(
            "--district", default="", help="the district a new town belongs to (区), created if new"
        )
        parser.add_argument("--dry-run", action="store_true", help="check the file, write nothing")

    def handle(self, *args: object, **options: object) -> None:
        path = options["file"]
        assert isinstance(path, Path)
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        started = time.perf_counter()
        with path.open("rb") as file:
            report = import_roster(
                str(options["town"]),
                file,
                dry_run=bool(options["dry_run"]),
                filename=path.name,
                district_name=str(options["district"]),
            )
        elapsed = time.perf_counter() - started
        if not report.ok:
            for error in report.errors:
                self.stderr.write(error.as_line())
            raise CommandError(report.summary())
        if report.ignored_columns:
            self.stdout.write(f"ignored columns: {', '.join(report.ignored_columns)}")
        self.stdout.write(self.style.SUCCESS(f"{report.summary()} ({elapsed:.1f} s)"))

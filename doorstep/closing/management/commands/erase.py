"""Erase the personal data of closed towns whose retention period has run out.

    doorstep erase --town 清河街道          # one town (name or id), now
    doorstep erase --due                    # every closed town past its date (the schedule)
    doorstep erase --check --town 清河街道  # what would stop it, changing nothing
    doorstep erase --verify ER-3-202612080930
    doorstep erase --pdf ER-3-202612080930 out.pdf

An erase that stops half-way (a killed process, a full disk) is finished by running the same
command again. Exit status 1 when an erase was refused (each reason is printed), 0 otherwise;
``--due`` refuses nothing: towns not due, or held, are listed and left.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from doorstep.closing import erase, views_data
from doorstep.closing.models import Certificate
from doorstep.territory.models import Closure, Town


class Command(BaseCommand):
    help = "Erase the personal data of a closed town (or every town due) and print its certificate."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--town", help="the town's name or id")
        parser.add_argument("--due", action="store_true", help="every closed town past its date")
        parser.add_argument(
            "--check", action="store_true", help="say what stops it; change nothing"
        )
        parser.add_argument("--by", default="operator", help="who runs it, for the certificate")
        parser.add_argument(
            "--light",
            action="store_true",
            help=(
                "PostgreSQL: plain VACUUM instead of rewriting the erased tables (VACUUM FULL "
                "locks each while it runs); the certificate then says the bytes remain until a "
                "rewrite, and the backups' date counts from that rewrite"
            ),
        )
        parser.add_argument("--verify", metavar="NUMBER", help="check a certificate's signature")
        parser.add_argument(
            "--pdf", nargs=2, metavar=("NUMBER", "FILE"), help="write a certificate as PDF"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verify"]:
            return self._verify(options["verify"])
        if options["pdf"]:
            number, target = options["pdf"]
            cert = self._certificate(number)
            Path(target).write_bytes(views_data.certificate_pdf(cert))
            self.stdout.write(f"{target}: certificate {cert.number}")
            return None
        if options["due"]:
            return self._due(options)
        if not options["town"]:
            raise CommandError("Name a town (--town NAME or id) or pass --due.")
        town = _town(options["town"])
        if options["check"]:
            stops = erase.check(town)
            if stops:
                raise CommandError(f"{town.name} cannot be erased now: " + "; ".join(stops))
            self.stdout.write(f"{town.name} can be erased now.")
            return None
        self._erase(town, options)
        return None

    def _erase(self, town: Town, options: dict[str, Any]) -> Certificate:
        try:
            outcome = erase.erase(town, options["by"], light=options["light"])
        except erase.EraseRefused as refused:
            raise CommandError(str(refused)) from None
        cert = outcome.certificate
        body = cert.body
        word = "finished (it had stopped half-way)" if outcome.resumed else "erased"
        self.stdout.write(
            self.style.SUCCESS(f"{town.name}: {word}; certificate {cert.number}")
            + "\n  erased: "
            + ", ".join(f"{k} {v}" for k, v in body.get("erased", {}).items() if v)
            + f"\n  database scan: {body['scan']['text_columns']} text columns of "
            f"{body['scan']['tables']} tables, {body['scan']['found']} identifiers found"
            + f"\n  files: {len(body['files'].get('removed', []))} removed, "
            f"{len(body['files'].get('cleaned', []))} cleaned of "
            f"{body['files'].get('scanned', 0)} scanned"
            + f"\n  backups: {views_data.backup_sentence(body.get('backups', {}))}"
        )
        return cert

    def _due(self, options: dict[str, Any]) -> None:
        """Every town due, each on its own: one that fails is said and the rest go on (a town
        stuck on a hold or a refusal must not keep the others' data past their date)."""
        now = timezone.now()
        closures = Closure.objects.select_related("town").order_by("erase_after")
        failed = []
        waiting = [
            c
            for c in closures
            if not Certificate.objects.filter(town_id=c.town_id, complete=True).exists()
        ]
        if not waiting:
            self.stdout.write("No closed town waits for its erase.")
            return
        for closure in waiting:
            town = closure.town
            stops = erase.check(town, now)
            if stops:
                self.stdout.write(f"{town.name}: not now: " + "; ".join(stops))
                continue
            try:
                self._erase(town, options)
            except CommandError as refused:
                self.stderr.write(f"{town.name}: {refused}")
                failed.append(town.name)
        if failed:
            raise CommandError("not erased: " + ", ".join(failed) + " (each reason above)")

    def _certificate(self, number: str) -> Certificate:
        cert = Certificate.objects.filter(number=number).first()
        if cert is None:
            raise CommandError(f"No certificate numbered {number!r}.")
        if not cert.complete:
            raise CommandError(f"Certificate {number} is not complete: run doorstep erase again.")
        return cert

    def _verify(self, number: str) -> None:
        cert = self._certificate(number)
        problem = views_data.problem(cert)
        if problem:
            raise CommandError(f"Certificate {number}: {problem}")
        self.stdout.write(f"Certificate {number}: signature good (key {cert.public_key[:16]}…).")


def _town(value: str) -> Town:
    town = Town.objects.filter(name=value).first()
    if town is None and value.isdigit():
        town = Town.objects.filter(pk=int(value)).first()
    if town is None:
        known = ", ".join(Town.objects.order_by("name").values_list("name", flat=True)[:20])
        raise CommandError(f"No town named {value!r}. Towns: {known or 'none'}.")
    return town

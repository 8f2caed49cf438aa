"""A results file from the lab's instrument export: checked whole before anything is recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from doorstep.core.models import User
from doorstep.core.tables import (
    Column,
    RowError,
    RowErrors,
    Source,
    TableFileError,
    bad_rows_summary,
    read_table,
)
from doorstep.lab.actions import results
from doorstep.sampling.models import Result, Tube

CHECK_CHUNK = 2_000  # rows checked at a time
COLUMNS = [
    Column("tube", "管码", "tube", True, ("试管编码", "采样管编码", "条码", "barcode")),
    Column("result", "结果", "result", True, ("检测结果",)),
    Column("ct", "CT值", "ct", False, ("ct值", "ct value")),
    Column("tested_at", "检测时间", "tested_at", False, ("tested at",)),
    Column("reason", "更正原因", "reason", False, ("correction reason", "correction")),
]


@dataclass
class ResultsReport:
    errors: RowErrors = field(default_factory=RowErrors)
    answers: list[dict[str, Any]] = field(default_factory=list)
    file_error: str = ""  # the file as a whole could not be read: no row was checked
    # The tubes this upload found positive, then invalid: what the lab must say first.
    positives: list[Tube] = field(default_factory=list)
    invalids: list[Tube] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.file_error

    def summary(self) -> str:
        if self.file_error:
            return self.file_error
        counts = {s: sum(a["status"] == s for a in self.answers) for s in ("accepted", "duplicate")}
        if not self.ok and self.answers:
            return (
                _(
                    "%(accepted)d results recorded, %(duplicate)d already known; the rows below changed after the file was checked and were not recorded. Upload the file again: what is recorded answers as already known."
                )
                % counts
            )
        if not self.ok:
            return bad_rows_summary(self.errors)
        return _("%(accepted)d results recorded, %(duplicate)d already known.") % counts


def import_results(user: User | None, data: Source, filename: str = "") -> ResultsReport:
    """The whole file is checked first (set-based reads, nothing written); a file with any bad
    row records nothing. Then it is recorded a chunk at a time (``results.record``), so that a
    large file never holds the database for long; a row that changed in between (another
    upload, a correction) is reported, and sending the file again records the rest."""
    report = ResultsReport()
    try:
        sheet = read_table(data, COLUMNS)
        mapped, rows = sheet.header, sheet.drain()
    except TableFileError as exc:
        report.file_error = str(exc)
        return report
    parsed: list[dict[str, Any]] = []
    numbers: list[int] = []
    seen: dict[str, int] = {}
    last = 0
    for number, cells in rows:
        if report.errors.stop(last):
            break
        last = number
        row = {key: cells[i] if i < len(cells) else "" for key, i in mapped.positions.items()}
        tube = str(row.get("tube", "")).strip().upper()
        if tube in seen:
            report.errors.append(
                RowError(
                    number,
                    mapped.spelled["tube"],
                    tube,
                    _("the same tube is on row %(row)d") % {"row": seen[tube]},
                )
            )
            continue
        seen[tube] = number
        parsed.append(row)
        numbers.append(number)
    # Checked a chunk at a time, so that what the check holds stays small, and no further than
    # the errors a report keeps.
    for start in range(0, len(parsed), CHECK_CHUNK):
        if report.errors.stop(numbers[start - 1] if start else 0):
            break
        chunk = parsed[start : start + CHECK_CHUNK]
        checked = zip(numbers[start:], chunk, results.check(list(chunk), user), strict=False)
        for number, row, outcome in checked:
            if isinstance(outcome, results.ResultRefused):
                column = (
                    "result" if outcome.code == "invalid" and "esult" in outcome.message else "tube"
                )
                report.errors.append(
                    RowError(
                        number,
                        mapped.spelled.get(column, column),
                        str(row.get(column, "")),
                        outcome.message,
                    )
                )
    if report.errors:
        report.errors.sort(key=lambda e: e.row)
        return report
    report.answers = results.record(user, list(parsed))
    for number, a in zip(numbers, report.answers, strict=True):
        if a["status"] == "rejected":
            report.errors.append(
                RowError(number, mapped.spelled["tube"], a["tube"], a["error"]["message"])
            )
    recorded = [a["tube"] for a in report.answers if a["status"] == "accepted"]
    for flagged in (
        Tube.objects.filter(code__in=recorded, result__in=[Result.POSITIVE, Result.INVALID])
        .select_related("site")
        .order_by("code")
    ):
        (report.positives if flagged.result == Result.POSITIVE else report.invalids).append(flagged)
    return report

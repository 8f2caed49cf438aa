"""A results file from the lab's instrument export: checked whole, then recorded, or nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from doorstep.core.models import User
from doorstep.core.tables import (
    Column,
    RowError,
    TableFileError,
    bad_rows_summary,
    data_rows,
    map_header,
    read_table,
)
from doorstep.lab import results

COLUMNS = [
    Column("tube", "管码", "tube", True, ("试管编码", "采样管编码", "条码", "barcode")),
    Column("result", "结果", "result", True, ("检测结果",)),
    Column("ct", "CT值", "ct", False, ("ct值", "ct value")),
    Column("tested_at", "检测时间", "tested_at", False, ("tested at",)),
    Column("reason", "更正原因", "reason", False, ("correction reason", "correction")),
]


@dataclass
class ResultsReport:
    errors: list[RowError] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if not self.ok:
            return bad_rows_summary(self.errors)
        counts = {s: sum(a["status"] == s for a in self.answers) for s in ("accepted", "duplicate")}
        return _("%(accepted)d results recorded, %(duplicate)d already known.") % counts


def import_results(user: User | None, data: bytes, filename: str = "") -> ResultsReport:
    report = ResultsReport()
    try:
        header, rows = data_rows(read_table(data, filename))
        mapped = map_header(header, COLUMNS)
    except TableFileError as exc:
        report.errors.append(RowError(1, "", "", str(exc)))
        return report
    parsed = []
    seen: dict[str, int] = {}
    for number, cells in rows:
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
        try:
            results.parse_row(row, user)
        except results.RowError as refused:
            column = (
                "result" if refused.code == "invalid" and "esult" in refused.message else "tube"
            )
            report.errors.append(
                RowError(
                    number,
                    mapped.spelled.get(column, column),
                    str(row.get(column, "")),
                    refused.message,
                )
            )
            continue
        parsed.append(row)
    if report.errors:
        return report
    with transaction.atomic():
        report.answers = results.record(user, parsed)
        late = [a for a in report.answers if a["status"] == "rejected"]
        if late:
            # Checked a moment ago; something changed meanwhile. Write nothing.
            report.errors = [RowError(0, "tube", a["tube"], a["error"]["message"]) for a in late]
            transaction.set_rollback(True)
    return report

"""The district daily report (区日报) for one calendar day: each town's real rounds of that day
side by side with the district's total, and the support the district's towns sent and got back.

Each town's column is that round's own daily report (``command.report.daily``, with its rows
``summary_rows`` and ``standing_rows``), so the district's report and a town's cannot disagree;
the district's total is the sum of the columns. Counts only, no person. Drills are left out.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from doorstep.campaigns.models import Campaign
from doorstep.command import report as town_report
from doorstep.core.spreadsheets import safe_row, sheet_title
from doorstep.district import queries
from doorstep.territory.models import District
from doorstep.workforce.queries import SupportPicture

# How far back the report offers days: the rounds started in the district's last this-many days.
DAYS_BACK = 60

Row = tuple[str, list[Any], Any]  # label, a value per town's round, the district's total


@dataclass
class TownDay:
    campaign: Campaign
    report: town_report.Daily

    @property
    def heading(self) -> str:
        return f"{self.campaign.town.name} · {self.campaign.name}"


@dataclass
class DistrictDaily:
    district: District
    at: dt.datetime
    day: dt.date
    days: list[dt.date]
    towns: list[TownDay]
    support: SupportPicture  # as of the day's end (or now, today)

    @property
    def headings(self) -> list[str]:
        return [t.heading for t in self.towns]

    def _rows(self, rows: list[list[tuple[Any, ...]]], column: int) -> list[Row]:
        if not rows:
            return []
        found = []
        for i, first in enumerate(rows[0]):
            values = [each[i][column] for each in rows]
            total = sum(values)
            found.append(
                (str(first[0]), values, round(total, 1) if isinstance(total, float) else total)
            )
        return found

    @property
    def this_day(self) -> list[Row]:
        """What happened on the day, per round and in total (``command.report.summary_rows``)."""
        return self._rows([town_report.summary_rows(t.report) for t in self.towns], 1)

    @property
    def to_date(self) -> list[Row]:
        return self._rows([town_report.summary_rows(t.report) for t in self.towns], 2)

    @property
    def standing(self) -> list[Row]:
        """What stands now (``command.report.standing_rows``)."""
        return self._rows([town_report.standing_rows(t.report) for t in self.towns], 1)


def _local_day(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


def rounds_of(district_id: int, now: dt.datetime) -> list[Campaign]:
    """The district's real rounds started in the last ``DAYS_BACK`` days, oldest first."""
    return list(
        Campaign.objects.filter(
            town__district_id=district_id,
            is_drill=False,
            started_at__isnull=False,
            starts_at__gte=now - dt.timedelta(days=DAYS_BACK),
        )
        .select_related("town")
        .order_by("town__name", "starts_at", "id")
    )


def _ran_on(campaign: Campaign, day: dt.date, now: dt.datetime) -> bool:
    """Whether the round was running on the day: one of its days, and not closed before it."""
    if day not in town_report.days_of(campaign, now):
        return False
    return campaign.closed_at is None or timezone.localtime(campaign.closed_at).date() >= day


def daily(
    district: District, now: dt.datetime | None = None, day: dt.date | None = None
) -> DistrictDaily:
    now = now or timezone.now()
    rounds = rounds_of(district.pk, now)
    days = sorted(
        {d for c in rounds for d in town_report.days_of(c, now) if _ran_on(c, d, now)}
    ) or [timezone.localtime(now).date()]
    today = timezone.localtime(now).date()
    if day not in days:
        day = today if today in days else days[-1]
    end = min(_local_day(day)[1], now)
    return DistrictDaily(
        district=district,
        at=now,
        day=day,
        days=days,
        towns=[
            TownDay(c, town_report.daily(c, now=now, day=day))
            for c in rounds
            if _ran_on(c, day, now)
        ],
        support=queries.support(district.pk, end),
    )


def _sheet(book: Workbook, title: str, headings: list[str], rows: list[Row]) -> None:
    bold = Font(bold=True)
    sheet = book.create_sheet(sheet_title(title))
    sheet.append(safe_row(["", *headings, _("District total")]))
    for cell in sheet[1]:
        cell.font = bold
    for label, values, total in rows:
        sheet.append(safe_row([label, *values, total]))
        sheet.cell(sheet.max_row, 1).font = bold
    sheet.column_dimensions["A"].width = 28


def support_rows(report: DistrictDaily) -> list[tuple[str, int, int, int, int, int, int, float]]:
    """Per sending town, then the district's total: asked of it (its quota), selected,
    departed, arrived, on duty, back home safe, hours on duty."""
    picture = report.support
    return [
        (
            line.town or _("District total"),
            line.quota,
            line.selected,
            line.departed,
            line.arrived,
            line.on_duty,
            line.returned,
            round(line.hours, 1),
        )
        for line in [*picture.by_sending, picture.total]
    ]


def support_header() -> list[str]:
    return [
        _("Sending town"),
        _("Quota"),
        _("Selected"),
        _("Departed"),
        _("Arrived"),
        _("On duty"),
        _("Back home safe"),
        _("Hours on duty"),
    ]


def workbook(report: DistrictDaily) -> bytes:
    book = Workbook()
    cover = book.active
    assert cover is not None
    cover.title = sheet_title(_("District"))
    local = timezone.localtime(report.at)
    cover.append(safe_row([_("District"), report.district.name]))
    cover.append(safe_row([_("Day"), report.day.isoformat()]))
    cover.append(safe_row([_("As of"), local.strftime("%Y-%m-%d %H:%M")]))
    cover.append(safe_row([_("Rounds"), len(report.towns)]))
    cover.append(safe_row([_("Not yet back home"), report.support.unaccounted]))
    cover.column_dimensions["A"].width = 20
    cover.column_dimensions["B"].width = 24
    _sheet(book, _("This day"), report.headings, report.this_day)
    _sheet(book, _("Round to date"), report.headings, report.to_date)
    _sheet(book, _("Now"), report.headings, report.standing)
    support = book.create_sheet(sheet_title(_("Support")))
    support.append(safe_row(support_header()))
    for cell in support[1]:
        cell.font = Font(bold=True)
    for row in support_rows(report):
        support.append(safe_row(row))
    support.column_dimensions["A"].width = 20
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

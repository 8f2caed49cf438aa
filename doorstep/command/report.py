"""The daily report (日报) a district sends up: sampled, tubes, results, positives, coverage and
the untested per community, staff contributed by support unit. Counts only, no person."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from doorstep.campaigns.models import Campaign
from doorstep.command import dashboard
from doorstep.core.spreadsheets import safe_row
from doorstep.sampling.models import Result, Tally, Tube, TubeStatus
from doorstep.workforce.queries import UnitContribution, unit_contributions


@dataclass
class Daily:
    campaign: Campaign
    at: dt.datetime
    totals: Tally
    communities: list[dashboard.CommunityRow]
    total: dashboard.CommunityRow
    tubes_sealed: int
    results: dict[str, int]
    units: list[UnitContribution]

    @property
    def resulted(self) -> int:
        return sum(self.results.values())


def daily(campaign: Campaign, now: dt.datetime | None = None) -> Daily:
    now = now or timezone.now()
    rows, total = dashboard.coverage(campaign)
    results = dict(
        Tube.objects.filter(campaign=campaign)
        .exclude(result="")
        .values("result")
        .annotate(n=Count("id"))
        .values_list("result", "n")
    )
    sealed = Tube.objects.filter(campaign=campaign, status=TubeStatus.SEALED).count()
    return Daily(
        campaign,
        now,
        dashboard.totals(campaign),
        rows,
        total,
        sealed,
        {r.value: results.get(r.value, 0) for r in Result},
        unit_contributions(campaign.town_id, now),
    )


def workbook(report: Daily) -> bytes:
    book = Workbook()
    bold = Font(bold=True)
    sheet = book.active
    assert sheet is not None
    sheet.title = _("Summary")
    local = timezone.localtime(report.at)
    summary = [
        (_("Campaign"), report.campaign.name),
        (_("As of"), local.strftime("%Y-%m-%d %H:%M")),
        (_("Residents"), report.total.residents),
        (_("Sampled (residents)"), report.total.sampled),
        (_("Exempt"), report.total.exempt),
        (_("Untested"), report.total.untested),
        (_("People through the lanes"), report.totals.people),
        (_("Tubes sealed"), report.tubes_sealed),
        (_("Tubes with a result"), report.resulted),
        (_("Negative"), report.results.get(Result.NEGATIVE, 0)),
        (_("Positive pools"), report.results.get(Result.POSITIVE, 0)),
        (_("Invalid"), report.results.get(Result.INVALID, 0)),
        (_("Results pending"), report.totals.results_pending),
        (_("Retests open"), report.totals.retests_open),
        (_("Households"), report.total.households),
        (_("Households covered"), report.total.covered),
    ]
    for label, value in summary:
        sheet.append(safe_row([label, value]))
        sheet.cell(sheet.max_row, 1).font = bold
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 24
    communities = book.create_sheet(_("Communities"))
    header = [
        _("Community"),
        _("Buildings"),
        _("Buildings done"),
        _("Households"),
        _("Households covered"),
        _("Residents"),
        _("Sampled"),
        _("Exempt"),
        _("Untested"),
    ]
    communities.append(header)
    for row in [*report.communities, report.total]:
        communities.append(
            safe_row(
                [
                    row.name,
                    row.buildings,
                    row.done,
                    row.households,
                    row.covered,
                    row.residents,
                    row.sampled,
                    row.exempt,
                    row.untested,
                ]
            )
        )
    for cell in communities[1]:
        cell.font = bold
    communities.column_dimensions["A"].width = 20
    staff = book.create_sheet(_("Staff"))
    staff.append([_("Support unit"), _("People"), _("On duty now"), _("Person-hours")])
    for unit in report.units:
        staff.append(safe_row([unit.name, unit.people, unit.on_duty, unit.person_hours]))
    for cell in staff[1]:
        cell.font = bold
    staff.column_dimensions["A"].width = 20
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

"""The daily report (日报) a district sends up, for one calendar day of the round with the
round's total beside it: residents sampled, people through the lanes, tubes, results,
positive pools and loops closed, staff hours; and, as of now, coverage and the untested per
community. Counts only, no person.

What happened is counted by day (the day is local time, ``TIME_ZONE``); what stands now
(coverage, untested, results pending) has no day and is the round's. Every figure shown here
also on the command screen comes from the same source (``dashboard.coverage``,
``dashboard.totals``, ``lab.pools.loop_counts``).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from doorstep.campaigns.models import Campaign
from doorstep.command import dashboard
from doorstep.core.spreadsheets import safe_row
from doorstep.lab.models import OrderStatus, RetestOrder
from doorstep.lab.pools import LoopCounts, loop_counts
from doorstep.sampling.models import HourTally, Result, RoundSample, Scope, Tally, Tube
from doorstep.workforce.queries import UnitContribution, unit_contributions


@dataclass(frozen=True)
class Flows:
    """What happened in a span of time: by day, or over the whole round."""

    sampled: int  # residents sampled (each once a round)
    people: int  # everyone through the lanes, walk-ins included
    tubes_sealed: int
    resulted: int
    negative: int
    positive_pools: int
    positive_single: int
    invalid: int
    retests_resulted: int
    loops_closed: int
    person_hours: float


@dataclass
class Daily:
    campaign: Campaign
    at: dt.datetime
    day: dt.date
    days: list[dt.date]
    today: Flows
    round: Flows
    totals: Tally
    loops: LoopCounts
    communities: list[dashboard.CommunityRow]
    total: dashboard.CommunityRow
    sampled_today: dict[int, int]  # per community
    units: list[UnitContribution]  # the round's
    units_today: dict[str, UnitContribution]

    @property
    def community_days(self) -> list[tuple[dashboard.CommunityRow, int]]:
        """Each community with its residents sampled this day, then the total."""
        rows = [(r, self.sampled_today.get(r.community_id, 0)) for r in self.communities]
        return [*rows, (self.total, sum(self.sampled_today.values()))]

    @property
    def staff_days(self) -> list[tuple[UnitContribution, UnitContribution | None]]:
        """Each support unit's round figures with its figures for this day."""
        return [(u, self.units_today.get(u.name)) for u in self.units]


def _local_day(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


def days_of(campaign: Campaign, now: dt.datetime) -> list[dt.date]:
    """The calendar days of the round so far, oldest first."""
    first = timezone.localtime(campaign.starts_at).date()
    # A round that ran over its deadline still reports its last days; a week past it, no more.
    cap = timezone.localtime(campaign.deadline).date() + dt.timedelta(days=7)
    last = max(first, min(timezone.localtime(now).date(), cap))
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def flows(campaign: Campaign, since: dt.datetime, until: dt.datetime) -> Flows:
    """What happened in the round between ``since`` and ``until``."""
    in_span = {"gte": since, "lt": until}
    tubes = Tube.objects.filter(campaign=campaign)
    results = tubes.filter(resulted_at__gte=since, resulted_at__lt=until).aggregate(
        resulted=Count("id", filter=~Q(result="")),
        negative=Count("id", filter=Q(result=Result.NEGATIVE)),
        positive_pools=Count(
            "id",
            filter=Q(result=Result.POSITIVE, retest_of__isnull=True) & ~Q(capacity=1),
        ),
        positive_single=Count(
            "id", filter=Q(result=Result.POSITIVE) & (Q(capacity=1) | Q(retest_of__isnull=False))
        ),
        invalid=Count("id", filter=Q(result=Result.INVALID)),
    )
    units = unit_contributions(campaign.town_id, until, since=since, campaign=campaign)
    return Flows(
        sampled=RoundSample.objects.filter(
            campaign=campaign, sampled_at__gte=since, sampled_at__lt=until
        ).count(),
        people=HourTally.objects.filter(
            campaign=campaign,
            scope=Scope.CAMPAIGN,
            place_id=campaign.pk,
            hour__gte=since,
            hour__lt=until,
        ).aggregate(n=Sum("people"))["n"]
        or 0,
        tubes_sealed=tubes.filter(**{f"sealed_at__{k}": v for k, v in in_span.items()}).count(),
        resulted=results["resulted"],
        negative=results["negative"],
        positive_pools=results["positive_pools"],
        positive_single=results["positive_single"],
        invalid=results["invalid"],
        retests_resulted=RetestOrder.objects.filter(
            campaign=campaign,
            status=OrderStatus.RESULTED,
            closed_at__gte=since,
            closed_at__lt=until,
        ).count(),
        loops_closed=tubes.filter(
            result=Result.POSITIVE, retest_closed_at__gte=since, retest_closed_at__lt=until
        ).count(),
        person_hours=round(sum(u.person_hours for u in units), 1),
    )


def daily(campaign: Campaign, now: dt.datetime | None = None, day: dt.date | None = None) -> Daily:
    now = now or timezone.now()
    days = days_of(campaign, now)
    day = day if day in days else days[-1]
    since, until = _local_day(day)
    # A closed round's figures stop at its close: a team left on duty after it adds no hours.
    end = min(now, campaign.closed_at) if campaign.closed_at else now
    until = min(until, end)
    rows, total = dashboard.coverage(campaign)
    start = min(campaign.starts_at, since)
    return Daily(
        campaign=campaign,
        at=now,
        day=day,
        days=days,
        today=flows(campaign, since, until),
        round=flows(campaign, start, end),
        totals=dashboard.totals(campaign),
        loops=loop_counts(campaign),
        communities=rows,
        total=total,
        sampled_today=dict(
            RoundSample.objects.filter(
                campaign=campaign, sampled_at__gte=since, sampled_at__lt=until
            )
            .values_list("community_id")
            .annotate(n=Count("id"))
            .values_list("community_id", "n")
        ),
        units=unit_contributions(campaign.town_id, end, since=start, campaign=campaign),
        units_today={
            u.name: u
            for u in unit_contributions(campaign.town_id, until, since=since, campaign=campaign)
        },
    )


def summary_rows(report: Daily) -> list[tuple[str, object, object]]:
    """(label, this day, the round): the page and the workbook print the same rows."""
    day, whole = report.today, report.round
    return [
        (_("Residents sampled"), day.sampled, whole.sampled),
        (_("People through the lanes"), day.people, whole.people),
        (_("Tubes sealed"), day.tubes_sealed, whole.tubes_sealed),
        (_("Tubes with a result"), day.resulted, whole.resulted),
        (_("Negative"), day.negative, whole.negative),
        (_("Positive pools"), day.positive_pools, whole.positive_pools),
        (_("Positive single tubes"), day.positive_single, whole.positive_single),
        (_("Invalid"), day.invalid, whole.invalid),
        (_("Retests resulted"), day.retests_resulted, whole.retests_resulted),
        (_("Positive-pool loops closed"), day.loops_closed, whole.loops_closed),
        (_("Person-hours on duty"), day.person_hours, whole.person_hours),
    ]


def standing_rows(report: Daily) -> list[tuple[str, object]]:
    """What stands now, for the whole round."""
    return [
        (_("Residents"), report.total.residents),
        (_("Sampled (residents)"), report.total.sampled),
        (_("Exempt"), report.total.exempt),
        (_("Untested"), report.total.untested),
        (_("Households"), report.total.households),
        (_("Households covered"), report.total.covered),
        (_("Results pending"), report.totals.results_pending),
        (_("Retests open"), report.totals.retests_open),
        (_("Positive-pool loops open"), report.loops.open),
    ]


def workbook(report: Daily) -> bytes:
    book = Workbook()
    bold = Font(bold=True)
    sheet = book.active
    assert sheet is not None
    sheet.title = _("Summary")
    local = timezone.localtime(report.at)
    sheet.append(safe_row([_("Campaign"), report.campaign.name]))
    sheet.append(safe_row([_("Day"), report.day.isoformat()]))
    sheet.append(safe_row([_("As of"), local.strftime("%Y-%m-%d %H:%M")]))
    sheet.append([])
    sheet.append(safe_row(["", _("This day"), _("Round to date")]))
    for label, day, whole in summary_rows(report):
        sheet.append(safe_row([label, day, whole]))
        sheet.cell(sheet.max_row, 1).font = bold
    sheet.append([])
    sheet.append(safe_row([_("Now"), "", _("Round to date")]))
    for label, value in standing_rows(report):
        sheet.append(safe_row([label, "", value]))
        sheet.cell(sheet.max_row, 1).font = bold
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 16
    sheet.column_dimensions["C"].width = 16
    communities = book.create_sheet(_("Communities"))
    header = [
        _("Community"),
        _("Sampled this day"),
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
    for row, today in report.community_days:
        communities.append(
            safe_row(
                [
                    row.name,
                    today,
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
    staff.append(
        [
            _("Support unit"),
            _("People this day"),
            _("Person-hours this day"),
            _("People in the round"),
            _("Person-hours in the round"),
            _("On duty now"),
        ]
    )
    for unit, day_unit in report.staff_days:
        staff.append(
            safe_row(
                [
                    unit.name,
                    day_unit.people if day_unit else 0,
                    day_unit.person_hours if day_unit else 0,
                    unit.people,
                    unit.person_hours,
                    unit.on_duty,
                ]
            )
        )
    for cell in staff[1]:
        cell.font = bold
    staff.column_dimensions["A"].width = 20
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

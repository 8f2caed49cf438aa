"""The district daily report (区日报): each town's round of the day beside the district's total,
the same as each town's own daily report; the page and the XLSX show the same rows, both are
audited, and drills and rounds that did not run that day are left out."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from doorstep.campaigns.models import Campaign
from doorstep.command import report as town_report
from doorstep.core.models import AuditEntry
from doorstep.core.roles import Role
from doorstep.district import report
from doorstep.testing import client_for, make_district, make_user
from doorstep.testing.lanes import post, sealed_tube

pytestmark = pytest.mark.django_db


@pytest.fixture
def scanned(district_world):  # type: ignore[no-untyped-def]
    """中北镇 sampled 3 and found the pool positive; 杨柳青镇 sampled 2; the drill sampled 3."""
    zhongbei, yangliu, drill = (district_world[k] for k in ("zhongbei", "yangliu", "drill"))
    tube = sealed_tube(zhongbei["device"], zhongbei["lane"], zhongbei["people"][:3])
    post(zhongbei["lab_world"], {"tube": tube.code, "result": "positive"})
    sealed_tube(yangliu["device"], yangliu["lane"], yangliu["people"][:2], code="2112250002")
    sealed_tube(drill["device"], drill["lane"], drill["people"], code="2112250003")
    return district_world


def _by_label(rows: list[report.Row]) -> dict[str, tuple[list[object], object]]:
    return {label: (values, total) for label, values, total in rows}


def test_each_town_is_its_own_daily_report_and_the_district_is_their_sum(scanned):
    found = report.daily(scanned["district"])
    assert [t.campaign.name for t in found.towns] == ["中北镇第1轮", "杨柳青镇第1轮"]
    day = _by_label(found.this_day)
    assert day["Residents sampled"] == ([3, 2], 5)
    assert day["Positive pools"] == ([1, 0], 1)
    standing = _by_label(found.standing)
    assert standing["Untested"] == ([3, 2], 5)
    for town in found.towns:
        own = town_report.daily(town.campaign, day=found.day)
        column = found.towns.index(town)
        assert [row[1] for row in town_report.summary_rows(own)] == [
            values[column] for _label, values, _total in found.this_day
        ]
        assert [row[1] for row in town_report.standing_rows(own)] == [
            values[column] for _label, values, _total in found.standing
        ]


def test_the_drill_is_in_no_column_and_no_total(scanned, chief):
    found = report.daily(scanned["district"])
    assert scanned["drill"]["campaign"].pk not in {t.campaign.pk for t in found.towns}
    assert _by_label(found.to_date)["Residents sampled"][1] == 5
    html = client_for(chief).get(reverse("district:report")).content.decode()
    assert "演练" not in html


def test_a_round_that_did_not_run_that_day_is_left_out(scanned):
    campaign = scanned["yangliu"]["campaign"]
    tomorrow = timezone.now() + dt.timedelta(days=1)
    Campaign.objects.filter(pk=campaign.pk).update(
        starts_at=tomorrow, deadline=tomorrow + dt.timedelta(days=1)
    )
    found = report.daily(scanned["district"], day=timezone.localdate())
    assert [t.campaign.name for t in found.towns] == ["中北镇第1轮"]


def test_the_page_and_the_workbook_show_the_same_rows_and_both_are_audited(scanned, chief):
    client = client_for(chief)
    day = timezone.localdate().isoformat()
    page = client.get(reverse("district:report"), {"day": day})
    assert page.status_code == 200
    html = page.content.decode()
    assert "中北镇 · 中北镇第1轮" in html and "District total" in html
    response = client.get(reverse("district:report_xlsx"), {"day": day})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="district-report-')
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["District", "This day", "Round to date", "Now", "Support"]
    sheet = book["This day"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (None, "中北镇 · 中北镇第1轮", "杨柳青镇 · 杨柳青镇第1轮", "District total")
    assert ("Residents sampled", 3, 2, 5) in rows
    found = report.daily(scanned["district"], day=timezone.localdate())
    assert [r[0] for r in rows[1:]] == [label for label, _v, _t in found.this_day]
    for label, values, total in found.this_day:
        assert f"<th>{label}</th>" in html
        assert (label, *values, total) in rows
    entries = list(AuditEntry.objects.filter(object_type="district_report").order_by("at"))
    assert [(e.user_id, e.detail["format"], e.detail["day"]) for e in entries] == [
        (chief.pk, "page", day),
        (chief.pk, "xlsx", day),
    ]


def test_an_unreadable_day_is_today(scanned, chief):
    response = client_for(chief).get(reverse("district:report"), {"day": "yesterday"})
    assert response.status_code == 200
    assert AuditEntry.objects.get(object_type="district_report").detail["day"] == (
        timezone.localdate().isoformat()
    )


def test_a_district_with_no_real_round_that_day_says_so(db):  # type: ignore[no-untyped-def]
    quiet = make_district("静区", "静镇")
    html = client_for(make_user(Role.DISTRICT_COMMANDER, district=quiet)).get(
        reverse("district:report")
    )
    assert "No real round ran in the district on this day." in html.content.decode()

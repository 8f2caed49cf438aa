"""The case sheets' alert (``core.alerts``): a confirmed positive's sheet (``lab.cases``) is
critical until it is handed over to the 流调 team, then a warning until the receiver
acknowledges it. It is read from the sheet, so it clears itself when the sheet is acknowledged
(or withdrawn by a corrected result). The text names the tube and the place, never the person."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from doorstep.core import alerts
from doorstep.core.alerts import BAD, WARN, Alert
from doorstep.lab.models import CaseSheet

# Enough to act on, in each campaign: the alert links to the round's list of sheets.
SHOWN = 50
CASE_OPEN, CASE_HANDED = "case_sheet_open", "case_sheet_handed"


def _sheets(campaign: Any, now: dt.datetime) -> list[Alert]:
    return _sheets_many([campaign], now)[campaign.pk]


def _sheets_many(campaigns: list[Any], now: dt.datetime) -> dict[int, list[Alert]]:
    """Every round's sheets not yet acknowledged, in one query whatever their number."""
    found: dict[int, list[Alert]] = {campaign.pk: [] for campaign in campaigns}
    waiting = (
        CaseSheet.objects.filter(
            campaign__in=[c.pk for c in campaigns],
            acknowledged_at__isnull=True,
            withdrawn_at__isnull=True,
        )
        .select_related("tube__site", "community")
        .order_by("-opened_at", "-pk")
    )
    for sheet in waiting:
        if len(found[sheet.campaign_id]) < SHOWN:
            found[sheet.campaign_id].append(_alert(sheet))
    return found


def _alert(sheet: CaseSheet) -> Alert:
    place = {"code": sheet.tube.code, "site": sheet.tube.site.name, "community": sheet.community}
    if sheet.handed_at is None:
        return Alert(
            CASE_OPEN,
            BAD,
            _(
                "Positive %(code)s (%(site)s, %(community)s): hand the case sheet over to the 流调 team."
            )
            % place,
            reverse("lab:case", args=[sheet.pk]),
            f"{CASE_OPEN}:{sheet.pk}",
            sheet.community_id,
            sheet.opened_at,
        )
    return Alert(
        CASE_HANDED,
        WARN,
        _("Case sheet of %(code)s (%(community)s) handed over to %(to)s, not yet acknowledged.")
        % {**place, "to": sheet.handed_to},
        reverse("lab:case", args=[sheet.pk]),
        f"{CASE_HANDED}:{sheet.pk}",
        sheet.community_id,
        sheet.handed_at,
    )


def register() -> None:
    alerts.register("lab", _sheets, kinds=[CASE_OPEN, CASE_HANDED], many=_sheets_many)

"""The round's zoning alerts (``core.alerts``): a building a positive sealed, until the
commander confirms the extent of the seal (the building alone, or its whole community)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from doorstep.campaigns import queries
from doorstep.core import alerts
from doorstep.core.alerts import BAD, Alert


def produce(campaign: Any, now: dt.datetime) -> list[Alert]:
    url = reverse("command:zones", args=[campaign.pk])
    return [
        Alert(
            kind="sealed_by_result",
            severity=BAD,
            text=_(
                "%(building)s (%(community)s) is a sealed zone now, after a positive "
                "(tube %(tube)s): confirm the extent, this building or the whole community."
            )
            % {
                "building": change.building.name,
                "community": change.community.name,
                "tube": change.tube_code,
            },
            url=f"{url}#building-{change.building_id}",
            key=f"sealed_by_result:{change.pk}",
            community_id=change.community_id,
            raised_at=change.at,
            campaign_id=campaign.pk,
        )
        for change in queries.unconfirmed_seals(campaign.pk).order_by("-at")[:50]
    ]


def register() -> None:
    alerts.register("campaigns", produce)

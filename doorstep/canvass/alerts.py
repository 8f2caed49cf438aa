"""Door to door's alerts (``core.alerts``): a claim whose lease ran out with no outcome, and,
when the deadline is near, communities with buildings nobody has started. A new claim or an
outcome clears the first; claiming the buildings clears the second."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from doorstep.canvass.models import BuildingTask, Coverage, TaskStatus
from doorstep.core import alerts, clocks
from doorstep.core.alerts import BAD, WARN, Alert

SHOWN = 50


def produce(campaign: Any, now: dt.datetime) -> list[Alert]:
    return _stalled(campaign, now) + _not_started(campaign, now)


def _stalled(campaign: Any, now: dt.datetime) -> list[Alert]:
    found = []
    for task in (
        BuildingTask.objects.filter(
            campaign=campaign, status=TaskStatus.CLAIMED, expires_at__lt=now
        )
        .select_related("building", "community", "team")
        .order_by("expires_at")[:SHOWN]
    ):
        assert task.expires_at is not None
        found.append(
            Alert(
                "claim_stalled",
                WARN,
                _(
                    "%(community)s %(building)s: %(team)s's claim lapsed %(minutes)d min ago with no outcome recorded."
                )
                % {
                    "community": task.community.name,
                    "building": task.building.name,
                    "team": task.team.name if task.team else "-",
                    "minutes": (now - task.expires_at).total_seconds() // 60,
                },
                reverse("canvass:task", args=[task.pk]),
                f"claim_stalled:{task.pk}:{task.expires_at.timestamp():.0f}",
                task.community_id,
                task.expires_at,
            )
        )
    return found


def _not_started(campaign: Any, now: dt.datetime) -> list[Alert]:
    if campaign.deadline - now > clocks.TIME_SHORT:
        return []
    left_hours = max((campaign.deadline - now).total_seconds() / 3600, 0)
    return [
        Alert(
            "not_started",
            BAD,
            _("%(community)s: %(n)d buildings not started and %(hours).1f h left.")
            % {"community": row.community.name, "n": row.not_started, "hours": left_hours},
            reverse("command:community", args=[campaign.pk, row.community_id]),
            f"not_started:{row.community_id}",
            row.community_id,
            campaign.deadline - clocks.TIME_SHORT,
        )
        for row in Coverage.objects.filter(campaign=campaign)
        .select_related("community")
        .order_by("community__name")
        if row.not_started
    ]


def register() -> None:
    alerts.register("canvass", produce)

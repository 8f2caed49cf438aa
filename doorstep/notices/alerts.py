"""Telling's alerts (``core.alerts``): people who must be told at their door, per community,
and messages the gateway has not taken for too long (it is down, or refusing). Each is read
from the state it is about, so it clears itself."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Max, Min
from django.urls import reverse
from django.utils.translation import gettext as _

from doorstep.core import alerts
from doorstep.core.alerts import BAD, Alert
from doorstep.notices.models import Message, MessageState, Notice

TELL_AT_DOOR, GATEWAY_STUCK = "tell_at_door", "gateway_stuck"
# Messages still waiting this long after they were queued: the gateway is not taking them.
STUCK_AFTER = dt.timedelta(minutes=5)


def _many(campaigns: list[Any], now: dt.datetime) -> dict[int, list[Alert]]:
    found: dict[int, list[Alert]] = {c.pk: [] for c in campaigns}
    drills = {c.pk: c.is_drill for c in campaigns}
    doors = reverse("notices:doors")
    for campaign_id, community_id, name, n, since in (
        Notice.objects.filter(
            campaign_id__in=list(found),
            door_at__isnull=False,
            told_at=None,
            cancelled_at=None,
        )
        .values_list("campaign_id", "community_id", "community__name")
        .annotate(n=Count("pk"), since=Min("door_at"))
        .order_by()
    ):
        found[campaign_id].append(
            Alert(
                TELL_AT_DOOR,
                BAD,
                _(
                    "%(n)d people in %(community)s must be told at their door: no message reached them."
                )
                % {"n": n, "community": name},
                doors,
                f"{TELL_AT_DOOR}:{community_id}",
                community_id,
                since,
                campaign_id=campaign_id,
                drill=drills[campaign_id],
            )
        )
    for campaign_id, n, oldest, reply in (
        Message.objects.filter(
            campaign_id__in=list(found),
            state__in=[MessageState.QUEUED, MessageState.SENDING],
            queued_at__lte=now - STUCK_AFTER,
        )
        .values_list("campaign_id")
        .annotate(n=Count("pk"), oldest=Min("queued_at"), reply=Max("last_reply"))
        .order_by()
    ):
        found[campaign_id].append(
            Alert(
                GATEWAY_STUCK,
                BAD,
                _(
                    "%(n)d text messages have waited over 5 minutes for the SMS gateway (it answers: %(reply)s): check that it runs (doorstep sms status) and DOORSTEP_SMS_URL."
                )
                % {"n": n, "reply": reply or "—"},
                reverse("notices:outbox"),
                f"{GATEWAY_STUCK}:{campaign_id}",
                None,
                oldest,
                campaign_id=campaign_id,
                drill=drills[campaign_id],
            )
        )
    return found


def _one(campaign: Any, now: dt.datetime) -> list[Alert]:
    return _many([campaign], now)[campaign.pk]


def register() -> None:
    alerts.register("notices", _one, kinds={TELL_AT_DOOR, GATEWAY_STUCK}, many=_many)

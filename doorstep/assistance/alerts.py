"""Special needs' alerts (``core.alerts``): every open emergency and birth, and per community
the requests past their target or their need-by time. Arranging or closing a request clears
its alert."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from doorstep.assistance import queries
from doorstep.assistance.models import Request
from doorstep.campaigns.models import CampaignBuilding
from doorstep.core import alerts
from doorstep.core.alerts import BAD, WARN, Alert

# Open requests read per refresh; a town with more open than this has a bigger problem.
SHOWN = 500


def produce(campaign: Any, now: dt.datetime) -> list[Alert]:
    communities = list(
        CampaignBuilding.objects.filter(campaign=campaign)
        .values_list("community_id", flat=True)
        .distinct()
    )
    open_requests = list(queries.queue(communities)[:SHOWN])
    found = [
        Alert(
            "need_urgent",
            BAD,
            _("%(kind)s in %(community)s: %(status)s.")
            % {
                "kind": request.get_kind_display(),
                "community": request.community.name,
                "status": request.get_status_display(),
            },
            reverse("assistance:detail", args=[request.pk]),
            f"need_urgent:{request.pk}:{request.status}",
            request.community_id,
            request.registered_at,
        )
        for request in open_requests
        if request.urgent
    ]
    late: dict[int, list[Request]] = defaultdict(list)
    for request in queries.overdue(open_requests, now):
        if not request.urgent:
            late[request.community_id].append(request)
    for community_id, requests in late.items():
        found.append(
            Alert(
                "need_overdue",
                WARN,
                _("%(community)s: %(n)d special-need requests are overdue.")
                % {"community": requests[0].community.name, "n": len(requests)},
                reverse("assistance:index") + "?overdue=1",
                f"need_overdue:{community_id}:{len(requests)}",
                community_id,
                min(r.registered_at for r in requests),
            )
        )
    return found


def register() -> None:
    alerts.register("assistance", produce)

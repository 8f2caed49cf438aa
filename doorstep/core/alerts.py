"""Alerts: one list of what needs a decision now, read by the command screen, the community
pages and the lab's page alike.

Each app that can see a reason for an alert registers a producer here, in its
``signals.py`` (the one declared place where an app plugs into this list): a function of
the campaign and the time that returns the alerts that hold *now*. An alert is therefore raised
when its condition starts to hold and cleared when it stops holding, with nothing to forget
to clear: a correction to negative clears a positive pool, a count that agrees clears a box's
mismatch, a tube that reaches a box clears its clock. What is kept is who acknowledged an alert
(``AlertAck``, by the alert's key), so that the screen can show it as seen while it still holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from typing import Any

from doorstep.core.models import AlertAck, User

BAD, WARN = "bad", "warn"


@dataclass(frozen=True)
class Alert:
    kind: str
    severity: str  # BAD (critical: act now) or WARN
    text: str
    url: str
    # The condition and its place, stable while it holds: "positive_pool:1234:56".
    key: str
    community_id: int | None = None
    raised_at: dt.datetime | None = None
    # A notice that is done with once someone has seen it (a positive case handed over) rather
    # than a condition that must stop holding.
    ack_clears: bool = False
    campaign_id: int | None = None
    drill: bool = False  # the round is a drill: a list of several rounds' alerts says so
    acknowledged_by: str = ""
    acknowledged_at: dt.datetime | None = None

    @property
    def critical(self) -> bool:
        return self.severity == BAD


Producer = Callable[[Any, dt.datetime], list[Alert]]
_producers: list[tuple[str, Producer]] = []


def register(app: str, producer: Producer) -> None:
    """An app's producer of alerts (``app`` is its label, to read one app's alerts alone)."""
    if (app, producer) not in _producers:
        _producers.append((app, producer))


def current(
    campaign: Any,
    now: dt.datetime,
    *,
    apps: Collection[str] | None = None,
    communities: Collection[int] | None = None,
    town_wide: bool = True,
) -> list[Alert]:
    """Every alert that holds now, critical and unacknowledged first, then the newest.
    ``communities`` keeps the alerts of those communities, and the town-wide ones (which have no
    community) unless ``town_wide`` is false."""
    found = [
        alert
        for app, producer in _producers
        if apps is None or app in apps
        for alert in producer(campaign, now)
        if communities is None
        or alert.community_id in communities
        or (town_wide and alert.community_id is None)
    ]
    acks = {
        a.key: a
        for a in AlertAck.objects.filter(campaign_id=campaign.pk, key__in=[f.key for f in found])
    }
    found = [
        replace(
            a,
            campaign_id=campaign.pk,
            drill=bool(campaign.is_drill),
            acknowledged_by=acks[a.key].username if a.key in acks else "",
            acknowledged_at=acks[a.key].at if a.key in acks else None,
        )
        for a in found
        if not (a.ack_clears and a.key in acks)
    ]
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(
        found,
        key=lambda a: (
            not a.critical,
            bool(a.acknowledged_by),
            -(a.raised_at or oldest).timestamp(),
        ),
    )


def for_user(
    user: User, campaign: Any, now: dt.datetime, *, apps: Collection[str] | None = None
) -> list[Alert]:
    """The alerts a user may see: every one for a town-wide role, else those of the user's
    communities (the town-wide ones, which have no community, are the commander's)."""
    if user.is_town_wide:
        return current(campaign, now, apps=apps)
    # For a role that is not town-wide this is the same set as ``territory.scoping`` gives.
    mine = set(user.communities.values_list("pk", flat=True)) if user.is_active else set()
    return current(campaign, now, apps=apps, communities=mine, town_wide=False)

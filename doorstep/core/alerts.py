"""Alerts: one list of what needs a decision now, read by the command screen, the community
pages and the lab's page alike.

Each app that can see a reason for an alert registers a producer here, in its
``signals.py`` (the one declared place where an app plugs into this list): a function of
the campaign and the time that returns the alerts that hold *now*. An alert is therefore raised
when its condition starts to hold and cleared when it stops holding, with nothing to forget
to clear: a correction to negative clears a positive pool, a count that agrees clears a box's
mismatch, a tube that reaches a box clears its clock. What is kept is who acknowledged an alert
(``AlertAck``, by the alert's key), so that the screen can show it as seen while it still holds.

A producer says which kinds it raises, and may have a batched form (several campaigns at once,
the single form being the batched one applied to one campaign), so that ``current_many`` reads
some kinds of many rounds (the district board) for the cost of one.
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
# The batched form of a producer: the alerts of several campaigns at once, by campaign id, at a
# cost that does not grow with their number.
ManyProducer = Callable[[list[Any], dt.datetime], dict[int, list[Alert]]]


@dataclass(frozen=True)
class _Registered:
    app: str
    producer: Producer
    kinds: frozenset[str] | None  # None: it did not say, so it may raise any kind
    many: ManyProducer | None

    def runs_for(self, apps: Collection[str] | None, kinds: Collection[str] | None) -> bool:
        return (apps is None or self.app in apps) and (
            kinds is None or self.kinds is None or not self.kinds.isdisjoint(kinds)
        )

    def produce(self, campaigns: list[Any], now: dt.datetime) -> dict[int, list[Alert]]:
        if self.many is not None:
            return self.many(campaigns, now)
        return {campaign.pk: self.producer(campaign, now) for campaign in campaigns}


_producers: list[_Registered] = []


def register(
    app: str,
    producer: Producer,
    *,
    kinds: Collection[str] | None = None,
    many: ManyProducer | None = None,
) -> None:
    """An app's producer of alerts (``app`` is its label, to read one app's alerts alone), with
    the kinds of alert it raises (so a reader of some kinds runs only the producers of those)
    and its batched form, if it has one (else it is called once per campaign). A producer with
    a batched form is that form applied to one campaign: one definition of each alert."""
    entry = _Registered(app, producer, frozenset(kinds) if kinds is not None else None, many)
    if all(r.producer is not producer for r in _producers):
        _producers.append(entry)


def current(
    campaign: Any,
    now: dt.datetime,
    *,
    apps: Collection[str] | None = None,
    kinds: Collection[str] | None = None,
    communities: Collection[int] | None = None,
    town_wide: bool = True,
) -> list[Alert]:
    """Every alert that holds now, critical and unacknowledged first, then the newest
    (``current_many`` of this one campaign). ``communities`` keeps the alerts of those
    communities, and the town-wide ones (which have no community) unless ``town_wide`` is
    false."""
    return [
        alert
        for alert in current_many([campaign], now, apps=apps, kinds=kinds)[campaign.pk]
        if communities is None
        or alert.community_id in communities
        or (town_wide and alert.community_id is None)
    ]


def current_many(
    campaigns: list[Any],
    now: dt.datetime,
    *,
    apps: Collection[str] | None = None,
    kinds: Collection[str] | None = None,
) -> dict[int, list[Alert]]:
    """Each campaign's alerts that hold now, by campaign id, as ``current`` lists them; ``apps``
    and ``kinds`` keep those of these apps and kinds. Each producer runs once for all the
    campaigns (in its batched form where it has one), and the acknowledgements are read in one
    query, so the cost does not grow with the number of campaigns (for batched producers)."""
    rounds = list({campaign.pk: campaign for campaign in campaigns}.values())
    found: dict[int, list[Alert]] = {campaign.pk: [] for campaign in rounds}
    if not rounds:
        return found
    for registered in _producers:
        if registered.runs_for(apps, kinds):
            produced = registered.produce(rounds, now)
            for campaign in rounds:
                found[campaign.pk] += [
                    a for a in produced.get(campaign.pk, []) if kinds is None or a.kind in kinds
                ]
    acks = {
        (a.campaign_id, a.key): a
        for a in AlertAck.objects.filter(
            campaign_id__in=list(found), key__in={a.key for held in found.values() for a in held}
        )
    }
    return {campaign.pk: _marked(campaign, found[campaign.pk], acks) for campaign in rounds}


def _marked(
    campaign: Any, found: list[Alert], acks: dict[tuple[int, str], AlertAck]
) -> list[Alert]:
    """A campaign's alerts with who acknowledged each and whether the round is a drill, a
    notice once acknowledged left out; critical and unacknowledged first, then the newest."""
    marked = []
    for alert in found:
        ack = acks.get((campaign.pk, alert.key))
        if not (alert.ack_clears and ack is not None):
            marked.append(
                replace(
                    alert,
                    campaign_id=campaign.pk,
                    drill=bool(campaign.is_drill),
                    acknowledged_by=ack.username if ack is not None else "",
                    acknowledged_at=ack.at if ack is not None else None,
                )
            )
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(
        marked,
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

"""Sampling's alerts (``core.alerts``): a tube left open, a sealed tube that no box took, a box
whose oldest tube nears the 4-hour clock, a site whose queue is past the target, a walk-in
in a positive tube whose address names no household.

Each holds while its state does: sealing the tube, boxing it, receiving the box or a shorter
queue clears it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from doorstep.core import alerts, clocks
from doorstep.core.alerts import BAD, WARN, Alert
from doorstep.sampling.models import Result, Tube, TubeMember, TubeStatus
from doorstep.sampling.queries import boxes_on_the_way, campaign_sites, site_waits, unboxed
from doorstep.sampling.walk_ins import home_of

SHOWN = 50


def produce(campaign: Any, now: dt.datetime) -> list[Alert]:
    return (
        _open_tubes(campaign, now)
        + _unboxed(campaign, now)
        + _boxes(campaign, now)
        + _waits(campaign, now)
        + _untraced(campaign)
    )


def _tube_url(campaign: Any, code: str) -> str:
    return reverse("command:tube", args=[campaign.pk, code])


def _open_tubes(campaign: Any, now: dt.datetime) -> list[Alert]:
    return [
        Alert(
            "tube_open",
            WARN,
            _("Tube %(code)s at %(site)s %(lane)s has been open %(minutes)d min: seal it.")
            % {
                "code": tube.code,
                "site": tube.site.name,
                "lane": tube.lane.name,
                "minutes": (now - tube.opened_at).total_seconds() // 60,
            },
            _tube_url(campaign, tube.code),
            f"tube_open:{tube.pk}",
            tube.community_id,
            tube.opened_at + clocks.TUBE_OPEN_TOO_LONG,
        )
        for tube in Tube.objects.filter(
            campaign=campaign,
            status=TubeStatus.OPEN,
            opened_at__lt=now - clocks.TUBE_OPEN_TOO_LONG,
        )
        .select_related("site", "lane")
        .order_by("opened_at")[:SHOWN]
    ]


def _unboxed(campaign: Any, now: dt.datetime) -> list[Alert]:
    found = []
    for clocked in unboxed(campaign, now, late_only=True, limit=SHOWN):
        tube = clocked.tube
        overdue = clocked.clock == clocks.OVERDUE
        assert tube.sealed_at is not None
        found.append(
            Alert(
                "tube_unboxed",
                BAD if overdue else WARN,
                _(
                    "Tube %(code)s at %(site)s %(lane)s was sealed %(hours).1f h ago and is in no box: pack it and send it (the lab must have it within 4 h)."
                )
                % {
                    "code": tube.code,
                    "site": tube.site.name,
                    "lane": tube.lane.name,
                    "hours": (now - tube.sealed_at).total_seconds() / 3600,
                },
                _tube_url(campaign, tube.code),
                f"tube_unboxed:{tube.pk}:{clocked.clock}",
                tube.community_id,
                tube.sealed_at + (clocks.SPECIMEN_DUE if overdue else clocks.SPECIMEN_WARN),
            )
        )
    return found


def _boxes(campaign: Any, now: dt.datetime) -> list[Alert]:
    found = []
    for box in boxes_on_the_way(campaign):
        state = clocks.specimen_state(box.oldest, now)  # type: ignore[attr-defined]
        if state == clocks.OK:
            continue
        overdue = state == clocks.OVERDUE
        found.append(
            Alert(
                "box_clock",
                BAD if overdue else WARN,
                _(
                    "Box %(code)s from %(site)s: its oldest tube was sealed %(hours).1f h ago (the lab must have it within 4 h)."
                )
                % {
                    "code": box.code,
                    "site": box.site.name,
                    "hours": (now - box.oldest).total_seconds() / 3600,  # type: ignore[attr-defined]
                },
                reverse("command:site", args=[campaign.pk, box.site_id]),
                f"box_clock:{box.pk}:{state}",
                box.site.community_id,
                box.oldest + (clocks.SPECIMEN_DUE if overdue else clocks.SPECIMEN_WARN),  # type: ignore[attr-defined]
            )
        )
    return found


def _waits(campaign: Any, now: dt.datetime) -> list[Alert]:
    sites = campaign_sites(campaign)
    waits = site_waits(sites, now)
    found = []
    for site in sites:
        wait = waits[site.pk]
        if wait.band in {"free", "unknown"}:  # the band residents see (queries.Wait)
            continue
        found.append(
            Alert(
                "long_wait",
                BAD if wait.band == "jammed" else WARN,
                _("%(site)s: about %(minutes)d min wait (target 20). Open a lane or send staff.")
                % {"site": site.name, "minutes": wait.minutes},
                reverse("command:site", args=[campaign.pk, site.pk]),
                f"long_wait:{site.pk}:{wait.band}",
                site.community_id,
                wait.reported_at,
            )
        )
    return found


def _untraced(campaign: Any) -> list[Alert]:
    """A walk-in in a positive tube whose household nobody knows: no door to send a retest to,
    no building to seal. Finding it (the walk-ins page) clears the alert."""
    members = (
        TubeMember.objects.filter(
            campaign=campaign,
            walk_in__isnull=False,
            walk_in__household__isnull=True,
            tube__result=Result.POSITIVE,
        )
        .select_related("walk_in", "tube")
        .order_by("tube__resulted_at", "pk")[:SHOWN]
    )
    lost = [(m, m.walk_in) for m in members if m.walk_in and home_of(m.walk_in) is None]
    return [
        Alert(
            "walk_in_untraced",
            BAD,
            _(
                "Walk-in %(name)s in positive tube %(code)s gave an address that names no household (“%(address)s”): find their household."
            )
            % {"name": walk_in, "code": m.tube.code, "address": walk_in.address or "—"},
            reverse("sampling:walk_ins") + f"#walk-in-{walk_in.pk}",
            f"walk_in_untraced:{walk_in.pk}",
            walk_in.community_id,
            m.tube.resulted_at,
        )
        for m, walk_in in lost
    ]


def register() -> None:
    alerts.register("sampling", produce)

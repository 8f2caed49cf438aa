"""What the district's command sees: every town of the district, added up.

A town's figures here are the town's own, read by the batched forms of the functions its
command screen reads (``command.dashboard.coverage_totals``, ``.totals_of``, ``.clock``,
``.boxes_in_transit_of``, ``lab.pools.loop_counts_of``, ``sampling.queries.unboxed_counts``, each
the one definition its single-round form uses too, and the one list of alerts), so a town's row
on the district board cannot disagree with the town's own screen; the district's total is the
sum of its towns' rows. The figures of all the district's rounds cost a fixed number of queries
on counters and indexes, whatever the number of towns: nothing here counts residents or scans.
Drills count nowhere here.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, fields

from django.urls import reverse
from django.utils.translation import gettext as _

from doorstep.campaigns import queries as campaign_queries
from doorstep.campaigns.models import Campaign
from doorstep.command import dashboard as board
from doorstep.core import alerts as core_alerts
from doorstep.core import clocks
from doorstep.core.alerts import BAD, WARN
from doorstep.lab.pools import loop_counts_of
from doorstep.sampling import queries as sampling_queries
from doorstep.territory.models import Town
from doorstep.workforce.queries import SupportPicture, support_picture, waiting_for_quotas

# A town is behind the 6 h sampling target when the share of its residents sampled or exempt
# trails the share of the 6 h gone by more than this (a round's first minutes are not "behind").
PACE_SLACK = 0.10
ON_PACE, BEHIND, LATE, DONE = "on_pace", "behind", "late", "done"


@dataclass
class Figures:
    """A town's running round in numbers, or the district's total of them."""

    residents: int = 0
    sampled: int = 0
    exempt: int = 0
    untested: int = 0
    households: int = 0
    covered: int = 0
    people: int = 0  # through the lanes, walk-ins included
    positive_pools: int = 0
    loops_open: int = 0
    loops_closed: int = 0
    boxes: int = 0  # sealed or with a courier
    boxes_overdue: int = 0  # their oldest tube sealed 4 h ago or more
    unboxed: int = 0  # sealed tubes waiting for a box
    unboxed_overdue: int = 0

    def add(self, other: Figures) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def covered_pct(self) -> int:
        return round(100 * self.covered / self.households) if self.households else 0

    @property
    def sampled_pct(self) -> int:
        """Residents sampled or exempt, in whole percent (as the town's coverage panel)."""
        return round(100 * (self.sampled + self.exempt) / self.residents) if self.residents else 0

    @property
    def overdue(self) -> int:
        """Specimens past the 4 h clock: boxes on the way and tubes waiting for a box."""
        return self.boxes_overdue + self.unboxed_overdue


def coverage_only(campaigns: list[Campaign], now: dt.datetime) -> dict[int, Figures]:
    """Each round's coverage figures alone (``command.dashboard.coverage``'s total): what its
    pace needs. One query for all the rounds."""
    found = {}
    for pk, total in board.coverage_totals([c.pk for c in campaigns]).items():
        found[pk] = Figures(
            residents=total.residents,
            sampled=total.sampled,
            exempt=total.exempt,
            untested=total.untested,
            households=total.households,
            covered=total.covered,
        )
    return found


def figures(campaigns: list[Campaign], now: dt.datetime) -> dict[int, Figures]:
    """Each round's figures, each read by the batched form of the function the town's command
    screen reads for it (``coverage_totals``, ``totals_of``, ``loop_counts_of``,
    ``boxes_in_transit_of``, ``unboxed_counts``): a fixed number of queries for any number of
    rounds."""
    ids = [c.pk for c in campaigns]
    found = coverage_only(campaigns, now)
    tallies = board.totals_of(campaigns)
    loops = loop_counts_of(ids)
    boxes = board.boxes_in_transit_of(ids, now)
    unboxed = sampling_queries.unboxed_counts(ids, now)
    for pk, each in found.items():
        each.people = tallies[pk].people
        each.positive_pools = tallies[pk].positive_pools
        each.loops_open, each.loops_closed = loops[pk].open, loops[pk].closed
        each.boxes = len(boxes[pk])
        each.boxes_overdue = sum(b.state == clocks.OVERDUE for b in boxes[pk])
        each.unboxed, each.unboxed_overdue = unboxed[pk].waiting, unboxed[pk].overdue
    return found


def pace(clock: board.Clock, done: Figures) -> str:
    """Where a round stands against the 6 h sampling target (``clocks.SAMPLING_TARGET``):
    done (nobody untested), late (the 6 h are over with people untested), behind (the share
    sampled or exempt trails the share of the 6 h gone by more than ``PACE_SLACK``), on pace."""
    if done.residents and not done.untested:
        return DONE
    if clock.now >= clock.sampling_due:
        return LATE
    gone = (clock.now - clock.starts_at) / clocks.SAMPLING_TARGET
    share = (done.sampled + done.exempt) / done.residents if done.residents else 1.0
    return BEHIND if share < gone - PACE_SLACK else ON_PACE


@dataclass
class TownRow:
    """A town of the district with its running round (none: nothing running there)."""

    town: Town
    campaign: Campaign | None = None
    clock: board.Clock | None = None
    figures: Figures | None = None

    @property
    def pace(self) -> str:
        return pace(self.clock, self.figures) if self.clock and self.figures else ""


def real_rounds(district_id: int) -> list[Campaign]:
    """The real rounds running in the district's towns (``campaigns.queries.running``), never a
    drill."""
    return list(
        campaign_queries.running()
        .filter(town__district_id=district_id, is_drill=False)
        .select_related("town")
        .order_by("town__name", "-starts_at", "-id")
    )


def towns(
    district_id: int,
    now: dt.datetime,
    read: Callable[[list[Campaign], dt.datetime], dict[int, Figures]] = figures,
) -> tuple[list[TownRow], Figures]:
    """Every town of the district with its running round's figures (a town running two rounds,
    over different communities, has a row for each), and the district's total. ``read`` is
    ``figures``, or ``coverage_only`` where the rest is not shown."""
    rounds: dict[int, list[Campaign]] = defaultdict(list)
    running = real_rounds(district_id)
    for campaign in running:
        rounds[campaign.town_id].append(campaign)
    read_all = read(running, now)
    rows: list[TownRow] = []
    total = Figures()
    for town in Town.objects.filter(district_id=district_id).order_by("name"):
        if not rounds[town.pk]:
            rows.append(TownRow(town))
        for campaign in rounds[town.pk]:
            row = TownRow(town, campaign, board.clock(campaign, now), read_all[campaign.pk])
            total.add(read_all[campaign.pk])
            rows.append(row)
    return rows, total


# --- alerts that need the district -----------------------------------------------------------

SHORT_STAFF, BEHIND_TARGET, POSITIVE = "short_staff", "behind_target", "positive"
# A town's request for people not yet shared out between the district's towns.
UNSHARED = "unshared"
# The kinds of the one list of alerts (``core.alerts``) the district is told of, and the apps
# whose producers raise them (only those run: the rest are the town's to handle).
_KINDS = {
    "lane_short": SHORT_STAFF,
    "positive_pool": POSITIVE,
    # A confirmed positive until its case sheet is handed over to the 流调 team.
    "case_sheet_open": POSITIVE,
    "positive_no_retest": POSITIVE,
}
_APPS = {"workforce", "lab"}


@dataclass(frozen=True)
class DistrictAlert:
    """A town's alerts of one kind, gathered: what the district must act on."""

    kind: str  # SHORT_STAFF, BEHIND_TARGET, POSITIVE or UNSHARED
    severity: str  # core.alerts.BAD or WARN
    town: str
    text: str
    url: str  # the town's own command screen, where each alert is listed
    count: int
    key: str  # stable while it holds

    @property
    def critical(self) -> bool:
        return self.severity == BAD


def _gathered(row: TownRow, held: list[core_alerts.Alert]) -> list[DistrictAlert]:
    """A town's alerts for the district, from ``held``: its round's alerts of ``_KINDS``."""
    campaign = row.campaign
    assert campaign is not None and row.figures is not None
    url = reverse("command:dashboard", args=[campaign.pk])
    counts: dict[str, int] = defaultdict(int)
    for alert in held:
        counts[_KINDS[alert.kind]] += 1
    name = row.town.name

    def key(kind: str) -> str:
        return f"{kind}:{campaign.pk}"

    found = []
    if counts[POSITIVE]:
        text = _("%(town)s: %(n)d positive results to act on.") % {
            "town": name,
            "n": counts[POSITIVE],
        }
        found.append(DistrictAlert(POSITIVE, BAD, name, text, url, counts[POSITIVE], key(POSITIVE)))
    if counts[SHORT_STAFF]:
        text = _("%(town)s: %(n)d lanes short of staff.") % {
            "town": name,
            "n": counts[SHORT_STAFF],
        }
        found.append(
            DistrictAlert(SHORT_STAFF, BAD, name, text, url, counts[SHORT_STAFF], key(SHORT_STAFF))
        )
    if row.pace in {BEHIND, LATE}:
        values = {"town": name, "n": row.figures.untested, "pct": row.figures.sampled_pct}
        if row.pace == LATE:
            text = _("%(town)s: the 6 h sampling target has passed with %(n)d untested.") % values
        else:
            text = _("%(town)s: behind the 6 h sampling target (%(pct)d in 100 done).") % values
        severity = BAD if row.pace == LATE else WARN
        found.append(
            DistrictAlert(
                BEHIND_TARGET, severity, name, text, url, row.figures.untested, key(BEHIND_TARGET)
            )
        )
    return found


def alerts(rows: list[TownRow], now: dt.datetime) -> list[DistrictAlert]:
    """Per town, the alerts that need the district: lanes short of staff and positives (counted
    from the town's own list of alerts), a round behind the 6 h target, and a request for people
    not yet shared out; critical first."""
    rounds = [row.campaign for row in rows if row.campaign is not None]
    # Every round's list at once: the same queries for 2 towns as for 20.
    held = core_alerts.current_many(rounds, now, apps=_APPS, kinds=set(_KINDS))
    found = [
        a for row in rows if row.campaign is not None for a in _gathered(row, held[row.campaign.pk])
    ]
    if rows:
        found += _unshared(rows[0].town.district_id)  # type: ignore[arg-type]
    return sorted(found, key=lambda a: (not a.critical, a.town, a.kind))


def _unshared(district_id: int) -> list[DistrictAlert]:
    """A town asked for people and the quotas do not yet add up to the ask."""
    return [
        DistrictAlert(
            UNSHARED,
            WARN,
            asked.town.name,
            _("%(town)s asks for %(people)d people: %(shared)d shared out between the towns.")
            % {"town": asked.town.name, "people": asked.people, "shared": shared},
            reverse("workforce:support_request", args=[asked.pk]),
            asked.people - shared,
            f"{UNSHARED}:{asked.pk}",
        )
        for asked, shared in waiting_for_quotas(district_id)
    ]


# --- support between towns ---------------------------------------------------------------------


def support(district_id: int, now: dt.datetime) -> SupportPicture:
    """The district's support picture: asked, sent, arrived, on duty and returned, by sending
    and by receiving town (the workforce app's one count of it)."""
    return support_picture(district_id, now)

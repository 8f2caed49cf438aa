"""Can this zone lift? The lifting rule, once, with its evidence, for the page and the API.

The rule (the 9th-edition national plan, June 2022, which the field guide takes as default;
the older 14-day rule is ``Campaign.lift_after_days = 14``): a sealed building lifts to
controlled, and a controlled one to prevention, when

- no new positive has been found in it for ``lift_after_days`` days, counted from the newest
  of its last positive (not withdrawn) and its entry into its zone, so that a lift starts the
  next level's clock (a building whose zone never changed counts from its first round),
- a round that started after that moment has tested everyone in it (nobody untested; the
  newest such round is shown, or the newest round since when none has), and
- no retest ordered for anyone living in it is still open.

Every figure is read set-based for all the buildings asked about at once, so the answer for a
community, or a whole town, is a handful of statements whatever its size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

from django.db.models import Count, Max
from django.utils.translation import gettext as _

from doorstep.campaigns.actions import LIFTS_TO
from doorstep.campaigns.models import BuildingPositive, Campaign, CampaignBuilding, Zone, ZoneChange
from doorstep.canvass.models import BuildingTask, untested
from doorstep.lab.models import OrderStatus, RetestOrder

DAY = dt.timedelta(days=1)


@dataclass
class Evidence:
    building_id: int
    building: str
    community_id: int
    community: str
    zone: str
    lifts_to: str  # "" when the building is already in the prevention zone
    last_positive: dt.datetime | None
    clear_since: dt.datetime
    days_clear: int
    # The newest round that started after ``clear_since`` and covers the building.
    last_round: str
    untested_last_round: int | None
    open_retests: int
    can_lift: bool
    why_not: list[str] = field(default_factory=list)
    # The building's last zone changes, newest first; the Zones page fills it.
    history: list[ZoneChange] = field(default_factory=list)

    @property
    def zone_label(self) -> str:
        return str(Zone(self.zone).label)

    @property
    def lifts_to_label(self) -> str:
        return str(Zone(self.lifts_to).label) if self.lifts_to else ""

    def as_json(self) -> dict[str, object]:
        return {
            "building_id": self.building_id,
            "building": self.building,
            "community": self.community,
            "zone": self.zone,
            "lifts_to": self.lifts_to or None,
            "last_positive": self.last_positive.isoformat() if self.last_positive else None,
            "clear_since": self.clear_since.isoformat(),
            "days_clear": self.days_clear,
            "last_round": self.last_round or None,
            "untested_last_round": self.untested_last_round,
            "open_retests": self.open_retests,
            "can_lift": self.can_lift,
            "why_not": self.why_not,
        }


def evidence(
    campaign: Campaign,
    now: dt.datetime,
    *,
    communities: Collection[int],
    building_ids: Collection[int] | None = None,
    zones: Collection[str] = (Zone.SEALED, Zone.CONTROLLED),
) -> list[Evidence]:
    """The lifting answer for the round's buildings in these communities (and zones), in
    walking order."""
    rows = CampaignBuilding.objects.filter(
        campaign=campaign, community_id__in=list(communities), zone__in=list(zones)
    )
    if building_ids is not None:
        rows = rows.filter(building_id__in=list(building_ids))
    found = list(
        rows.select_related("building", "community").order_by(
            "community__name", "building__position", "building__name"
        )
    )
    ids = [r.building_id for r in found]
    if not ids:
        return []
    # A real round's answer reads real rounds only; a drill's reads its own rows as well.
    kind = {} if campaign.is_drill else {"campaign__is_drill": False}
    positives = dict(
        BuildingPositive.objects.filter(building_id__in=ids, withdrawn_at__isnull=True, **kind)
        .values("building_id")
        .annotate(last=Max("at"))
        .values_list("building_id", "last")
    )
    entered = {
        (b, z): at
        for b, z, at in ZoneChange.objects.filter(building_id__in=ids, **kind)
        .values("building_id", "to_zone")
        .annotate(last=Max("at"))
        .values_list("building_id", "to_zone", "last")
    }
    # Every round's task of these buildings, newest round first: the first one that started
    # after a building's clock started is its "last round".
    tasks: dict[int, list[tuple[dt.datetime | None, str, int]]] = {}
    for b, started, name, residents, sampled, exempt in (
        BuildingTask.objects.filter(building_id__in=ids, campaign__started_at__isnull=False, **kind)
        .order_by("-campaign__started_at")
        .values_list(
            "building_id",
            "campaign__started_at",
            "campaign__name",
            "residents",
            "sampled",
            "exempt",
        )
    ):
        tasks.setdefault(b, []).append((started, name, untested(residents, sampled, exempt)))
    retests = dict(
        RetestOrder.objects.filter(
            status__in=[OrderStatus.OPEN, OrderStatus.SAMPLED],
            household__unit__building_id__in=ids,
            **kind,
        )
        .values("household__unit__building_id")
        .annotate(n=Count("id"))
        .values_list("household__unit__building_id", "n")
    )
    start = campaign.started_at or campaign.starts_at
    answers = []
    for r in found:
        last_positive = positives.get(r.building_id)
        # The clock runs from the newest of: the last positive, the building's entry into its
        # zone (a lift starts the next level's clock); with neither, its first round.
        rounds_of = [t[0] for t in tasks.get(r.building_id, []) if t[0]]
        first = rounds_of[-1] if rounds_of else start
        marks = [t for t in (last_positive, entered.get((r.building_id, r.zone))) if t]
        clear_since = max(marks) if marks else first
        days = max(0, int((now - clear_since) / DAY))
        later = [t for t in tasks.get(r.building_id, []) if t[0] and t[0] > clear_since]
        # A round since that tested everyone is enough, even while a newer one runs.
        full = [t for t in later if t[2] == 0]
        last_round, left = (
            (full[0][1], 0) if full else (later[0][1], later[0][2]) if later else ("", None)
        )
        open_retests = retests.get(r.building_id, 0)
        why_not = []
        if days < campaign.lift_after_days:
            why_not.append(
                _("%(days)d of %(needed)d days with no new positive")
                % {"days": days, "needed": campaign.lift_after_days}
            )
        if left is None:
            why_not.append(_("no round has tested it since"))
        elif left:
            why_not.append(
                _("%(n)d residents untested in %(round)s") % {"n": left, "round": last_round}
            )
        if open_retests:
            why_not.append(_("%(n)d retests still open") % {"n": open_retests})
        lifts_to = LIFTS_TO.get(Zone(r.zone), "")
        answers.append(
            Evidence(
                building_id=r.building_id,
                building=r.building.name,
                community_id=r.community_id,
                community=r.community.name,
                zone=r.zone,
                lifts_to=lifts_to,
                last_positive=last_positive,
                clear_since=clear_since,
                days_clear=days,
                last_round=last_round,
                untested_last_round=left,
                open_retests=open_retests,
                can_lift=bool(lifts_to) and not why_not,
                why_not=why_not,
            )
        )
    return answers

"""Every write to campaigns: creating, starting and closing a round over an area, and zoning
its buildings, by hand, by a positive result or by the lifting rule, each change kept. A round
over several towns of a district is ``actions.district``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.campaigns import hooks
from doorstep.campaigns.models import (
    DEFAULT_POOL_RULE,
    BuildingPositive,
    Campaign,
    CampaignBuilding,
    CampaignStatus,
    DistrictRound,
    PoolRule,
    Zone,
    ZoneChange,
    ZoneWhy,
)
from doorstep.core.actions import audit
from doorstep.core.models import AuditAction, User
from doorstep.territory.models import Building, Closure, Community, Town

DEFAULT_DURATION = dt.timedelta(hours=24)


class CampaignError(ValueError):
    pass


class NeedsConfirmation(CampaignError):
    """The step can go ahead once the user has seen what it leaves behind (``items``)."""

    def __init__(self, message: str, items: list[str]) -> None:
        super().__init__(message)
        self.items = items


RANK = {Zone.PREVENTION: 0, Zone.CONTROLLED: 1, Zone.SEALED: 2}
# One level down per lift: sealed → controlled → prevention.
LIFTS_TO = {Zone.SEALED: Zone.CONTROLLED, Zone.CONTROLLED: Zone.PREVENTION}
# A positive seals a building in these zones at once (field guide F2.1).
SEALED_BY_POSITIVE = {Zone.CONTROLLED, Zone.PREVENTION}


def _refuse_closed(town: Town) -> None:
    """A town whose response is closed (``doorstep.closing``) starts no round: its data waits
    for the erase, or is gone."""
    closure = Closure.objects.filter(town=town).first()
    if closure is not None:
        raise CampaignError(
            _(
                "The response in %(town)s was closed on %(date)s; no round can start there. "
                "Reopen it on the town's closing page first."
            )
            % {"town": town.name, "date": f"{timezone.localtime(closure.closed_at):%Y-%m-%d}"}
        )


@transaction.atomic
def create_campaign(
    town: Town,
    name: str,
    *,
    communities: Iterable[Community] = (),
    buildings: Iterable[Building] = (),
    starts_at: dt.datetime | None = None,
    deadline: dt.datetime | None = None,
    zone: Zone = Zone.PREVENTION,
    user: User | None = None,
    drill: bool = False,
    district_round: DistrictRound | None = None,
) -> Campaign:
    """A round over whole communities and/or single buildings; the deadline defaults to 24 h.
    A building keeps the zone in force from the last round that covered it (zones follow
    results from day to day); ``zone`` is for buildings no round has covered yet.
    ``district_round``: the town's part of a round over several towns (``actions.district``)."""
    _refuse_closed(town)
    starts_at = starts_at or timezone.now()
    deadline = deadline or starts_at + DEFAULT_DURATION
    if deadline <= starts_at:
        raise CampaignError(_("The deadline must come after the start."))
    if not name.strip():
        raise CampaignError(_("Give the campaign a name, e.g. «第3轮全员核酸»."))
    area = {b.pk: b for b in buildings}
    for building in Building.objects.filter(community__in=list(communities)).select_related(
        "community"
    ):
        area.setdefault(building.pk, building)
    if not area:
        raise CampaignError(_("Choose at least one community or building for the campaign."))
    if any(b.community.town_id != town.pk for b in area.values()):
        raise CampaignError(_("Every building of a campaign must be in its town."))
    if drill and district_round is not None:
        raise CampaignError(_("A drill is never part of a district round."))
    campaign = Campaign.objects.create(
        town=town,
        name=name.strip(),
        starts_at=starts_at,
        deadline=deadline,
        created_by=user,
        is_drill=drill,
        district_round=district_round,
    )
    carried = _zones_in_force(area)
    CampaignBuilding.objects.bulk_create(
        [
            CampaignBuilding(
                campaign=campaign,
                building_id=b.pk,
                community_id=b.community_id,
                zone=carried.get(b.pk, (zone, ""))[0],
                pool_rule=carried.get(b.pk, (zone, DEFAULT_POOL_RULE[zone]))[1],
            )
            for b in area.values()
        ],
        batch_size=2000,
    )
    # Every building becomes a door-to-door task, with its counters, in the same transaction.
    hooks.opened(campaign)
    # A building carried in sealed has its people sampled at home from the first hour.
    hooks.zoned(
        campaign.pk,
        [b for b in area if carried.get(b, (zone, ""))[0] == Zone.SEALED],
        Zone.SEALED,
        starts_at,
    )
    return campaign


def _zones_in_force(area: dict[int, Building]) -> dict[int, tuple[str, str]]:
    """Each building's zone and pool rule in the newest started real round that covered it
    (a drill's zones are its own and carry nowhere)."""
    found: dict[int, tuple[str, str]] = {}
    for building_id, zone, rule in (
        CampaignBuilding.objects.filter(
            building_id__in=list(area),
            campaign__started_at__isnull=False,
            campaign__is_drill=False,
        )
        .order_by("building_id", "-campaign__started_at", "-campaign_id")
        .values_list("building_id", "zone", "pool_rule")
    ):
        found.setdefault(building_id, (zone, rule))
    return found


@transaction.atomic
def start_round(user: User | None, campaign: Campaign, now: dt.datetime | None = None) -> None:
    """A planned round starts running in its communities. One round runs in a community at a
    time: a community with another round running is named and nothing starts."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _refuse_closed(campaign.town)
    if campaign.status != CampaignStatus.PLANNED:
        raise CampaignError(
            _("%(round)s is %(status)s; only a planned round can start.")
            % {"round": campaign.name, "status": campaign.get_status_display()}
        )
    mine = CampaignBuilding.objects.filter(campaign=campaign).values("community_id")
    clashes = sorted(
        set(
            CampaignBuilding.objects.filter(
                campaign__status=CampaignStatus.ACTIVE, community_id__in=mine
            )
            .exclude(campaign=campaign)
            .values_list("community__name", "campaign__name")
        )
    )
    if clashes:
        raise CampaignError(
            _("Close the round running there first: %(clashes)s.")
            % {"clashes": "; ".join(f"{community} ({name})" for community, name in clashes)}
        )
    now = now or timezone.now()
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.ACTIVE, started_at=now)
    campaign.status, campaign.started_at = CampaignStatus.ACTIVE, now
    audit(user, AuditAction.ROUND, "campaign", campaign.pk, detail={"step": "start"})


@transaction.atomic
def close_round(
    user: User | None,
    campaign: Campaign,
    *,
    confirmed: bool = False,
    now: dt.datetime | None = None,
) -> None:
    """A running round closes. Tubes still open or boxes still on the road are listed, and the
    round closes over them only when the user confirms having seen the list."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != CampaignStatus.ACTIVE:
        raise CampaignError(
            _("%(round)s is %(status)s; only a running round can close.")
            % {"round": campaign.name, "status": campaign.get_status_display()}
        )
    left = hooks.still_open(campaign.pk)
    if left and not confirmed:
        raise NeedsConfirmation(
            _("%(n)d specimens are still open or on the road. Close the round anyway?")
            % {"n": len(left)},
            left,
        )
    now = now or timezone.now()
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.CLOSED, closed_at=now)
    campaign.status, campaign.closed_at = CampaignStatus.CLOSED, now
    audit(
        user,
        AuditAction.ROUND,
        "campaign",
        campaign.pk,
        detail={"step": "close", "left_open": left},
    )


def _rezone(
    campaign: Campaign,
    rows: list[CampaignBuilding],
    zone: str,
    pool_rule: str,
    *,
    why: str,
    at: dt.datetime,
    user: User | None,
    note: str = "",
    tube_code: str = "",
) -> list[ZoneChange]:
    """The one place a building's zone changes: the zone and pool rule in force, and a row of
    history for each building whose zone moved."""
    CampaignBuilding.objects.filter(pk__in=[r.pk for r in rows]).update(
        zone=zone, pool_rule=pool_rule
    )
    changes = ZoneChange.objects.bulk_create(
        [
            ZoneChange(
                campaign=campaign,
                building_id=r.building_id,
                community_id=r.community_id,
                from_zone=r.zone,
                to_zone=zone,
                at=at,
                why=why,
                note=note[:300],
                tube_code=tube_code,
                by=user,
            )
            for r in rows
            if r.zone != zone
        ],
        batch_size=2000,
    )
    # After the history is written: a zoner may read where a building came from.
    hooks.zoned(campaign.pk, [c.building_id for c in changes], zone, at)
    return changes


@transaction.atomic
def set_community_zone(
    user: User,
    campaign: Campaign,
    community: Community,
    zone: str,
    pool_rule: str = "",
    note: str = "",
) -> int:
    """Zone every building of the community in this campaign at once; returns how many."""
    if zone not in Zone.values:
        raise CampaignError(
            _("Unknown zone «%(zone)s»; choose sealed, controlled or prevention.") % {"zone": zone}
        )
    if pool_rule and pool_rule not in PoolRule.values:
        raise CampaignError(_("Unknown pool rule «%(rule)s».") % {"rule": pool_rule})
    rule = pool_rule or DEFAULT_POOL_RULE[Zone(zone)]
    rows = list(
        CampaignBuilding.objects.select_for_update().filter(campaign=campaign, community=community)
    )
    note = note.strip()
    if not note and any(RANK[Zone(r.zone)] > RANK[Zone(zone)] for r in rows):
        raise CampaignError(
            _(
                "Lowering a zone by hand goes against the lifting rule: give a reason, "
                "or lift by the rule on the Zones page."
            )
        )
    # A zone decides whether people may leave home: a change by hand says why, and the reason
    # is kept with the change, audited, and shown to the residents (``/status/me/``).
    if not note and any(r.zone != zone for r in rows):
        raise CampaignError(
            _(
                "Say why the zone changes: the reason is kept, audited and shown to the "
                "residents of these buildings."
            )
        )
    _rezone(
        campaign, rows, zone, rule, why=ZoneWhy.COMMANDER, at=timezone.now(), user=user, note=note
    )
    changed = len(rows)
    if changed == 0:
        raise CampaignError(
            _("%(community)s is not part of this campaign.") % {"community": community}
        )
    audit(
        user,
        AuditAction.ZONES,
        "campaign",
        campaign.pk,
        note,
        detail={"community": community.name, "zone": zone, "pool_rule": rule, "buildings": changed},
        town_id=campaign.town_id,
    )
    return changed


@transaction.atomic
def positive_found(
    campaign_id: int, building_ids: Iterable[int], tube_code: str, at: dt.datetime
) -> list[ZoneChange]:
    """A person of these buildings was found positive (a single tube or a retest): the lifting
    clock of each building starts again, and where the round's rule says so a controlled or
    prevention building is sealed at once, for the commander to confirm its extent. Inside
    the result's transaction when there is one."""
    campaign = Campaign.objects.get(pk=campaign_id)
    rows = list(
        CampaignBuilding.objects.select_for_update()
        .filter(campaign__in=_home_rounds(campaign), building_id__in=set(building_ids))
        .order_by("pk")
    )
    BuildingPositive.objects.bulk_create(
        [
            BuildingPositive(
                campaign_id=r.campaign_id,
                building_id=r.building_id,
                community_id=r.community_id,
                tube_code=tube_code,
                at=at,
            )
            for r in rows
        ],
        ignore_conflicts=True,
    )
    BuildingPositive.objects.filter(
        building_id__in=[r.building_id for r in rows], tube_code=tube_code
    ).update(withdrawn_at=None, at=at)
    changes: list[ZoneChange] = []
    for home in _home_rounds(campaign):
        if not home.seal_on_positive:
            continue
        to_seal = [r for r in rows if r.campaign_id == home.pk and r.zone in SEALED_BY_POSITIVE]
        changes += _rezone(
            home,
            to_seal,
            Zone.SEALED,
            DEFAULT_POOL_RULE[Zone.SEALED],
            why=ZoneWhy.RESULT,
            at=at,
            user=None,
            tube_code=tube_code,
        )
    return changes


def _home_rounds(campaign: Campaign) -> list[Campaign]:
    """The rounds whose buildings a result of this round's tubes can reach: the round itself,
    and in a district round its towns' rounds too (a resident sampled at a lane of another town
    lives in a building of their own town's round)."""
    if campaign.district_round_id is None:
        return [campaign]
    siblings = Campaign.objects.filter(district_round_id=campaign.district_round_id).exclude(
        pk=campaign.pk
    )
    return [campaign, *siblings.order_by("pk")]


def positive_withdrawn(tube_code: str, at: dt.datetime) -> int:
    """A positive corrected away no longer holds a building's lifting clock. The seal it set
    stays until someone lifts it: the commander decides, the alert says so."""
    return BuildingPositive.objects.filter(tube_code=tube_code, withdrawn_at__isnull=True).update(
        withdrawn_at=at
    )


@transaction.atomic
def confirm_seal(user: User, change: ZoneChange, *, whole_community: bool = False) -> int:
    """The commander confirms a seal set by a result: the building alone, or its whole
    community in this round (Xi'an 2022: a second case sealed the compound). Returns the
    number of buildings sealed by the confirmation."""
    now = timezone.now()
    ZoneChange.objects.filter(
        campaign_id=change.campaign_id,
        building_id=change.building_id,
        why=ZoneWhy.RESULT,
        confirmed_at__isnull=True,
    ).update(confirmed_at=now, confirmed_by=user)
    sealed = 0
    if whole_community:
        rows = list(
            CampaignBuilding.objects.select_for_update()
            .filter(campaign_id=change.campaign_id, community_id=change.community_id)
            .exclude(zone=Zone.SEALED)
        )
        sealed = len(
            _rezone(
                change.campaign,
                rows,
                Zone.SEALED,
                DEFAULT_POOL_RULE[Zone.SEALED],
                why=ZoneWhy.COMMANDER,
                at=now,
                user=user,
                note=_("Extent of the sealed zone after tube %(tube)s")
                % {"tube": change.tube_code},
            )
        )
    audit(
        user,
        AuditAction.ZONES,
        "campaign",
        change.campaign_id,
        detail={
            "confirmed_seal": change.building_id,
            "whole_community": whole_community,
            "buildings": sealed,
        },
    )
    return sealed


@transaction.atomic
def lift(
    user: User,
    campaign: Campaign,
    building_ids: Iterable[int],
    *,
    allowed: bool,
    reason: str = "",
) -> int:
    """Lift these buildings one level (sealed → controlled → prevention). ``allowed`` is the
    lifting rule's answer for them (``command.zoning``); lifting against it needs a reason,
    which is kept with each change. Returns the number of buildings lifted."""
    reason = reason.strip()
    if not allowed and not reason:
        raise CampaignError(
            _("The lifting rule does not allow this yet: give a reason to lift anyway.")
        )
    rows = list(
        CampaignBuilding.objects.select_for_update()
        .filter(campaign=campaign, building_id__in=set(building_ids))
        .order_by("pk")
    )
    now = timezone.now()
    lifted = 0
    for zone, to in LIFTS_TO.items():
        group = [r for r in rows if r.zone == zone]
        if group:
            lifted += len(
                _rezone(
                    campaign,
                    group,
                    to,
                    DEFAULT_POOL_RULE[to],
                    why=ZoneWhy.RULE if allowed else ZoneWhy.COMMANDER,
                    at=now,
                    user=user,
                    note=reason,
                )
            )
    if lifted == 0:
        raise CampaignError(_("Nothing to lift: these buildings are in the prevention zone."))
    audit(
        user,
        AuditAction.ZONES,
        "campaign",
        campaign.pk,
        reason=reason,
        detail={"lifted": lifted, "by_rule": allowed},
    )
    return lifted

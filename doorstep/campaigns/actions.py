"""Every write to campaigns: creating a round over an area, and zoning its buildings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.campaigns.models import DEFAULT_POOL_RULE, Campaign, CampaignBuilding, PoolRule, Zone
from doorstep.core.actions import audit
from doorstep.core.models import AuditAction, User
from doorstep.territory.models import Building, Community, Town

DEFAULT_DURATION = dt.timedelta(hours=24)


class CampaignError(ValueError):
    pass


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
) -> Campaign:
    """A round over whole communities and/or single buildings; the deadline defaults to 24 h."""
    starts_at = starts_at or timezone.now()
    deadline = deadline or starts_at + DEFAULT_DURATION
    if deadline <= starts_at:
        raise CampaignError(_("The deadline must come after the start."))
    if not name.strip():
        raise CampaignError(_("Give the campaign a name, e.g. «第3轮全员核酸»."))
    area = {b.pk: b for b in buildings}
    for building in Building.objects.filter(community__in=list(communities)):
        area.setdefault(building.pk, building)
    if not area:
        raise CampaignError(_("Choose at least one community or building for the campaign."))
    if any(b.community.town_id != town.pk for b in area.values()):
        raise CampaignError(_("Every building of a campaign must be in its town."))
    campaign = Campaign.objects.create(
        town=town, name=name.strip(), starts_at=starts_at, deadline=deadline, created_by=user
    )
    CampaignBuilding.objects.bulk_create(
        [
            CampaignBuilding(
                campaign=campaign,
                building_id=b.pk,
                community_id=b.community_id,
                zone=zone,
                pool_rule=DEFAULT_POOL_RULE[zone],
            )
            for b in area.values()
        ],
        batch_size=2000,
    )
    # Every building becomes a door-to-door task, with its counters, in the same transaction.
    from doorstep.canvass.counters import open_tasks

    open_tasks(campaign)
    return campaign


@transaction.atomic
def set_community_zone(
    user: User,
    campaign: Campaign,
    community: Community,
    zone: str,
    pool_rule: str = "",
) -> int:
    """Zone every building of the community in this campaign at once; returns how many."""
    if zone not in Zone.values:
        raise CampaignError(
            _("Unknown zone «%(zone)s»; choose sealed, controlled or prevention.") % {"zone": zone}
        )
    if pool_rule and pool_rule not in PoolRule.values:
        raise CampaignError(_("Unknown pool rule «%(rule)s».") % {"rule": pool_rule})
    rule = pool_rule or DEFAULT_POOL_RULE[Zone(zone)]
    changed = CampaignBuilding.objects.filter(campaign=campaign, community=community).update(
        zone=zone, pool_rule=rule
    )
    if changed == 0:
        raise CampaignError(
            _("%(community)s is not part of this campaign.") % {"community": community}
        )
    audit(
        user,
        AuditAction.ZONES,
        "campaign",
        campaign.pk,
        detail={"community": community.name, "zone": zone, "pool_rule": rule, "buildings": changed},
    )
    return changed

"""A manual zone change says why (issue 33): the reason is required, kept with the change,
audited, and shown to the residents on ``/status/me/``."""

import pytest

from doorstep.campaigns.actions import CampaignError, set_community_zone
from doorstep.campaigns.models import ZoneChange
from doorstep.core.models import AuditAction, AuditEntry
from doorstep.testing import make_building, make_campaign, make_household, make_resident

pytestmark = pytest.mark.django_db


def test_a_manual_zone_change_needs_a_reason_and_is_audited_with_it(community, commander):
    make_resident(make_household(make_building(community)))
    campaign = make_campaign(community)
    with pytest.raises(CampaignError, match="Say why the zone changes"):
        set_community_zone(commander, campaign, community, "sealed")
    with pytest.raises(CampaignError, match="Say why"):
        set_community_zone(commander, campaign, community, "controlled", note="   ")
    assert not ZoneChange.objects.exists()
    assert not AuditEntry.objects.filter(action=AuditAction.ZONES).exists()
    set_community_zone(commander, campaign, community, "sealed", note="密接者居住楼栋")
    entry = AuditEntry.objects.get(action=AuditAction.ZONES)
    assert (entry.reason, entry.town_id) == ("密接者居住楼栋", community.town_id)
    # A zone set again as it is moves nobody: nothing to explain.
    assert set_community_zone(commander, campaign, community, "sealed") == 1

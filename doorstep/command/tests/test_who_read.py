"""Who read my record (issue 33): a resident who proved who they are on ``/status/me/`` sees
every access to their record by staff (when, the role and unit, what, the reason), never the
staff's name; and the changes about them, each with its rule or reason."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from doorstep.campaigns.actions import set_community_zone
from doorstep.core.models import AuditAction, AuditEntry, AuditPerson
from doorstep.core.roles import Role
from doorstep.territory.models import Resident
from doorstep.testing import (
    client_for,
    make_building,
    make_campaign,
    make_household,
    make_resident,
    make_user,
)
from doorstep.testing.lanes import post as post_results
from doorstep.testing.lanes import sealed_tube

pytestmark = pytest.mark.django_db


def look(client: Client, resident: Resident) -> str:
    response = client.post(
        reverse("command:me"),
        {"code": resident.person_code, "document": resident.id_number[-6:]},
        REMOTE_ADDR="10.0.0.9",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200
    return response.content.decode()


def section(page: str) -> str:
    found = re.search(r'<section class="card" id="who-read">(.*?)</section>', page, re.S)
    assert found, "no who-read-my-record section"
    return found.group(1)


def test_a_resident_revealed_once_sees_when_the_role_the_unit_and_why_not_the_name(community):
    person = make_resident(make_household(make_building(community)), name="李秀英")
    worker = make_user(Role.COMMUNITY_WORKER, community, username="wangfang-cw")
    worker.first_name, worker.last_name = "芳", "王"
    worker.save()
    reason = "核对上门采样地址"
    response = client_for(worker).post(
        reverse("territory:resident_reveal", args=[person.pk]), {"reason": reason}
    )
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL)
    assert list(AuditPerson.objects.values_list("entry", "kind", "person_id")) == [
        (entry.pk, "resident", person.pk)
    ]
    assert (entry.role, entry.town_id) == (Role.COMMUNITY_WORKER, community.town_id)

    record = section(look(Client(), person))
    rows = re.findall(r'<tr class="access">(.*?)</tr>', record, re.S)
    assert len(rows) == 1
    row = rows[0]
    assert timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M") in row
    assert "Community worker" in row
    assert community.name in row and community.town.name in row  # the unit
    assert reason in row
    assert "Revealed your full document number and phone" in row
    # Never who: not the username, not the name.
    assert "wangfang-cw" not in record and "王" not in record and "芳" not in record


def test_someone_never_read_is_told_so_and_others_reads_are_not_shown(community):
    person = make_resident(make_household(make_building(community)))
    neighbour = make_resident(person.household, name="赵六")
    worker = make_user(Role.COMMUNITY_WORKER, community)
    client_for(worker).post(
        reverse("territory:resident_reveal", args=[neighbour.pk]), {"reason": "电话回访邻居"}
    )
    record = section(look(Client(), person))
    assert 'id="nobody-read"' in record and "电话回访邻居" not in record


def test_an_export_that_listed_the_resident_is_shown_masked_or_full(community):
    person = make_resident(make_household(make_building(community)))
    worker = make_user(Role.COMMUNITY_WORKER, community)
    url = reverse("territory:community_export", args=[community.pk])
    client_for(worker).get(url)
    client_for(worker).post(url, {"reason": "网格员电话通知未检人员"})
    rows = re.findall(r'<tr class="access">(.*?)</tr>', section(look(Client(), person)), re.S)
    assert len(rows) == 2
    full, masked = rows  # newest first
    assert "网格员电话通知未检人员" in full and "(masked)" not in full
    assert "(masked)" in masked and "Exported you in a list of residents" in masked


def test_the_zone_changes_of_the_building_are_shown_with_their_reason(community, commander):
    person = make_resident(make_household(make_building(community)))
    campaign = make_campaign(community)
    set_community_zone(commander, campaign, community, "sealed", note="密接者居住楼栋")
    page = look(Client(), person)
    changes = re.findall(r'<li class="change">(.*?)</li>', section(page), re.S)
    assert len(changes) == 1
    assert "The commander&#x27;s decision" in changes[0] and "密接者居住楼栋" in changes[0]
    assert commander.username not in page


def test_a_corrected_result_of_the_residents_tube_is_shown_with_its_reason(lane_world):
    person = lane_world["people"][0]
    sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["people"][:3])
    post_results(lane_world, {"tube": "2112250001", "result": "positive"})
    post_results(
        lane_world,
        {"tube": "2112250001", "result": "negative", "correction": True, "reason": "复核为阴性"},
    )
    changes = re.findall(r'<li class="change">(.*?)</li>', section(look(Client(), person)), re.S)
    corrected = [c for c in changes if "2112250001" in c]
    assert len(corrected) == 1
    assert "corrected to Negative" in corrected[0] and "复核为阴性" in corrected[0]

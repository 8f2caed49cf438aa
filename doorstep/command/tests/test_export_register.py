"""The export register (issue 33): every personal export and print, newest first, with who
made it, what, how many people, masked or in full and why; scoped like the audit, and an entry
whose town was erased says so."""

import re

import pytest
from django.urls import reverse

from doorstep.core.models import AuditAction, AuditEntry, AuditPerson
from doorstep.core.roles import Role
from doorstep.territory.models import Town
from doorstep.testing import (
    client_for,
    make_building,
    make_community,
    make_district,
    make_household,
    make_resident,
    make_user,
)

pytestmark = pytest.mark.django_db
EN = {"Accept-Language": "en"}
REASON = "网格员电话通知未检人员"


@pytest.fixture
def exported(community, worker):  # type: ignore[no-untyped-def]
    building = make_building(community)
    for room in ("101", "201"):
        make_resident(make_household(building, room=room))
    url = reverse("territory:community_export", args=[community.pk])
    assert client_for(worker).post(url, {"reason": REASON}).status_code == 200
    return AuditEntry.objects.get(action=AuditAction.EXPORT)


def rows(user) -> list[str]:  # type: ignore[no-untyped-def]
    response = client_for(user).get(reverse("command:exports"), headers=EN)
    assert response.status_code == 200
    return re.findall(
        r'<tr class="export[^"]*" id="export-\d+">(.*?)</tr>', response.content.decode(), re.S
    )


def test_the_register_lists_an_export_with_who_what_how_many_and_why(exported, commander, worker):
    [row] = rows(commander)
    assert REASON in row and worker.username in row and "Community worker" in row
    assert f">{exported.pk}<" in row and "Residents of a community" in row
    assert "<td>2</td>" in row and "full" in row


def test_another_towns_commander_does_not_see_it_and_a_canvasser_is_refused(
    exported, canvasser, worker
):
    elsewhere = make_user(Role.COMMANDER, town=Town.objects.create(name="远方镇"))
    assert rows(elsewhere) == []
    for user in (canvasser, worker):
        assert client_for(user).get(reverse("command:exports")).status_code == 403


def test_a_district_commander_sees_the_towns_of_the_district_only(exported, community):
    district = make_district("西青区")
    community.town.district = district
    community.town.save()
    assert len(rows(make_user(Role.DISTRICT_COMMANDER, district=district))) == 1
    other = make_district("南开区")
    assert rows(make_user(Role.DISTRICT_COMMANDER, district=other)) == []


def test_an_administrator_sees_every_town(exported, admin_user):
    away = make_community("远方社区", Town.objects.create(name="远方镇"))
    make_resident(make_household(make_building(away)))
    assert len(rows(admin_user)) == 1  # an administrator of a town: theirs
    admin_user.town = None
    admin_user.save()
    url = reverse("territory:community_export", args=[away.pk])
    assert client_for(admin_user).get(url).status_code == 200
    assert len(rows(admin_user)) == 2


def test_an_erased_towns_entry_says_erased_and_keeps_no_reason(exported, commander):
    # What the erase does to a town's entries (doorstep.closing).
    AuditEntry.objects.filter(pk=exported.pk).update(
        detail={"erased": True}, reason="", object_id=""
    )
    AuditPerson.objects.filter(entry=exported).delete()
    [row] = rows(commander)
    assert "erased" in row and REASON not in row and "full" not in row


def test_the_register_is_in_the_commanders_navigation_only(commander, worker, canvasser):
    url = reverse("command:exports")
    assert f'href="{url}"' in client_for(commander).get(reverse("home")).content.decode()
    for user in (worker, canvasser):
        assert f'href="{url}"' not in client_for(user).get(reverse("home")).content.decode()

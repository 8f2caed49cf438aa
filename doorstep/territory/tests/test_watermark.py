"""Exports that can be traced (issue 33): a personal XLSX carries who made it and when in its
properties and on each sheet's printed header and footer, and its audit entry lists every
person written; a code sheet, left with residents, carries the role and unit, not the name."""

import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from doorstep.core.models import AuditAction, AuditEntry, AuditPerson
from doorstep.core.roles import Role
from doorstep.testing import client_for, make_building, make_household, make_resident, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(community):  # type: ignore[no-untyped-def]
    building = make_building(community)
    found = [
        make_resident(make_household(building, room=f"{n}01"), name=f"居民{n}") for n in range(1, 4)
    ]
    found.append(make_resident(make_household(building, room="501"), name="搬走", moved_out=True))
    return found


def _book(response):  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content[:300]
    return load_workbook(io.BytesIO(response.content))


def test_a_residents_export_carries_its_maker_in_the_properties_and_the_footer(community, people):
    worker = make_user(Role.COMMUNITY_WORKER, community, username="zhao-cw")
    url = reverse("territory:community_export", args=[community.pk])
    book = _book(client_for(worker).post(url, {"reason": "网格员电话通知"}))
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    props = book.properties
    for text in (props.creator, props.lastModifiedBy, props.description):
        assert "zhao-cw" in text and "Community worker" in text and community.name in text
    assert f"export no. {entry.pk}" in props.description
    assert "user=zhao-cw" in props.keywords and f"export={entry.pk}" in props.keywords
    assert props.title == community.name
    stamp = timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M")
    sheet = book.active
    for part in (sheet.oddFooter.center, sheet.oddHeader.center, sheet.evenFooter.center):
        assert "zhao-cw" in part.text and stamp in part.text and f"no. {entry.pk}" in part.text


def test_an_export_lists_the_people_it_wrote(community, people, worker):
    url = reverse("territory:community_export", args=[community.pk])
    sheet = _book(client_for(worker).get(url)).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    written = set(AuditPerson.objects.filter(entry=entry).values_list("kind", "person_id"))
    assert len(written) == len(rows) == entry.detail["rows"] == 3
    assert written == {("resident", p.pk) for p in people if not p.moved_out}
    assert entry.town_id == community.town_id


def test_a_code_sheet_is_marked_with_the_role_and_unit_not_the_name(community, people):
    leader = make_user(Role.TEAM_LEADER, community, username="liu-leader")
    building = people[0].household.unit.building
    page = (
        client_for(leader).get(reverse("territory:building_codes", args=[building.pk])).content
    ).decode()
    assert 'data-testid="watermark"' in page and "export-watermark" in page
    mark = page.split('data-testid="watermark"', 1)[1].split("</div>", 1)[0]
    assert "Team leader" in mark and community.name in mark and "liu-leader" not in mark
    entry = AuditEntry.objects.get(action=AuditAction.PRINT)
    assert set(AuditPerson.objects.filter(entry=entry).values_list("person_id", flat=True)) == {
        p.pk for p in people if not p.moved_out
    }

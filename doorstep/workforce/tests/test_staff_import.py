import pytest

from doorstep.core import codes
from doorstep.testing import make_town
from doorstep.workforce.actions.staff_import import import_staff
from doorstep.workforce.models import Staff, SupportUnit

pytestmark = pytest.mark.django_db


def _csv(rows, header="单位,姓名,手机号,技能", encoding="gbk"):
    return ("\n".join([header, *rows]) + "\n").encode(encoding)


def test_a_staff_list_imports_with_units_skills_and_worker_codes():
    town = make_town()
    report = import_staff(
        town, _csv(["杨柳青镇,张三,138-0000-0001,采样、登记", "大寺镇,李四,13800000002,司机"])
    )
    assert report.ok and report.created == 2
    zhang = Staff.objects.get(name="张三")
    assert (zhang.phone, zhang.skills, zhang.unit.name) == (
        "13800000001",
        ",sampler,registrar,",
        "杨柳青镇",
    )
    assert codes.is_valid(zhang.worker_code, 7)
    assert set(SupportUnit.objects.values_list("name", flat=True)) == {"杨柳青镇", "大寺镇"}


def test_bad_rows_are_all_reported_and_nothing_is_written():
    report = import_staff(
        make_town(),
        _csv(
            ["杨柳青镇,张三,1380000,采样", "杨柳青镇,,13800000002,", "大寺镇,王五,13800000003,跳舞"]
        ),
    )
    assert not report.ok
    assert [(e.row, e.column) for e in report.errors] == [(2, "手机号"), (3, "姓名"), (4, "技能")]
    assert "11 digits" in report.errors[0].message and "unknown skill" in report.errors[2].message
    assert not Staff.objects.exists() and not SupportUnit.objects.exists()


def test_excel_damage_to_phones_is_repaired_or_reported():
    report = import_staff(
        make_town(), _csv(["杨柳青镇,张三,13800000001.0,", "杨柳青镇,李四,1.38E+10,"])
    )
    assert [e.row for e in report.errors] == [3]


def test_the_same_phone_twice_in_a_file_names_the_first_row():
    report = import_staff(
        make_town(), _csv(["杨柳青镇,张三,13800000001,", "杨柳青镇,张三丰,13800000001,"])
    )
    assert "row 2" in report.errors[0].message


def test_reimport_updates_by_phone_and_keeps_the_worker_code():
    town = make_town()
    import_staff(town, _csv(["杨柳青镇,张三,13800000001,采样"]))
    code = Staff.objects.get().worker_code
    report = import_staff(
        town, _csv(["杨柳青镇,张三,13800000001,采样、组长", "杨柳青镇,李四,13800000002,"])
    )
    assert (report.created, report.updated, report.unchanged) == (1, 1, 0)
    assert Staff.objects.get(phone="13800000001").worker_code == code


def test_a_missing_header_is_one_clear_message():
    report = import_staff(make_town(), _csv(["张三,13800000001"], header="姓名,电话"))
    assert "单位" in report.file_error


def test_a_dry_run_writes_nothing():
    report = import_staff(make_town(), _csv(["杨柳青镇,张三,13800000001,"]), dry_run=True)
    assert report.ok and report.created == 1
    assert not Staff.objects.exists()

"""``core.watermark``: the unit a user acts for (never a name), and a mark that survives what a
header or footer makes of "&", on a write-only workbook too."""

import datetime as dt
import io

import pytest
from openpyxl import Workbook, load_workbook

from doorstep.core import watermark
from doorstep.core.roles import Role
from doorstep.testing import make_community, make_district, make_town, make_user

pytestmark = pytest.mark.django_db


def test_the_unit_is_the_district_the_town_or_the_communities_never_a_name():
    district = make_district("西青区", "中北镇")
    town = make_town("中北镇")
    a, b = make_community("阳光里社区", town), make_community("和苑社区", town)
    chief = make_user(Role.DISTRICT_COMMANDER, district=district)
    commander = make_user(Role.COMMANDER, town=town)
    worker = make_user(Role.COMMUNITY_WORKER, a, b, username="wang-fang")
    worker.first_name = "王芳"
    worker.save()
    assert watermark.unit_of(chief) == "西青区"
    assert watermark.unit_of(commander) == "中北镇"
    assert watermark.unit_of(worker) == "中北镇 和苑社区、阳光里社区"
    assert watermark.unit_of(None) == ""


def test_an_ampersand_in_the_mark_stays_text_and_a_write_only_book_is_marked():
    mark = watermark.Mark(
        "li&wei", Role.COMMANDER, "A&B镇", dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC), 7
    )
    book = Workbook(write_only=True)
    sheet = book.create_sheet("名册")
    sheet.append(["x"])
    opened = load_workbook(io.BytesIO(watermark.save(book, mark, "名册")))
    footer = opened.active.oddFooter.center.text
    assert "li&&wei" in footer and "A&&B镇" in footer and "no. 7" in footer
    assert opened.active.oddFooter.right.text == "&P / &N"
    assert opened.properties.creator.startswith("li&wei (")
    assert "export=7" in opened.properties.keywords
    assert watermark._footer_text("x" * 249 + "&") == "x" * 249

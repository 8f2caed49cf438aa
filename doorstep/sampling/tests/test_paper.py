"""The printable paper lane sheet and its Code 128 barcodes."""

import re

import pytest
from django.urls import reverse

from doorstep.sampling import code128, paper
from doorstep.sampling.paper import SheetId
from doorstep.testing import client_for

pytestmark = pytest.mark.django_db


def _sheet(client, lane, **params):  # type: ignore[no-untyped-def]
    return client.get(reverse("sampling:paper_sheet", args=[lane.pk]), params)


def test_code_128_draws_the_standards_start_check_and_stop_symbols():
    # Code set B: Start B (104), "A" is 33; check = (104 + 33·1) mod 103 = 34.
    assert code128.values("A") == [104, 33, 34]
    assert code128.modules("A") == "211214" + "111323" + "131123" + "2331112"
    assert code128.PATTERNS[0] == "212222" and code128.PATTERNS[105] == "211232"
    # Even digits go two to a symbol (Start C); an odd count starts with one digit in set B.
    assert code128.values("1234") == [105, 12, 34, (105 + 12 + 34 * 2) % 103]
    assert code128.values("12345")[:3] == [104, 17, 99]
    # Every symbol is 11 modules wide, the stop 13.
    assert all(sum(map(int, p)) == 11 for p in code128.PATTERNS)
    assert sum(map(int, code128.STOP)) == 13


def test_code_128_reads_back_to_the_code_it_was_drawn_from():
    """A reader's decoding, from the bars of the SVG: widths → symbols → characters."""
    for code in ["900120000300107", "PS12-3-004", "2112250001", "9"]:
        svg = code128.svg(code)
        bars = [(int(x), int(w)) for x, w in re.findall(r"M(\d+) 0h(\d+)", svg)]
        widths, end = [], code128.QUIET
        for x, w in bars:
            if x > end:
                widths.append(x - end)
            widths.append(w)
            end = x + w
        symbols = ["".join(map(str, widths[i : i + 6])) for i in range(0, len(widths) - 7, 6)]
        numbers = [code128.PATTERNS.index(s) for s in symbols]
        assert "".join(map(str, widths[-7:])) == code128.STOP
        data, check = numbers[:-1], numbers[-1]
        assert check == (data[0] + sum(n * v for n, v in enumerate(data[1:], 1))) % 103
        text, subset = "", "C" if data[0] == 105 else "B"
        for value in data[1:]:
            if value == 99:
                subset = "C"
            else:
                text += f"{value:02d}" if subset == "C" else chr(value + 32)
        assert text == code


def test_the_sheet_prints_each_tubes_reserved_code_and_a_box_for_each_place_in_the_pool(
    lane_world, registrar
):
    lane, campaign = lane_world["lane"], lane_world["campaign"]
    response = _sheet(client_for(registrar), lane, sheet="3", tubes="4", pool="10")
    html = response.content.decode()
    assert response.status_code == 200
    sheet = SheetId(campaign.pk, lane.pk, 3)
    assert f'data-sheet="{sheet.number}"' in html and f'data-code="{sheet.number}"' in html
    codes = re.findall(r'<div class="paper-tube" data-tube="(\w+)"', html)
    assert codes == [sheet.tube_code(n) for n in range(1, 5)]
    # The block's barcode and the cut-out label for the tube carry the same code.
    assert all(html.count(f'data-code="{code}"') == 2 for code in codes)
    blocks = html.split('<div class="paper-tube" ')[1:]
    assert [b.split("</ol>")[0].count("<li>") for b in blocks] == [10, 10, 10, 10]
    for words in (
        "Paper lane sheet",
        "Registrar (signature)",
        "Opened at",
        "Sealed at",
        "walk-ins",
    ):
        assert words in html
    assert "data-drill" not in html and "演练" not in html


def test_a_pool_of_twenty_has_twenty_boxes_and_the_default_is_half_a_days_tubes(
    lane_world, registrar
):
    lane = lane_world["lane"]
    html = _sheet(client_for(registrar), lane, pool="20").content.decode()
    blocks = html.split('<div class="paper-tube" ')[1:]
    assert len(blocks) == paper.default_tubes("20") == 17  # 85 people an hour, 4 hours, 20 a tube
    assert blocks[0].split("</ol>")[0].count("<li>") == 20


def test_the_sheet_reads_in_chinese_first(lane_world, registrar):
    html = _sheet(client_for(registrar, "zh-hans"), lane_world["lane"]).content.decode()
    assert '<html lang="zh-hans">' in html
    # Words the catalogue already holds: the pool size, the walk-ins' name and phone columns.
    for words in ("混采人数", "姓名", "手机号", "打印"):
        assert words in html
    assert "Pool size" not in html


def test_a_drills_sheet_is_marked_as_a_drill_on_the_page_and_on_the_print(lane_world, registrar):
    campaign = lane_world["campaign"]
    campaign.is_drill = True
    campaign.save(update_fields=["is_drill"])
    html = _sheet(client_for(registrar), lane_world["lane"]).content.decode()
    assert "<main data-drill>" in html
    assert '<div class="paper" id="paper-sheets" data-drill>' in html
    printed = html.split('id="paper-sheets"')[1]
    assert '<span class="badge drill paper-drill">Drill 演练</span>' in printed


def test_a_round_whose_pattern_refuses_the_sheets_codes_gets_boxes_for_the_tubes_own_labels(
    lane_world, registrar
):
    campaign = lane_world["campaign"]
    campaign.barcode_pattern = r"^21[0-9]{8}$"
    campaign.save(update_fields=["barcode_pattern"])
    html = _sheet(client_for(registrar), lane_world["lane"], tubes="2").content.decode()
    assert 'id="paper-own-labels"' in html
    assert (
        html.count("Stick the tube&#x27;s spare label here") == 2
        or html.count("Stick the tube's spare label here") == 2
    )
    assert '<div class="paper-tube" data-tube=""' in html


def test_a_lanes_stock_of_sheets_is_printed_at_one_time_each_with_its_own_number(
    lane_world, registrar
):
    lane, campaign = lane_world["lane"], lane_world["campaign"]
    html = _sheet(client_for(registrar), lane, sheet="4", sheets="3", tubes="2").content.decode()
    numbers = re.findall(r'<div class="paper-sheet" data-sheet="([\w-]+)"', html)
    assert numbers == [SheetId(campaign.pk, lane.pk, n).number for n in (4, 5, 6)]
    codes = re.findall(r'<div class="paper-tube" data-tube="(\w+)"', html)
    assert len(codes) == len(set(codes)) == 6


def test_the_next_sheet_number_follows_the_sheets_already_keyed(lane_world):
    lane, campaign = lane_world["lane"], lane_world["campaign"]
    assert paper.next_seq(campaign, lane) == 1
    d = lane_world["registrar"]
    code = SheetId(campaign.pk, lane.pk, 7).tube_code(2)
    d.send(d.event("tube.open", lane=lane.code, tube=code))
    assert paper.next_seq(campaign, lane) == 8


def test_no_sheet_without_a_running_round(lane_world, registrar):
    campaign = lane_world["campaign"]
    campaign.status = "closed"
    campaign.save(update_fields=["status"])
    html = _sheet(client_for(registrar), lane_world["lane"]).content.decode()
    assert 'id="paper-no-round"' in html and 'id="paper-sheets"' not in html

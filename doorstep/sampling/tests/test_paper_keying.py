"""A paper sheet keyed in afterwards: the same device events through the same ingest rules,
nothing recorded twice, every refusal on its line."""

import datetime as dt
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from doorstep.core import codes
from doorstep.sampling import paper
from doorstep.sampling.models import DeviceEvent, Tube, TubeMember
from doorstep.sampling.paper import SheetId
from doorstep.sampling.paper_keying import event_id
from doorstep.testing import client_for, valid_id
from doorstep.testing.lanes import sealed_tube

pytestmark = pytest.mark.django_db
EN = {"Accept-Language": "en"}


def _when(minutes_ago: int = 20) -> tuple[str, str]:
    at = timezone.localtime() - dt.timedelta(minutes=minutes_ago)
    return at.date().isoformat(), at.strftime("%H:%M")


def _key(client, lane, sheet, text, action="record", headers=None, **extra):  # type: ignore[no-untyped-def]
    day, _time = _when()
    data = {
        "sheet": sheet if isinstance(sheet, str) else sheet.number,
        "day": day,
        "pool": "10",
        "text": text,
        "action": action,
    }
    return client.post(
        reverse("sampling:paper_key", args=[lane.pk]), {**data, **extra}, headers=headers or {}
    )


def _rows(html: str) -> list[tuple[str, str]]:
    """(status, slot) of each answered line, in order."""
    body = html.split('id="paper-rows"')[1].split("</table>")[0]
    return [
        (part.split('"')[0], part.split('data-slot="')[1].split('"')[0])
        for part in body.split('data-status="')[1:]
    ]


def _sheet(world, seq=1):  # type: ignore[no-untyped-def]
    return SheetId(world["campaign"].pk, world["lane"].pk, seq)


def _text(sheet, blocks):  # type: ignore[no-untyped-def]
    """Tube code, time, then the people's codes: what the wedge scanner types."""
    _day, at = _when()
    lines = []
    for n, people in enumerate(blocks, start=1):
        lines += [sheet.tube_code(n), at, *people]
    return "\n".join(lines) + "\n"


def test_keying_a_sheet_records_its_tubes_and_people_through_the_ingest(lane_world, registrar):
    lane, people = lane_world["lane"], lane_world["people"]
    sheet = _sheet(lane_world)
    text = _text(sheet, [[p.person_code for p in people[:10]], [people[10].person_code]])
    response = _key(client_for(registrar), lane, sheet, text)
    assert response.status_code == 200, response.content.decode()[:2000]
    rows = _rows(response.content.decode())
    assert {status for status, _slot in rows} == {"accepted"}
    assert len(rows) == 2 + 11 + 2  # two opens, eleven people, two seals
    tubes = Tube.objects.filter(lane=lane).order_by("code")
    assert [(t.code, t.status, t.member_count, t.capacity) for t in tubes] == [
        (sheet.tube_code(1), "sealed", 10, 10),
        (sheet.tube_code(2), "sealed", 1, 10),
    ]
    # The events are the phone's kind, with the sheet's UUIDs and the times written on it.
    assert DeviceEvent.objects.filter(
        client_uuid=uuid.UUID(event_id(sheet, sheet.tube_code(1), people[2].person_code))
    ).exists()
    written = text.split("\n")[1]  # the time typed under the first tube's barcode
    assert timezone.localtime(tubes[0].opened_at).strftime("%H:%M") == written


def test_keying_the_same_sheet_again_records_nothing_twice(lane_world, registrar):
    lane, people = lane_world["lane"], lane_world["people"]
    sheet = _sheet(lane_world)
    text = _text(sheet, [[p.person_code for p in people[:4]]])
    client = client_for(registrar)
    _key(client, lane, sheet, text)
    counts = (Tube.objects.count(), TubeMember.objects.count(), DeviceEvent.objects.count())
    again = _key(client, lane, sheet, text).content.decode()
    assert {status for status, _slot in _rows(again)} == {"duplicate"}
    assert (Tube.objects.count(), TubeMember.objects.count(), DeviceEvent.objects.count()) == counts
    assert "Already keyed from this sheet: nothing new." in again


def test_a_line_forgotten_at_the_first_keying_is_refused_alone_and_the_rest_stays_duplicate(
    lane_world, registrar
):
    lane, people = lane_world["lane"], lane_world["people"]
    sheet = _sheet(lane_world)
    client = client_for(registrar)
    _key(client, lane, sheet, _text(sheet, [[people[0].person_code, people[2].person_code]]))
    codes_ = [p.person_code for p in people[:3]]
    html = _key(client, lane, sheet, _text(sheet, [codes_])).content.decode()
    assert _rows(html) == [
        ("duplicate", "tube"),
        ("duplicate", "1"),
        ("refused", "2"),
        ("duplicate", "3"),
        ("duplicate", "seal"),
    ]
    assert "the tube was sealed without them" in html
    assert TubeMember.objects.count() == 2


def test_a_tube_the_phone_sent_too_is_recognised_line_by_line(lane_world, registrar):
    """The phone recorded tube 1 with two people before it lost the server; the paper has a
    third in it. The two are on record, the third is refused with what to do, nothing twice."""
    lane, people, d = lane_world["lane"], lane_world["people"], lane_world["registrar"]
    sheet = _sheet(lane_world)
    sealed_tube(d, lane, people[:2], code=sheet.tube_code(1), pool=10)
    text = _text(sheet, [[p.person_code for p in people[:3]]])
    html = _key(client_for(registrar), lane, sheet, text).content.decode()
    assert _rows(html) == [
        ("on_record", "tube"),
        ("on_record", "1"),
        ("on_record", "2"),
        ("refused", "3"),
        ("on_record", "seal"),
    ]
    assert "the tube was sealed without them" in html
    assert Tube.objects.get().member_count == 2 and TubeMember.objects.count() == 2


def test_a_bad_line_is_refused_in_words_and_the_rest_is_recorded(lane_world, registrar):
    lane, people, d = lane_world["lane"], lane_world["people"], lane_world["registrar"]
    sealed_tube(d, lane, [people[11]], code="2112250009", pool=10)  # sampled already
    sheet = _sheet(lane_world)
    unknown = "K7QM9XD4" + codes.check_character("K7QM9XD4")
    block = [p.person_code for p in people[:3]] + [unknown, people[11].person_code]
    html = _key(client_for(registrar), lane, sheet, _text(sheet, [block])).content.decode()
    assert [s for s, _slot in _rows(html)] == [
        "accepted",
        "accepted",
        "accepted",
        "accepted",
        "refused",
        "refused",
        "accepted",
    ]
    assert "Nobody on this town&#x27;s roster has the code" in html
    assert "Someone not on the roster is typed as name, ID number, phone, address" in html
    assert "already sampled in this round" in html and "«code ! reason»" in html
    assert Tube.objects.get(code=sheet.tube_code(1)).member_count == 3


def test_the_eleventh_person_of_a_tube_of_ten_is_refused(lane_world, registrar):
    lane, people = lane_world["lane"], lane_world["people"]
    sheet = _sheet(lane_world)
    block = [p.person_code for p in people[:11]]
    html = _key(client_for(registrar), lane, sheet, _text(sheet, [block])).content.decode()
    statuses = [s for s, _slot in _rows(html)]
    assert statuses[11] == "refused" and statuses.count("accepted") == 12
    assert "already holds 10 people" in html


def test_a_tube_barcode_off_the_rounds_pattern_is_refused_and_its_people_not_sent(
    lane_world, registrar
):
    lane, people, campaign = lane_world["lane"], lane_world["people"], lane_world["campaign"]
    campaign.barcode_pattern = r"^9[0-9]{14}$"
    campaign.save(update_fields=["barcode_pattern"])
    sheet = _sheet(lane_world)
    _day, at = _when()
    text = f"ABC123\n{at}\n{people[0].person_code}\n{sheet.tube_code(2)}\n{at}\n{people[1].person_code}\n"
    html = _key(client_for(registrar), lane, sheet, text).content.decode()
    assert [s for s, _slot in _rows(html)] == [
        "refused",
        "not_sent",
        "accepted",
        "accepted",
        "accepted",
    ]
    assert "ABC123 is not a tube barcode of this round (expected ^9[0-9]{14}$)" in html
    assert TubeMember.objects.get().resident == people[1]


def test_times_later_than_now_or_before_the_round_are_refused(lane_world, registrar):
    lane, people = lane_world["lane"], lane_world["people"]
    sheet = _sheet(lane_world)
    later = (timezone.localtime() + dt.timedelta(minutes=30)).strftime("%H:%M")
    text = f"{sheet.tube_code(1)}\n{later}\n{people[0].person_code}\n"
    client = client_for(registrar)
    day = (timezone.localtime() + dt.timedelta(minutes=30)).date().isoformat()
    html = _key(client, lane, sheet, text, day=day).content.decode()
    assert "is later than now" in html and not Tube.objects.exists()
    html = _key(client, lane, sheet, text, day="2020-01-01").content.decode()
    assert "is before this round began" in html and not Tube.objects.exists()
    untimed = _key(client, lane, sheet, f"{sheet.tube_code(1)}\n{people[0].person_code}\n")
    assert "has no time" in untimed.content.decode() and not Tube.objects.exists()


def test_checking_a_sheet_answers_every_line_and_records_nothing(lane_world, registrar):
    lane, people = lane_world["lane"], lane_world["people"]
    sheet = _sheet(lane_world)
    text = _text(sheet, [[p.person_code for p in people[:3]]])
    html = _key(client_for(registrar), lane, sheet, text, action="check").content.decode()
    assert 'data-checked="yes"' in html and "Checked: nothing recorded yet" in html
    assert {s for s, _slot in _rows(html)} == {"accepted"}
    assert not Tube.objects.exists() and not DeviceEvent.objects.exists()


def test_a_walk_in_line_registers_the_walk_in(lane_world, registrar):
    lane = lane_world["lane"]
    sheet = _sheet(lane_world)
    line = f"过路人，{valid_id(777)}，13900001111，12号楼101"
    html = _key(client_for(registrar), lane, sheet, _text(sheet, [[line]])).content.decode()
    assert [s for s, _slot in _rows(html)] == ["accepted", "accepted", "accepted"]
    assert TubeMember.objects.get().walk_in.name == "过路人"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{person}\n", "comes before any tube barcode"),
        ("{tube}\n25:70\n", "is not a time"),
        ("{tube}\n{many}", "has more than 20 people typed"),
        ("{tubes}", "more than 60 tubes in one go"),
        ("x\n" * (paper.MAX_TEXT // 2 + 1), "key at most 60 tubes at a time"),
        ("{tube}\n" + "Y" * 400 + "\n", "is longer than 300 characters"),
        ("{tube}\n张三,\n", "a walk-in is typed as"),
        ("\n\n", "Nothing was keyed"),
    ],
    ids=["person first", "time", "people", "tubes", "size", "line", "walk-in", "empty"],
)
def test_a_sheet_that_cannot_be_read_records_nothing_and_says_which_line(
    lane_world, registrar, text, words
):
    sheet = _sheet(lane_world)
    text = text.format(
        tube=sheet.tube_code(1),
        person=lane_world["people"][0].person_code,
        many="\n".join([p.person_code for p in lane_world["people"]] * 2),
        tubes="\n".join(sheet.tube_code(n) for n in range(1, 62)),
    )
    response = _key(client_for(registrar), lane_world["lane"], sheet, text)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="paper-errors"' in html and words in html
    assert not Tube.objects.exists()


def test_a_sheet_of_another_lane_or_a_bad_number_is_refused(lane_world, registrar):
    lane = lane_world["lane"]
    other = SheetId(lane_world["campaign"].pk, lane.pk + 1000, 1)
    html = _key(client_for(registrar), lane, other, "x\n").content.decode()
    assert "was printed for another lane" in html
    bad = _key(client_for(registrar), lane, "PS-nope", "x\n").content.decode()
    assert "is not a sheet number" in bad


def test_a_tube_opened_before_midnight_and_sealed_after_is_keyed_with_both_times(
    lane_world, registrar
):
    lane, people, campaign = lane_world["lane"], lane_world["people"], lane_world["campaign"]
    type(campaign).objects.filter(pk=campaign.pk).update(
        starts_at=timezone.now() - dt.timedelta(days=3)
    )
    sheet = _sheet(lane_world)
    day = (timezone.localdate() - dt.timedelta(days=2)).isoformat()
    text = f"{sheet.tube_code(1)}\n23:50-00:10\n{people[0].person_code}\n"
    html = _key(client_for(registrar), lane, sheet, text, day=day).content.decode()
    assert {status for status, _slot in _rows(html)} == {"accepted"}, html[:3000]
    tube = Tube.objects.get(code=sheet.tube_code(1))
    assert timezone.localtime(tube.sealed_at) - timezone.localtime(tube.opened_at) == (
        dt.timedelta(minutes=20)
    )


def test_a_tube_block_or_a_person_typed_twice_in_one_go_is_refused_by_line(lane_world, registrar):
    """A keying slip is named as one, never answered as 'already keyed' or 'sampled again'."""
    lane, people = lane_world["lane"], lane_world["people"]
    sheet = _sheet(lane_world)
    _day, at = _when()
    code = people[0].person_code
    twice = f"{sheet.tube_code(1)}\n{at}\n{code}\n{code}\n"
    html = _key(client_for(registrar), lane, sheet, twice, headers=EN).content.decode()
    assert "Line 4: the same person as line 3, typed twice in tube" in html
    block = f"{sheet.tube_code(1)}\n{at}\n{code}\n{sheet.tube_code(1)}\n{at}\n"
    html = _key(client_for(registrar), lane, sheet, block, headers=EN).content.decode()
    assert f"Line 4: tube {sheet.tube_code(1)} is already on line 1." in html
    assert Tube.objects.count() == 0 and TubeMember.objects.count() == 0


def test_a_tube_code_printed_on_another_sheet_is_refused_and_nothing_of_it_sent(
    lane_world, registrar
):
    lane, people = lane_world["lane"], lane_world["people"]
    sheet, other = _sheet(lane_world), _sheet(lane_world, seq=2)
    _day, at = _when()
    text = f"{other.tube_code(1)}\n{at}\n{people[0].person_code}\n"
    html = _key(client_for(registrar), lane, sheet, text, headers=EN).content.decode()
    assert f"was printed on another sheet or for another lane, not on sheet {sheet.number}" in html
    assert not Tube.objects.filter(code=other.tube_code(1)).exists()
    assert TubeMember.objects.count() == 0

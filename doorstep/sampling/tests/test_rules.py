"""The lane rules one by one, with the code and words each refusal carries. They read no
database; the engine tests (test_lane_rules.py) hold them on SQLite and PostgreSQL."""

import datetime as dt

import pytest
from django.utils import timezone

from doorstep.core import codes
from doorstep.sampling import rules
from doorstep.sampling.rules import PersonFacts, Refusal, TubeFacts
from doorstep.testing import valid_id

PATTERN = r"^[0-9A-Z]{6,24}$"


def refusal(call, *args):  # type: ignore[no-untyped-def]
    with pytest.raises(Refusal) as caught:
        call(*args)
    return caught.value.code, caught.value.message


def lettered(body: int) -> str:
    """A valid code with at least one letter (a numeric one could be a tube barcode)."""
    while True:
        code = codes.new_code(body)
        if any(ch.isalpha() for ch in code):
            return code


# What was scanned ---------------------------------------------------------------------------


def test_a_persons_code_an_id_number_or_a_worker_code_never_opens_a_tube():
    person, worker = lettered(codes.PERSON_CODE_BODY), lettered(codes.WORKER_CODE_BODY)
    assert refusal(rules.tube_code, person, PATTERN) == (
        "not_a_tube",
        f"{person} is a person's code, not a tube: scan the tube's barcode first, then the people.",
    )
    assert refusal(rules.tube_code, valid_id(7), PATTERN)[1].startswith(
        f"{valid_id(7)} is an ID number, not a tube"
    )
    assert refusal(rules.tube_code, worker, PATTERN)[0] == "not_a_tube"
    assert rules.tube_code(" 2112250001 ", PATTERN) == "2112250001"


def test_a_numeric_tube_barcode_that_happens_to_pass_a_check_character_is_still_a_tube():
    numeric = next(
        f"{n:08d}" + codes.check_character(f"{n:08d}")
        for n in range(10_000)
        if codes.check_character(f"{n:08d}").isdigit()
    )
    assert codes.is_valid(numeric)
    assert rules.tube_code(numeric, PATTERN) == numeric


def test_a_barcode_outside_the_rounds_pattern_is_refused_with_the_pattern():
    code, message = refusal(rules.tube_code, "AB-12", PATTERN)
    assert code == "invalid" and f"(expected {PATTERN})" in message
    assert refusal(rules.tube_code, "", PATTERN)[1] == "“tube” is missing or not text."


def test_a_person_is_named_by_code_or_by_document_number():
    code = codes.new_code()
    spaced = f"{code[:3]}-{code[3:6]} {code[6:]}".lower()
    assert rules.person_key(spaced).code == code
    assert rules.person_key(valid_id(3).lower()).number == valid_id(3)
    assert rules.person_key("e1234 5678", "passport").number == "E12345678"
    assert rules.person_key("H12345678", "hk_macau").number == "H12345678"
    assert rules.person_key("12345678", "taiwan").number == "12345678"


def test_a_mistyped_code_or_id_number_is_refused_with_what_is_wrong():
    code = codes.new_code()
    wrong = code[:-1] + next(ch for ch in codes.ALPHABET if ch != code[-1])
    assert refusal(rules.person_key, wrong) == (
        "bad_code",
        f"{codes.display(wrong)} is not a valid person code: one character is wrong. "
        "Scan it again, or type the ID number (for a passport or permit, choose the document "
        "type first).",
    )
    number = valid_id(11)
    bad_check = number[:-1] + ("0" if number[-1] != "0" else "1")
    kind, message = refusal(rules.person_key, bad_check)
    assert kind == "bad_id_number" and "check character" in message
    assert refusal(rules.person_key, "1201011990023", "resident_id")[1].startswith(
        "A resident ID has 18 characters; this one has 13."
    )
    assert refusal(rules.person_key, "E12", "passport") == (
        "bad_document",
        "A passport number has 5 to 20 letters and digits (e.g. E12345678).",
    )
    assert refusal(rules.person_key, "X12345678", "hk_macau")[0] == "bad_document"
    assert refusal(rules.person_key, "E12345678", "driving_licence")[0] == "invalid"


def test_a_worker_badge_or_anything_else_is_not_a_person():
    worker = codes.new_code(codes.WORKER_CODE_BODY)
    assert refusal(rules.person_key, worker)[0] == "worker_code"
    assert refusal(rules.person_key, "hello")[0] == "not_a_person"
    assert refusal(rules.person_key, "²²²²²²²²²²²²²²²²²²")[0] == "not_a_person"


def test_a_tube_barcode_scanned_while_a_tube_is_open_says_to_seal_it():
    assert refusal(rules.person_scan, "2112250002", PATTERN, "2112250001", 3) == (
        "tube_still_open",
        "Tube 2112250001 is still open (3 people). Seal it before starting a new tube.",
    )
    assert rules.person_scan(valid_id(5), PATTERN, "2112250001", 3).number == valid_id(5)


def test_a_walk_in_carries_a_document_of_any_kind_and_an_address():
    data = rules.walk_in(
        {"name": "过路人", "id_type": "passport", "id_number": "e 1234 5678", "address": "5号楼301"}
    )
    assert (data.id_type, data.id_number, data.address, data.phone) == (
        "passport",
        "E12345678",
        "5号楼301",
        "",
    )
    assert refusal(rules.walk_in, {"name": "x", "id_number": "123"})[0] == "invalid"
    assert refusal(rules.walk_in, {"name": "x", "id_type": "visa", "id_number": "E12345678"})[
        0
    ] == ("invalid")
    assert refusal(rules.walk_in, {"name": "x", "id_number": valid_id(1), "phone": "12"})[1] == (
        "A mobile number has 11 digits and starts with 1; this one has 2 characters."
    )


def test_fields_with_a_nul_or_of_the_wrong_kind_are_invalid():
    assert refusal(rules.text, "a\x00b", "person")[1] == "“person” holds a NUL character."
    assert refusal(rules.count, True)[0] == "invalid"
    assert refusal(rules.count, -1)[0] == "invalid"
    assert refusal(rules.pool, 7)[1] == '“pool” must be 1, 5, 10, 20 or "household".'
    assert rules.pool(10) == "10" and rules.pool(None) == ""
    assert refusal(rules.override, 5)[0] == "invalid"


# Time ----------------------------------------------------------------------------------------


def test_at_must_be_a_real_date_and_time_even_at_the_edges_of_the_calendar():
    for raw in ("yesterday", "2021-13-45T09:00:00+08:00", "0001-01-01T00:00:00+14:00", 5, "9" * 50):
        assert refusal(rules.moment, raw)[0] == "invalid"
    naive = rules.moment("2026-12-01T09:00:00")
    assert timezone.is_aware(naive)


def test_a_scan_belongs_to_its_round_from_an_hour_before_the_start_to_ten_minutes_ahead():
    now = timezone.now()
    start = now - dt.timedelta(hours=2)
    rules.check_moment(start - dt.timedelta(minutes=59), start, now)
    rules.check_moment(now + dt.timedelta(minutes=9), start, now)
    code, message = refusal(rules.check_moment, start - dt.timedelta(hours=2), start, now)
    earliest = timezone.localtime(start - rules.EARLY).strftime("%Y-%m-%d %H:%M")
    assert code == "invalid" and f"scans are taken from {earliest} to" in message
    assert refusal(rules.check_moment, now + dt.timedelta(minutes=11), start, now)[0] == "invalid"


# Pools and zones -----------------------------------------------------------------------------


def test_the_lane_rule_is_what_most_of_the_community_follows_outside_sealed_buildings():
    assert rules.lane_rule({("prevention", "20"): 5, ("controlled", "10"): 2}) == "20"
    assert rules.lane_rule({("sealed", "household"): 9, ("controlled", "10"): 1}) == "10"
    assert rules.lane_rule({("prevention", "20"): 2, ("controlled", "10"): 2}) == "10"
    assert rules.lane_rule({("sealed", "household"): 3}) == "household"
    assert rules.lane_rule({}) == "20"


@pytest.mark.parametrize(
    ("tube", "zone", "building", "fits"),
    [
        ("20", "prevention", "20", True),
        ("10", "prevention", "20", True),
        ("20", "controlled", "10", False),
        ("20", "sealed", "20", False),  # a sealed zone means household tubes, whatever was set
        ("household", "sealed", "20", True),
        ("1", "sealed", "household", True),
        ("10", "sealed", "household", False),
        ("household", "prevention", "20", True),
        ("5", "prevention", "household", False),
        ("household", "prevention", "1", False),
    ],
)
def test_a_persons_zone_caps_the_pool_they_may_go_into(tube, zone, building, fits):
    assert rules.fits(tube, rules.person_rule(zone, building)) is fits


def tube(**fields: object) -> TubeFacts:
    values: dict = {
        "code": "2112250001",
        "campaign_id": 1,
        "lane_id": 1,
        "status": "open",
        "pool_rule": "10",
        "capacity": 10,
        "member_count": 0,
    }
    return TubeFacts(**(values | fields))


def person(**fields: object) -> PersonFacts:
    values: dict = {
        "resident_id": 7,
        "walk_in": "",
        "household_id": 70,
        "building": "12号楼",
        "zone": "controlled",
        "rule": "10",
        "sampled": False,
        "retest_of": "",
    }
    return PersonFacts(**(values | fields))


def test_each_reason_to_refuse_a_person_has_its_own_code():
    assert refusal(rules.check_add, tube(status="sealed"), person(), "")[0] == "tube_sealed"
    assert refusal(rules.check_add, tube(status="discarded"), person(), "")[0] == "tube_discarded"
    assert refusal(rules.check_add, tube(residents={7}), person(), "")[0] == "already_in_tube"
    assert (
        refusal(rules.check_add, tube(), person(retest_of="2112240001"), "")[0]
        == "single_tube_required"
    )
    assert refusal(rules.check_add, tube(), person(sampled=True), "")[0] == "already_sampled"
    rules.check_add(tube(), person(sampled=True), "采样管破损")
    code, message = refusal(
        rules.check_add, tube(pool_rule="20", capacity=20), person(zone="sealed"), ""
    )
    assert code == "zone_pool"
    assert message == (
        "This person lives in 12号楼 (Sealed zone: One tube per household) and may not go into "
        "tube 2112250001 (20 in 1). Set them aside and sample them into a tube of their own kind."
    )
    assert refusal(rules.check_add, tube(member_count=10), person(), "")[0] == "tube_full"
    household = tube(pool_rule="household", capacity=None, household_id=71, household_room="302")
    assert refusal(rules.check_add, household, person(zone="sealed"), "") == (
        "wrong_household",
        "This tube is for one household (302). Open a new tube for this household.",
    )
    walk_in = person(resident_id=None, walk_in="E12345678", household_id=None, rule="")
    assert refusal(rules.check_add, tube(pool_rule="household", capacity=None), walk_in, "")[0] == (
        "wrong_household"
    )


def test_a_lane_fills_one_tube_at_a_time_and_a_barcode_serves_once():
    sealed = tube(status="sealed", member_count=10, at=timezone.now())
    code, message = refusal(rules.check_new_tube, sealed, None)
    assert code == "tube_sealed" and "was already sealed at" in message and "10 people" in message
    assert refusal(rules.check_new_tube, tube(status="discarded"), None)[0] == "tube_discarded"
    assert refusal(rules.check_new_tube, tube(member_count=2), None)[0] == "tube_exists"
    assert refusal(rules.check_new_tube, None, tube(code="2112250009", member_count=4)) == (
        "lane_busy",
        "Tube 2112250009 is still open at this lane (4 people). Seal it (or discard it if empty) "
        "before opening a new tube.",
    )
    rules.check_new_tube(None, None)


def test_only_an_open_empty_tube_is_discarded_and_only_a_filled_one_sealed():
    rules.check_discard(tube())
    assert refusal(rules.check_discard, tube(member_count=1))[0] == "tube_not_empty"
    assert refusal(rules.check_seal, tube())[0] == "tube_empty"
    assert refusal(rules.check_seal, tube(status="sealed"))[0] == "tube_sealed"


def test_the_page_gets_every_word_as_a_template_it_can_fill():
    data = rules.page_data(PATTERN, "10")
    assert data["laneCapacity"] == 10 and data["laneRule"] == "10"
    assert all("%(" not in text for text in data["messages"].values())
    assert data["messages"]["full"] == (
        "Tube {code} already holds {n} people. Seal it and open a new tube for this person."
    )
    assert data["hints"]["unknown_person"].startswith("This swab is in tube {tube}")
    assert data["residentId"]["messages"]["length"].endswith(
        "this one has {count}. Check for a missing or extra digit."
    )

import pytest

from doorstep.core.idnumbers import (
    InvalidValue,
    id_check_character,
    normalise_phone,
    normalise_resident_id,
)

# GB 11643's own worked example: 11010519491231002 → X.
EXAMPLE = "11010519491231002X"


def test_the_standard_example_has_check_character_x():
    assert id_check_character(EXAMPLE[:17]) == "X"
    assert normalise_resident_id(EXAMPLE) == EXAMPLE


def test_a_lower_case_x_is_accepted_as_upper_case():
    assert normalise_resident_id(EXAMPLE.lower()) == EXAMPLE


def test_spaces_inside_the_number_are_removed():
    assert normalise_resident_id(" 110105 19491231 002X ") == EXAMPLE


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("110105194912310021", "check character"),
        (EXAMPLE[:17], "has 17"),
        (EXAMPLE + "1", "has 19"),
        ("1.20101E+17", "scientific notation"),
        ("120101199001011234.0", ".0"),
        ("11010519491331002X", "not a date"),
        ("11010519491231002Y", "other characters"),
    ],
)
def test_bad_resident_ids_are_refused_with_the_reason(raw, words):
    with pytest.raises(InvalidValue) as info:
        normalise_resident_id(raw)
    assert words in str(info.value)


@pytest.mark.parametrize(
    "raw", ["138 1234 1234", "138-1234-1234", "+86 13812341234", "13812341234.0"]
)
def test_phones_with_spaces_dashes_or_country_code_are_normalised(raw):
    assert normalise_phone(raw) == "13812341234"


@pytest.mark.parametrize("raw", ["1381234123", "138123412345", "23812341234", "138abc41234"])
def test_phones_of_the_wrong_shape_are_refused(raw):
    with pytest.raises(InvalidValue, match="11 digits"):
        normalise_phone(raw)

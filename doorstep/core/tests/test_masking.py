from doorstep.core.masking import mask_document, mask_name, mask_phone


def test_an_id_number_keeps_only_its_first_four():
    assert mask_document("12010119900101123X") == "1201**************"


def test_a_phone_keeps_its_first_three_and_last_four():
    assert mask_phone("13812341234") == "138****1234"


def test_names_keep_the_first_character():
    assert mask_name("张伟") == "张*"
    assert mask_name("欧阳明华") == "欧**华"
    assert mask_name("") == ""


def test_no_document_mask_shows_the_last_six_characters_the_public_look_up_asks_for():
    for number in ("12010119900101123X", "E12345678", "H1234567890", "1234567", "ABCDEF", "12345"):
        masked = mask_document(number)
        assert len(masked) == len(number)
        assert masked[-6:] == "*" * min(6, len(number)), (number, masked)
    assert mask_document("E12345678") == "E1*******"

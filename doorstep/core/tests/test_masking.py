from doorstep.core.masking import mask_document, mask_name, mask_phone


def test_an_id_number_keeps_its_first_and_last_four():
    assert mask_document("12010119900101123X") == "1201**********123X"


def test_a_phone_keeps_its_first_three_and_last_four():
    assert mask_phone("13812341234") == "138****1234"


def test_names_keep_the_first_character():
    assert mask_name("张伟") == "张*"
    assert mask_name("欧阳明华") == "欧**华"
    assert mask_name("") == ""


def test_short_documents_are_still_masked():
    masked = mask_document("E1234567")
    assert masked != "E1234567"
    assert "*" in masked

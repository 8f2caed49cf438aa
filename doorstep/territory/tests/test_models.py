import pytest
from django.db import IntegrityError, transaction

from doorstep.testing import (
    make_building,
    make_community,
    make_household,
    make_resident,
    make_town,
    valid_id,
)

pytestmark = pytest.mark.django_db


def test_a_document_number_is_unique_within_a_town():
    number = valid_id()
    make_resident(id_number=number)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_resident(make_household(room="202"), id_number=number)


def test_the_same_document_number_may_live_in_another_town():
    number = valid_id()
    make_resident(id_number=number)
    elsewhere = make_community("外镇社区", town=make_town("外镇"))
    other = make_resident(make_household(make_building(elsewhere)), id_number=number)
    assert other.pk


def test_a_person_code_is_unique():
    first = make_resident()
    second = make_resident(make_household(room="303"))
    second.person_code = first.person_code
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save(update_fields=["person_code"])

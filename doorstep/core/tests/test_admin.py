"""Every model in the admin opens for an administrator, and personal data stays masked there."""

import pytest
from django.contrib import admin
from django.urls import reverse

from doorstep.testing import client_for, make_household, make_resident, make_staff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model", list(admin.site._registry), ids=lambda m: f"{m._meta.app_label}.{m._meta.model_name}"
)
def test_every_admin_list_opens(model, admin_user, resident):
    make_staff()
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert client_for(admin_user).get(url).status_code == 200


def test_the_resident_admin_shows_documents_masked(admin_user):
    person = make_resident(
        make_household(room="909"), name="王小明", id_number="11010519491231002X"
    )
    client = client_for(admin_user)
    listing = client.get(reverse("admin:territory_resident_changelist")).content.decode()
    detail = client.get(
        reverse("admin:territory_resident_change", args=[person.pk])
    ).content.decode()
    for html in (listing, detail):
        assert "1101**************" in html and "11010519491231002X" not in html


def test_a_staff_member_is_linked_to_a_login_in_the_admin(admin_user, leader):
    staff = make_staff()
    url = reverse("admin:workforce_staff_change", args=[staff.pk])
    response = client_for(admin_user).post(
        url,
        {
            "unit": staff.unit_id,
            "name": staff.name,
            "phone": staff.phone,
            "skills": "",
            "user": leader.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    staff.refresh_from_db()
    assert staff.user == leader

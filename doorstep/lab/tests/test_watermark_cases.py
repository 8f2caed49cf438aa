"""A case sheet's print and XLSX carry who made them (issue 33): the print page has the mark on
each printed page, the XLSX in its properties and footer; the audit entry names everyone the
sheet shows, and the resident sees the print on ``/status/me/``."""

import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from doorstep.core.models import AuditAction, AuditEntry, AuditPerson
from doorstep.lab.models import CaseSheet
from doorstep.testing import client_for
from doorstep.testing.lanes import post, sealed_tube

pytestmark = pytest.mark.django_db
EN = {"Accept-Language": "en"}


@pytest.fixture
def sheet(lane_world):  # type: ignore[no-untyped-def]
    father, _mother = lane_world["family"]
    tube = sealed_tube(
        lane_world["registrar"], lane_world["lane"], [father], code="2112250101", pool=1
    )
    [answer] = post(lane_world, {"tube": tube.code, "result": "positive"})
    assert answer["status"] == "accepted", answer
    return CaseSheet.objects.get()


def test_the_print_page_has_the_watermark_of_its_entry(lane_world, worker, sheet):
    father, mother = lane_world["family"]
    page = client_for(worker).post(
        reverse("lab:case_print", args=[sheet.pk]), {"reason": "交流调组"}, headers=EN
    )
    html = page.content.decode()
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT, detail__format="print")
    assert 'data-testid="watermark"' in html and "position: fixed" in html
    mark = html.split('data-testid="watermark"', 1)[1].split("</div>", 1)[0]
    assert worker.username in mark and "Community worker" in mark and f"no. {entry.pk}" in mark
    # The person and their household were on it.
    assert set(AuditPerson.objects.filter(entry=entry).values_list("kind", "person_id")) == {
        ("resident", father.pk),
        ("resident", mother.pk),
    }
    assert entry.town_id == sheet.community.town_id
    me = Client().post(
        reverse("command:me"),
        {"code": mother.person_code, "document": mother.id_number[-6:]},
        headers=EN,
    )
    assert "Printed your case sheet" in me.content.decode() and "交流调组" in me.content.decode()


def test_the_xlsx_carries_its_maker_in_the_properties_and_footer(worker, sheet):
    response = client_for(worker).post(
        reverse("lab:case_xlsx", args=[sheet.pk]), {"reason": "交流调组"}, headers=EN
    )
    book = load_workbook(io.BytesIO(response.content))
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT, detail__format="xlsx")
    assert worker.username in book.properties.creator
    assert f"export={entry.pk}" in book.properties.keywords
    footer = book.active.oddFooter.center.text
    assert worker.username in footer and f"no. {entry.pk}" in footer

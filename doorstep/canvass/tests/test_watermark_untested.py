"""The untested list's XLSX (issue 33): marked with who made it, its entry listing every person
written, in the register of exports."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from doorstep.core.models import AuditEntry, AuditPerson
from doorstep.testing import client_for

pytestmark = pytest.mark.django_db


def test_the_untested_export_is_marked_and_lists_its_people(street, worker, commander):
    args = [street["campaign"].pk, street["task"].community_id]
    response = client_for(worker).post(
        reverse("canvass:untested_export", args=args), {"reason": "网格员电话通知"}
    )
    book = load_workbook(io.BytesIO(response.content))
    entry = AuditEntry.objects.get(object_type="untested")
    rows = list(book.active.iter_rows(min_row=2, values_only=True))
    people = AuditPerson.objects.filter(entry=entry)
    assert people.count() == len(rows) == entry.detail["rows"] == 10
    assert {p.kind for p in people} == {"resident"}
    assert worker.username in book.properties.creator
    assert f"no. {entry.pk}" in book.active.oddFooter.center.text
    register = client_for(commander).get(reverse("command:exports")).content.decode()
    assert f'id="export-{entry.pk}"' in register and "网格员电话通知" in register

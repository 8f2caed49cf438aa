"""The notices left at the door (《告居民书》, issue 33): each printed sheet names the role, unit
and print number of who printed it, never their name; the print is on record with the people
whose doors it names."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from doorstep.core.models import AuditAction, AuditEntry, AuditPerson
from doorstep.notices import actions
from doorstep.notices.models import Message, Notice
from doorstep.testing import client_for
from doorstep.testing.lanes import post, sealed_tube

pytestmark = pytest.mark.django_db


def test_printed_notices_carry_the_role_and_number_and_are_on_record(lane_world, leader):
    people = lane_world["people"][:2]
    pool = sealed_tube(lane_world["registrar"], lane_world["lane"], people)
    post(lane_world, {"tube": pool.code, "result": "positive"})
    for message in Message.objects.filter(notice__cause_tube=pool):
        actions.delivery_report(message, actions.DLR_SMSC_FAILED, "rejected", timezone.now())
    assert Notice.objects.filter(door_at__isnull=False).count() == 2
    page = client_for(leader).get(reverse("notices:print")).content.decode()
    entry = AuditEntry.objects.get(action=AuditAction.PRINT, object_type="door_notices")
    marks = re.findall(r'data-testid="watermark"[^>]*>(.*?)</p>', page, re.S)
    assert marks and all(f"print no. {entry.pk}" in m and "Team leader" in m for m in marks)
    assert leader.username not in page
    assert set(AuditPerson.objects.filter(entry=entry).values_list("person_id", flat=True)) == {
        p.pk for p in people
    }

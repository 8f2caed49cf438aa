"""The 403 and 404 pages are Doorstep's own, in the user's language, and say what to do."""

import pytest
from django.urls import reverse

from doorstep.testing import client_for
from doorstep.workforce.models import DutyCounter, DutyRole, PlaceKind

pytestmark = pytest.mark.django_db


def test_a_role_that_may_not_gets_the_projects_403_in_chinese(registrar):
    response = client_for(registrar, "zh-hans").get(reverse("sampling:site_create"))
    html = response.content.decode()
    assert response.status_code == 403
    assert "无权操作" in html and "请指挥长调整您的角色" in html and "返回首页" in html


def test_a_place_outside_the_users_communities_gets_the_projects_404(outsider, lane_world):
    lane = lane_world["lane"]
    worker = client_for(outsider)
    response = worker.get(reverse("sampling:boxes", args=[lane.site_id]))
    assert response.status_code in {403, 404}
    missing = worker.get("/no/such/page/")
    assert missing.status_code == 404
    assert "outside your communities" in missing.content.decode()
    assert "未找到" in client_for(outsider, "zh-hans").get("/no/such/page/").content.decode()


def test_roles_on_duty_at_a_lane_are_shown_in_words_not_keys(lane_world, commander):

    lane, campaign = lane_world["lane"], lane_world["campaign"]
    DutyCounter.objects.create(
        town=campaign.town,
        kind=PlaceKind.LANE,
        place_id=lane.pk,
        role=DutyRole.ORDER_KEEPER,
        on_duty=1,
    )
    html = (
        client_for(commander, "zh-hans")
        .get(reverse("command:site", args=[campaign.pk, lane.site_id]))
        .content.decode()
    )
    assert "order_keeper" not in html and "秩序维护 1" in html

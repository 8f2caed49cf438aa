import io
import json
import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from doorstep.canvass import actions
from doorstep.canvass.models import BuildingTask, TaskStatus, Visit
from doorstep.canvass.outcomes import record
from doorstep.core.models import AuditEntry
from doorstep.testing import client_for, make_household, make_resident, tap

pytestmark = pytest.mark.django_db


def text(html: str) -> str:
    """The page as read: tags dropped."""
    return re.sub(r"<[^>]+>", "", html)


def post_taps(client, task, taps):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("canvass:outcomes", args=[task.pk]),
        json.dumps({"taps": taps}),
        content_type="application/json",
    )


def test_the_leader_sees_the_claim_list_nearest_first_and_claims_from_it(street, leader):
    client = client_for(leader)
    html = client.get(reverse("canvass:index")).content.decode()
    assert "杨柳青镇第2组" in html
    # No building worked yet: the list starts at the lowest position.
    assert html.index("11号楼") < html.index("12号楼") < html.index("13号楼")
    response = client.post(reverse("canvass:claim", args=[street["task"].pk]))
    assert response.status_code == 302
    assert BuildingTask.objects.get(pk=street["task"].pk).status == TaskStatus.CLAIMED
    html = client.get(reverse("canvass:index")).content.decode()
    assert 'id="held"' in html and "0 of 4 households recorded" in html


def test_a_losing_claim_sends_the_leader_to_the_nearest_free_building_with_who_holds_it(
    street, leader
):
    actions.claim(street["rival_leader"], street["task"])
    client = client_for(leader)
    response = client.post(reverse("canvass:claim", args=[street["task"].pk]), follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("canvass:task", args=[street["task11"].pk])
    assert "12号楼 is being canvassed by 精武镇第3组" in html
    assert "The nearest free building is 11号楼" in html


def test_the_building_page_lists_households_by_unit_and_floor_with_masked_untested_members(
    street, leader
):
    actions.claim(leader, street["task"])
    html = (
        client_for(leader).get(reverse("canvass:task", args=[street["task"].pk])).content.decode()
    )
    assert "1单元 · Floor 1" in html and "2单元 · Floor 2" in html
    assert "张*" in html and "张伟" not in html
    assert html.count('class="untested"') == 8
    assert html.count("data-outbox") == 4
    assert 'id="complete"' in html


def test_someone_elses_building_shows_who_holds_it_and_no_buttons(street, leader):
    actions.claim(street["rival_leader"], street["task"])
    html = (
        client_for(leader).get(reverse("canvass:task", args=[street["task"].pk])).content.decode()
    )
    assert "精武镇第3组 is canvassing this building" in html
    assert "data-outbox" not in html and 'id="complete"' not in html


def test_a_form_tap_without_javascript_records_once_even_if_resubmitted(street, leader):
    actions.claim(leader, street["task"])
    client = client_for(leader)
    h = street["households"][0]
    form = {"id": str(uuid.uuid4()), "household": h.pk, "outcome": "notified"}
    url = reverse("canvass:outcomes", args=[street["task"].pk])
    assert client.post(url, form).status_code == 302
    assert client.post(url, form).status_code == 302
    assert Visit.objects.count() == 1


def test_the_json_batch_answers_each_tap_in_order_with_the_progress(street, leader):
    actions.claim(leader, street["task"])
    h = street["households"]
    good = {"id": str(uuid.uuid4()), "household": h[0].pk, "outcome": "nobody_home"}
    bad = {"id": str(uuid.uuid4()), "household": h[1].pk, "outcome": "exempt"}
    response = post_taps(client_for(leader), street["task"], [good, bad, good])
    body = response.json()
    assert response.status_code == 200
    assert [r["status"] for r in body["results"]] == ["accepted", "rejected", "duplicate"]
    assert body["results"][1]["error"]["code"] == "invalid"
    assert body["progress"] == {"with_outcome": 1, "households": 4}


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ("not json", 400, "not JSON"),
        ('{"taps": "x"}', 400, "a list of taps"),
        ('{"taps": [' + ",".join(["{}"] * 501) + "]}", 413, "at most 500"),
    ],
)
def test_a_bad_batch_is_refused_whole_with_a_message(street, leader, body, status, says):
    response = client_for(leader).post(
        reverse("canvass:outcomes", args=[street["task"].pk]), body, content_type="application/json"
    )
    assert response.status_code == status
    assert says in response.json()["error"]
    assert not Visit.objects.exists()


def test_completing_through_the_page_posts_to_the_feed(street, leader, worker):
    actions.claim(leader, street["task"])
    h = street["households"]
    record(leader, street["task"], [tap(h[0], "nobody_home"), tap(h[1]), tap(h[2]), tap(h[3])])
    client = client_for(leader)
    response = client.post(reverse("canvass:complete", args=[street["task"].pk]), follow=True)
    assert "杨柳青镇第2组 finished 12号楼: 3/4 households notified, 1 nobody home" in (
        response.content.decode()
    )
    feed = client_for(worker).get(
        reverse("canvass:feed", args=[street["campaign"].pk]), headers={"HX-Request": "true"}
    )
    html = feed.content.decode()
    assert "<html" not in html and 'hx-trigger="every 5s" data-poll' in html
    assert "finished 12号楼: 3/4 households notified" in html


def test_the_feed_reads_like_the_work_group_in_chinese(street, leader, worker):
    actions.claim(leader, street["task"])
    record(leader, street["task"], [tap(h) for h in street["households"][:3]])
    record(leader, street["task"], [tap(street["households"][3], "nobody_home")])
    actions.complete(leader, street["task"])
    html = (
        client_for(worker, language="zh-hans")
        .get(reverse("canvass:feed", args=[street["campaign"].pk]))
        .content.decode()
    )
    assert "杨柳青镇第2组 完成 12号楼：3/4户已通知，1户无人" in html


def test_completing_too_early_names_the_households_left(street, leader):
    actions.claim(leader, street["task"])
    response = client_for(leader).post(
        reverse("canvass:complete", args=[street["task"].pk]), follow=True
    )
    assert "4 households have no outcome yet: 1单元 101, 1单元 201, 2单元 101, 2单元 201" in (
        response.content.decode()
    )


def test_the_community_page_shows_what_stands_between_it_and_covered(street, leader, worker):
    actions.claim(leader, street["task"])
    record(leader, street["task"], [tap(street["households"][0], "nobody_home")])
    url = reverse("canvass:community", args=[street["campaign"].pk, street["task"].community_id])
    html = text(client_for(worker).get(url).content.decode())
    assert "2 buildings not started: 11号楼, 13号楼" in html
    assert "1 building in progress: 12号楼 (杨柳青镇第2组)" in html
    # Nobody home is not covered: 6 households of which none is covered yet.
    assert "6 households not covered yet" in html
    assert "1 household to revisit" in html
    assert 'id="covered"' not in html


def test_a_community_with_every_household_settled_is_covered(street, leader, worker):
    campaign, community = street["campaign"], street["task"].community
    for t in (street["task"], street["task11"], street["task13"]):
        actions.claim(leader, t)
        households = list(make_household(t.building, "101").unit.households.all())
        if t == street["task"]:
            households = street["households"]
        record(
            leader,
            t,
            [tap(h, "moved_out" if i == 0 else "notified") for i, h in enumerate(households)],
        )
        actions.complete(leader, t)
    html = (
        client_for(worker)
        .get(reverse("canvass:community", args=[campaign.pk, community.pk]))
        .content.decode()
    )
    assert 'id="covered"' in html


def test_the_untested_list_is_masked_and_the_export_is_audited(street, leader, worker):
    actions.claim(leader, street["task"])
    record(
        leader, street["task"], [tap(street["households"][0], "exempt", exempt_reason="isolating")]
    )
    client = client_for(worker)
    args = [street["campaign"].pk, street["task"].community_id]
    html = client.get(reverse("canvass:untested", args=args)).content.decode()
    assert "8 people not yet tested" in html and "张*" in html and "张伟" not in html
    masked = client.post(reverse("canvass:untested_export", args=args))
    sheet = load_workbook(io.BytesIO(masked.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-2:] == ("入户结果", "上轮也未检") and len(rows) == 9
    assert all("*" in row[3] for row in rows[1:])
    full = client.post(reverse("canvass:untested_export", args=args), {"reason": "网格员电话通知"})
    rows = list(load_workbook(io.BytesIO(full.content)).active.iter_rows(values_only=True))
    assert {row[3] for row in rows[1:]} == {"张伟", "李娜", "王芳", "赵敏"}
    entries = list(AuditEntry.objects.filter(object_type="untested").order_by("at", "id"))
    assert [(e.reason, e.detail["masked"], e.detail["rows"]) for e in entries] == [
        ("", True, 8),
        ("网格员电话通知", False, 8),
    ]


def test_a_too_short_export_reason_is_refused_and_nothing_is_exported(street, worker):
    args = [street["campaign"].pk, street["task"].community_id]
    response = client_for(worker).post(
        reverse("canvass:untested_export", args=args), {"reason": "ok"}, follow=True
    )
    assert "at least 4 characters" in response.content.decode()
    assert not AuditEntry.objects.filter(object_type="untested").exists()


def test_the_revisit_list_records_a_phone_call(street, leader, worker):
    actions.claim(leader, street["task"])
    h = street["households"]
    record(leader, street["task"], [tap(h[0], "nobody_home")] + [tap(x) for x in h[1:]])
    actions.complete(leader, street["task"])
    client = client_for(worker)
    args = [street["campaign"].pk, street["task"].community_id]
    html = client.get(reverse("canvass:revisits", args=args)).content.decode()
    assert "12号楼 1单元 101" in html and "nobody home 1 time" in html and "138****1234" in html
    form = {
        "id": str(uuid.uuid4()),
        "household": h[0].pk,
        "outcome": "notified",
        "next": "revisits",
    }
    response = client.post(reverse("canvass:outcomes", args=[street["task"].pk]), form, follow=True)
    assert 'id="no-revisits"' in response.content.decode()


@pytest.mark.parametrize(
    "name", ["canvass:task", "canvass:community", "canvass:revisits", "canvass:untested"]
)
def test_canvass_pages_run_the_same_number_of_queries_for_few_or_many_residents(
    name, street, leader, worker
):
    actions.claim(leader, street["task"])
    task = street["task"]
    args = [task.pk] if name == "canvass:task" else [street["campaign"].pk, task.community_id]
    client = client_for(leader if name == "canvass:task" else worker)
    counts = []
    for n in (1, 6):
        households = [make_household(task.building, f"{n}0{i}", "3单元") for i in range(n)]
        for hh in households:
            make_resident(hh, "孙丽")
            make_resident(hh, "周强")
        record(leader, task, [tap(hh, "nobody_home") for hh in households])
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse(name, args=args)).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1], counts

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from doorstep.core.roles import Role
from doorstep.sampling.models import Box, Tube
from doorstep.territory.models import Town
from doorstep.testing import client_for, make_user
from doorstep.testing.lanes import post, sealed_tube, to_the_lab

pytestmark = pytest.mark.django_db


def boxed(lane_world):  # type: ignore[no-untyped-def]
    d, lane = lane_world["registrar"], lane_world["lane"]
    tube = sealed_tube(d, lane, lane_world["people"][:10])
    d.send(
        d.event("box.open", lane=lane.code, box="BOX001"),
        d.event("box.add", box="BOX001", tube=tube.code),
        d.event("box.seal", box="BOX001", count=1),
        d.event("box.handoff", box="BOX001", count=1, courier="李师傅"),
    )
    return tube


def test_the_lab_desk_shows_boxes_on_the_way_and_receives_by_scan(lane_world, lab):
    boxed(lane_world)
    client = client_for(lab)
    html = client.get(reverse("lab:index")).content.decode()
    assert "BOX001" in html and "李师傅" in html
    wrong = client.post(reverse("lab:receive"), {"box": "BOX001", "count": "2"})
    assert (
        wrong.status_code == 400 and "2 tubes counted but 1 were scanned" in wrong.content.decode()
    )
    right = client.post(reverse("lab:receive"), {"box": "BOX001", "count": "1"})
    assert right.status_code == 200 and 'id="pending">1<' in right.content.decode()
    assert Box.objects.get().status == "received"


def test_the_specimen_clock_flags_tubes_not_received_after_3_and_4_hours(lane_world, lab):
    import datetime as dt

    from django.utils import timezone

    tube = boxed(lane_world)
    Tube.objects.filter(pk=tube.pk).update(
        sealed_at=timezone.now() - dt.timedelta(hours=3, minutes=10)
    )
    html = client_for(lab).get(reverse("lab:index")).content.decode()
    assert tube.code in html and "over 3 h" in html
    Tube.objects.filter(pk=tube.pk).update(
        sealed_at=timezone.now() - dt.timedelta(hours=4, minutes=1)
    )
    assert "over 4 h" in client_for(lab).get(reverse("lab:index")).content.decode()


def test_a_results_file_is_uploaded_whole_or_not_at_all(lane_world, lab):
    to_the_lab(lane_world, boxed(lane_world).code)
    client = client_for(lab)
    bad = SimpleUploadedFile("r.csv", "管码,结果\n2112250001,阳\n".encode("gbk"))
    response = client.post(reverse("lab:upload"), {"file": bad})
    assert response.status_code == 400 and "row 2" in response.content.decode()
    good = SimpleUploadedFile("r.csv", "管码,结果\n2112250001,阳性\n".encode())
    response = client.post(reverse("lab:upload"), {"file": good})
    html = response.content.decode()
    assert response.status_code == 200 and "1 results recorded" in html
    # The positive is said first, above the count, with its pool size and a link to the tube.
    assert html.index('id="upload-positives"') < html.index("1 results recorded")
    positives = html.split('id="upload-positives"')[1].split("</div>")[0]
    assert "1 positive:" in positives and "2112250001" in positives and "pool of 10" in positives
    # A negative upload says nothing of positives.
    negative = SimpleUploadedFile("r.csv", "管码,结果\n2112250001,阴性\n更正原因\n".encode())
    assert (
        'id="upload-positives"'
        not in client.post(reverse("lab:upload"), {"file": negative}).content.decode()
    )


def test_the_lab_sees_codes_and_history_never_names(lane_world, lab):
    tube = boxed(lane_world)
    post(lane_world, {"tube": tube.code, "result": "positive"})
    client = client_for(lab)
    url = reverse("lab:tube", args=[tube.code])
    response = client.post(url, {"result": "negative", "reason": "复核为阴性"})
    html = response.content.decode()
    assert "复核为阴性" in html and "Positive" in html and "Negative" in html
    for page in (html, client.get(reverse("lab:index")).content.decode()):
        assert "居民" not in page and lane_world["people"][0].id_number not in page
    bare = client.post(url, {"result": "positive", "reason": ""})
    assert bare.status_code == 400 and "correction needs a reason" in bare.content.decode()


def test_positive_pool_households_appear_on_the_community_retest_list(lane_world, worker):
    tube = boxed(lane_world)
    post(lane_world, {"tube": tube.code, "result": "positive"})
    html = client_for(worker).get(reverse("lab:retests")).content.decode()
    assert f"Pool {tube.code} is positive: 10 people in " in html
    assert "must stay home and be re-sampled in single tubes" in html
    assert "12号楼" in html and "101" in html and html.count("stay home") >= 10
    assert "居民11" not in html and "居*" in html


def test_the_specimen_clock_shows_only_the_labs_own_town(lane_world):
    import datetime as dt

    from django.utils import timezone

    tube = boxed(lane_world)
    Tube.objects.filter(pk=tube.pk).update(sealed_at=timezone.now() - dt.timedelta(hours=5))
    far_lab = make_user(Role.LAB, town=Town.objects.create(name="远方镇"))
    assert tube.code not in client_for(far_lab).get(reverse("lab:index")).content.decode()


def test_a_box_still_being_packed_is_not_expected_at_the_lab(lane_world, lab):
    d, lane = lane_world["registrar"], lane_world["lane"]
    tube = sealed_tube(d, lane, lane_world["people"][:2])
    d.send(
        d.event("box.open", lane=lane.code, box="BOX009"),
        d.event("box.add", box="BOX009", tube=tube.code),
        d.event("box.seal", box="BOX009", count=5),  # refused, and the box is flagged
    )
    assert Box.objects.get(code="BOX009").flagged
    html = client_for(lab).get(reverse("lab:index")).content.decode()
    on_the_way = html[html.index('id="boxes"') : html.index('id="clock"')]
    assert "BOX009" not in on_the_way

"""The demo's sampling morning at 富锦园: three lanes have filled and sealed tubes of ten, boxes
went to the lab, most results are back, one pool is positive and its members wait for their
single-tube retests. All through the device-event engine and the lab's results, as a real
morning would arrive. Before it, the two rounds of the days before (``earlier_rounds``)."""

from __future__ import annotations

import datetime as dt
import random
import uuid

from django.utils import timezone

from doorstep.campaigns.actions import (
    close_round,
    confirm_seal,
    create_campaign,
    positive_found,
    set_community_zone,
    start_round,
)
from doorstep.campaigns.models import Campaign, Zone
from doorstep.core.idnumbers import id_check_character
from doorstep.core.models import User
from doorstep.lab.actions import results
from doorstep.sampling import ingest, tally
from doorstep.sampling.actions import report_queue
from doorstep.sampling.models import RoundSample, Site
from doorstep.territory.models import Building, Community, Resident, Town

TUBES_PER_LANE = 8
POOL = 10
_BODY = "12011119860312041"
WALK_IN = {
    "name": "孟凡",
    "id_type": "resident_id",
    "id_number": _BODY + id_check_character(_BODY),
    "phone": "13920001234",
    "address": "北区七栋东门二楼",  # as he said it: no such building on the roster
}


def _event(type_: str, at: dt.datetime, **fields: object) -> dict[str, object]:
    return {"id": str(uuid.uuid4()), "type": type_, "at": at.isoformat(), **fields}


def morning_at_the_site(rng: random.Random, site: Site) -> None:
    registrar = User.objects.get(username="registrar")
    lab = User.objects.get(username="lab")
    lanes = list(site.lanes.order_by("name")[:3])
    people = list(
        Resident.objects.filter(community=site.community, moved_out=False).values_list(
            "person_code", flat=True
        )
    )
    rng.shuffle(people)
    now = timezone.now()
    # Three lanes at the planned pace (a tube of 10 every 7 minutes) for the last 75 minutes,
    # so the wait the sites page and the public page estimate is a believable one.
    start = now - dt.timedelta(minutes=75)
    tubes: list[str] = []
    for n, lane in enumerate(lanes):
        # Each lane's own scanner (its token carries the lane); the demo's registrar login is
        # on duty at the third.
        batch: list[dict[str, object]] = []
        for t in range(min(TUBES_PER_LANE, len(people) // POOL)):
            code = f"2112{n + 1:02d}{t + 1:04d}"
            at = start + dt.timedelta(minutes=7 * t + n)
            # The pool that comes back positive holds a walk-in whose address names no
            # household: the community's workers have one to find (/sampling/walk-ins/).
            lost = n == 0 and t == 4
            members = people[: POOL - lost]
            people = people[POOL - lost :]
            batch.append(_event("tube.open", at, lane=lane.code, tube=code, pool=POOL))
            batch += [_event("tube.add", at, tube=code, person=p) for p in members]
            if lost:
                batch.append(_event("tube.add", at, tube=code, walk_in=WALK_IN))
            batch.append(_event("tube.seal", at + dt.timedelta(minutes=6), tube=code))
            tubes.append(code)
        ingest.apply(registrar, batch, now, token_lane=lane.pk)
    batch = []
    # Two boxes left for the lab a quarter of an hour ago; the third is still being packed.
    packed = start + dt.timedelta(hours=1)
    for b, chunk in enumerate((tubes[:10], tubes[10:20], tubes[20:])):
        if not chunk:
            break
        box = f"BOX{b + 1:03d}"
        batch.append(_event("box.open", packed, lane=lanes[-1].code, box=box))
        batch += [_event("box.add", packed, box=box, tube=code) for code in chunk]
        if b < 2:
            batch.append(_event("box.seal", packed, box=box, count=len(chunk)))
            batch.append(_event("box.handoff", packed, box=box, count=len(chunk), courier="李师傅"))
    # Lane 3 is filling its next tube right now: 7 of 10.
    if len(people) >= 7:
        open_at = now - dt.timedelta(minutes=3)
        batch.append(
            _event("tube.open", open_at, lane=lanes[-1].code, tube="2112039001", pool=POOL)
        )
        batch += [_event("tube.add", open_at, tube="2112039001", person=p) for p in people[:7]]
    ingest.apply(registrar, batch, now)
    received = packed + dt.timedelta(minutes=10)
    ingest.apply(lab, [_event("box.receive", received, box="BOX001", count=len(tubes[:10]))], now)
    # Nine results back: one positive pool, the rest negative.
    rows = [{"tube": code, "result": "negative"} for code in tubes[:9]]
    if rows:
        rows[min(4, len(rows) - 1)]["result"] = "positive"
    results.record(lab, rows, now)
    for lane, waiting in zip(lanes, (15, 10, 20), strict=False):
        report_queue(registrar, lane, waiting)


# The rounds before today's: the demo's campaign is on its third round.
EARLIER = (("第1轮全员核酸检测(演示)", 8, 0.962), ("第2轮全员核酸检测(演示)", 4, 0.981))


def earlier_rounds(
    rng: random.Random, town: Town, communities: list[Community], admin: User
) -> list[Campaign]:
    """Two closed rounds, eight and four days ago, with their people sampled (most of them,
    every one in the building the first round found a positive in), so that round over round,
    the untested-twice list and the lifting rule have a past to read. In round 1 a resident
    of a controlled building of the second community was found positive: the building was
    sealed at once and the commander confirmed it. Round 2 tested everyone in it, so by today
    it has been clear for eight days and may lift."""
    now = timezone.now()
    people = list(
        Resident.objects.filter(town=town, moved_out=False).values_list(
            "pk", "community_id", "household__unit__building_id"
        )
    )
    second = list(
        Building.objects.filter(community=communities[1])
        .order_by("position")
        .values_list("pk", flat=True)
    )
    hot = second[min(4, len(second) - 1)]
    done: list[Campaign] = []
    for name, days_ago, share in EARLIER:
        start = (now - dt.timedelta(days=days_ago)).replace(
            hour=7, minute=0, second=0, microsecond=0
        )
        campaign = create_campaign(town, name, communities=communities, starts_at=start, user=admin)
        start_round(admin, campaign, now=start)
        if not done:
            for community in communities[1:3]:
                set_community_zone(
                    admin,
                    campaign,
                    community,
                    Zone.CONTROLLED,
                    note="邻近社区出现阳性,按区指挥部要求管控",
                )
        RoundSample.objects.bulk_create(
            [
                RoundSample(
                    campaign=campaign,
                    resident_id=pk,
                    community_id=community_id,
                    sampled_at=start + dt.timedelta(minutes=rng.randrange(30, 600)),
                )
                for pk, community_id, building in people
                if building == hot or rng.random() < share
            ],
            batch_size=2000,
        )
        tally.fold(wait=True)
        if not done:
            [seal] = positive_found(campaign.pk, [hot], "2112180001", start + dt.timedelta(hours=9))
            confirm_seal(admin, seal)
        close_round(admin, campaign, confirmed=True, now=start + dt.timedelta(hours=14))
        done.append(campaign)
    return done

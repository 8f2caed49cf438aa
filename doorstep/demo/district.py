"""The demo's district, after the seed: Xiqing district's command pulls cadres from five of its
sub-districts and towns into Zhongbei town, in batches, through the real support actions.

杨柳青镇 sends 80 for door to door, who assemble in under 30 minutes, then a second batch of 30
that splits into four groups, one per sampling lane; 西营门街's 40 knock on doors in the sealed
community; 王稳庄镇's are partly there; 大寺镇 has selected its people, who have not left; 赤龙南街's
night batch stood down and is back home safe. A second town of the district, 辛口镇, tests at the
same time with a round of its own.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from django.utils import timezone

from doorstep.campaigns.actions import create_campaign, start_round
from doorstep.core.models import User
from doorstep.core.roles import Role
from doorstep.sampling.actions import create_site
from doorstep.sampling.models import Site
from doorstep.territory.models import Community, District, Town
from doorstep.workforce.actions import (
    assign_team,
    check_in,
    form_team,
    new_worker_code,
    stand_down,
    support,
)
from doorstep.workforce.models import (
    Batch,
    CallUp,
    Duty,
    Muster,
    Purpose,
    Skill,
    Staff,
    SupportUnit,
    Team,
)

DISTRICT = "西青区(演示)"
# The five that sent staff to Zhongbei town on 25 December (the seed article), and how many
# each had on file: 杨柳青镇's 80 cadres, its second batch of 30, and two to spare.
SENDING = {"西营门街": 40, "大寺镇": 30, "杨柳青镇": 112, "王稳庄镇": 82, "赤龙南街": 30}
# The second town testing at the same time, and its villages and communities.
SECOND_TOWN = "辛口镇(演示)"
SECOND_COMMUNITIES = ["辛口村", "沙窝村", "大沙河村", "水高庄村", "第六埠村", "辛口镇社区"]


def demo_town_name(name: str) -> str:
    return f"{name}(演示)"


def build_district(
    rng: random.Random,
    town: Town,
    communities: list[Community],
    fake_name: Callable[[random.Random], str],
) -> District:
    """The district around the demo town, its sending towns with their units and staff."""
    # What every text message of its towns is signed with.
    district = District.objects.create(name=DISTRICT, is_demo=True, sms_signature="西青区疫情防控")
    Town.objects.filter(pk=town.pk).update(district=district)
    town.district = district
    skills = [
        f",{Skill.SAMPLER},",
        f",{Skill.REGISTRAR},",
        f",{Skill.ORDER_KEEPER},",
        f",{Skill.CANVASSER},",
    ]
    phone = 13900000000
    for name, count in SENDING.items():
        home = Town.objects.create(name=demo_town_name(name), district=district, is_demo=True)
        unit = SupportUnit.objects.create(town=home, name=f"{name}机关")
        people = []
        for n in range(count):
            phone += 1
            people.append(
                Staff(
                    unit=unit,
                    town=home,
                    name=fake_name(rng),
                    phone=str(phone),
                    skills=f",{Skill.TEAM_LEADER}," if n % 10 == 0 else skills[n % 4],
                    worker_code=new_worker_code(),
                )
            )
        Staff.objects.bulk_create(people)
    return district


def _staff(town: str, start: int, count: int) -> list[Staff]:
    return list(
        Staff.objects.filter(unit__town__name=demo_town_name(town)).order_by("pk")[
            start : start + count
        ]
    )


def _arrive(
    commander: User, batch: Batch, people: list[Staff], departed: dt.datetime, minutes: int
) -> None:
    """The batch left at ``departed``; these people scanned in over ``minutes``."""
    support.depart(commander, batch, at=departed)
    callups = {c.unit_id: c for c in CallUp.objects.filter(batch=batch)}
    for person in people:
        check_in(commander, callups[person.unit_id], person.worker_code)
    # Spread the arrivals over the minutes it took, the last one at ``minutes``.
    musters = list(
        Muster.objects.filter(callup__batch=batch, arrived_at__isnull=False).order_by("pk")
    )
    for i, muster in enumerate(musters):
        at = departed + dt.timedelta(minutes=minutes * (i + 1) / len(musters))
        Muster.objects.filter(pk=muster.pk).update(arrived_at=at)
    for callup in callups.values():
        last = Muster.objects.filter(callup=callup, arrived_at__isnull=False).order_by(
            "-arrived_at"
        )
        if last:
            CallUp.objects.filter(pk=callup.pk).update(
                created_at=departed, last_arrival_at=last[0].arrived_at
            )


def send_support(town: Town, communities: list[Community], site: Site) -> None:
    """The morning's support, made through the actions as the people would make it."""
    commander = User.objects.get(username="commander")
    chief = User.objects.get(username="district")
    now = timezone.now()
    morning = (now - dt.timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    towns = {n: Town.objects.get(name=demo_town_name(n)) for n in SENDING}

    door = support.ask_for_people(
        commander,
        town,
        people=262,
        purpose=Purpose.DOOR_TO_DOOR,
        community=communities[0],
        muster_point="阳光里社区党群服务中心",
        needed_by=morning,
        note="封控区逐户敲门",
    )
    for name, people in (("西营门街", 40), ("大寺镇", 30), ("杨柳青镇", 80), ("王稳庄镇", 82)):
        support.set_quota(chief, door, towns[name], people)
    quotas = {q.sending_town.name: q for q in door.quotas.select_related("sending_town")}

    # 杨柳青镇's 80: all there 28 minutes after they left.
    yang = _staff("杨柳青镇", 0, 80)
    first = support.send_batch(None, quotas[demo_town_name("杨柳青镇")], yang)
    _arrive(commander, first, yang, morning - dt.timedelta(minutes=40), 28)
    # 西营门街's 40: 16 of them knock on doors in four groups; the demo's leader leads the first.
    xi = _staff("西营门街", 0, 40)
    batch = support.send_batch(None, quotas[demo_town_name("西营门街")], xi)
    _arrive(commander, batch, xi, morning - dt.timedelta(minutes=50), 35)
    leader_hash = User.objects.get(username="leader").password
    for group in range(4):
        members = xi[group * 4 : group * 4 + 4]
        team = form_team(commander, town, f"西营门街第{group + 1}组", members[0], members)
        assign_team(commander, team, community=communities[0])
        # At the doors since they assembled, this morning.
        Duty.objects.filter(team=team).update(started_at=morning)
        user = (
            User.objects.get(username="leader")
            if group == 0
            else User.objects.create(
                username=f"leader{group + 1}",
                role=Role.TEAM_LEADER,
                town=town,
                # The demo password, hashed once for all demo logins (hashing is slow on purpose).
                password=leader_hash,
            )
        )
        user.communities.set(communities[:1])
        members[0].user = user
        members[0].save(update_fields=["user"])
    # 王稳庄镇's: on the road, 60 of 82 scanned in so far.
    wang = _staff("王稳庄镇", 0, 82)
    batch = support.send_batch(None, quotas[demo_town_name("王稳庄镇")], wang)
    _arrive(commander, batch, wang[:60], now - dt.timedelta(minutes=25), 20)
    # 大寺镇 has selected its 30; they have not left yet.
    support.send_batch(None, quotas[demo_town_name("大寺镇")], _staff("大寺镇", 0, 30))

    # The lanes: 杨柳青镇's second batch of 30, four groups, one per lane; 28 in 28 minutes.
    lanes = support.ask_for_people(
        commander,
        town,
        people=30,
        purpose=Purpose.SAMPLING,
        site=site,
        muster_point="富锦园社区居委会门前",
        needed_by=now,
    )
    second = support.send_batch(
        None, support.set_quota(chief, lanes, towns["杨柳青镇"], 30), _staff("杨柳青镇", 80, 30)
    )
    arrived = _staff("杨柳青镇", 80, 28)
    _arrive(commander, second, arrived, now - dt.timedelta(minutes=28), 28)
    for group, lane in enumerate(site.lanes.order_by("name")):
        members = arrived[group * 7 : group * 7 + 7]
        team = form_team(commander, town, f"杨柳青镇第{group + 1}组", members[0], members)
        roles = {
            m.pk: ("sampler", "sampler", "registrar", "registrar")[i] if i < 4 else "order_keeper"
            for i, m in enumerate(members)
        }
        if group == 3:
            roles = {
                m.pk: "order_keeper" if i else "sampler" for i, m in enumerate(members)
            }  # a lane short of a registrar
        assign_team(commander, team, lane=lane, roles=roles)
        Duty.objects.filter(team=team).update(started_at=now - dt.timedelta(minutes=20))
        if group == 2:
            # The demo's registrar login is the registrar on duty at 3号通道.
            members[2].user = User.objects.get(username="registrar")
            members[2].save(update_fields=["user"])

    # 赤龙南街's night batch: eight hours at the doors, stood down, back home safe.
    night = support.ask_for_people(
        commander,
        town,
        people=30,
        purpose=Purpose.DOOR_TO_DOOR,
        community=communities[1],
        muster_point="和苑社区居委会",
        needed_by=morning - dt.timedelta(hours=10),
        note="夜班",
    )
    chi = _staff("赤龙南街", 0, 30)
    batch = support.send_batch(None, support.set_quota(chief, night, towns["赤龙南街"], 30), chi)
    _arrive(commander, batch, chi, morning - dt.timedelta(hours=11), 30)
    team = form_team(commander, town, "赤龙南街夜班", chi[0], chi)
    assign_team(commander, team, community=communities[1])
    Duty.objects.filter(team=team).update(started_at=morning - dt.timedelta(hours=10))
    stand_down(commander, team)
    Duty.objects.filter(team=team).update(ended_at=morning - dt.timedelta(hours=2))
    Team.objects.filter(pk=team.pk).update(created_at=morning - dt.timedelta(hours=10))
    support.confirm_home(chief, batch)


def second_town(
    rng: random.Random,
    district: District,
    residents: int,
    build_town: Callable[..., tuple[Town, list[Community], int, int]],
) -> Town:
    """辛口镇 tests at the same time: its own roster, a site and a round running since the
    morning."""
    town, communities, _h, _b = build_town(
        rng,
        residents,
        name=SECOND_TOWN,
        progress=lambda _line: None,
        community_names=SECOND_COMMUNITIES,
    )
    Town.objects.filter(pk=town.pk).update(district=district)
    admin = User.objects.get(username="admin")
    create_site(
        communities[0],
        "辛口镇文化广场采样点",
        lanes=2,
        address="辛口镇文化广场东侧",
        opens_at=dt.time(7, 0),
        closes_at=dt.time(21, 0),
    )
    campaign = create_campaign(
        town,
        "辛口镇全员核酸检测(演示)",
        communities=communities,
        starts_at=(timezone.now() - dt.timedelta(hours=2)).replace(
            minute=0, second=0, microsecond=0
        ),
        user=admin,
    )
    start_round(admin, campaign, now=campaign.starts_at)
    return town

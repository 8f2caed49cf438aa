"""The demo town, modelled on the seed: Zhongbei town with twelve communities, walk-ups of six
floors without a lift and towers of 18-33 floors with one, five support units, a campaign with a
mix of zones, and one user per role. Every person is synthetic: the names are drawn from common
characters, the ID numbers are made up (they pass the check character) and the town is flagged
as demo data, which every page shows.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from doorstep.campaigns.actions import create_campaign, lift, set_community_zone, start_round
from doorstep.campaigns.models import Campaign, CampaignBuilding, Zone
from doorstep.core import codes, stats
from doorstep.core.demo_logins import DEMO_PASSWORD, ROLE_USERS, SENDER
from doorstep.core.idnumbers import id_check_character
from doorstep.core.models import User
from doorstep.core.roles import Role
from doorstep.demo.assistance import morning_requests
from doorstep.demo.canvass import walk_the_morning
from doorstep.demo.district import build_district, demo_town_name, second_town, send_support
from doorstep.demo.sampling import earlier_rounds, morning_at_the_site
from doorstep.demo.terminal import Step
from doorstep.sampling.actions import create_site
from doorstep.territory.models import Building, Community, Grid, Household, Resident, Town, Unit

TOWN = "中北镇(演示)"
COMMUNITIES = [
    "阳光里社区",
    "和苑社区",
    "柳溪苑社区",
    "富锦园社区",
    "星河湾社区",
    "锦绣里社区",
    "梧桐苑社区",
    "汇文里社区",
    "秀水园社区",
    "新安里社区",
    "华庭社区",
    "丰泽园社区",
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
# The five units that sent staff to Zhongbei town on 25 December (the seed article); the
# simulator's units. The demo sends them from their own towns (``demo/district.py``).
SUPPORT_UNITS = ["西营门街", "大寺镇", "杨柳青镇", "王稳庄镇", "赤龙南街"]
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红建国志鹏飞宇浩然欣怡子涵梓轩雨泽晨阳博文思远佳琪雅婷晓东海燕春梅冬雪立新永红德胜淑珍凤英秀兰玉兰桂英建华建平"
# Xiqing district's area code; the numbers below it are invented.
AREA = "120111"
BATCH = 5000
# What build_demo says it is doing, in order (as ``terminal.Step``s through its progress).
STEPS = (
    "the town, community by community",
    "the district and its towns",
    "one user per role",
    "the earlier rounds",
    "today's round, its zones and lifts",
    "the sampling sites and the support from other towns",
    "the morning door to door",
    "the morning's requests and the queue at the site",
    "the second town testing today",
    "the database's statistics",
)


@dataclass
class DemoResult:
    residents: int
    households: int
    buildings: int
    seconds: float


def fake_id(rng: random.Random, used: set[str]) -> str:
    while True:
        born = dt.date(1935, 1, 1) + dt.timedelta(days=rng.randrange(0, 31_000))
        body = f"{AREA}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
        if body not in used:
            used.add(body)
            return body + id_check_character(body)


def fake_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


# Prefixes carriers give out for mobiles (some 1xx are not: 140, 154...), so that every demo
# number passes the roster's check.
MOBILE_PREFIXES = ("130", "136", "138", "139", "150", "159", "177", "186", "188", "199")


def fake_phone(rng: random.Random) -> str:
    return f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(0, 10**8):08d}"


def _building_plan(rng: random.Random, households_wanted: int) -> list[tuple[int, bool, int, int]]:
    """(floors, lift, units, rooms per floor) until the households are there."""
    plan = []
    total = 0
    while total < households_wanted:
        if rng.random() < 0.6:
            floors, lift, units, rooms = 6, False, 2, 2
        else:
            floors, lift, units, rooms = rng.randint(18, 33), True, rng.choice((1, 2)), 4
        plan.append((floors, lift, units, rooms))
        total += floors * units * rooms
    return plan


def build_town(
    rng: random.Random,
    residents: int,
    name: str = TOWN,
    progress: Callable[[str], None] = print,
    community_names: list[str] = COMMUNITIES,
) -> tuple[Town, list[Community], int, int]:
    """The territory alone: twelve communities of walk-ups and towers, their grids, buildings,
    units, households and residents (each with a person code). Returns the town, its
    communities, and how many households and buildings were made. The simulator builds its
    towns with this too."""
    # The hotline residents are given in messages (a made-up number of the Tianjin area).
    town = Town.objects.create(name=name, is_demo=True, hotline="022-27390000")
    communities = Community.objects.bulk_create(
        [Community(town=town, name=n) for n in community_names]
    )
    used_ids: set[str] = set()
    used_codes: set[str] = set()
    per_community = [residents // len(communities)] * len(communities)
    per_community[0] += residents - sum(per_community)
    household_total = building_total = 0
    for community, wanted in zip(communities, per_community, strict=True):
        grids = Grid.objects.bulk_create(
            [Grid(community=community, name=f"第{i}网格") for i in (1, 2, 3)]
        )
        plan = _building_plan(rng, max(1, round(wanted / 2.6)))
        buildings = Building.objects.bulk_create(
            [
                Building(
                    community=community,
                    grid=grids[i % 3],
                    name=f"{i + 1}号楼",
                    floors=floors,
                    has_lift=lift,
                    position=i + 1,
                    x=i % 8,
                    y=i // 8,
                )
                for i, (floors, lift, _u, _r) in enumerate(plan)
            ]
        )
        units = Unit.objects.bulk_create(
            [
                Unit(building=b, name=f"{u + 1}单元")
                for b, p in zip(buildings, plan, strict=True)
                for u in range(p[2])
            ],
            batch_size=BATCH,
        )
        unit_plan = [p for p in plan for _ in range(p[2])]
        households = Household.objects.bulk_create(
            [
                Household(unit=unit, room=f"{floor}{room + 1:02d}", floor=floor)
                for unit, (floors, _l, _u, rooms) in zip(units, unit_plan, strict=True)
                for floor in range(1, floors + 1)
                for room in range(rooms)
            ],
            batch_size=BATCH,
        )
        # Spread the people over the households: 1-5 each, in order, until the count is met.
        batch: list[Resident] = []
        left = wanted
        index = 0
        while left > 0:
            household = households[index % len(households)]
            index += 1
            size = min(left, rng.choice((1, 2, 2, 3, 3, 3, 4, 5)))
            left -= size
            for _ in range(size):
                code = codes.new_code()
                while code in used_codes:
                    code = codes.new_code()
                used_codes.add(code)
                batch.append(
                    Resident(
                        household=household,
                        town=town,
                        community=community,
                        name=fake_name(rng),
                        id_number=fake_id(rng, used_ids),
                        phone=fake_phone(rng) if rng.random() < 0.85 else "",
                        mobility_impaired=rng.random() < 0.02,
                        home_isolation=rng.random() < 0.005,
                        notes="演示数据",
                        person_code=code,
                    )
                )
            if len(batch) >= BATCH:
                Resident.objects.bulk_create(batch)
                batch = []
        Resident.objects.bulk_create(batch)
        household_total += len(households)
        building_total += len(buildings)
        progress(
            f"  {community.name}: {len(buildings)} buildings, {len(households)} households, {wanted} residents"
        )
    return town, communities, household_total, building_total


@transaction.atomic
def build_demo(
    residents: int = 20_000, seed: int = 2021_12_25, progress: Callable[[str], None] = print
) -> DemoResult:
    started = timezone.now()
    rng = random.Random(seed)
    steps = iter(STEPS)
    progress(Step(next(steps), items=len(COMMUNITIES)))  # a line for each community built
    town, communities, household_total, building_total = build_town(
        rng, residents, progress=progress
    )
    progress(Step(next(steps)))
    district = build_district(rng, town, communities, fake_name)
    progress(Step(next(steps)))
    _users(town, communities)
    progress(Step(next(steps)))
    earlier_rounds(rng, town, communities, User.objects.get(username="admin"))
    progress(Step(next(steps)))
    campaign = _campaign(town, communities)
    progress(Step(next(steps)))
    site = create_site(
        communities[3],
        "富锦园广场采样点",
        lanes=4,
        address="富锦园小区北门广场",
        opens_at=dt.time(7, 0),
        closes_at=dt.time(22, 0),
    )
    create_site(
        communities[4],
        "星河湾小学采样点",
        lanes=2,
        address="星河湾小学操场（南门进）",
        opens_at=dt.time(8, 0),
        closes_at=dt.time(20, 0),
    )
    send_support(town, communities, site)
    progress(Step(next(steps)))
    walk_the_morning(rng, campaign, communities[0])
    progress(Step(next(steps)))
    morning_requests(communities[0], User.objects.filter(username="worker").first())
    morning_at_the_site(rng, site)
    progress(Step(next(steps)))
    # The second town of the district testing the same day: a tenth of the demo town's size.
    second_town(rng, district, max(100, residents // 10), build_town)
    progress(Step(next(steps)))
    stats.refresh([m._meta.db_table for m in apps.get_models()])
    return DemoResult(
        residents, household_total, building_total, (timezone.now() - started).total_seconds()
    )


def _users(town: Town, communities: list[Community]) -> None:
    for username, role, full_name in ROLE_USERS:
        user = User(
            username=username,
            first_name=full_name,
            role=role,
            town=town,
            district=town.district if role == Role.DISTRICT_COMMANDER else None,
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )
        if username == SENDER:
            # The organiser of a sending town: 杨柳青镇's commander, who selects its batches.
            user.town = Town.objects.get(name=demo_town_name("杨柳青镇"))
        user.set_password(DEMO_PASSWORD)
        user.save()
        if role == Role.COMMUNITY_WORKER:
            user.communities.set(communities[:2])
        elif role in (Role.TEAM_LEADER, Role.CANVASSER):
            user.communities.set(communities[:1])
        elif role == Role.REGISTRAR:
            # The demo's sampling sites are in the fourth and fifth communities.
            user.communities.set(communities[3:5])


def _campaign(town: Town, communities: list[Community]) -> Campaign:
    admin = User.objects.get(username="admin")
    campaign = create_campaign(
        town,
        "第3轮全员核酸检测(演示)",
        communities=communities,
        # Three hours in, so that the door-to-door demo has a morning behind it.
        starts_at=(timezone.now() - dt.timedelta(hours=3)).replace(
            minute=0, second=0, microsecond=0
        ),
        user=admin,
    )
    start_round(admin, campaign, now=campaign.starts_at)
    set_community_zone(
        admin, campaign, communities[0], Zone.SEALED, note="社区内发现阳性病例,全域封控"
    )
    # The building round 1 sealed after a positive has been clear for eight days, and round 2
    # tested everyone in it: the commander lifts it by the rule this morning.
    sealed = list(
        CampaignBuilding.objects.filter(campaign=campaign, zone=Zone.SEALED)
        .exclude(community=communities[0])
        .values_list("building_id", flat=True)
    )
    lift(admin, campaign, sealed, allowed=True)
    return campaign


def existing_demo() -> tuple[Town, int] | None:
    town = Town.objects.filter(is_demo=True, name=TOWN).first()
    if town is None:
        return None
    return town, Resident.objects.filter(town=town).count()

"""The one test kit: builders and helpers every app's tests share.

Plain functions that make rows through the real actions (a town, a resident, a round, a team on
duty, a lane's device), so a test reads as the scene it sets. Fixtures stay in the conftest
files and build on these; no test module imports another.
"""

from __future__ import annotations

import itertools
import os
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from doorstep.campaigns.actions import create_campaign, start_round
from doorstep.campaigns.models import Campaign
from doorstep.canvass.outcomes import Tap
from doorstep.core.idnumbers import id_check_character
from doorstep.core.models import User
from doorstep.sampling.actions import create_site
from doorstep.sampling.models import Lane, Site
from doorstep.territory.actions import assign_person_codes, floor_from_room
from doorstep.territory.models import (
    Building,
    Community,
    District,
    Household,
    Resident,
    Town,
    Unit,
)
from doorstep.workforce import actions as workforce
from doorstep.workforce.actions import new_worker_code
from doorstep.workforce.models import DutyRole, Purpose, Staff, SupportUnit, Team

_serial = itertools.count(1)


def valid_id(n: int | None = None, born: str = "19900101") -> str:
    """A resident ID that passes the check character; distinct for each n."""
    n = next(_serial) if n is None else n
    body = f"120111{born}{n % 1000:03d}"
    if n >= 1000:
        body = f"1201{n // 1000 % 100:02d}{born}{n % 1000:03d}"
    return body + id_check_character(body)


def make_town(name: str = "中北镇", district: District | None = None) -> Town:
    town = Town.objects.get_or_create(name=name)[0]
    if district is not None and town.district_id != district.pk:
        town.district = district
        town.save(update_fields=["district"])
    return town


def make_district(name: str = "西青区", *towns: str) -> District:
    """A district holding the named towns (made if need be)."""
    district = District.objects.get_or_create(name=name)[0]
    for town in towns:
        make_town(town, district)
    return district


def make_community(name: str = "阳光里社区", town: Town | None = None) -> Community:
    return Community.objects.get_or_create(town=town or make_town(), name=name)[0]


def make_building(
    community: Community | None = None, name: str = "1号楼", position: int = 1
) -> Building:
    community = community or make_community()
    return Building.objects.get_or_create(
        community=community, name=name, defaults={"position": position}
    )[0]


def make_household(
    building: Building | None = None, room: str = "101", unit: str = "1单元"
) -> Household:
    building = building or make_building()
    unit_obj = Unit.objects.get_or_create(building=building, name=unit)[0]
    return Household.objects.get_or_create(
        unit=unit_obj, room=room, defaults={"floor": floor_from_room(room)}
    )[0]


def make_resident(
    household: Household | None = None, name: str = "张伟", **fields: object
) -> Resident:
    household = household or make_household()
    community = household.unit.building.community
    resident = Resident(
        household=household,
        town_id=community.town_id,
        community=community,
        name=name,
        id_number=str(fields.pop("id_number", valid_id())),
        phone=str(fields.pop("phone", "13812341234")),
        **fields,
    )
    assign_person_codes([resident])
    resident.save()
    return resident


def make_user(
    role: str,
    *communities: Community,
    username: str | None = None,
    town: Town | None = None,
    password: str | None = None,
    district: District | None = None,
) -> User:
    """A user of the role; without a password they can only be force-logged-in (fast)."""
    user = User.objects.create_user(
        username=username or f"{role}-{next(_serial)}", password=password, role=role
    )
    if communities:
        user.communities.set(communities)
        user.town = communities[0].town
    if town is not None:
        user.town = town
    user.district = district
    user.save()
    return user


def client_for(user: User, language: str = "en") -> Client:
    """A signed-in client; tests read pages in English unless they ask for Chinese."""
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def sign_in(page: Any, base_url: str, username: str, password: str) -> None:
    """Sign in through the login form, as a person would."""
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def make_unit(name: str = "杨柳青镇", town: Town | None = None) -> SupportUnit:
    return SupportUnit.objects.get_or_create(town=town or make_town(), name=name)[0]


def make_staff(unit: SupportUnit | None = None, name: str | None = None, skills: str = "") -> Staff:
    unit = unit or make_unit()
    n = next(_serial)
    return Staff.objects.create(
        unit=unit,
        town_id=unit.town_id,
        name=name or f"队员{n}",
        phone=f"139{n:08d}",
        skills=skills,
        worker_code=new_worker_code(),
    )


def make_lane(
    community: Community | None = None, site_name: str = "广场采样点", lanes: int = 2
) -> Lane:
    community = community or make_community()
    site = Site.objects.filter(community=community, name=site_name).first() or create_site(
        community, site_name, lanes
    )
    return site.lanes.order_by("name")[0]


def make_door_team(
    community: Community, name: str = "第2组", user: User | None = None, size: int = 2
) -> Team:
    """A team on door-to-door duty in the community; ``user`` becomes its leader's login."""
    unit = make_unit(town=community.town)
    people = [make_staff(unit, skills=",canvasser,") for _ in range(size)]
    callup = workforce.create_callup(
        None,
        unit,
        named=people,
        purpose=Purpose.DOOR_TO_DOOR,
        community=community,
        muster_point="社区广场",
        muster_at=timezone.now(),
    )
    for person in people:
        workforce.check_in(None, callup, person.worker_code)
    team = workforce.form_team(None, community.town, name, people[0], people)
    workforce.assign_team(None, team, community=community)
    if user is not None:
        people[0].user = user
        people[0].save(update_fields=["user"])
    team.refresh_from_db()
    return team


def make_lane_team(lane: Lane, registrar: User, name: str = "采样1组") -> Team:
    """A sampler and a registrar (``registrar``'s login) on duty at ``lane``."""
    community = lane.site.community
    unit = make_unit(town=community.town)
    sampler, clerk = make_staff(unit, skills=",sampler,"), make_staff(unit, skills=",registrar,")
    clerk.user = registrar
    clerk.save(update_fields=["user"])
    callup = workforce.create_callup(
        None,
        unit,
        named=[sampler, clerk],
        purpose=Purpose.SAMPLING,
        site=lane.site,
        muster_point="采样点",
        muster_at=timezone.now(),
    )
    for person in (sampler, clerk):
        workforce.check_in(None, callup, person.worker_code)
    team = workforce.form_team(None, community.town, name, clerk, [sampler, clerk])
    workforce.assign_team(
        None, team, lane=lane, roles={sampler.pk: DutyRole.SAMPLER, clerk.pk: DutyRole.REGISTRAR}
    )
    return team


def make_lane_short_of_a_registrar(lane: Lane, name: str = "采样2组") -> Team:
    """A sampler alone on duty at ``lane``: the lane is short of a registrar (``lane_short``)."""
    town = lane.site.community.town
    unit = make_unit(f"{town.name}机关", town=town)
    sampler = make_staff(unit, skills=",sampler,")
    callup = workforce.create_callup(
        None,
        unit,
        named=[sampler],
        purpose=Purpose.SAMPLING,
        site=lane.site,
        muster_point="采样点",
        muster_at=timezone.now(),
    )
    workforce.check_in(None, callup, sampler.worker_code)
    team = workforce.form_team(None, town, name, sampler, [sampler])
    workforce.assign_team(None, team, lane=lane, roles={sampler.pk: DutyRole.SAMPLER})
    return team


def make_campaign(*communities: Community, name: str = "第1轮", start: bool = True) -> Campaign:
    """A round over these communities, started (running) unless ``start`` is false."""
    campaign = create_campaign(communities[0].town, name, communities=communities)
    if start:
        start_round(None, campaign, now=campaign.starts_at)
    return campaign


def tap(household: Household, outcome: str = "notified", **fields: str) -> Tap:
    """A door-to-door tap on the household, with a fresh UUID as the phone makes one."""
    return Tap(id=str(uuid.uuid4()), household=household.pk, outcome=outcome, **fields)


def server_env() -> dict[str, str]:
    """The environment of a ``doorstep`` process (a server, a command) that works on this test
    database, PostgreSQL or SQLite, whichever the suite runs on."""
    env = dict(os.environ)
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        env["DATABASE_URL"] = (
            f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
        )
    else:
        env.pop("DATABASE_URL", None)
        env["DOORSTEP_SQLITE_NAME"] = Path(str(settings["NAME"])).name
    return env

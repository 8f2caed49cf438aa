"""The world of `bench/district.py`, built inside `doorstep shell` (where Django is set up):
a district of N towns with a real round running in each, a bench site of two lanes and a
registrar's device token per lane, and a signed-in district commander."""

from __future__ import annotations

import datetime as dt
import json
import random
import time

from django.apps import apps
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from doorstep.api.models import ApiToken
from doorstep.campaigns.actions import create_campaign, start_round
from doorstep.core import codes, stats
from doorstep.core.models import User
from doorstep.core.roles import Role
from doorstep.demo.town import build_town
from doorstep.sampling.actions import create_site
from doorstep.territory.models import District, Resident

PEOPLE_PER_TOWN = 6_000  # unscanned people taken per town for the writer


def build(residents: int, towns: int) -> None:
    """The district, its towns and rounds, lanes, tokens and a signed-in district commander.
    Prints the JSON the bench reads."""

    rng = random.Random(2028)
    # The demo's builder keeps person codes unique within a town; a district needs them unique
    # across its towns, as the database does.
    taken: set[str] = set()
    new_code = codes.new_code

    def unique_code(*args: int) -> str:
        code = new_code(*args)
        while code in taken:
            code = new_code(*args)
        taken.add(code)
        return code

    codes.new_code = unique_code  # type: ignore[assignment]
    district = District.objects.create(name="基准区", is_demo=True)
    starts_at = (timezone.now() - dt.timedelta(hours=1)).replace(second=0, microsecond=0)
    lanes: list[dict[str, object]] = []
    campaigns: list[int] = []
    started = time.perf_counter()
    for n in range(towns):
        town, communities, _households, _buildings = build_town(
            rng, residents // towns, name=f"基准镇{n + 1:02d}", progress=lambda _line: None
        )
        town.district = district
        town.save(update_fields=["district"])
        campaign = create_campaign(
            town, f"{town.name}第1轮", communities=communities, starts_at=starts_at
        )
        start_round(None, campaign, now=starts_at)
        campaigns.append(campaign.pk)
        registrar = User.objects.create_user(
            username=f"registrar{n}", role=Role.REGISTRAR, town=town
        )
        registrar.communities.set(communities)
        site = create_site(communities[3], "压测采样点", lanes=2)
        people = list(
            Resident.objects.filter(town=town).values_list("person_code", flat=True)[
                :PEOPLE_PER_TOWN
            ]
        )
        for i, lane in enumerate(site.lanes.order_by("pk")):
            lanes.append(
                {
                    "code": lane.code,
                    "token": ApiToken.issue(registrar, lane=lane)[1],
                    "people": people[i::2],
                }
            )
        print(f"  town {n + 1}/{towns} built ({time.perf_counter() - started:.0f} s)", flush=True)
    stats.refresh([m._meta.db_table for m in apps.get_models()])
    chief = User.objects.create_user(
        username="chief", role=Role.DISTRICT_COMMANDER, district=district
    )
    session = SessionStore()
    session["_auth_user_id"] = str(chief.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = chief.get_session_auth_hash()
    session.create()
    print(json.dumps({"cookie": session.session_key, "campaigns": campaigns, "lanes": lanes}))

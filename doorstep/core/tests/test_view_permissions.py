"""Every view: anonymous sent to sign in, wrong method 405, a role that may not do it 403,
outsider 404, the right role 200.

The table below is the whole list of the project's views; a test fails if a URL name exists
that the table does not cover, so a new view cannot ship without its permission tests.
"""

import datetime as dt
import json
import uuid
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import get_resolver, resolve, reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from doorstep.assistance import actions as need_actions
from doorstep.campaigns import actions as campaign_actions
from doorstep.campaigns.actions import create_campaign, start_round
from doorstep.campaigns.actions.district import start_district_round
from doorstep.canvass.models import BuildingTask
from doorstep.closing import certificate
from doorstep.closing.models import Certificate
from doorstep.core.roles import Role
from doorstep.lab.actions import cases as case_actions
from doorstep.notices import sender
from doorstep.notices.models import Message
from doorstep.sampling import ingest
from doorstep.sampling.actions import home
from doorstep.sampling.models import HomeTask, Tube, WalkIn
from doorstep.territory.models import Town
from doorstep.testing import (
    client_for,
    make_building,
    make_community,
    make_district,
    make_household,
    make_lane,
    make_lane_team,
    make_resident,
    make_staff,
    make_unit,
    make_user,
)
from doorstep.testing.forms import page_forms, template_forms
from doorstep.workforce import actions
from doorstep.workforce.actions import support
from doorstep.workforce.models import Muster, Purpose

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    allowed: str  # persona that gets 2xx
    forbidden: str | None  # persona that gets 403
    outsider: bool  # whether a user of another community gets 404
    wrong_method: str
    data: tuple = ()


# The lane's own pages: its registrar on duty (or the commander) may open them, nobody else.
LANE_PAGES = {
    "sampling:lane",
    "sampling:queue",
    "sampling:lane_events",
    "sampling:paper_sheet",
    "sampling:paper_key",
}
CASES = [
    Case("home", "get", "canvasser", None, False, "post"),
    Case("core:audit", "get", "admin_user", "commander", False, "post"),
    Case("territory:communities", "get", "worker", "registrar", False, "post"),
    Case("territory:community", "get", "worker", "registrar", True, "post"),
    Case("territory:community_export", "get", "worker", "canvasser", True, "put"),
    Case("territory:building", "get", "canvasser", "registrar", True, "post"),
    Case("territory:building_codes", "get", "leader", "canvasser", True, "post"),
    Case("territory:household_codes", "get", "leader", "canvasser", True, "post"),
    Case("territory:residents", "get", "canvasser", "lab", False, "post"),
    Case("territory:resident", "get", "canvasser", "registrar", True, "post"),
    Case(
        "territory:resident_reveal",
        "post",
        "worker",
        "leader",
        True,
        "get",
        (("reason", "calling about a missed sample"),),
    ),
    Case("territory:roster_upload", "get", "worker", "leader", False, "put"),
    Case("territory:roster_template", "get", "worker", "leader", False, "post"),
    Case("campaigns:list", "get", "leader", "canvasser", False, "post"),
    Case("campaigns:create", "get", "commander", "leader", False, "put"),
    Case("campaigns:detail", "get", "leader", "canvasser", True, "post"),
    Case(
        "campaigns:zones",
        "post",
        "commander",
        "leader",
        True,
        "get",
        (("zone", "sealed"), ("note", "封控")),
    ),
    Case("campaigns:start", "post", "commander", "leader", True, "get"),
    Case("campaigns:close", "post", "commander", "leader", True, "get", (("confirm", "yes"),)),
    Case("campaigns:starts", "post", "commander", "leader", True, "get"),
    Case("campaigns:stagger", "post", "commander", "leader", True, "get", (("every", "10"),)),
    Case("campaigns:announce", "post", "commander", "leader", True, "get"),
    Case("workforce:index", "get", "leader", "canvasser", False, "post"),
    Case("workforce:staff", "get", "leader", "canvasser", False, "post"),
    Case("workforce:staff_import", "get", "commander", "leader", False, "put"),
    Case("workforce:staff_template", "get", "commander", "leader", False, "post"),
    Case("workforce:staff_codes", "get", "commander", "leader", False, "post"),
    Case("workforce:callup_create", "get", "commander", "leader", False, "put"),
    Case("workforce:board", "get", "leader", "canvasser", True, "post"),
    Case("workforce:check_in", "get", "leader", "worker", True, "put"),
    Case("workforce:no_show", "post", "commander", "leader", True, "get"),
    Case("workforce:send", "post", "commander", "leader", True, "get"),
    Case("workforce:lane_staff", "get", "leader", "canvasser", True, "post"),
    Case(
        "workforce:lane_add", "post", "commander", "leader", True, "get", (("role", "registrar"),)
    ),
    Case("workforce:lane_move", "post", "commander", "leader", True, "get", (("role", "sampler"),)),
    Case("workforce:team_create", "get", "commander", "leader", False, "put"),
    Case("workforce:team", "get", "leader", "canvasser", True, "post"),
    Case("workforce:team_assign", "post", "commander", "leader", True, "get"),
    Case("workforce:team_handover", "post", "commander", "leader", True, "get"),
    Case("workforce:team_stand_down", "post", "commander", "leader", True, "get"),
    Case("workforce:where", "get", "leader", "canvasser", False, "post"),
    Case("workforce:support", "get", "leader", "canvasser", False, "post"),
    Case("workforce:support_ask", "post", "commander", "leader", False, "get"),
    Case("workforce:support_request", "get", "commander", "canvasser", True, "post"),
    Case("workforce:support_quota", "post", "chief", "commander", True, "get"),
    Case("workforce:support_close", "post", "commander", "leader", True, "get"),
    Case("workforce:support_select", "get", "chief", "leader", True, "put"),
    Case("workforce:support_batch", "get", "commander", "canvasser", True, "post"),
    Case("workforce:support_depart", "post", "chief", "commander", True, "get"),
    Case("workforce:support_home", "post", "chief", "commander", True, "get", (("all", "1"),)),
    Case("workforce:support_call_off", "post", "chief", "commander", True, "get"),
    Case("campaigns:district_rounds", "get", "chief", "commander", False, "post"),
    Case("campaigns:district_round_create", "get", "chief", "commander", False, "put"),
    Case("campaigns:district_round", "get", "chief", "commander", True, "post"),
    Case(
        "campaigns:district_round_close",
        "post",
        "chief",
        "commander",
        True,
        "get",
        (("confirm", "yes"),),
    ),
    Case("district:board", "get", "chief", "commander", False, "post"),
    Case("district:panel", "get", "chief", "commander", False, "post"),
    Case("district:report", "get", "chief", "commander", False, "post"),
    Case("district:report_xlsx", "get", "chief", "commander", False, "post"),
    Case("canvass:index", "get", "leader", "registrar", False, "post"),
    Case("canvass:coverage", "get", "worker", "registrar", True, "post"),
    Case("canvass:feed", "get", "worker", "lab", True, "post"),
    Case("canvass:community", "get", "worker", "registrar", True, "post"),
    Case("canvass:untested", "get", "canvasser", "registrar", True, "post"),
    Case("canvass:untested_export", "post", "worker", "leader", True, "get"),
    Case("canvass:revisits", "get", "worker", "lab", True, "post"),
    Case("canvass:task", "get", "canvasser", "registrar", True, "post"),
    Case("canvass:claim", "post", "leader", "canvasser", True, "get"),
    Case("canvass:release", "post", "leader", "canvasser", True, "get"),
    Case("canvass:hand", "post", "leader", "canvasser", True, "get"),
    Case("canvass:complete", "post", "leader", "canvasser", True, "get"),
    Case(
        "canvass:outcomes",
        "post",
        "leader",
        "registrar",
        True,
        "get",
        (("outcome", "notified"), ("id", "8f0b8a4e-7f2c-4c55-9d7e-3b1f6f1f0a11")),
    ),
]

CASES += [
    Case("sampling:sites", "get", "registrar", "lab", False, "post"),
    Case("sampling:site_create", "get", "commander", "worker", False, "put"),
    Case("sampling:lane_codes", "get", "registrar", "lab", True, "post"),
    Case("sampling:boxes", "get", "registrar", "worker", True, "put"),
    Case("sampling:lane", "get", "registrar", "worker", True, "put"),
    Case("sampling:queue", "post", "registrar", "worker", True, "get", (("waiting", "40"),)),
    Case("sampling:lane_events", "post", "registrar", "worker", True, "get", (("events", "[]"),)),
    Case("sampling:service_worker", "get", "registrar", None, False, "post"),
    Case("sampling:paper_sheet", "get", "registrar", "worker", True, "post"),
    Case("sampling:paper_key", "get", "registrar", "worker", True, "put"),
    Case("canvass:service_worker", "get", "canvasser", None, False, "post"),
    Case("sampling:home", "get", "registrar", "canvasser", False, "post"),
    Case("sampling:home_task", "get", "registrar", "canvasser", True, "post"),
    Case("sampling:home_claim", "post", "registrar", "worker", True, "get"),
    Case("sampling:home_release", "post", "registrar", "worker", True, "get"),
    Case("sampling:home_close", "post", "registrar", "worker", True, "get"),
    Case("sampling:walk_ins", "get", "worker", "registrar", False, "post"),
    Case("notices:doors", "get", "canvasser", "registrar", False, "post"),
    Case("notices:told", "post", "worker", "registrar", False, "get"),
    Case("notices:not_home", "post", "canvasser", "lab", False, "get"),
    Case("notices:print", "get", "leader", "lab", False, "post"),
    Case("notices:outbox", "get", "commander", "worker", False, "post"),
    Case("notices:signature", "get", "commander", "worker", False, "put"),
    Case("notices:dlr", "get", "canvasser", None, False, "put", (("type", "1"),)),
    Case("sampling:walk_in_trace", "post", "worker", "registrar", True, "get", (("address", "x"),)),
    Case("command:status", "get", "canvasser", None, False, "post"),
    Case("command:me", "get", "canvasser", None, False, "put"),
    Case("command:index", "get", "commander", "leader", False, "post"),
    Case("assistance:index", "get", "worker", "canvasser", False, "post"),
    Case("assistance:new", "get", "worker", "leader", False, "put"),
    Case("assistance:exams", "get", "worker", "canvasser", False, "post"),
    Case("assistance:ask", "get", "canvasser", None, False, "put"),
    Case("assistance:detail", "get", "worker", "canvasser", True, "post"),
    Case("assistance:trip", "get", "worker", "canvasser", True, "post"),
    Case("assistance:contact", "post", "worker", "leader", True, "get", (("outcome", "reached"),)),
    Case("assistance:verify", "post", "worker", "leader", True, "get"),
    Case(
        "assistance:arrange",
        "post",
        "worker",
        "leader",
        True,
        "get",
        (("how", "escort"), ("place", "医院")),
    ),
    Case("assistance:done", "post", "worker", "leader", True, "get"),
    Case("assistance:decline", "post", "worker", "leader", True, "get", (("reason", "不需要"),)),
    Case("assistance:merge", "post", "worker", "leader", True, "get", (("details", "补充"),)),
    Case("command:dashboard", "get", "commander", "leader", True, "post"),
    Case("command:panel", "get", "commander", "worker", True, "post"),
    Case("command:community", "get", "commander", "leader", True, "post"),
    Case("command:site", "get", "commander", "registrar", True, "post"),
    Case("command:tube", "get", "commander", "lab", True, "post"),
    Case("command:report", "get", "commander", "worker", True, "post"),
    Case("command:zones", "get", "commander", "canvasser", True, "post"),
    Case("command:compare", "get", "commander", "canvasser", True, "post"),
    Case("command:zones_lift", "post", "commander", "leader", True, "get", (("reason", "test"),)),
    Case("command:zones_confirm", "post", "commander", "leader", True, "get"),
    Case("command:report_xlsx", "get", "commander", "worker", True, "post"),
    Case("command:exports", "get", "commander", "canvasser", False, "post"),
    Case("command:ack", "post", "commander", "leader", True, "get", (("key", "long_shift"),)),
    Case("lab:index", "get", "lab", "registrar", False, "post"),
    Case(
        "lab:receive", "post", "lab", "registrar", False, "get", (("box", "BOX001"), ("count", "1"))
    ),
    Case("lab:upload", "get", "lab", "commander", False, "put"),
    Case("lab:tube", "get", "lab", "registrar", True, "put"),
    Case("lab:retests", "get", "worker", "registrar", False, "post"),
    Case("lab:pools", "get", "worker", "lab", True, "post"),
    Case("lab:cases", "get", "worker", "lab", True, "post"),
    Case("lab:case", "get", "worker", "lab", True, "post"),
    Case("lab:case_reveal", "post", "worker", "leader", True, "get", (("reason", "核对流调信息"),)),
    Case("lab:case_hand", "post", "commander", "worker", True, "get", (("to", "区疾控流调组"),)),
    Case("lab:case_ack", "post", "worker", "lab", True, "get", (("name", "李医生"),)),
    Case("lab:case_print", "post", "worker", "lab", True, "get"),
    Case("lab:case_xlsx", "post", "worker", "leader", True, "get"),
    Case("lab:late", "get", "worker", "lab", True, "post"),
    Case("lab:timeline", "get", "worker", "canvasser", True, "post"),
    Case("closing:index", "get", "commander", "worker", False, "post"),
    Case("closing:town", "get", "commander", "worker", True, "put"),
    Case("closing:certificate", "get", "commander", "worker", True, "post"),
    Case("closing:certificate_pdf", "get", "commander", "worker", True, "post"),
    Case("simulate:pace", "get", "commander", "canvasser", True, "post"),
    Case("simulate:review", "get", "commander", "canvasser", True, "post"),
    Case("simulate:feeder", "get", "commander", "registrar", True, "post"),
]

# Campaign-wide pages are scoped by town: their outsider is a commander of another town.
TOWN_SCOPED = (
    "campaigns:",
    "workforce:",
    "canvass:coverage",
    "canvass:feed",
    "command:",
    "lab:pools",
    "lab:late",
    "lab:cases",
    "lab:case_hand",
    "simulate:",
    "closing:",
)


@pytest.fixture
def chief(community):  # type: ignore[no-untyped-def]
    """The district commander of the world's town, and of two towns beside it."""
    district = make_district("西青区", community.town.name, "杨柳青镇", "大寺镇")
    return make_user(Role.DISTRICT_COMMANDER, district=district)


def _support(town: Town, chief) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """杨柳青镇 sends a batch to the town; 杨柳青镇 and 大寺镇 test in one district round."""
    asked = support.ask_for_people(
        None,
        town,
        people=4,
        purpose=Purpose.DOOR_TO_DOOR,
        community=town.communities.first(),
        muster_point="A",
        needed_by=timezone.now(),
    )
    sending = Town.objects.get(name="杨柳青镇")
    quota = support.set_quota(chief, asked, sending, 4)
    batch = support.send_batch(None, quota, [make_staff(make_unit("杨柳青镇机关", sending))])
    for name in ("杨柳青镇", "大寺镇"):
        make_building(make_community(f"{name}社区", Town.objects.get(name=name)))
    towns = Town.objects.filter(name__in=["杨柳青镇", "大寺镇"])
    together = start_district_round(None, town.district, "全区第1轮", towns)
    return {
        "support_request": asked.pk,
        "quota": quota.pk,
        "batch": batch.pk,
        "district_round": together.pk,
    }


@pytest.fixture
def world(request, community, resident, leader, registrar, chief):
    campaign = create_campaign(community.town, "第1轮", communities=[community])
    start_round(None, campaign)
    household = resident.household
    commander = make_user(Role.COMMANDER, town=community.town)
    unit = make_unit(town=community.town)
    people = [make_staff(unit) for _ in range(4)]
    callup = actions.create_callup(
        commander,
        unit,
        requested=4,
        purpose=Purpose.DOOR_TO_DOOR,
        community=community,
        muster_point="A",
        muster_at=timezone.now(),
    )
    for p in people:
        actions.check_in(commander, callup, p.worker_code)
    callup2 = actions.create_callup(
        commander,
        unit,
        requested=1,
        purpose=Purpose.DOOR_TO_DOOR,
        community=community,
        muster_point="B",
        muster_at=timezone.now(),
    )
    team = actions.form_team(commander, community.town, "甲", people[0], people[:2])
    on_duty = actions.form_team(commander, community.town, "乙", people[2], people[2:])
    actions.assign_team(commander, on_duty, community=community)
    people[2].user = leader
    people[2].save(update_fields=["user"])

    lane = make_lane(community)
    make_lane_team(lane, registrar)  # a registrar's lane pages are those of their lane on duty
    now = timezone.now().isoformat()
    scans = [
        ("tube.open", {"lane": lane.code, "tube": "2112250001"}),
        ("tube.add", {"tube": "2112250001", "person": resident.person_code}),
        ("tube.seal", {"tube": "2112250001"}),
        ("box.open", {"lane": lane.code, "box": "BOX001"}),
        ("box.add", {"box": "BOX001", "tube": "2112250001"}),
        ("box.seal", {"box": "BOX001", "count": 1}),
    ]
    answers = ingest.apply(
        commander,
        [{"id": str(uuid.uuid4()), "type": t, "at": now, **fields} for t, fields in scans],
    )
    assert {a["status"] for a in answers} == {"accepted"}, answers
    other = make_resident(household, name="卧床老人")
    home.need_home(campaign.pk, household, timezone.now())
    assert home.waiting(HomeTask.objects.get()).get().resident == other
    # A positive sealed the resident's building (the zones page's confirmation).
    [seal] = campaign_actions.positive_found(
        campaign.pk, [household.unit.building_id], "2112259999", timezone.now()
    )
    walk_in = WalkIn.objects.create(
        campaign=campaign,
        community=community,
        name="过路人",
        id_number="110101199003070011",
        address="不详",
        created_at=timezone.now(),
    )
    # The tube's case sheet (opened here as a positive result would open it).
    [sheet] = case_actions.open_for(Tube.objects.get(code="2112250001"), timezone.now())
    return {
        "case_sheet": sheet.pk,
        "seal": seal.pk,
        "walk_in": walk_in.pk,
        "home_task": HomeTask.objects.get().pk,
        "site": lane.site_id,
        "lane": lane.pk,
        "community": community.pk,
        "building": household.unit.building_id,
        "household": household.pk,
        "resident": resident.pk,
        "campaign": campaign.pk,
        "callup": callup.pk,
        "callup2": callup2.pk,
        **_drill(community.town),
        **_support(Town.objects.get(pk=community.town_id), chief),
        "muster": Muster.objects.get(callup=callup, staff=people[0]).pk,
        "staff": people[1].pk,
        "team": team.pk,
        "on_duty": on_duty.pk,
        "task": BuildingTask.objects.get(campaign=campaign, building=household.unit.building).pk,
        "need": need_actions.register(
            commander,
            need_actions.Who(resident=resident),
            kind="medication",
            needed_by=timezone.now() + dt.timedelta(hours=5),
            source="worker",
        ).pk,
    }


def _drill(town: Town) -> dict[str, int]:
    """A drill running in a community of its own, with a lane: the feeder serves only the
    lanes of a drill's communities, while it runs."""
    place = make_community("柳溪苑社区", town)
    make_resident(make_household(make_building(place, "9号楼")), "演练居民")
    drill = create_campaign(town, "演练", communities=[place], drill=True)
    start_round(None, drill)
    return {"drill": drill.pk, "drill_lane": make_lane(place, "柳溪苑采样点").pk}


# A round's own page and its steps (start, close, zones, start times).
ROUND_PAGES = {
    "campaigns:detail",
    "campaigns:zones",
    "campaigns:start",
    "campaigns:close",
    "campaigns:starts",
    "campaigns:stagger",
    "campaigns:announce",
}


def _url(case: Case, world: dict) -> str:
    kwargs = {}
    name = case.name.split(":")[-1]
    if case.name == "notices:dlr":
        # The gateway's call carries the message's signature, not a session.
        message = Message.objects.create(
            community_id=world["community"],
            kind="home_visit",
            phone="13812341234",
            text="x",
            queued_at=timezone.now(),
            next_try_at=timezone.now(),
        )
        return reverse(case.name, args=[message.pk, sender.signature(message.pk)])
    if case.name.startswith("district:"):
        return reverse(case.name, kwargs={"panel": "towns"} if name == "panel" else {})
    if case.name.startswith("closing:") and name != "index":
        town = Town.objects.get(communities__pk=world["community"])
        if name.startswith("certificate"):
            # The town's certificate, as an erase leaves it (the world's town is not erased:
            # the page reads only the certificate).
            body = {"town": {"name": town.name}, "erased": {"residents": 1}}
            signature, key = certificate.sign(body)
            Certificate.objects.get_or_create(
                town=town,
                defaults={
                    "number": f"ER-{town.pk}-1",
                    "issued_at": timezone.now(),
                    "issued_by": "operator",
                    "body": body,
                    "signature": signature,
                    "public_key": key,
                    "complete": True,
                },
            )
        return reverse(case.name, kwargs={"town_id": town.pk})
    if case.name in {"territory:community", "territory:community_export"}:
        kwargs = {"community_id": world["community"]}
    elif name in {"building", "building_codes"}:
        kwargs = {"building_id": world["building"]}
    elif name == "household_codes":
        kwargs = {"household_id": world["household"]}
    elif name in {"resident", "resident_reveal"}:
        kwargs = {"resident_id": world["resident"]}
    elif case.name in ROUND_PAGES:
        kwargs = {"campaign_id": world["campaign"]}
    elif name in {"board", "check_in", "no_show", "send"}:
        kwargs = {"callup_id": world["callup"]}
    elif name in {"lane_staff", "lane_add", "lane_move"}:
        kwargs = {"lane_id": world["lane"]}
    elif name in {"team", "team_assign"}:
        kwargs = {"team_id": world["team"]}
    elif name in {"team_handover", "team_stand_down"}:
        kwargs = {"team_id": world["on_duty"]}
    elif case.name in {"canvass:coverage", "canvass:feed"}:
        kwargs = {"campaign_id": world["campaign"]}
    elif case.name in {"canvass:community", "canvass:untested", "canvass:untested_export"} or (
        case.name == "canvass:revisits"
    ):
        kwargs = {"campaign_id": world["campaign"], "community_id": world["community"]}
    elif case.name in {"sampling:lane_codes", "sampling:boxes"}:
        kwargs = {"site_id": world["site"]}
    elif case.name in LANE_PAGES:
        kwargs = {"lane_id": world["lane"]}
    elif case.name in {"workforce:support_request", "workforce:support_quota"} or (
        case.name == "workforce:support_close"
    ):
        kwargs = {"support_request_id": world["support_request"]}
    elif case.name == "workforce:support_select":
        kwargs = {"quota_id": world["quota"]}
    elif case.name in {"workforce:support_batch", "workforce:support_depart"} or (
        case.name in {"workforce:support_home", "workforce:support_call_off"}
    ):
        kwargs = {"batch_id": world["batch"]}
    elif case.name in {"campaigns:district_round", "campaigns:district_round_close"}:
        kwargs = {"district_round_id": world["district_round"]}
    elif case.name == "sampling:walk_in_trace":
        kwargs = {"walk_in_id": world["walk_in"]}
    elif case.name.startswith("sampling:home_"):
        kwargs = {"home_task_id": world["home_task"]}
    elif case.name == "lab:tube":
        kwargs = {"code": "2112250001"}
    elif case.name.startswith("lab:case_") or case.name == "lab:case":
        kwargs = {"case_sheet_id": world["case_sheet"]}
    elif case.name == "lab:timeline":
        kwargs = {"resident_id": world["resident"]}
    elif case.name in {
        "command:dashboard",
        "command:report",
        "command:report_xlsx",
        "command:ack",
        "command:zones",
        "command:compare",
        "command:zones_lift",
        "command:zones_confirm",
        "lab:pools",
        "lab:late",
        "lab:cases",
    }:
        kwargs = {"campaign_id": world["campaign"]}
    elif case.name.startswith("assistance:") and case.name not in {
        "assistance:index",
        "assistance:new",
        "assistance:exams",
        "assistance:ask",
    }:
        kwargs = {"need_id": world["need"]}
    elif case.name == "simulate:feeder":
        kwargs = {"campaign_id": world["drill"], "lane_id": world["drill_lane"]}
    elif case.name in {"simulate:pace", "simulate:review"}:
        kwargs = {"campaign_id": world["campaign"]}
    elif case.name == "command:panel":
        kwargs = {"campaign_id": world["campaign"], "panel": "clock"}
    elif case.name == "command:community":
        kwargs = {"campaign_id": world["campaign"], "community_id": world["community"]}
    elif case.name == "command:site":
        kwargs = {"campaign_id": world["campaign"], "site_id": world["site"]}
    elif case.name == "command:tube":
        kwargs = {"campaign_id": world["campaign"], "code": "2112250001"}
    elif case.name.startswith("canvass:") and case.name not in {
        "canvass:index",
        "canvass:service_worker",
    }:
        kwargs = {"task_id": world["task"]}
    return reverse(case.name, kwargs=kwargs)


def _data(case: Case, world: dict) -> dict:
    data = dict(case.data)
    if case.name == "campaigns:zones":
        data["community"] = world["community"]
    if case.name == "command:zones_lift":
        data["building"] = world["building"]
    if case.name == "command:zones_confirm":
        data["change"] = world["seal"]
    if case.name == "workforce:team_assign":
        data["place"] = f"community:{world['community']}"
    if case.name == "workforce:team_handover":
        data["incoming"] = world["team"]
    if case.name == "canvass:outcomes":
        data["household"] = world["household"]
    if case.name == "canvass:hand":
        data["team"] = world["team"]
    if case.name in {"workforce:lane_add", "workforce:lane_move"}:
        data["staff"] = world["staff"]
    if case.name == "workforce:send":
        data.update(muster=world["muster"], to=world["callup2"])
    if case.name == "workforce:support_ask":
        data.update(
            people="5",
            purpose="door_to_door",
            community=world["community"],
            muster_point="镇政府",
            needed_by=f"{timezone.localtime() + dt.timedelta(hours=3):%Y-%m-%dT%H:%M}",
        )
    if case.name == "workforce:support_quota":
        data.update(sending_town=Town.objects.get(name="大寺镇").pk, people="2")
    return data


def _call(client, case: Case, world: dict):  # type: ignore[no-untyped-def]
    if case.name == "sampling:lane_events":  # the lane's outbox posts JSON
        return client.post(_url(case, world), '{"events": []}', content_type="application/json")
    return getattr(client, case.method)(_url(case, world), _data(case, world))


def test_every_view_is_in_the_table():
    names = set()
    for namespace in (
        "core",
        "territory",
        "campaigns",
        "workforce",
        "canvass",
        "sampling",
        "notices",
        "lab",
        "command",
        "assistance",
        "simulate",
        "district",
        "closing",
    ):
        resolver = get_resolver().namespace_dict[namespace][1]
        names |= {f"{namespace}:{n}" for n in resolver.reverse_dict if isinstance(n, str)}
    # The glue's own pages (the start page), beside Django's sign-in, sign-out and language.
    django_own = {"login", "logout", "set_language"}
    names |= {n for n in get_resolver().reverse_dict if isinstance(n, str)} - django_own
    assert names == {c.name for c in CASES}


# The service worker script is fetched by the browser without a session; it holds no data. The
# public site status and the resident's own look-up are for residents (doorstep/command/tests).
PUBLIC = {
    "sampling:service_worker",
    "canvass:service_worker",
    "command:status",
    "command:me",
    "assistance:ask",
    # Kannel's delivery reports: signed per message instead (doorstep/notices/tests).
    "notices:dlr",
}


def _outsider_for(case: Case, outsider, other_community):  # type: ignore[no-untyped-def]
    """Who must not find the object: a worker of another community, or for pages scoped by
    town (and the lab's tube), a user of another town."""
    if case.name == "lab:tube":
        return make_user(Role.LAB, town=Town.objects.create(name="远方镇"))
    if case.name in LANE_PAGES:
        return make_user(Role.REGISTRAR, other_community)
    if case.name.startswith(("campaigns:district_round", "district:")):
        return make_user(Role.DISTRICT_COMMANDER, district=make_district("东丽区", "军粮城街"))
    if case.name.startswith(TOWN_SCOPED):
        return make_user(Role.COMMANDER, town=Town.objects.create(name="远方镇"))
    return outsider


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_each_view_answers_every_role_as_the_table_says(  # type: ignore[no-untyped-def]
    case, world, outsider, other_community, request, client
):
    """One world per view, the refusals first (they write nothing), the allowed call last."""
    allowed = request.getfixturevalue(case.allowed)
    if case.name not in PUBLIC:
        response = _call(client, case, world)
        assert response.status_code == 302, ("anonymous", response.status_code)
        assert response["Location"].startswith(reverse("login"))
    response = getattr(client_for(allowed), case.wrong_method)(_url(case, world))
    assert response.status_code == 405, ("wrong method", response.status_code)
    if case.forbidden:
        response = _call(client_for(request.getfixturevalue(case.forbidden)), case, world)
        assert response.status_code == 403, ("role that may not", response.status_code)
    if case.outsider:
        stranger = _outsider_for(case, outsider, other_community)
        response = _call(client_for(stranger), case, world)
        assert response.status_code == 404, ("outsider", response.status_code)
    response = _call(client_for(allowed), case, world)
    assert response.status_code in {200, 302}, response.content[:500]


@pytest.mark.parametrize("name", sorted(LANE_PAGES), ids=lambda n: n)
def test_a_registrar_of_the_community_not_on_duty_at_the_lane_is_told_so(name, world, community):
    case = next(c for c in CASES if c.name == name)
    off_duty = make_user(Role.REGISTRAR, community)
    response = _call(client_for(off_duty), case, world)
    assert response.status_code == 403
    assert b"You are not on duty at" in response.content


# Odd input, for every view: the form fields the pages use, filled with what people and
# attackers type. No answer may be a server error.
FIELDS = [
    "action",
    "address",
    "box",
    "closes_at",
    "code",
    "community",
    "count",
    "courier",
    "destination",
    "details",
    "document",
    "exempt_reason",
    "household",
    "how",
    "id",
    "id_number",
    "id_type",
    "incoming",
    "kind",
    "lanes",
    "leader",
    "members",
    "name",
    "need_by",
    "need_kind",
    "needed_by",
    "note",
    "opens_at",
    "outcome",
    "override",
    "page",
    "person_code",
    "phone",
    "place",
    "pool",
    "q",
    "reason",
    "resident",
    "result",
    "serves",
    "single_tube",
    "source",
    "staff",
    "team",
    "town",
    "tube",
    "unit",
    "waiting",
    "zone",
]
# And every field name the templates' forms send (``next`` among them).
FIELDS = sorted(
    set(FIELDS)
    | {
        n
        for forms in template_forms().values()
        for names in forms.values()
        for n in names
        if "{" not in n
    }
)
ODD = st.one_of(
    st.text(max_size=24),
    st.sampled_from(
        [
            "²",
            "١٢٣",
            "-1",
            "9" * 40,
            "a\x00b",
            "2021-02-30T09:00",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-14:00",
            "NaN",
            "1e400",
            "' OR 1=1 --",
            "<script>alert(1)</script>",
            '=HYPERLINK("x")',
            "lane:²",
            "a:b",
            "9" * 400,
            "community:99999999999999999999",
            "K7QM9XD4P",
            "",
        ]
    ),
)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@given(data=st.dictionaries(st.sampled_from(FIELDS), ODD, max_size=6))
@hypothesis_settings(
    max_examples=6,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_odd_input_to_any_view_is_never_a_server_error(case, world, request, data):  # type: ignore[no-untyped-def]
    user = request.getfixturevalue(case.allowed)
    client = client_for(user)
    url = _url(case, world)
    if case.method == "get":
        response = client.get(url, data)
    elif case.name == "sampling:lane_events":
        response = client.post(url, json.dumps({"events": [data]}), content_type="application/json")
    else:
        response = client.post(url, data)
    assert response.status_code < 500, (case.name, data, response.content[:300])


# Every field of every form, one at a time, with what breaks a careless reader: digits that are
# not ASCII, a sign, a colon where a URL name was expected, numbers past any database's integer,
# NUL, nothing, a long text. The fields are found, not listed: in the templates (a form sent to
# the view, which a page may render only in some state, like the alert acknowledgement and its
# ``next``) and on the view's own page (a form sent back to it, Django forms' fields included).
EDGES = ["²", "-1", "a:b", "9" * 400, "-" + "9" * 20, "a\x00b", "1e400", "٣", "", "长" * 3000]
TEMPLATE_FORMS = template_forms()


def _named(name: str, world: dict) -> list[str]:
    """A field name built from a variable (``role_{{ s.pk }}``), for each id of the world."""
    if "{{" not in name:
        return [name]
    prefix = name.split("{{", 1)[0]
    return [f"{prefix}{v}" for v in sorted({v for v in world.values() if isinstance(v, int)})]


def _forms_of(case: Case, world: dict, client) -> list[tuple[str, dict, list[str]]]:  # type: ignore[no-untyped-def]
    """Each form sent to the case's URL: its method, what it sends as it stands, its fields."""
    url = _url(case, world)
    forms = []
    for method, names in TEMPLATE_FORMS.get(case.name, {}).items():
        base = {k: str(v) for k, v in _data(case, world).items()}
        fields = sorted({f for n in names for f in _named(n, world)} | set(base))
        forms.append((method, base, fields))
    if case.method == "get":
        page = client.get(url)
        if "html" in page.get("Content-Type", ""):
            for form in page_forms(page.content.decode()):
                if form.action in {"", url}:
                    forms.append((form.method, form.fields, sorted(form.fields)))
    return forms


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_every_field_of_every_form_takes_odd_values_without_a_server_error(case, world, request):  # type: ignore[no-untyped-def]
    client = client_for(request.getfixturevalue(case.allowed))
    url = _url(case, world)
    errors = []
    for method, base, fields in _forms_of(case, world, client):
        for name in fields:
            for value in EDGES:
                send = client.get if method == "get" else client.post
                response = send(url, {**base, name: value})
                if response.status_code >= 500:
                    errors.append((method, name, value[:12], response.status_code))
    assert not errors, (case.name, errors)


def test_the_fuzz_finds_the_fields_of_forms_shown_only_in_some_states():
    assert {"key", "next"} <= TEMPLATE_FORMS["command:ack"]["post"]
    assert "role_{{ s.pk }}" in TEMPLATE_FORMS["workforce:team_assign"]["post"]


@pytest.mark.parametrize(
    "value", [*EDGES, "//evil.example/", "https://evil.example/", "/nowhere/", "/status/"]
)
@pytest.mark.parametrize("name", ["login", "logout", "set_language", "command:ack"])
def test_a_redirect_target_from_input_is_one_of_the_sites_own_pages(name, value, request):  # type: ignore[no-untyped-def]
    """``next`` is followed only to a page of this site; anything else goes to the view's own
    default, never to a server error or another site."""
    data = {"next": value}
    if name == "command:ack":
        world = request.getfixturevalue("world")
        client = client_for(request.getfixturevalue("commander"))
        url = reverse(name, args=[world["campaign"]])
        data["key"] = "long_shift"
    else:
        user = make_user(Role.CANVASSER, request.getfixturevalue("community"), password="stairs-6a")
        client = Client()
        if name != "login":
            client.force_login(user)
        url = reverse(name)
        data.update(username=user.username, password="stairs-6a", language="en")
    response = client.post(url, data)
    if "\x00" in value:  # refused before any view, naming the field (core/middleware.TextOnly)
        assert response.status_code == 400 and b"next" in response.content
        return
    assert response.status_code == 302, response.status_code
    target = response["Location"]
    assert target.startswith("/") and not target.startswith("//"), target
    resolve(target.split("?")[0])
    assert (target == "/status/") == (value == "/status/"), target

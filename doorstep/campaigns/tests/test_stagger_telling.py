"""Residents are told their community's start: the public site status says when each site's
community starts and the resident's own page when and where theirs samples (Chinese and
English); "tell residents" texts one message per household with a phone, in the language of
the household's first resident with one, only for communities not told or changed since; a
drill texts nobody; the round page says how many texts and how long the sender takes."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from doorstep.campaigns import actions, hooks, queries
from doorstep.campaigns.actions import starts
from doorstep.campaigns.models import Campaign, CommunityStart
from doorstep.core.models import AuditAction, AuditEntry
from doorstep.notices.models import Kind, Message
from doorstep.sampling.models import Site
from doorstep.territory.models import Community, Resident
from doorstep.testing import (
    client_for,
    make_building,
    make_community,
    make_household,
    make_lane,
    make_resident,
)

pytestmark = pytest.mark.django_db

ZH = {"Accept-Language": "zh-hans"}
EN = {"Accept-Language": "en"}


def _eight_tomorrow() -> dt.datetime:
    day = timezone.localtime() + dt.timedelta(days=1)
    return day.replace(hour=8, minute=0, second=0, microsecond=0)


@pytest.fixture
def town(community: Community) -> dict:
    """Two communities with a site each. 阳光里: 101 two residents with phones (the first
    English-speaking), 102 the first without a phone and the second with one, 103 nobody with
    a phone, 104 one who moved out. 和苑: 201 one resident with a phone."""
    other = make_community("和苑社区", community.town)
    here = make_building(community)
    make_resident(make_household(here, "101"), "Anna", phone="13800000001", language="en")
    make_resident(make_household(here, "101"), "张伟", phone="13800000002")
    make_resident(make_household(here, "102"), "李老人", phone="")
    make_resident(make_household(here, "102"), "李女儿", phone="13800000003")
    make_resident(make_household(here, "103"), "王婆婆", phone="")
    make_resident(make_household(here, "104"), "搬走", phone="13800000009", moved_out=True)
    make_resident(make_household(make_building(other), "201"), "赵", phone="13800000004")
    make_lane(community, "广场采样点")
    make_lane(other, "和苑北门采样点")
    return {"here": community, "there": other}


def _round(town: dict, *, drill: bool = False) -> Campaign:
    start = _eight_tomorrow()
    return actions.create_campaign(
        town["here"].town,
        "第6轮",
        communities=[town["here"], town["there"]],
        starts_at=start,
        deadline=start + dt.timedelta(hours=12),
        drill=drill,
    )


def _staggered(town: dict, commander, **kw) -> Campaign:  # type: ignore[no-untyped-def]
    """阳光里 at 08:00 with the round, 和苑 at 08:40."""
    campaign = _round(town, **kw)
    starts.stagger(commander, campaign, [town["here"].pk, town["there"].pk], 40)
    return campaign


def _look(client: Client, resident: Resident, headers: dict):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("command:me"),
        {"code": resident.person_code, "document": resident.id_number[-6:]},
        headers=headers,
        REMOTE_ADDR="10.0.0.9",
    )


def _day(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%m-%d")


def test_the_status_page_says_when_each_sites_community_starts_in_both_languages(
    town, commander, client
):
    campaign = _staggered(town, commander)
    actions.start_round(commander, campaign)
    day = _day(campaign.starts_at)
    english = client.get(reverse("command:status"), headers=EN).content.decode()
    assert f"阳光里社区 samples from {day} 08:00." in english
    assert f"和苑社区 samples from {day} 08:40." in english
    chinese = client.get(reverse("command:status"), headers=ZH).content.decode()
    assert chinese.count('data-testid="community-start"') == 2
    assert f"{day} 08:40" in chinese


def test_a_planned_rounds_times_are_public_only_once_told(town, commander, client):
    campaign = _staggered(town, commander)
    page = client.get(reverse("command:status"), headers=EN).content.decode()
    assert "samples from" not in page  # being planned: not public yet
    starts.announce_starts(commander, campaign)
    page = client.get(reverse("command:status"), headers=EN).content.decode()
    assert f"和苑社区 samples from {_day(campaign.starts_at)} 08:40." in page


def test_a_planned_rounds_page_keeps_the_told_time_until_the_change_is_told(
    town, commander, client
):
    """The page and the texts never disagree: a time changed after residents were told is
    public once it is told too."""
    campaign = _staggered(town, commander)
    starts.announce_starts(commander, campaign)
    later = campaign.starts_at + dt.timedelta(hours=2)
    starts.set_start_times(commander, campaign, {town["there"].pk: later})
    page = client.get(reverse("command:status"), headers=EN).content.decode()
    assert f"和苑社区 samples from {_day(campaign.starts_at)} 08:40." in page
    starts.announce_starts(commander, campaign)
    page = client.get(reverse("command:status"), headers=EN).content.decode()
    assert f"和苑社区 samples from {_day(campaign.starts_at)} 10:00." in page


def test_a_site_name_too_long_for_one_part_is_left_out_of_the_text(town, commander, settings):
    """Chinese text messages are one part of 70 characters: a long site name is left out
    (the status page lists the sites), never split into a second part."""
    settings.PUBLIC_URL = ""
    Site.objects.filter(name="和苑北门采样点").update(name="阳光里社区党群服务中心北广场采样点")
    town_row = town["here"].town
    town_row.sms_signature, town_row.hotline = "东丽区防控指挥部", "022-24391234"
    town_row.save()
    campaign = _staggered(town, commander)
    starts.announce_starts(commander, campaign)
    told = Message.objects.get(resident__name="赵")
    assert len(told.text) <= 70 and "08:40" in told.text, told.text
    assert "北广场" not in told.text
    assert "广场采样点" in Message.objects.get(resident__name="李女儿").text


def test_a_drills_times_are_public_nowhere(town, commander, client):
    campaign = _staggered(town, commander, drill=True)
    starts.announce_starts(commander, campaign)
    assert "samples from" not in client.get(reverse("command:status"), headers=EN).content.decode()


def test_the_me_page_says_when_and_where_the_residents_community_samples(town, commander, client):
    campaign = _staggered(town, commander)
    starts.announce_starts(commander, campaign)  # planned, told: the look-up says so too
    zhao = Resident.objects.get(name="赵")
    english = _look(client, zhao, EN).content.decode()
    day = _day(campaign.starts_at)
    assert f"Your community samples from {day} 08:40 at 和苑北门采样点." in english
    assert "第6轮" in english
    chinese = _look(client, zhao, ZH).content.decode()
    assert 'data-testid="my-start"' in chinese and f"{day} 08:40" in chinese
    actions.start_round(commander, campaign)  # running: the same line
    assert f"samples from {day} 08:40 at 和苑北门采样点" in _look(client, zhao, EN).content.decode()


def test_telling_residents_texts_one_message_per_household_with_a_phone_in_its_language(
    town, commander, settings
):
    settings.PUBLIC_URL = ""
    campaign = _staggered(town, commander)
    response = client_for(commander).post(
        reverse("campaigns:announce", args=[campaign.pk]), follow=True
    )
    assert "3 texts queued for 2 communities" in response.content.decode()
    texts = {m.resident.name: m for m in Message.objects.select_related("resident")}
    # 101 by its first resident (in English), 102 by its second (the first has no phone),
    # 201; 103 has no phone and 104 moved out.
    assert set(texts) == {"Anna", "李女儿", "赵"}
    assert {m.kind for m in texts.values()} == {Kind.START_TIME}
    day = timezone.localtime(campaign.starts_at)
    assert texts["Anna"].language == "en"
    assert f"samples from {day.month}/{day.day} 08:00 at 广场采样点" in texts["Anna"].text
    assert texts["赵"].language == "zh-hans" and "08:40" in texts["赵"].text
    assert "和苑北门采样点" in texts["赵"].text
    assert all(m.campaign_id == campaign.pk and m.household_id for m in texts.values())
    entries = AuditEntry.objects.filter(action=AuditAction.ROUND, detail__step="start time told")
    assert {e.detail["community"]: e.detail["messages"] for e in entries} == {
        "阳光里社区": 2,
        "和苑社区": 1,
    }
    assert {e.user for e in entries} == {commander}


def test_a_community_whose_texts_fail_stays_untold_and_the_others_stay_told(
    town, commander, monkeypatch
):
    """Each community is told in its own transaction: a town's announcement never holds the
    write lock for all its texts at once, and a failure costs only its own community."""
    campaign = _staggered(town, commander)
    here = town["here"].pk  # told after 和苑 (by name)

    def broken(campaign_id: int, found: dict, at: dt.datetime) -> int:
        if here in found:
            raise RuntimeError("the disk is full")
        return 0

    monkeypatch.setattr(hooks, "_announcers", [*hooks._announcers, broken])
    with pytest.raises(RuntimeError):
        starts.announce_starts(commander, campaign)
    assert {m.community_id for m in Message.objects.all()} == {town["there"].pk}
    monkeypatch.undo()
    told = starts.announce_starts(commander, campaign)
    assert told.communities == ["阳光里社区"] and told.messages == 2


def test_telling_again_texts_only_the_communities_whose_time_changed(town, commander):
    campaign = _staggered(town, commander)
    starts.announce_starts(commander, campaign)
    assert Message.objects.count() == 3
    with pytest.raises(actions.CampaignError, match="nothing changed"):
        starts.announce_starts(commander, campaign)
    # Edited back and forth: told as it was, so nothing to tell.
    starts.set_start_times(commander, campaign, {town["there"].pk: campaign.starts_at})
    starts.set_start_times(
        commander, campaign, {town["there"].pk: campaign.starts_at + dt.timedelta(minutes=40)}
    )
    with pytest.raises(actions.CampaignError, match="nothing changed"):
        starts.announce_starts(commander, campaign)
    later = campaign.starts_at + dt.timedelta(minutes=50)
    starts.set_start_times(commander, campaign, {town["there"].pk: later})
    told = starts.announce_starts(commander, campaign)
    assert told.communities == ["和苑社区"] and told.messages == 1
    newest = Message.objects.order_by("-pk").first()
    assert newest is not None and newest.resident.name == "赵" and "08:50" in newest.text
    assert Message.objects.count() == 4


def test_a_drill_texts_nobody(town, commander):
    campaign = _staggered(town, commander, drill=True)
    page = client_for(commander).get(reverse("campaigns:detail", args=[campaign.pk]))
    assert "A drill texts nobody" in page.content.decode()
    response = client_for(commander).post(
        reverse("campaigns:announce", args=[campaign.pk]), follow=True
    )
    assert "nobody was texted" in response.content.decode()
    assert not Message.objects.exists()
    assert CommunityStart.objects.filter(campaign=campaign, told_at__isnull=False).count() == 2


def test_the_round_page_says_how_many_texts_and_how_long_the_sender_takes(town, commander):
    campaign = _staggered(town, commander)
    url = reverse("campaigns:detail", args=[campaign.pk])
    page = client_for(commander).get(url).content.decode()
    # 3 households with a phone; at 90 and 50 messages a second, 1 second each way.
    assert "in the communities not told yet or changed since: 3 texts." in page
    assert "about 1–1 seconds" in page
    assert "Not told yet" in page
    starts.announce_starts(commander, campaign)
    starts.set_start_times(
        commander, campaign, {town["there"].pk: campaign.starts_at + dt.timedelta(minutes=5)}
    )
    page = client_for(commander).get(url).content.decode()
    assert "changed since: 1 texts." in page and "Changed since told" in page


def test_a_towns_announcement_is_given_in_minutes(town, commander):
    campaign = _round(town)
    plan = queries.StartPlan([], 20, 40_000, math.ceil(40_000 / 90), math.ceil(40_000 / 50))
    with translation.override("en"):
        page = render_to_string(
            "campaigns/_starts.html",
            {"campaign": campaign, "starts": plan, "can_set_starts": True},
        )
    assert "changed since: 40000 texts." in page
    assert "about 8–14 minutes" in page

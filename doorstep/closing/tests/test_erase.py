"""Closing a town's response and erasing it: what stops it, what it says, what it leaves.

The whole-demo proof (every identifier gone from the raw database and files, the figures
unchanged) is ``test_erase_demo``; here each rule on a small town of its own."""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import gzip
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from doorstep.assistance import actions as need_actions
from doorstep.campaigns.actions import (
    CampaignError,
    close_round,
    create_campaign,
    set_community_zone,
)
from doorstep.campaigns.models import ZoneChange
from doorstep.closing import actions, certificate, files, scan, views_data
from doorstep.closing.models import Certificate
from doorstep.core.actions import audit
from doorstep.core.models import AuditAction, AuditEntry, AuditPerson
from doorstep.core.roles import Role
from doorstep.lab.actions import cases as case_actions
from doorstep.lab.models import CaseSheet
from doorstep.sampling.models import RoundSample, TubeMember
from doorstep.territory import actions as territory_actions
from doorstep.territory.models import Building, Closure, ClosureState, Resident
from doorstep.testing import (
    client_for,
    make_building,
    make_campaign,
    make_community,
    make_district,
    make_household,
    make_resident,
    make_town,
    make_user,
    rosters,
    server_env,
)
from doorstep.testing.lanes import post, sealed_tube, to_the_lab
from doorstep.workforce.actions import support

EN = {"Accept-Language": "en"}
pytestmark = pytest.mark.django_db(transaction=True)  # the erase vacuums after its commit


def _closed(town, commander, days=0):  # type: ignore[no-untyped-def]
    actions.close_response(commander, town, "The outbreak is over")
    if days is not None:
        actions.set_retention(commander, town, days, "Erase drill today")
    return Closure.objects.get(town=town)


def test_a_response_closes_only_when_every_round_is_closed_and_then_starts_no_round(
    community, commander
):
    make_building(community)
    campaign = make_campaign(community)
    with pytest.raises(actions.ClosingError, match="still open: 第1轮"):
        actions.close_response(commander, community.town, "The outbreak is over")
    with pytest.raises(actions.ClosingError, match="at least 4"):
        actions.close_response(commander, community.town, "ok")
    close_round(commander, campaign, confirmed=True)
    closure = actions.close_response(commander, community.town, "The outbreak is over")
    assert closure.erase_after - closure.closed_at == dt.timedelta(days=settings.RETENTION_DAYS)
    entry = AuditEntry.objects.get(action=AuditAction.CLOSE)
    assert (entry.town_id, entry.reason) == (community.town_id, "The outbreak is over")
    with pytest.raises(CampaignError, match="was closed on"):
        create_campaign(community.town, "第2轮", communities=[community])
    # The outbreak came back: reopened with a reason, rounds start again.
    actions.reopen(commander, community.town, "New cases found")
    assert create_campaign(community.town, "第2轮", communities=[community]).pk


def test_moving_the_erase_date_needs_a_reason_and_is_audited(community, commander):
    closure = _closed(community.town, commander, days=None)
    with pytest.raises(actions.ClosingError, match="at least 4"):
        actions.set_retention(commander, community.town, 10, "")
    with pytest.raises(actions.ClosingError, match="between 0 and 365"):
        actions.set_retention(commander, community.town, 400, "Court asked for a year")
    actions.set_retention(commander, community.town, 60, "The provincial audit comes in January")
    closure.refresh_from_db()
    assert closure.erase_after == closure.closed_at + dt.timedelta(days=60)
    entry = AuditEntry.objects.filter(action=AuditAction.RETENTION).get()
    assert entry.reason == "The provincial audit comes in January"
    assert entry.detail["days"] == 60 and entry.detail["to"] == closure.erase_after.isoformat()


def test_the_erase_says_exactly_what_stops_it_and_changes_nothing(community, commander, resident):
    town = community.town
    with pytest.raises(CommandError, match=r"No town named '清河'\. Towns: 中北镇"):
        call_command("erase", town="清河")
    with pytest.raises(CommandError, match="is not closed"):
        call_command("erase", town=town.name)
    campaign = make_campaign(community)
    close_round(commander, campaign, confirmed=True)
    _closed(town, commander, days=None)
    with pytest.raises(CommandError, match=r"kept until .* retention period"):
        call_command("erase", town=town.name)
    actions.set_retention(commander, town, 0, "Erase drill today")
    actions.set_hold(commander, town, "Court order 2026-17 keeps the records")
    with pytest.raises(CommandError, match="hold is set: Court order 2026-17"):
        call_command("erase", town=town.name)
    with pytest.raises(CommandError, match="hold is set: Court order 2026-17"):
        call_command("erase", town=town.name, check=True)
    assert Resident.objects.filter(pk=resident.pk).exists()
    assert not Certificate.objects.exists()
    assert Closure.objects.get(town=town).state == ClosureState.CLOSED
    actions.release_hold(commander, town, "The court lifted its order")
    call_command("erase", town=town.name, check=True)  # nothing stops it now
    call_command("erase", town=town.name)
    assert not Resident.objects.filter(pk=resident.pk).exists()
    with pytest.raises(CommandError, match=r"already erased on .*certificate ER-"):
        call_command("erase", town=town.name)


def test_an_unacknowledged_case_sheet_stops_the_erase(lane_world, commander):
    father = lane_world["family"][0]
    tube = sealed_tube(
        lane_world["registrar"], lane_world["lane"], [father], code="2112250101", pool=1
    )
    assert post(lane_world, {"tube": tube.code, "result": "positive"})[0]["status"] == "accepted"
    sheet = CaseSheet.objects.get()
    close_round(commander, lane_world["campaign"], confirmed=True)
    town = lane_world["campaign"].town
    _closed(town, commander)
    with pytest.raises(CommandError, match=r"1 case sheet.* not yet acknowledged"):
        call_command("erase", town=town.name)
    case_actions.hand_over(commander, sheet, "区疾控流调组", "13900001111")
    with pytest.raises(CommandError, match="not yet acknowledged"):
        call_command("erase", town=town.name)
    case_actions.acknowledge(commander, sheet, "李医生")
    call_command("erase", town=town.name)
    assert not CaseSheet.objects.exists() and not Resident.objects.filter(pk=father.pk).exists()
    # The pool's member stays for the pools' figures, naming no one.
    member = TubeMember.objects.get(tube=tube)
    assert (member.resident_id, member.walk_in_id, member.household_id) == (None, None, None)
    assert RoundSample.objects.filter(resident__isnull=True).count() == 1


def test_a_town_s_erase_leaves_another_town_whole(community, commander):
    other = make_community("河西社区", make_town("杨柳青镇"))
    # The same family phone on both towns' rosters: the other town's stays, unsearched.
    kept = make_resident(make_household(make_building(other)), "刘德", phone="13900002222")
    gone = make_resident(make_household(make_building(community)), "赵敏", phone="13900002222")
    worker = make_user(Role.COMMUNITY_WORKER, community)
    audit(
        worker,
        AuditAction.REVEAL,
        "resident",
        gone.pk,
        "Called about her exam",
        town_id=community.town_id,
        people=[("resident", gone.pk)],
    )
    elsewhere = audit(
        make_user(Role.COMMUNITY_WORKER, other),
        AuditAction.REVEAL,
        "resident",
        kept.pk,
        "Checked his phone",
        people=[("resident", kept.pk)],
    )
    _closed(community.town, commander)
    call_command("erase", town=community.town.name)
    assert list(Resident.objects.values_list("name", flat=True)) == ["刘德"]
    # The audit log keeps who did what when; what it said of the person goes.
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL, town_id=community.town_id)
    assert (entry.reason, entry.object_id, entry.detail) == ("", "", {"erased": True})
    assert entry.username == worker.username
    elsewhere.refresh_from_db()
    assert elsewhere.reason == "Checked his phone"
    assert list(AuditPerson.objects.values_list("person_id", flat=True)) == [kept.pk]
    cert = Certificate.objects.get()
    assert cert.body["erased"]["residents"] == 1 and cert.body["erased"]["audit_people"] == 1
    assert cert.body["scan"]["found"] == 0 and cert.body["scan"]["text_columns"] > 100
    assert cert.body["scan"]["numbers_shared_with_people_on_record"] == 1
    assert Resident.objects.get().phone == "13900002222"


def test_the_certificate_is_signed_and_a_changed_one_fails_its_check(
    community, commander, resident
):
    _closed(community.town, commander)
    call_command("erase", town=community.town.name, by="ops-li")
    cert = Certificate.objects.get()
    assert cert.issued_by == "ops-li" and cert.complete
    call_command("erase", verify=cert.number)
    cert.body["erased"]["residents"] = 0
    cert.save()
    with pytest.raises(CommandError, match="does NOT match"):
        call_command("erase", verify=cert.number)
    assert not views_data.is_valid(cert)
    # The key is the server's own, readable by its owner only.
    key = Path(settings.HOME) / "keys" / "erase-certificates.ed25519"
    assert key.stat().st_mode & 0o077 == 0
    assert certificate.public_hex(certificate.signing_key()) == cert.public_key


def test_the_certificate_page_and_pdf_are_the_commander_s(community, commander, resident, tmp_path):
    _closed(community.town, commander)
    call_command("erase", town=community.town.name)
    cert = Certificate.objects.get()
    page = client_for(commander).get(
        reverse("closing:certificate", args=[community.town_id]), headers=EN
    )
    html = page.content.decode()
    assert page.status_code == 200 and cert.number in html
    assert "The signature matches this content." in html and cert.public_key in html
    assert "residents (name, document number, phone, person code, household)" in html
    pdf = client_for(commander).get(reverse("closing:certificate_pdf", args=[community.town_id]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    target = tmp_path / "c.pdf"
    call_command("erase", pdf=[cert.number, str(target)])
    assert target.read_bytes().startswith(b"%PDF")
    # Another town's commander, and a community worker, do not see it.
    stranger = make_user(Role.COMMANDER, town=make_town("杨柳青镇"))
    assert (
        client_for(stranger)
        .get(reverse("closing:certificate", args=[community.town_id]))
        .status_code
        == 404
    )
    worker = make_user(Role.COMMUNITY_WORKER, community)
    assert (
        client_for(worker).get(reverse("closing:certificate", args=[community.town_id])).status_code
        == 403
    )


def test_the_closing_page_closes_moves_the_date_and_holds(community, commander):
    client = client_for(commander)
    url = reverse("closing:town", args=[community.town_id])
    client.post(url, {"form": "close", "reason": "The outbreak is over"})
    closure = Closure.objects.get(town=community.town)
    client.post(url, {"form": "retention", "days": "7", "reason": "Shorter: the data has no use"})
    closure.refresh_from_db()
    assert closure.erase_after == closure.closed_at + dt.timedelta(days=7)
    page = client.post(
        url, {"form": "retention", "days": "a week", "reason": "x" * 10}, follow=True, headers=EN
    )
    assert "Give the number of days" in page.content.decode()
    client.post(url, {"form": "hold", "reason": "Inspection by the province"})
    html = client.get(url, headers=EN).content.decode()
    assert "Held: Inspection by the province" in html and "retention hold is set" in html


# --- killed half-way -------------------------------------------------------------------------

_KILLER = textwrap.dedent(
    """
    import os, signal, sys
    import django
    django.setup()
    from doorstep.closing import erase
    from doorstep.territory.models import Town
    at = sys.argv[2]
    def stop(step):
        if step == at:
            os.kill(os.getpid(), signal.SIGKILL)
    erase.erase(Town.objects.get(pk=int(sys.argv[1])), "operator", after_step=stop)
    """
)


def _killed_at(town, step):  # type: ignore[no-untyped-def]
    env = server_env()
    env["DJANGO_SETTINGS_MODULE"] = "doorstep.settings"
    done = subprocess.run(
        [sys.executable, "-c", _KILLER, str(town.pk), step],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()


def test_an_erase_killed_inside_its_transaction_changed_nothing(community, commander, resident):
    _closed(community.town, commander)
    _killed_at(community.town, "deletes")
    assert Resident.objects.filter(pk=resident.pk).exists()
    assert Closure.objects.get(town=community.town).state == ClosureState.CLOSED
    assert not Certificate.objects.exists()
    call_command("erase", town=community.town.name)
    assert not Resident.objects.filter(pk=resident.pk).exists()


def test_an_erase_killed_after_its_commit_is_finished_by_the_next_run(
    community, commander, resident
):
    _closed(community.town, commander)
    _killed_at(community.town, "database")
    # Never half-visible: the person is gone with the commit, the certificate not yet complete.
    assert not Resident.objects.filter(pk=resident.pk).exists()
    cert = Certificate.objects.get()
    assert not cert.complete
    # What the files step will look for waits in a file only the server's user reads, never
    # in the database.
    pending = files.pending_path(community.town_id)
    assert pending.stat().st_mode & 0o077 == 0 and resident.phone in pending.read_text()
    assert resident.phone not in json.dumps(cert.body) and resident.name not in json.dumps(
        cert.body
    )
    page = client_for(commander).get(
        reverse("closing:certificate", args=[community.town_id]), headers=EN
    )
    assert "The erase has not finished" in page.content.decode()
    out = subprocess.run(
        [sys.executable, "-m", "doorstep.cli", "erase", "--town", community.town.name],
        env={**server_env(), "DJANGO_SETTINGS_MODULE": "doorstep.settings"},
        capture_output=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr.decode()
    assert "finished (it had stopped half-way)" in out.stdout.decode()
    cert.refresh_from_db()
    assert cert.complete and not pending.exists()
    assert certificate.verify(cert.body, cert.signature, cert.public_key)
    assert os.environ.get("DOORSTEP_HOME")  # the subprocesses used the test's home


# --- what the outside review found ------------------------------------------------------------


def test_numbers_are_found_however_they_are_written_and_names_whatever_their_case():
    matcher = scan.Matcher()
    matcher.add_number("13800138000")
    matcher.add_number("11010519491231002X")
    matcher.add_number("K7QM9XD4P")
    matcher.add_name("John Smith")
    matcher.add_name("张三")
    for text in (
        "call 138 0013 8000",
        "+86 138-0013-8000",
        "电话：１３８００１３８０００",
        "id 110105 19491231 002x",
        "code K7Q-M9X-D4P on the sheet",
        "联系13800138000家属",
    ):
        assert matcher.found(text) is not None and matcher.found(text)[0] == "number", text
    assert matcher.found("met JOHN  SMITH at the gate") == ("name", "johnsmith")
    assert matcher.found("联系张 三家属") == ("name", "张三")
    assert matcher.found("tube 2112250001, box BOX001") is None


def test_notes_beside_the_kept_figures_go_and_a_place_named_like_someone_does_not_stop_it(
    community, commander
):
    gone = make_resident(make_household(make_building(community)), "向阳", phone="13900003333")
    campaign = make_campaign(community)
    set_community_zone(
        commander, campaign, community, "controlled", note="向阳 139 0000 3333 阳性密接"
    )
    close_round(commander, campaign, confirmed=True)
    # Another town has a building named like the resident: a place, kept, not a person.
    make_building(make_community("河西社区", make_town("杨柳青镇")), "向阳大厦")
    _closed(community.town, commander)
    call_command("erase", town=community.town.name)
    assert not Resident.objects.filter(pk=gone.pk).exists()
    assert set(ZoneChange.objects.values_list("note", flat=True)) == {""}
    assert Building.objects.filter(name="向阳大厦").exists()
    assert Certificate.objects.get().body["scan"]["names_shared_with_people_on_record"] == 1


def test_the_schedule_says_when_no_town_waits():
    out = io.StringIO()
    call_command("erase", due=True, stdout=out)
    assert out.getvalue().strip() == "No closed town waits for its erase."


def test_the_schedule_erases_every_town_due_when_one_of_them_fails(community, commander):
    stuck_town = make_town("杨柳青镇", make_district("西青区"))
    stuck = make_community("河西社区", stuck_town)
    person = make_resident(make_household(make_building(stuck)), "刘德", phone="13900004444")
    gone = make_resident(make_household(make_building(community)), "赵敏")
    # A kept note that the erase does not know holds a person's phone: that town refuses.
    request = support.ask_for_people(
        None,
        stuck_town,
        people=2,
        purpose="door_to_door",
        community=stuck,
        muster_point="A",
        needed_by=timezone.now() + dt.timedelta(hours=2),
        note="找刘德 13900004444",
    )
    assert request.pk
    _closed(stuck_town, make_user(Role.COMMANDER, town=stuck_town))
    _closed(community.town, commander)
    with pytest.raises(CommandError, match="not erased: 杨柳青镇"):
        call_command("erase", due=True)
    assert Resident.objects.filter(pk=person.pk).exists()
    assert not Resident.objects.filter(pk=gone.pk).exists()
    assert Closure.objects.get(town=community.town).state == ClosureState.ERASED


def test_a_certificate_signed_with_another_key_is_not_trusted(community, commander, resident):
    _closed(community.town, commander)
    call_command("erase", town=community.town.name)
    cert = Certificate.objects.get()
    assert views_data.problem(cert) == ""
    forger = Ed25519PrivateKey.generate()
    cert.body["erased"]["residents"] = 99999
    cert.signature = base64.b64encode(forger.sign(certificate.canonical(cert.body))).decode()
    cert.public_key = certificate.public_hex(forger)
    cert.save()
    assert "a key this server does not hold" in views_data.problem(cert)
    with pytest.raises(CommandError, match="a key this server does not hold"):
        call_command("erase", verify=cert.number)


def test_an_erased_town_takes_no_roster_no_request_and_no_result(lane_world, commander):
    father = lane_world["family"][0]
    tube = sealed_tube(
        lane_world["registrar"], lane_world["lane"], [father], code="2112250101", pool=1
    )
    to_the_lab(lane_world, tube.code)  # received at the lab; its result comes late
    town = lane_world["campaign"].town
    close_round(commander, lane_world["campaign"], confirmed=True)
    _closed(town, commander)
    roster = rosters.csv_bytes(
        [rosters.row(1, 姓名="新来的", 社区=lane_world["lane"].site.community.name)]
    )
    report = territory_actions.import_roster(town.name, roster)
    assert "is closed" in report.file_error and not Resident.objects.filter(name="新来的").exists()
    call_command("erase", town=town.name)
    community = lane_world["lane"].site.community
    with pytest.raises(need_actions.NeedError, match="erased"):
        need_actions.register(
            None,
            need_actions.Who(name="路人", phone="13900005555"),
            kind="medication",
            needed_by=timezone.now() + dt.timedelta(hours=3),
            source="resident",
            community=community,
        )
    [answer] = post(lane_world, {"tube": tube.code, "result": "positive"})
    assert answer["error"]["code"] == "town_erased"


def test_a_second_erase_while_one_runs_says_so(community, commander, resident):
    _closed(community.town, commander)
    lock = Path(settings.HOME) / "keys" / "erase.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(CommandError, match="another doorstep erase is running"):
            call_command("erase", town=community.town.name)
        fcntl.flock(held, fcntl.LOCK_UN)
    assert Resident.objects.filter(pk=resident.pk).exists()


def test_files_that_name_someone_are_cleaned_or_removed_whatever_their_form(
    community, commander, resident
):
    home = Path(settings.HOME) / "exports"
    home.mkdir(parents=True, exist_ok=True)
    log = home / "gateway.log"
    log.write_text(f"sent to {resident.phone}\nqueue empty\n", encoding="utf-8")
    log.chmod(0o640)
    with gzip.open(home / "gateway.log.2.gz", "wt", encoding="utf-8") as old:
        old.write(f"sent to {resident.phone}\n")
    book = Workbook()
    book.active.append([resident.name, resident.id_number])
    book.save(home / "名单.xlsx")
    copy = Path(str(connection.settings_dict["NAME"]) + ".before-upgrade")
    (home / "unrelated.txt").write_text("nothing personal\n", encoding="utf-8")
    _closed(community.town, commander)
    call_command("erase", town=community.town.name)
    assert log.read_text(encoding="utf-8") == "[erased]\nqueue empty\n"
    assert log.stat().st_mode & 0o777 == 0o640  # its mode kept
    assert not (home / "gateway.log.2.gz").exists() and not (home / "名单.xlsx").exists()
    assert (home / "unrelated.txt").exists()
    report = Certificate.objects.get().body["files"]
    assert sorted(report["removed"]) == ["exports/gateway.log.2.gz", "exports/名单.xlsx"]
    assert not copy.exists()

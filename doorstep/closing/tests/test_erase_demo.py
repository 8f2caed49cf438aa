"""The demo built, closed and erased: no name, document number, phone or person code it made is
left in the database's own file (SQLite) or a ``pg_dump`` (PostgreSQL), nor in the files under
DOORSTEP_HOME; the figures are those the dashboard and the reports showed before."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Model
from django.utils import timezone

from doorstep.assistance.models import Request
from doorstep.campaigns.actions import close_round
from doorstep.campaigns.models import Campaign, CampaignStatus
from doorstep.closing import actions, certificate
from doorstep.closing.models import Certificate
from doorstep.command import dashboard, report
from doorstep.core.models import User
from doorstep.district import report as district_report
from doorstep.notices.models import Message
from doorstep.sampling.models import WalkIn
from doorstep.territory.models import Closure, ClosureState, District, Resident, Town

pytestmark = pytest.mark.django_db(transaction=True)  # VACUUM cannot run in a transaction


def plain(value: Any) -> Any:
    """A figure as plain data: dataclasses by field, rows by their id and counters."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Model):
        fields = {
            f.attname: getattr(value, f.attname)
            for f in value._meta.concrete_fields
            if f.get_internal_type()
            in {"IntegerField", "PositiveIntegerField", "BigIntegerField", "FloatField"}
        }
        return {"pk": value.pk, **fields}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two figures differ, leaf by leaf."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            d
            for k in sorted(set(a) | set(b))
            for d in differences(a.get(k), b.get(k), f"{path}/{k}")
        ]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in differences(x, y, f"{path}[{i}]")
        ]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def figures(now: dt.datetime) -> dict[str, Any]:
    """What the command screens and the reports say, for every round of every town."""
    out: dict[str, Any] = {}
    for campaign in Campaign.objects.order_by("pk"):
        rows, total = dashboard.coverage(campaign)
        out[f"{campaign.pk}:coverage"] = plain([rows, total])
        out[f"{campaign.pk}:totals"] = plain(dashboard.totals(campaign))
        out[f"{campaign.pk}:sites"] = plain(dashboard.sites(campaign, now))
        for day in report.days_of(campaign, now):
            daily = report.daily(campaign, now=now, day=day)
            out[f"{campaign.pk}:{day}:report"] = plain(
                [
                    daily.today,
                    daily.round,
                    daily.totals,
                    daily.loops,
                    daily.sampled_today,
                    daily.units,
                ]
            )
    for district in District.objects.order_by("pk"):
        daily = district_report.daily(district, now=now)
        out[f"district {district.pk}"] = plain(
            [
                [town.campaign.pk, plain(town.report.today), plain(town.report.round)]
                for town in daily.towns
            ]
        )
    return out


def identifiers() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {"names": set(), "numbers": set()}
    for name, number, phone, code in Resident.objects.values_list(
        "name", "id_number", "phone", "person_code"
    ):
        found["names"].add(name)
        found["numbers"].update(x for x in (number, phone, code) if x)
    for name, number, phone in WalkIn.objects.values_list("name", "id_number", "phone"):
        found["names"].add(name)
        found["numbers"].update(x for x in (number, phone) if x)
    for name, number, phone in Request.objects.values_list(
        "walk_in_name", "walk_in_id_number", "walk_in_phone"
    ):
        if name:
            found["names"].add(name)
        found["numbers"].update(x for x in (number, phone) if x)
    found["numbers"].update(Message.objects.values_list("phone", flat=True))
    return found


def names_on_record() -> str:
    """Every name the erase rightly keeps (staff, users, places), as one text to search in."""
    from_models = [
        *User.objects.values_list("first_name", "last_name", "username"),
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM workforce_staff")
        staff = [row[0] for row in cursor.fetchall()]
    places = []
    for table in (
        "territory_town",
        "territory_community",
        "territory_building",
        "territory_grid",
        "sampling_site",
        "sampling_lane",
        "workforce_team",
        "workforce_supportunit",
        "territory_district",
        "campaigns_campaign",
    ):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT name FROM {table}")
            places += [row[0] for row in cursor.fetchall()]
    return "\n".join([*(" ".join(x) for x in from_models), *staff, *places])


def close_everything(commander: User) -> None:
    for campaign in Campaign.objects.filter(status=CampaignStatus.ACTIVE):
        close_round(commander, campaign, confirmed=True)


def dump_text() -> str:
    """The database as it would leave the machine: the SQLite file with its log, or pg_dump."""
    if connection.vendor == "sqlite":
        path = Path(str(connection.settings_dict["NAME"]))
        data = b"".join(
            p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
        )
        return data.decode("utf-8", "replace")
    params = connection.settings_dict
    dump = subprocess.run(
        [
            shutil.which("pg_dump") or "pg_dump",
            "-h",
            str(params["HOST"]),
            "-p",
            str(params["PORT"]),
            "-U",
            str(params["USER"]),
            "--data-only",
            str(params["NAME"]),
        ],
        capture_output=True,
        check=True,
    )
    return dump.stdout.decode("utf-8", "replace")


def test_the_demo_erased_leaves_no_person_and_the_same_figures(tmp_path):
    call_command("demo", residents=400, no_serve=True)
    commander = User.objects.get(username="district")
    now = timezone.now()
    close_everything(commander)
    before = figures(now)
    people = identifiers()
    assert len(people["names"]) > 300 and len(people["numbers"]) > 1000
    # A file under DOORSTEP_HOME that names people: a log line the erase must clean.
    home = Path(settings.HOME)
    log = home / "logs" / "gateway.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    a_phone = sorted(Message.objects.values_list("phone", flat=True))[0]
    log.write_text(f"09:00 sent to {a_phone}\n09:01 queue empty\n", encoding="utf-8")

    # The search would find them: before the erase, every number is in the dump.
    text = dump_text()
    assert all(number in text for number in people["numbers"])

    towns = list(Town.objects.order_by("pk"))
    for town in towns:
        actions.close_response(commander, town, "The outbreak is over")
        actions.set_retention(commander, town, 0, "Erase drill today")
    for town in towns:
        call_command("erase", town=str(town.pk), by="operator")

    assert differences(before, figures(now)) == []
    text = dump_text()
    for number in people["numbers"]:
        assert number not in text, number
    kept = names_on_record()
    left = {name for name in people["names"] if name in text and name not in kept}
    assert not left
    assert Closure.objects.filter(state=ClosureState.ERASED).count() == len(towns)
    # The file under DOORSTEP_HOME lost the line that named a phone, and kept the other.
    assert log.read_text(encoding="utf-8") == "[erased]\n09:01 queue empty\n"
    for cert in Certificate.objects.all():
        assert cert.complete and certificate.verify(cert.body, cert.signature, cert.public_key)
        assert cert.body["scan"]["found"] == 0
        assert "_pending" not in cert.body
    # Run again: it says so, and changes nothing.
    with pytest.raises(CommandError, match="already erased"):
        call_command("erase", town=str(towns[0].pk), by="operator")
    assert differences(before, figures(now)) == []

"""Safe by default to deploy: the demo never sits beside real data or serves unnoticed, the
embedded database is private, the secret key is long, `check --deploy` is clean in the
documented production settings, pages carry a Content-Security-Policy and personal pages are
never cached, the API docs load nothing from a CDN, and a database outage is a JSON 503."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.admin.sites import site
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client, RequestFactory
from django.urls import reverse

from doorstep import settings as doorstep_settings
from doorstep.core import demo_logins as demo
from doorstep.core.management.commands.serve import default_workers
from doorstep.core.models import AuditAction, AuditEntry, User
from doorstep.core.roles import Role
from doorstep.lab.models import ResultEntry
from doorstep.territory.models import Town
from doorstep.testing import client_for, make_community, make_town, make_user

DOORSTEP = str(Path(sys.executable).parent / "doorstep")


def _env(**values: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")}
    clean.pop("DATABASE_URL", None)
    clean.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # the tests' own (testing_env.py)
    return {**clean, **values}


@pytest.mark.django_db
def test_serve_refuses_a_database_whose_demo_users_can_sign_in_unless_told_demo(monkeypatch):
    User.objects.create_user("admin", password=demo.DEMO_PASSWORD, role=Role.ADMIN)
    with pytest.raises(CommandError, match="serve it with `doorstep serve --demo`"):
        call_command("serve")
    started: list[list[str]] = []
    monkeypatch.setattr(os, "execv", lambda path, argv: started.append(argv))
    call_command("serve", demo=True)
    assert started and "doorstep.wsgi:application" in started[0]
    # Once the demo's password is changed, the database serves as a real one.
    admin = User.objects.get(username="admin")
    admin.set_password("a-new-password-for-the-district")
    admin.save()
    call_command("serve")
    assert len(started) == 2


def test_serve_gives_postgresql_one_process_per_two_cores_and_sqlite_one_per_core():
    assert [default_workers(False, cores) for cores in (1, 2, 3, 8)] == [1, 1, 1, 4]
    assert [default_workers(True, cores) for cores in (1, 2, 8)] == [1, 2, 8]


@pytest.mark.django_db
def test_serve_demo_refuses_a_database_that_also_holds_a_real_town(monkeypatch, community):
    """The demo admin's published password would open the list of every town's users."""
    User.objects.create_user("admin", password=demo.DEMO_PASSWORD, role=Role.ADMIN)
    make_town("演示镇")
    Town.objects.filter(name="演示镇").update(is_demo=True)
    started: list[list[str]] = []
    monkeypatch.setattr(os, "execv", lambda path, argv: started.append(argv))
    with pytest.raises(
        CommandError, match=r"holds real towns \(中北镇\) beside the demo"
    ) as refused:
        call_command("serve", demo=True)
    assert "a database of its own" in str(refused.value) and not started
    # Demo towns only: served.
    Town.objects.update(is_demo=True)
    call_command("serve", demo=True)
    assert len(started) == 1


@pytest.mark.django_db
def test_the_demo_never_goes_beside_real_towns_even_asked_to_rebuild(community, capsys):
    with pytest.raises(SystemExit) as exited:
        call_command("demo", residents=100, no_serve=True, rebuild=True)
    assert exited.value.code == 1
    assert "holds real towns (中北镇)" in capsys.readouterr().err
    assert User.objects.count() == 0 and community.town.communities.count() == 1


@pytest.mark.django_db
def test_the_demo_banner_shows_only_to_users_of_demo_towns():
    make_town("演示镇")

    Town.objects.filter(name="演示镇").update(is_demo=True)
    real = make_user(Role.COMMUNITY_WORKER, make_community("阳光里社区", make_town("中北镇")))
    demo_user = make_user(
        Role.COMMUNITY_WORKER, make_community("富锦园", Town.objects.get(name="演示镇"))
    )
    words = "Demo data: every person here is synthetic."
    assert words not in client_for(real).get(reverse("home")).content.decode()
    assert words in client_for(demo_user).get(reverse("home")).content.decode()


def test_the_embedded_database_and_its_folder_are_private(tmp_path):
    home = tmp_path / "home"
    doorstep_settings._private_file(home / "doorstep.sqlite3")
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "doorstep.sqlite3").stat().st_mode) == 0o600
    (home / "doorstep.sqlite3").chmod(0o644)
    doorstep_settings._private_file(home / "doorstep.sqlite3")
    assert stat.S_IMODE((home / "doorstep.sqlite3").stat().st_mode) == 0o600


def test_a_short_secret_key_is_refused_and_the_message_suggests_no_debug(tmp_path):
    short = subprocess.run(
        [sys.executable, "-c", "import doorstep.settings"],
        env=_env(DOORSTEP_HOME=str(tmp_path), DOORSTEP_SECRET_KEY="too-short"),
        capture_output=True,
        text=True,
    )
    assert short.returncode != 0 and "has 9 characters; use 50 or more" in short.stderr
    missing = subprocess.run(
        [sys.executable, "-c", "import doorstep.settings"],
        env=_env(DOORSTEP_HOME=str(tmp_path)),
        capture_output=True,
        text=True,
    )
    assert "DOORSTEP_SECRET_KEY is not set" in missing.stderr
    assert "DOORSTEP_DEBUG" not in missing.stderr


def test_check_deploy_is_clean_in_the_documented_production_settings(tmp_path):
    production = _env(
        DOORSTEP_HOME=str(tmp_path),
        DOORSTEP_SECRET_KEY="p" * 30 + "-district-key-" + "q" * 30,
        DOORSTEP_ALLOWED_HOSTS="doorstep.example.org",
        DOORSTEP_SECURE_COOKIES="1",
        DOORSTEP_HSTS_SECONDS="31536000",
        DOORSTEP_HSTS_SUBDOMAINS="1",
        DOORSTEP_HSTS_PRELOAD="1",
        DOORSTEP_SSL_REDIRECT="1",
        DOORSTEP_BEHIND_HTTPS_PROXY="1",
    )
    result = subprocess.run(
        [DOORSTEP, "check", "--deploy", "--fail-level", "WARNING"],
        env=production,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy_and_personal_pages_are_not_stored(worker):
    page = client_for(worker).get(reverse("territory:residents"))
    policy = page["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-eval" not in policy
    assert "no-store" in page["Cache-Control"] and "private" in page["Cache-Control"]
    public = Client().get(reverse("command:status"))
    assert "no-store" not in public.get("Cache-Control", "")


@pytest.mark.django_db
def test_the_api_docs_load_the_vendored_swagger_ui():
    html = Client().get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn." not in html and "jsdelivr" not in html


@pytest.mark.django_db
def test_a_database_outage_is_a_json_503_with_a_retry_hint(lane_world, monkeypatch):
    def down(self, sql, params=None):  # type: ignore[no-untyped-def]
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(CursorWrapper, "execute", down)
    response = lane_world["registrar"].post("events", {"events": []})
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert "resending the same ids is safe" in response.json()["error"]


@pytest.mark.django_db
def test_the_admin_cannot_delete_results_or_audit_rows_and_role_changes_are_audited(
    admin_user, community, other_community
):
    request = RequestFactory().get("/")
    request.user = admin_user
    for model in (ResultEntry, AuditEntry):
        assert site._registry[model].has_delete_permission(request) is False
    worker = make_user(Role.COMMUNITY_WORKER, community, username="grid-wang")
    client = client_for(admin_user)
    url = reverse("admin:core_user_change", args=[worker.pk])
    form = {
        "username": "grid-wang",
        "role": Role.COMMANDER,
        "town": community.town_id,
        "communities": [community.pk, other_community.pk],
        "is_active": "on",
        "date_joined_0": "2026-12-01",
        "date_joined_1": "08:00:00",
        "initial-date_joined_0": "2026-12-01",
        "initial-date_joined_1": "08:00:00",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content[:2000]
    entry = AuditEntry.objects.get(action=AuditAction.ROLE)
    assert entry.username == admin_user.username and entry.object_id == str(worker.pk)
    assert entry.detail["role"] == [Role.COMMUNITY_WORKER, Role.COMMANDER]
    assert entry.detail["communities"] == [
        [community.pk],
        sorted([community.pk, other_community.pk]),
    ]

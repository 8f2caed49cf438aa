import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from doorstep import settings


def _import_settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import doorstep.settings"],
        env=clean,
        capture_output=True,
        text=True,
    )


def test_the_default_secret_key_is_refused_outside_debug(tmp_path):
    result = _import_settings({"DOORSTEP_HOME": str(tmp_path)})
    assert result.returncode != 0
    assert "DOORSTEP_SECRET_KEY is not set" in result.stderr


def test_the_default_secret_key_is_allowed_in_debug(tmp_path):
    result = _import_settings({"DOORSTEP_HOME": str(tmp_path), "DOORSTEP_DEBUG": "1"})
    assert result.returncode == 0, result.stderr


def test_a_key_file_in_the_home_is_used(tmp_path):
    (tmp_path / "secret_key").write_text("from-the-file-" + "k" * 40)
    result = _import_settings({"DOORSTEP_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr


def test_a_database_url_that_is_not_postgres_is_refused(tmp_path):
    result = _import_settings(
        {"DOORSTEP_HOME": str(tmp_path), "DOORSTEP_DEBUG": "1", "DATABASE_URL": "mysql://x@y/z"}
    )
    assert "must be a postgres:// URL" in result.stderr


def test_bad_booleans_and_numbers_fail_loudly(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        settings.env_bool("X_FLAG", False)
    monkeypatch.setenv("X_NUM", "ten")
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        settings.env_int("X_NUM", 1)


PROBE = """
import django, os
os.environ["DJANGO_SETTINGS_MODULE"] = "doorstep.settings"
django.setup()
from django.db import connection
with connection.cursor() as c:
    c.execute("PRAGMA journal_mode"); mode = c.fetchone()[0]
    c.execute("PRAGMA busy_timeout"); timeout = c.fetchone()[0]
print(mode, timeout, connection.settings_dict["OPTIONS"]["transaction_mode"], connection.settings_dict["NAME"])
"""


def test_the_embedded_database_runs_in_wal_mode_with_immediate_transactions(tmp_path):
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_") and k != "DATABASE_URL"
    }
    clean.update({"DOORSTEP_HOME": str(tmp_path), "DOORSTEP_DEBUG": "1"})
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=clean, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    mode, timeout, transaction_mode, name = result.stdout.split()
    assert (mode, timeout, transaction_mode) == ("wal", "20000", "IMMEDIATE")
    assert name == str(tmp_path / "doorstep.sqlite3")


SHOW_POOLER = """
from django.conf import settings
d = settings.DATABASES
print(settings.PG_PREPARE, d["default"]["DISABLE_SERVER_SIDE_CURSORS"],
      "prepare_threshold" in d["default"]["OPTIONS"], d["standby"]["DISABLE_SERVER_SIDE_CURSORS"])
"""


def _show(env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DOORSTEP_", "DATABASE_"))}
    clean |= {
        "DOORSTEP_HOME": str(tmp_path),
        "DOORSTEP_DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "doorstep.settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:6432/doorstep",
        "DATABASE_STANDBY_URL": "postgres://postgres@127.0.0.1:6432/doorstep_standby",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + SHOW_POOLER],
        env=clean,
        capture_output=True,
        text=True,
    )


def test_through_pgbouncer_nothing_outlives_a_transaction(tmp_path):
    """Transaction pooling lends a server connection for one transaction: no prepared
    statements and no server-side cursors, on the primary and the standby alike."""
    pooled = _show({"DOORSTEP_PGBOUNCER": "1"}, tmp_path)
    assert pooled.stdout.split() == ["False", "True", "False", "True"], pooled.stderr
    direct = _show({}, tmp_path)
    assert direct.stdout.split() == ["True", "False", "True", "False"], direct.stderr
    both = _show({"DOORSTEP_PGBOUNCER": "1", "DOORSTEP_PG_PREPARE": "1"}, tmp_path)
    assert both.returncode != 0
    assert "cannot keep prepared statements" in both.stderr

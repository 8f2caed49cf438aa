"""The backups' horizon and expiry rule, from a canned ``pgbackrest info --output=json``.

The rule (``doorstep.closing.backups``): a backup set goes at the first expire after the next
full backup's stop + N days; the data present at a moment is in every backup started before it.
The real pgBackRest is driven by ``doorstep/ha/tests/test_erase_backups.py`` (``make test-ha``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
from typing import Any

import pytest
from django.test import override_settings
from django.utils import translation

from doorstep.closing import backups

UTC = dt.UTC


def at(day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(2027, 1, day, hour, minute, tzinfo=UTC)


def backup(label: str, kind: str, start: dt.datetime, minutes: int, wal: str) -> dict[str, Any]:
    return {
        "label": label,
        "type": kind,
        "prior": None if kind == "full" else label.split("_")[0],
        "reference": None if kind == "full" else [label.split("_")[0]],
        "timestamp": {
            "start": int(start.timestamp()),
            "stop": int((start + dt.timedelta(minutes=minutes)).timestamp()),
        },
        "archive": {"start": wal, "stop": wal[:-1] + "F"},
        "database": {"id": 1, "repo-key": 1},
    }


# Nightly full backups at 01:00 (10 minutes), a differential at 13:00 on the 2nd.
INFO: dict[str, Any] = {
    "name": "doorstep",
    "status": {"code": 0, "message": "ok"},
    "archive": [
        {
            "id": "15-1",
            "min": "000000010000000000000002",
            "max": "000000010000000000000040",
            "database": {"id": 1, "repo-key": 1},
        }
    ],
    "backup": [
        backup("20270101-010000F", "full", at(1, 1), 10, "000000010000000000000003"),
        backup("20270102-010000F", "full", at(2, 1), 10, "000000010000000000000010"),
        backup(
            "20270102-010000F_20270102-130000D",
            "diff",
            at(2, 13),
            5,
            "000000010000000000000018",
        ),
        backup("20270103-010000F", "full", at(3, 1), 10, "000000010000000000000020"),
    ],
}


def test_the_last_copy_expires_n_days_after_the_first_full_backup_after_the_erase() -> None:
    erased = at(2, 15)  # after the differential, before the third night's full backup
    horizon = backups.rule(INFO, erased, 7)
    assert horizon.holding == (
        "20270101-010000F",
        "20270102-010000F",
        "20270102-010000F_20270102-130000D",
    )
    assert horizon.clean_full == "20270103-010000F"
    assert horizon.last_copy_expires == at(10, 1, 10)  # its stop + 7 days
    assert horizon.held and not horizon.waits_for_full
    # The daily expire after that moment: the day after, in local time (Asia/Shanghai).
    assert horizon.gone_by == dt.date(2027, 1, 11)
    expires = {c.label: c.expires for c in horizon.copies}
    assert expires["20270101-010000F"] == at(9, 1, 10)  # the second full's stop + 7 days
    # A differential goes with its full backup, not on its own.
    assert expires["20270102-010000F_20270102-130000D"] == at(10, 1, 10)
    assert expires["20270103-010000F"] is None  # no newer full backup yet


def test_before_the_next_full_backup_the_date_is_not_known() -> None:
    horizon = backups.rule(INFO, at(3, 9), 7)
    assert horizon.clean_full is None and horizon.last_copy_expires is None
    assert horizon.waits_for_full and horizon.gone_by is None
    assert len(horizon.holding) == 4
    assert "7 days after the next full backup" in _english(horizon)


def test_a_backup_running_during_the_erase_holds_the_data() -> None:
    horizon = backups.rule(INFO, at(3, 1, 5), 7)  # the third full started at 01:00
    assert "20270103-010000F" in horizon.holding
    assert horizon.clean_full is None


def test_no_retention_names_no_date() -> None:
    horizon = backups.rule(INFO, at(2, 15), 0)
    assert horizon.last_copy_expires is None and not horizon.waits_for_full
    assert all(c.expires is None for c in horizon.copies)
    assert "until the operator removes them" in _english(horizon)
    assert backups.due(INFO, at(30), 0) == []


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # The newest full backup that stopped more than 7 days ago is kept; older ones go.
        (at(9, 1, 10), []),  # the second full stopped exactly 7 days ago: not before the limit
        (at(9, 1, 11), ["20270101-010000F"]),
        (at(10, 1, 11), ["20270101-010000F", "20270102-010000F"]),
        (at(28), ["20270101-010000F", "20270102-010000F"]),  # the newest full is never due
        (at(3, 12), []),
    ],
)
def test_expire_is_due_once_a_newer_full_backup_is_older_than_the_retention(
    now: dt.datetime, expected: list[str]
) -> None:
    assert backups.due(INFO, now, 7) == expected


def test_the_horizon_date_is_the_moment_the_rule_removes_the_last_copy() -> None:
    erased = at(2, 15)
    horizon = backups.rule(INFO, erased, 7)
    assert horizon.last_copy_expires is not None
    just_before = horizon.last_copy_expires
    just_after = horizon.last_copy_expires + dt.timedelta(seconds=1)
    holding_fulls = [label for label in horizon.holding if "_" not in label]
    assert set(holding_fulls) - set(backups.due(INFO, just_before, 7))
    assert set(holding_fulls) <= set(backups.due(INFO, just_after, 7))


def test_wal_before_the_clean_full_backup_holds_the_data_even_with_no_backup_before() -> None:
    only_after = {**INFO, "backup": INFO["backup"][3:]}
    horizon = backups.rule(only_after, at(2, 15), 7)
    assert horizon.holding == () and horizon.held  # WAL from ...02 to ...20 predates it
    clean_from_the_start = {
        **only_after,
        "archive": [{**INFO["archive"][0], "min": "000000010000000000000020"}],
    }
    assert not backups.rule(clean_from_the_start, at(2, 15), 7).held


def test_not_configured_runs_nothing_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("pgBackRest must not run when no stanza is configured")

    monkeypatch.setattr(backups.subprocess, "run", refuse)
    with override_settings(DOORSTEP_PGBACKREST_STANZA=""):
        horizon = backups.horizon(at(2))
    assert not horizon.configured and not horizon.held
    assert "the operator states their own" in _english(horizon)
    json.dumps(dataclasses.asdict(horizon), default=str)  # the certificate keeps it as JSON
    with override_settings(DOORSTEP_PGBACKREST_STANZA=""), pytest.raises(backups.BackupsError):
        backups.expire(at(2))


@override_settings(
    DOORSTEP_PGBACKREST_STANZA="doorstep",
    DOORSTEP_PGBACKREST_CONFIG="/etc/pgbackrest/doorstep.conf",
    DOORSTEP_BACKUP_RETENTION_DAYS=7,
)
def test_the_horizon_reads_pgbackrest_info(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(argv)
        assert kwargs["timeout"] == backups.INFO_TIMEOUT
        return subprocess.CompletedProcess(argv, 0, json.dumps([INFO]), "")

    monkeypatch.setattr(backups.shutil, "which", lambda name: "/usr/bin/pgbackrest")
    monkeypatch.setattr(backups.subprocess, "run", run)
    horizon = backups.horizon(at(2, 15))
    assert calls[0][0] == "/usr/bin/pgbackrest"
    assert "--config=/etc/pgbackrest/doorstep.conf" in calls[0]
    assert "--stanza=doorstep" in calls[0] and calls[0][-2:] == ["--output=json", "info"]
    assert horizon.configured and horizon.stanza == "doorstep" and horizon.retention_days == 7
    assert horizon.last_copy_expires == at(10, 1, 10)
    record = json.loads(json.dumps(dataclasses.asdict(horizon), default=str))
    assert record["last_copy_expires"] == "2027-01-10 01:10:00+00:00"
    assert record["gone_by"] == "2027-01-11"
    assert "2027-01-10 09:10" in _english(horizon)  # local time, Asia/Shanghai


@override_settings(DOORSTEP_PGBACKREST_STANZA="doorstep", DOORSTEP_PGBACKREST_CONFIG="")
def test_a_failing_pgbackrest_is_named_with_its_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backups.shutil, "which", lambda name: "/usr/bin/pgbackrest")
    monkeypatch.setattr(
        backups.subprocess,
        "run",
        lambda argv, **kw: subprocess.CompletedProcess(argv, 28, "", "ERROR: [028]: no repo"),
    )
    with pytest.raises(backups.BackupsError, match=r"pgbackrest --stanza=doorstep .*info.*28"):
        backups.horizon(at(2))

    def slow(argv: list[str], **kwargs: Any) -> None:
        raise subprocess.TimeoutExpired(argv, kwargs["timeout"])

    monkeypatch.setattr(backups.subprocess, "run", slow)
    with pytest.raises(backups.BackupsError, match="did not finish within 60 s"):
        backups.horizon(at(2))
    missing = {**INFO, "status": {"code": 1, "message": "missing stanza path"}}
    monkeypatch.setattr(
        backups.subprocess,
        "run",
        lambda argv, **kw: subprocess.CompletedProcess(argv, 0, json.dumps([missing]), ""),
    )
    with pytest.raises(backups.BackupsError, match="missing stanza path"):
        backups.horizon(at(2))
    monkeypatch.setattr(backups.shutil, "which", lambda name: None)
    with pytest.raises(backups.BackupsError, match="apt-get install pgbackrest"):
        backups.horizon(at(2))


@override_settings(DOORSTEP_PGBACKREST_STANZA="doorstep", DOORSTEP_BACKUP_RETENTION_DAYS=7)
def test_expire_removes_each_due_set_by_name_with_the_archive_of_the_fulls_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = {"backup": list(INFO["backup"])}
    calls: list[list[str]] = []

    def run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(argv)
        if argv[-1] == "expire":
            label = next(a for a in argv if a.startswith("--set=")).removeprefix("--set=")
            state["backup"] = [b for b in state["backup"] if not b["label"].startswith(label)]
            return subprocess.CompletedProcess(argv, 0, "", "")
        return subprocess.CompletedProcess(argv, 0, json.dumps([{**INFO, **state}]), "")

    monkeypatch.setattr(backups.shutil, "which", lambda name: "/usr/bin/pgbackrest")
    monkeypatch.setattr(backups.subprocess, "run", run)
    assert backups.expire(at(9, 12)) == ["20270101-010000F"]
    assert backups.expire(at(9, 12)) == []  # nothing due: nothing run
    assert backups.expire(at(10, 12)) == [
        "20270102-010000F",
        "20270102-010000F_20270102-130000D",
    ]
    expires = [c for c in calls if c[-1] == "expire"]
    assert len(expires) == 2
    # The WAL kept is that of the one full backup left (the third): older segments go.
    assert "--repo1-retention-archive=1" in expires[1]
    assert "--repo1-retention-archive-type=full" in expires[1]
    assert "--set=20270102-010000F" in expires[1]


def _english(horizon: backups.Horizon) -> str:
    with translation.override("en"):
        return horizon.statement()

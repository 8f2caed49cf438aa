"""The backups that still hold erased data, the date the last of them goes, and their expiry.

Doorstep does not take backups: pgBackRest does (docs/operators-guide.md, "Backups with
point-in-time recovery"). What the erase needs from it is an honest answer to "where does this
town's data still live after the erase, and until when?", and a way to make the answer true.

**The rule** (pgBackRest's time-based full retention, ``repo1-retention-full-type=time`` and
``repo1-retention-full=N``; ``src/command/expire/expire.c``, ``expireTimeBasedBackup``, 2.45):
when ``expire`` runs at time T, it takes the newest full backup whose stop time is before
T - N days, keeps it and everything newer, and removes every older full backup together with
its differential and incremental backups. Nothing is removed while no full backup has stopped
more than N days ago. So a backup set (a full backup and the backups that depend on it) is
removed by the first ``expire`` after ``F.stop + N days``, where F is the oldest full backup
newer than it; ``expire`` runs after every backup and, as the operators' guide asks, daily.

**Archived WAL.** The archive is expired with the backups: in the run that removes a full
backup, pgBackRest keeps the WAL from the oldest remaining full backup's archive start onward
(``repo1-retention-archive-type=full``, its retention then the number of full backups left)
and removes the older segments. A run that removes no full backup removes no WAL.

**What holds the data erased at ``now``.** Every backup that started before ``now`` (its files
were copied before the erase) and every WAL segment written before ``now``. The first full
backup that starts after ``now`` holds none of it, provided the erase compacted the database
(PostgreSQL's plain VACUUM leaves the deleted rows' bytes in the table and index files: only a
rewrite, VACUUM FULL, removes them) and closed its WAL segment (``pg_switch_wal()``, or
``archive_timeout`` passing) before that backup began. Call that backup C. Then

    last_copy_expires = C.stop + N days

and the first ``expire`` after that moment removes every older set and every WAL segment
before C's archive start: the last copy of the data. Before C exists the date is not known
(it is N days after the next full backup stops): ``last_copy_expires`` is None and
``waits_for_full`` says so.

Configuration (Django settings, all optional): ``DOORSTEP_PGBACKREST_STANZA`` (empty: Doorstep
configures no backups, and the certificate says the operator states their own),
``DOORSTEP_PGBACKREST_CONFIG`` (empty: pgBackRest's default file),
``DOORSTEP_BACKUP_RETENTION_DAYS`` (N; 0: no retention, the copies are kept until someone
removes them).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import pwd
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext as _

PGBACKREST = "pgbackrest"
INFO_TIMEOUT = 60.0
EXPIRE_TIMEOUT = 600.0
DAY = dt.timedelta(days=1)


class BackupsError(Exception):
    """pgBackRest could not be asked or did not do what was asked; the message names the
    command and what it said."""


@dataclass(frozen=True)
class Copy:
    """One backup in the repository."""

    label: str
    kind: str  # full, diff, incr
    started: dt.datetime
    stopped: dt.datetime
    archive_start: str | None  # the first WAL segment it needs
    archive_stop: str | None
    holds_data: bool  # started before the moment asked about: it holds that moment's data
    # When the rule removes it (the first expire after this): its set's successor full
    # backup's stop + N days; None while no newer full backup exists (or no retention).
    expires: dt.datetime | None


@dataclass(frozen=True)
class Horizon:
    """Where data present at ``at`` still lives in the backups, and until when."""

    configured: bool
    at: dt.datetime
    stanza: str = ""
    config: str = ""
    retention_days: int = 0
    copies: tuple[Copy, ...] = ()
    archive_min: str | None = None  # the archived WAL's range in the repository now
    archive_max: str | None = None
    # The first full backup started after ``at``: the one whose age expires the rest.
    clean_full: str | None = None
    last_copy_expires: dt.datetime | None = None
    rule: str = ""

    # Derived from the above (fields, so that the certificate's copy of the dataclass has them).
    holding: tuple[str, ...] = field(init=False)  # the labels of the copies holding the data
    held: bool = field(init=False)  # a backup or archived WAL may hold the data
    # The data is held and the date waits for a full backup not taken yet.
    waits_for_full: bool = field(init=False)
    # The day by which the last copy is gone when ``expire`` runs daily (as the operators'
    # guide schedules it): the day after ``last_copy_expires``, in local time.
    gone_by: dt.date | None = field(init=False)

    def __post_init__(self) -> None:
        holding = tuple(copy.label for copy in self.copies if copy.holds_data)
        clean = next((c for c in self.copies if c.label == self.clean_full), None)
        # WAL before the clean full backup's archive start was written before it: it may hold
        # the data (the module's docstring says when the clean backup's own WAL is clean).
        early_wal = self.archive_min is not None and (
            clean is None or clean.archive_start is None or self.archive_min < clean.archive_start
        )
        held = bool(holding) or early_wal
        waits = self.configured and self.retention_days > 0 and held
        gone = None
        if self.last_copy_expires is not None:
            gone = timezone.localtime(self.last_copy_expires + DAY).date()
        object.__setattr__(self, "holding", holding)
        object.__setattr__(self, "held", held)
        object.__setattr__(self, "waits_for_full", waits and self.last_copy_expires is None)
        object.__setattr__(self, "gone_by", gone)

    def statement(self) -> str:
        """One sentence for the certificate: where the data still lives, and until when."""
        if not self.configured:
            return _("No backups configured by Doorstep; the operator states their own.")
        if not self.held:
            return _("No backup or archived WAL holds the erased data.")
        labels = ", ".join(self.holding) or _("none")
        if self.retention_days <= 0:
            return _(
                "Backups holding the erased data: %(labels)s, and the archived WAL. Doorstep "
                "sets no retention for them: they stay until the operator removes them."
            ) % {"labels": labels}
        if self.last_copy_expires is None:
            return _(
                "Backups holding the erased data: %(labels)s, and the archived WAL. They "
                "expire %(days)d days after the next full backup; this record names no "
                "date because that backup has not been taken yet."
            ) % {"labels": labels, "days": self.retention_days}
        return _(
            "Backups holding the erased data: %(labels)s, and the archived WAL up to the "
            "full backup %(clean)s. They expire %(days)d days after that backup, on "
            "%(date)s; the daily expire removes the last copy by %(gone)s."
        ) % {
            "labels": labels,
            "clean": self.clean_full,
            "days": self.retention_days,
            "date": formats.date_format(timezone.localtime(self.last_copy_expires), "Y-m-d H:i"),
            "gone": formats.date_format(self.gone_by, "Y-m-d") if self.gone_by else "",
        }


# --- configuration ---------------------------------------------------------------------------


def stanza() -> str:
    return str(getattr(settings, "DOORSTEP_PGBACKREST_STANZA", "") or "")


def config() -> str:
    return str(getattr(settings, "DOORSTEP_PGBACKREST_CONFIG", "") or "")


def retention_days() -> int:
    return int(getattr(settings, "DOORSTEP_BACKUP_RETENTION_DAYS", 0) or 0)


# --- the rule ------------------------------------------------------------------------------


def _moment(seconds: Any) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(seconds), dt.UTC)


def _full_of(label: str) -> str:
    """The label of the full backup a backup's set belongs to: pgBackRest names a
    differential or incremental backup after it (``20261208-010000F_20261208-040000D``)."""
    return label.split("_", 1)[0]


def rule(info: dict[str, Any], at: dt.datetime, days: int) -> Horizon:
    """The horizon computed from one stanza's ``pgbackrest info --output=json`` entry (no
    subprocess: the pure rule, see the module's docstring)."""
    backups = sorted(info.get("backup") or [], key=lambda b: b["label"])
    fulls = [b for b in backups if b["type"] == "full"]
    retention = dt.timedelta(days=days) if days > 0 else None

    def successor_stop(full_label: str) -> dt.datetime | None:
        newer = [_moment(f["timestamp"]["stop"]) for f in fulls if f["label"] > full_label]
        return min(newer) if newer else None

    copies = []
    for backup in backups:
        started = _moment(backup["timestamp"]["start"])
        successor = successor_stop(_full_of(backup["label"]))
        archive = backup.get("archive") or {}
        copies.append(
            Copy(
                label=backup["label"],
                kind=backup["type"],
                started=started,
                stopped=_moment(backup["timestamp"]["stop"]),
                archive_start=archive.get("start"),
                archive_stop=archive.get("stop"),
                holds_data=started < at,
                expires=successor + retention if successor and retention else None,
            )
        )
    clean = next((f for f in fulls if _moment(f["timestamp"]["start"]) >= at), None)
    archives = [a for a in info.get("archive") or [] if a.get("min")]
    last = None
    if clean is not None and retention is not None:
        last = _moment(clean["timestamp"]["stop"]) + retention
    return Horizon(
        configured=True,
        at=at,
        retention_days=max(days, 0),
        copies=tuple(copies),
        archive_min=min(a["min"] for a in archives) if archives else None,
        archive_max=max(a["max"] for a in archives) if archives else None,
        clean_full=clean["label"] if clean is not None else None,
        last_copy_expires=last,
        rule=(
            f"pgBackRest time-based full retention of {days} days: a backup set goes at the "
            "first expire after the next full backup's stop + the retention; the archived WAL "
            "before the oldest remaining full backup goes in the same run"
            if days > 0
            else "no retention set by Doorstep"
        ),
    )


def due(info: dict[str, Any], now: dt.datetime, days: int) -> list[str]:
    """The full backups the rule removes at ``now`` (oldest first): every full backup older
    than the newest one that stopped before ``now - days``."""
    if days <= 0:
        return []
    fulls = sorted(
        (b for b in info.get("backup") or [] if b["type"] == "full"), key=lambda b: b["label"]
    )
    limit = now - dt.timedelta(days=days)
    keep = next(
        (
            index
            for index in range(len(fulls) - 1, -1, -1)
            if _moment(fulls[index]["timestamp"]["stop"]) < limit
        ),
        0,
    )
    return [f["label"] for f in fulls[:keep]]


# --- pgBackRest ----------------------------------------------------------------------------


def horizon(now: dt.datetime | None = None) -> Horizon:
    """Where the data present at ``now`` (pass the moment the erase finished) still lives in
    the backups, and the date the last copy expires under the configured retention.

    Not configured (no stanza): ``Horizon(configured=False)``, no subprocess. Otherwise reads
    ``pgbackrest info --output=json``; raises ``BackupsError`` naming the command if it fails
    or the stanza is unusable."""
    now = now or timezone.now()
    name = stanza()
    if not name:
        return Horizon(configured=False, at=now, rule="no backups configured by Doorstep")
    found = dataclasses.replace(rule(info(), now, retention_days()), stanza=name, config=config())
    return found


def info() -> dict[str, Any]:
    """The configured stanza's entry of ``pgbackrest info --output=json``."""
    out = _run(["--log-level-file=off", "--output=json", "info"], INFO_TIMEOUT)
    try:
        stanzas = json.loads(out)
    except json.JSONDecodeError as error:
        raise BackupsError(f"{_shown(['info'])} answered no JSON ({error}): {out[:200]}") from None
    entry = next((s for s in stanzas if s.get("name") == stanza()), None)
    status = (entry or {}).get("status") or {}
    # 0: ok; 2: the stanza exists but holds no valid backup yet.
    if entry is None or status.get("code") not in (0, 2):
        raise BackupsError(
            f"{_shown(['--output=json', 'info'])}: stanza {stanza()!r} is not usable "
            f"({status.get('message', 'not listed')})."
        )
    return dict(entry)


def expire(now: dt.datetime | None = None) -> list[str]:
    """Remove the backup sets the rule removes at ``now`` (see the module's docstring), and
    the archived WAL older than the oldest full backup left; the labels removed.

    pgBackRest's own ``expire`` reads the real clock, so the rule is applied here and each due
    set is removed by name: ``pgbackrest expire --set=LABEL`` (its differential and
    incremental backups go with it), with ``--repo1-retention-archive-type=full
    --repo1-retention-archive=K`` (K: the full backups left), which removes the WAL before
    the oldest of them. At the real time this removes what ``pgbackrest expire`` with
    ``repo1-retention-full-type=time`` and ``repo1-retention-full=N`` removes. Nothing due:
    nothing is run. Raises ``BackupsError`` when not configured or when pgBackRest fails."""
    now = now or timezone.now()
    days = retention_days()
    if not stanza():
        raise BackupsError("No backups configured: DOORSTEP_PGBACKREST_STANZA is empty.")
    if days <= 0:
        raise BackupsError(
            "No retention configured: set DOORSTEP_BACKUP_RETENTION_DAYS to the days a full "
            "backup is kept."
        )
    before = info()
    labels = due(before, now, days)
    if not labels:
        return []
    fulls = [b for b in before.get("backup") or [] if b["type"] == "full"]
    left = len(fulls) - len(labels)
    for label in labels:
        _run(
            [
                "--repo1-retention-archive-type=full",
                f"--repo1-retention-archive={left}",
                f"--set={label}",
                "expire",
            ],
            EXPIRE_TIMEOUT,
        )
    after = {b["label"] for b in info().get("backup") or []}
    return sorted({b["label"] for b in before.get("backup") or []} - after)


def _argv(args: Sequence[str]) -> list[str]:
    program = shutil.which(PGBACKREST)
    if program is None:
        raise BackupsError(
            f"{PGBACKREST} is not installed (apt-get install pgbackrest), and "
            f"DOORSTEP_PGBACKREST_STANZA={stanza()!r} asks for it."
        )
    options = [f"--config={config()}"] if config() else []
    return [program, *options, f"--stanza={stanza()}", "--log-level-console=warn", *args]


def _shown(args: Sequence[str]) -> str:
    options = [f"--config={config()}"] if config() else []
    return " ".join([PGBACKREST, *options, f"--stanza={stanza()}", *args])


def _owner() -> dict[str, Any]:
    """As root, pgBackRest runs as the owner of its configuration file (the repository's
    user, usually ``postgres``), so that the files and locks it writes stay theirs."""
    if os.geteuid() != 0 or not config():
        return {}
    try:
        uid = Path(config()).stat().st_uid
    except OSError:
        return {}
    if uid == 0:
        return {}
    entry = pwd.getpwuid(uid)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": [], "home": entry.pw_dir}


def _run(args: Sequence[str], timeout: float) -> str:
    argv = _argv(args)
    owner = _owner()
    env = dict(os.environ)
    home = owner.pop("home", None)
    if home:
        env["HOME"] = home
    cwd = "/" if owner else None
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=cwd,
            check=False,
            **owner,
        )
    except subprocess.TimeoutExpired:
        raise BackupsError(f"{_shown(args)} did not finish within {timeout:.0f} s.") from None
    except OSError as error:
        raise BackupsError(f"{_shown(args)} could not run: {error}") from None
    if done.returncode != 0:
        raise BackupsError(
            f"{_shown(args)} failed ({done.returncode}): "
            f"{(done.stderr or done.stdout).strip()[:2000]}"
        )
    return done.stdout

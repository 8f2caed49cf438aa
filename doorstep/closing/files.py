"""The erase outside the database: the files under ``DOORSTEP_HOME``.

Step 1 of the erase (the database transaction) hands step 2 the identifiers to look for in a
file of its own, ``DOORSTEP_HOME/keys/erase-pending-<town>.json`` (mode 0600), written before
the commit and removed when step 2 ends: the database never holds them, and a process killed in
between leaves them where only the server's user can read them, for the next run to finish.

Every regular file under the home is searched, but the database's own (compacted instead) and
the server's keys. A text file is rewritten without the lines that name someone, keeping its
mode and owner; a gzip file or a zip (an XLSX export, a copied roster) is searched inside and
removed when it names someone; so is any other file. Lines are read in bounded pieces, so a
large log costs time, never memory.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from django.conf import settings

from doorstep.closing import scan

# Rewritten line by line; any other file that names someone is removed.
TEXT_SUFFIXES = {".log", ".txt", ".csv", ".json", ".jsonl", ".conf", ".html", ".out", ".err"}
# Inside a zip, at most this much is read per member (an XLSX's sheets are XML).
ZIP_MEMBER_BUDGET = 256 << 20


def pending_path(town_id: int) -> Path:
    return Path(settings.HOME) / "keys" / f"erase-pending-{town_id}.json"


def write_pending(town_id: int, matcher: scan.Matcher) -> None:
    path = pending_path(town_id)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"numbers": sorted(matcher.numbers), "names": sorted(matcher.names)}, handle)
        handle.flush()
        os.fsync(handle.fileno())


def read_pending(town_id: int) -> scan.Matcher | None:
    path = pending_path(town_id)
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return scan.Matcher(numbers=set(data["numbers"]), names=set(data["names"]))


def drop_pending(town_id: int) -> None:
    """Overwritten, then removed."""
    path = pending_path(town_id)
    if path.exists():
        size = path.stat().st_size
        with path.open("r+b") as handle:
            handle.write(b"\0" * size)
            handle.flush()
            os.fsync(handle.fileno())
        path.unlink()


def _database_files() -> set[Path]:
    name = settings.DATABASES["default"].get("NAME")
    if not name or str(settings.DATABASES["default"]["ENGINE"]).endswith("postgresql"):
        return set()
    base = Path(str(name)).resolve()
    return {base, *(base.with_name(base.name + s) for s in ("-wal", "-shm", "-journal"))}


def _walk(home: Path) -> Iterator[Path]:
    skip = _database_files()
    keys = (home / "keys").resolve()
    for path in sorted(home.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        resolved = path.resolve()
        if resolved in skip or resolved.is_relative_to(keys):
            continue
        if path.name.endswith((".pid", ".sock", ".erasing")):
            continue
        yield path


def _names_someone(handle: IO[bytes], matcher: scan.Matcher) -> bool:
    return any(
        matcher.found(piece.decode("utf-8", "replace")) is not None
        for piece in scan.file_lines(handle)
    )


def _zip_names_someone(path: Path, matcher: scan.Matcher) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.infolist():
                with archive.open(member) as inner:
                    budget = _Bounded(inner, ZIP_MEMBER_BUDGET)
                    if _names_someone(budget, matcher):  # type: ignore[arg-type]
                        return True
    except zipfile.BadZipFile:
        with path.open("rb") as handle:
            return _names_someone(handle, matcher)
    return False


class _Bounded:
    """Reads at most ``left`` bytes of a stream (a zip bomb is searched to the budget)."""

    def __init__(self, stream: IO[bytes], left: int) -> None:
        self.stream, self.left = stream, left

    def readline(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        piece = self.stream.readline(min(size if size > 0 else self.left, self.left))
        self.left -= len(piece)
        return piece


def _clean(path: Path, matcher: scan.Matcher) -> int:
    """The text file rewritten without the lines that name someone; the number of lines."""
    status = path.stat()
    temporary = path.with_name(f"{path.name}.{os.getpid()}.erasing")
    removed = 0
    with path.open("rb") as source, temporary.open("wb") as target:
        for piece in scan.file_lines(source):
            if matcher.found(piece.decode("utf-8", "replace")) is not None:
                removed += 1
                target.write(b"[erased]\n")
            else:
                target.write(piece)
        target.flush()
        os.fsync(target.fileno())
    os.chmod(temporary, status.st_mode & 0o7777)
    with contextlib.suppress(PermissionError):  # not root: the file is ours already
        os.chown(temporary, status.st_uid, status.st_gid)
    if removed:
        temporary.replace(path)
    else:
        temporary.unlink()
    return removed


def sweep(matcher: scan.Matcher) -> dict[str, Any]:
    """Every file under the home searched; what was removed and cleaned, relative paths."""
    home = Path(settings.HOME)
    report: dict[str, Any] = {"scanned": 0, "removed": [], "cleaned": []}
    if not home.exists() or not len(matcher):
        return report
    for path in _walk(home):
        report["scanned"] += 1
        relative = str(path.relative_to(home))
        suffixes = path.suffixes
        if suffixes[-1:] == [".gz"]:
            with gzip.open(path, "rb") as handle:
                try:
                    named = _names_someone(handle, matcher)  # type: ignore[arg-type]
                except (OSError, EOFError):
                    named = False
            if named:
                path.unlink()
                report["removed"].append(relative)
            continue
        if zipfile.is_zipfile(path):
            if _zip_names_someone(path, matcher):
                path.unlink()
                report["removed"].append(relative)
            continue
        if path.suffix in TEXT_SUFFIXES or ".log" in suffixes:
            lines = _clean(path, matcher)
            if lines:
                report["cleaned"].append({"file": relative, "lines": lines})
            continue
        with path.open("rb") as handle:
            named = _names_someone(handle, matcher)
        if named:
            path.unlink()
            report["removed"].append(relative)
    return report

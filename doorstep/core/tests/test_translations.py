"""Chinese first, English complete: every message in the catalogue has its Chinese."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import doorstep
from doorstep.campaigns.models import Campaign, Zone
from doorstep.sampling.models import BoxStatus, Site, TubeStatus, WalkIn
from doorstep.territory.models import Resident
from doorstep.workforce.models import Staff

PO = Path(doorstep.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _entries(text: str) -> list[tuple[str, str]]:
    """(msgid, msgstr) pairs, multi-line strings joined; plural forms use msgstr[0]."""
    entries = []
    for block in text.split("\n\n"):
        if "#, fuzzy" in block and 'msgid ""\nmsgstr ""\n"Project' not in block:
            entries.append(("FUZZY", ""))
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        msgstr = re.search(r'^msgstr(?:\[0\])? ((?:".*"\n?)+)', block, re.M)
        if msgid and msgstr:
            join = lambda s: "".join(re.findall(r'"(.*)"', s))  # noqa: E731
            entries.append((join(msgid.group(1)), join(msgstr.group(1))))
    return entries


def test_every_message_has_a_chinese_translation():
    untranslated = [msgid for msgid, msgstr in _entries(PO.read_text()) if msgid and not msgstr]
    assert untranslated == []


def test_the_catalogue_covers_every_message_in_the_code(tmp_path):
    if shutil.which("xgettext") is None:
        pytest.fail("xgettext is missing: install the Debian package 'gettext' (.ci/run does).")
    package = Path(doorstep.__file__).parent
    copy = tmp_path / "doorstep"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "django",
            "makemessages",
            "-l",
            "zh_Hans",
            "--no-location",
            "--no-obsolete",
        ],
        cwd=copy,
        env={
            "DJANGO_SETTINGS_MODULE": "doorstep.settings",
            "DOORSTEP_DEBUG": "1",
            "PYTHONPATH": str(package.parent),
            "PATH": os.environ["PATH"],
            "DOORSTEP_HOME": str(tmp_path / "home"),
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    fresh = {m for m, _s in _entries((copy / "locale/zh_Hans/LC_MESSAGES/django.po").read_text())}
    committed = {m for m, _s in _entries(PO.read_text())}
    assert fresh - committed == set(), "run `make translations` and translate the new messages"


def test_a_sealed_tube_a_sealed_box_and_a_sealed_zone_read_differently_in_chinese():
    from django.utils import translation

    with translation.override("zh-hans"):
        assert str(TubeStatus.SEALED.label) == "已封管"
        assert str(BoxStatus.SEALED.label) == "已封箱"
        assert str(Zone.SEALED.label) == "封控区"
        assert str(TubeStatus.DISCARDED.label) == "已作废"


def test_a_persons_name_and_a_places_name_read_differently_in_chinese():
    from django.utils import translation

    with translation.override("zh-hans"):
        for model in (Resident, WalkIn, Staff):
            assert str(model._meta.get_field("name").verbose_name) == "姓名", model
        for model in (Campaign, Site):
            assert str(model._meta.get_field("name").verbose_name) == "名称", model


def test_no_message_about_a_tube_or_a_box_speaks_of_a_sealed_zone():
    """封控 (a sealed zone) never translates a tube or a box being sealed (封管, 封箱)."""
    for block in PO.read_text().split("\n\n"):
        context = re.search(r'^msgctxt "(.*)"$', block, re.M)
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        msgstr = re.search(r'^msgstr(?:\[0\])? ((?:".*"\n?)+)', block, re.M)
        if not (msgid and msgstr):
            continue
        english = "".join(re.findall(r'"(.*)"', msgid.group(1))).lower()
        chinese = "".join(re.findall(r'"(.*)"', msgstr.group(1)))
        about_specimens = (context and context.group(1) in {"tube", "box"}) or (
            ("tube" in english or "box" in english)
            and not any(word in english for word in ("zone", "controlled", "prevention"))
        )
        if about_specimens:
            assert "封控" not in chinese, (english, chinese)

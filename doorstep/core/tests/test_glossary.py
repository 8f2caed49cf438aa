"""One word for each thing: the Chinese interface holds to docs/glossary.md.

The glossary's table "Words to avoid" is the test's table: each row is a word no Chinese message
may use (where a pattern is given, only messages whose English matches it). The messages are read
from the compiled catalogue, as the pages get them.
"""

import gettext
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.urls import reverse

import doorstep
from doorstep.core.actions import audit
from doorstep.core.models import AuditAction
from doorstep.testing import client_for, make_building, make_campaign

PACKAGE = Path(doorstep.__file__).parent
GLOSSARY = PACKAGE.parent / "docs" / "glossary.md"
MO = PACKAGE / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo"
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Avoid:
    word: str
    use: str
    where: str  # a pattern the English must match for the row to apply; "" for everywhere

    def applies_to(self, english: str) -> bool:
        return not self.where or re.search(self.where, english, re.I) is not None


def _avoided() -> list[Avoid]:
    text = GLOSSARY.read_text()
    table = text.split("## Words to avoid", 1)[1]
    rows = []
    for line in table.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) == 4 and cells[0].startswith("`"):
            where = cells[2].strip("`").replace("\\|", "|")
            rows.append(Avoid(cells[0].strip("`"), cells[1], where))
    return rows


def _messages() -> list[tuple[str, str]]:
    """(English, Chinese) of every message in the compiled catalogue, plural forms included;
    a context is dropped from the English."""
    with MO.open("rb") as f:
        catalog = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
    pairs = []
    for key, chinese in catalog.items():
        english = key[0] if isinstance(key, tuple) else key
        if english:  # the header
            pairs.append((english.split("\x04")[-1], chinese))
    return pairs


AVOIDED = _avoided()
MESSAGES = _messages()


def test_the_glossary_names_the_words_the_outside_check_found():
    words = {a.word for a in AVOIDED}
    assert {"复采", "复核", "试管", "居民码", "你", "«", "」"} <= words
    assert all(a.word not in a.use for a in AVOIDED)


@pytest.mark.parametrize("avoid", AVOIDED, ids=lambda a: f"{a.word}->{a.use}")
def test_no_chinese_message_uses_an_avoided_word(avoid):
    used = [
        (english, chinese)
        for english, chinese in MESSAGES
        if avoid.word in chinese and avoid.applies_to(english)
    ]
    assert used == [], f"use {avoid.use} for {avoid.word}"


def test_straight_quotes_appear_only_in_a_code_example():
    """“ ” is the quote style; {"taps": [...]} is typed as it is shown."""
    quoted = [c for _e, c in MESSAGES if '"' in re.sub(r"\{[^{}]*\}", "", c)]
    assert quoted == []


def test_every_placeholder_of_the_english_is_kept_in_the_chinese():
    named = re.compile(r"%\(\w+\)[sd]|\{\w+\}")
    lost = [
        (english, chinese)
        for english, chinese in MESSAGES
        if sorted(set(named.findall(english))) != sorted(set(named.findall(chinese)))
    ]
    assert lost == []


# Chinese written in the code rather than the catalogue: tests, migrations and the synthetic
# towns of the demo and the simulation are data, not interface.
NOT_INTERFACE = ("tests", "migrations", "demo", "simulate", "testing")
# Words a file may accept on input though the interface never says them.
ACCEPTED_ON_INPUT = {
    ("lab/results_file.py", "试管"): "a lab's results file may head its tube column 试管编码",
}


def test_chinese_written_in_the_code_holds_to_the_glossary():
    words = [a for a in AVOIDED if not a.where and CJK.search(a.word)]
    found = []
    for path in sorted(PACKAGE.rglob("*")):
        relative = path.relative_to(PACKAGE)
        if path.suffix not in {".py", ".html", ".js"} or set(relative.parts) & set(NOT_INTERFACE):
            continue
        if relative.name == "conftest.py":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            for a in words:
                if a.word in line and (relative.as_posix(), a.word) not in ACCEPTED_ON_INPUT:
                    found.append(f"{relative}:{n}: {a.word} (use {a.use})")
    assert found == []


def test_the_lane_page_says_scans_not_door_to_door_taps_when_the_signal_is_gone(lane_world):
    client = client_for(lane_world["registrar_user"], "zh-hans")
    html = client.get(reverse("sampling:lane", args=[lane_world["lane"].pk])).content.decode()
    notice = re.search(r'data-offline="([^"]*)"', html)
    assert notice is not None
    assert "扫码记录" in notice.group(1) and "入户" not in notice.group(1)


def test_a_door_to_door_page_keeps_its_own_offline_notice(street, leader):
    html = client_for(leader, "zh-hans").get(reverse("canvass:index")).content.decode()
    notice = re.search(r'data-offline="([^"]*)"', html)
    assert notice is not None and "入户记录" in notice.group(1)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_language_switcher_offers_each_language_in_its_own_name(worker, language):
    html = client_for(worker, language).get(reverse("home")).content.decode()
    options = re.findall(r'<option value="(zh-hans|en)"[^>]*>([^<]*)</option>', html)
    assert options == [("zh-hans", "简体中文"), ("en", "English")]


def test_the_audit_log_names_the_object_in_the_readers_language(community, admin_user):
    make_building(community, "1号楼")
    campaign = make_campaign(community, name="第3轮")
    audit(admin_user, AuditAction.ROUND, "campaign", campaign.pk, detail={"step": "start"})
    audit(admin_user, AuditAction.PRINT, "roster", "中北镇")
    audit(admin_user, AuditAction.EXPORT, "untested", community.pk)
    audit(admin_user, AuditAction.ROUND, "campaign", 999999)  # since gone
    html = client_for(admin_user, "zh-hans").get(reverse("core:audit")).content.decode()
    assert "检测轮次 第3轮" in html
    assert "名册 中北镇" in html
    assert f"未检测名单 {community.name}" in html
    assert "检测轮次 #999999" in html
    assert f"campaign {campaign.pk}" not in html
    html = client_for(admin_user).get(reverse("core:audit")).content.decode()
    assert "Campaign 第3轮" in html


def test_the_audit_log_names_its_objects_in_one_query_per_kind(community, admin_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_building(community, "1号楼")
    client = client_for(admin_user, "zh-hans")

    def queries() -> int:
        with CaptureQueriesContext(connection) as run:
            client.get(reverse("core:audit"))
        return len(run)

    audit(
        admin_user,
        AuditAction.ROUND,
        "campaign",
        make_campaign(community, name="第1轮", start=False).pk,
    )
    audit(admin_user, AuditAction.EXPORT, "untested", community.pk)
    first = queries()
    for n in range(2, 6):
        audit(
            admin_user,
            AuditAction.ROUND,
            "campaign",
            make_campaign(community, name=f"第{n}轮", start=False).pk,
        )
        audit(admin_user, AuditAction.EXPORT, "untested", community.pk)
    assert queries() == first

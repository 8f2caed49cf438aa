"""The words of each message: one SMS part in Chinese with a district's signature and an
11-digit hotline, never a person's name or document, English for an English speaker."""

from __future__ import annotations

import pytest

from doorstep.notices import words
from doorstep.notices.models import Kind

SIGNATURE = "西青区疫情防控指挥部"  # 10 characters, as long as the field's help says


@pytest.mark.parametrize("kind", list(Kind), ids=str)
@pytest.mark.parametrize("at_door", [True, False], ids=["door", "site"])
def test_each_chinese_message_fits_one_part(kind, at_door, settings):
    settings.PUBLIC_URL = ""
    text = words.message(
        kind,
        language="zh-hans",
        signature=SIGNATURE,
        hotline="022-27391234",
        at_door=at_door,
        place="阳光里社区广场采样点",
    )
    assert text.startswith(f"【{SIGNATURE}】")
    assert "022-27391234" in text
    assert len(text) <= words.ONE_PART, (len(text), text)


def test_the_link_to_the_persons_own_page_comes_on_top(settings):
    settings.PUBLIC_URL = "https://hs.example.cn/"
    text = words.message(Kind.POOL_POSITIVE, language="zh-hans", signature="中北镇")
    assert text.endswith(" https://hs.example.cn/status/me/")


def test_english_is_english(settings):
    settings.PUBLIC_URL = ""
    text = words.message(Kind.INVALID, language="en", signature="Zhongbei", place="Square site")
    assert (
        text
        == "【Zhongbei】Your sample could not be tested: please be sampled again at Square site."
    )

"""What the long commands print on a terminal: columns lined up by the columns a terminal gives a
character (a Chinese one takes two), and a long job's steps on stderr, rewritten in place on a
terminal and a plain line each elsewhere."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import translation

from doorstep.core.demo_logins import DEMO_PASSWORD, demo_users
from doorstep.demo.terminal import Progress, Step, clip, pad, table, width
from doorstep.demo.town import STEPS


def test_a_wide_character_takes_two_columns_and_a_combining_mark_none():
    assert width("lab") == 3
    assert width("区指挥长") == 8
    assert width("ＡＢ") == 4  # full-width Latin
    assert width("e\u0301") == 1  # e and a combining acute accent
    assert pad("指挥长", 8) == "指挥长  "
    assert pad("组长", 2) == "组长"
    assert clip("社区工作者", 5) == "社区"


def _columns(lines: list[str], cell: str) -> set[int]:
    """The terminal column at which ``cell`` starts on each line."""
    return {width(line[: line.index(cell)]) for line in lines}


def test_the_logins_line_up_with_chinese_role_names():
    with translation.override("zh-hans"):
        users = demo_users()
    assert any(width(role) > len(role) for _u, role, _p in users)  # the names are Chinese
    lines = table(users, gap="  ")
    assert len(_columns(lines, DEMO_PASSWORD)) == 1
    # Padding by characters, as before, pushed the passwords out of line.
    assert len(_columns([f"  {u:<10} {r:<20} {p}" for u, r, p in users], DEMO_PASSWORD)) > 1


def test_on_a_terminal_the_steps_are_one_line_rewritten_with_counts_and_per_cent():
    out = io.StringIO()
    progress = Progress(2, out, tty=True)
    progress(Step("the town", items=4))
    progress("  阳光里社区: 12 buildings")
    progress("  和苑社区: 9 buildings")
    progress(Step("the rest"))
    progress.clear()
    shown = out.getvalue().split("\r\x1b[K")
    assert shown == [
        "",
        "[1/2 0%] the town: 0/4",
        "[1/2 12%] the town: 1/4  阳光里社区: 12 buildings",
        "[1/2 25%] the town: 2/4  和苑社区: 9 buildings",
        "[2/2 50%] the rest",
        "",
    ]
    assert "\n" not in out.getvalue()


def test_elsewhere_the_steps_are_a_plain_line_each():
    out = io.StringIO()
    progress = Progress(2, out, tty=False)
    progress(Step("the town", items=4))
    progress("  阳光里社区: 12 buildings")
    progress(Step("the rest"))
    progress.clear()
    assert out.getvalue() == "[1/2] the town\n  阳光里社区: 12 buildings\n[2/2] the rest\n"


def test_a_step_is_a_line_to_any_other_callback():
    said: list[str] = []
    said.append(Step("the town", items=12))
    assert said == ["the town"]


@pytest.mark.django_db
def test_doorstep_demo_says_each_step_on_stderr_and_lines_up_its_logins():
    out, err = io.StringIO(), io.StringIO()
    with translation.override("zh-hans"):
        call_command("demo", residents=300, no_serve=True, stdout=out, stderr=err)
    steps = [line for line in err.getvalue().splitlines() if line.startswith("[")]
    total = len(STEPS) + 1
    assert steps == [f"[1/{total}] the database's tables"] + [
        f"[{n}/{total}] {step}" for n, step in enumerate(STEPS, 2)
    ]
    assert "阳光里社区" in err.getvalue()  # each community built, as it is
    logins = [line for line in out.getvalue().splitlines() if DEMO_PASSWORD in line]
    assert len(logins) == len(demo_users())
    assert any("实验室" in line for line in logins)
    assert len(_columns(logins, DEMO_PASSWORD)) == 1
    assert "[" not in out.getvalue()  # stdout is the job's own

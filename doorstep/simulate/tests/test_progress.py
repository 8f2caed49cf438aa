"""``doorstep simulate`` says how far it has got on stderr, step by step and hour by hour, and its
forecast's table of sites (Chinese names) stays lined up on stdout."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from doorstep.demo.terminal import width
from doorstep.simulate.run import STEPS


@pytest.mark.django_db(transaction=True)
def test_doorstep_simulate_says_each_step_and_each_hour_played():
    out, err = io.StringIO(), io.StringIO()
    call_command("simulate", residents=300, hours=2.5, stdout=out, stderr=err)
    said = err.getvalue().splitlines()
    total = len(STEPS) + 1
    assert [line for line in said if line.startswith("[")] == [
        f"[1/{total}] the database's tables"
    ] + [f"[{n}/{total}] {step}" for n, step in enumerate(STEPS, 2)]
    hours = [line.split(":")[0].strip() for line in said if line.endswith(" sampled")]
    assert hours == ["1 h", "2 h", "2.5 h"]
    table = out.getvalue().splitlines()
    header = next(n for n, line in enumerate(table) if line.startswith("site "))
    sites = [line for line in table[header + 1 :] if "采样点" in line]
    assert len(sites) == 12
    # Each site's lane count ends under the header's "lanes", however wide its name.
    lanes = width(table[header][: table[header].index("lanes") + len("lanes")])
    ends = {width(line[: re.match(r"\S+\s+\d+", line).end()]) for line in sites}  # type: ignore[union-attr]
    assert ends == {lanes}

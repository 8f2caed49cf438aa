"""The lane page's offline checks (static/sampling/rules.js) against the server's rules
(sampling/rules.py), in real Chromium, on thousands of generated scans good and bad: every
answer (the value, or the refusal's code and words) must be the same, in English and Chinese.
If the two drift, the page would say "pending" for a scan the server refuses, or refuse a scan
the server would take."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from doorstep.core import codes, idnumbers
from doorstep.sampling import rules

pytestmark = pytest.mark.browser

RULES_JS = Path(rules.__file__).parent / "static" / "sampling" / "rules.js"
PATTERNS = [r"^[0-9A-Z]{6,24}$", r"^\d{10}$"]
DOCUMENT_TYPES = ["", idnumbers.RESIDENT_ID, *idnumbers.DOCUMENT_PATTERNS, "visa"]


def _resident_id(rng: random.Random) -> str:
    year, month, day = rng.randint(1920, 2024), rng.randint(1, 12), rng.randint(1, 28)
    body = f"{rng.randint(110000, 659999)}{year:04d}{month:02d}{day:02d}{rng.randint(0, 999):03d}"
    return body + idnumbers.id_check_character(body)


def _mutations(rng: random.Random, value: str, alphabet: str) -> list[str]:
    out = []
    if value:
        i = rng.randrange(len(value))
        out.append(value[:i] + rng.choice(alphabet) + value[i + 1 :])
        out.append(value[:i] + value[i + 1 :])
        out.append(value + rng.choice(alphabet))
        if len(value) > 1:
            j = rng.randrange(len(value) - 1)
            out.append(value[:j] + value[j + 1] + value[j] + value[j + 2 :])
    return out


def scans(seed: int = 20261201, n: int = 160) -> list[str]:
    """Person codes, worker codes, ID numbers, documents, tube barcodes and junk, with the
    mistakes people and scanners make: a wrong or missing character, a swap, separators,
    lower case, the letters O, I and L, Excel's damage, other scripts."""
    rng = random.Random(seed)
    found: list[str] = []
    alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for _ in range(n):
        person = codes.new_code()
        worker = codes.new_code(codes.WORKER_CODE_BODY)
        number = _resident_id(rng)
        found += [person, worker, number, person.lower(), codes.display(person)]
        found += [person.replace("0", "O").replace("1", "I"), f" {person[:4]} {person[4:]} "]
        found += _mutations(rng, person, codes.ALPHABET)
        found += _mutations(rng, worker, codes.ALPHABET)
        found += _mutations(rng, number, "0123456789X")
        found += [number.lower(), f"{number[:6]} {number[6:14]} {number[14:]}", number[:17] + "x"]
        found += [number[:10] + "1302" + number[14:], number[:6] + "0000" + number[10:]]
        found += [f"{rng.randint(1, 9)}.{rng.randint(1000, 99999)}E+17", number + ".0"]
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(4, 26)))
        found += [digits, f"{digits[:5]} {digits[5:]}"]
        found.append("".join(rng.choice(alnum) for _ in range(rng.randint(1, 30))))
        found += [f"E{rng.randint(10**7, 10**8 - 1)}", f"G{rng.randint(10**7, 10**8 - 1)}"]
        found += [
            f"{rng.choice('HMC')}{rng.randint(10**7, 10**8 - 1)}",
            f"CA{rng.randint(10**6, 10**7 - 1)}",
        ]
        found += [f"{rng.randint(10**7, 10**8 - 1)}", f"{rng.randint(10**9, 10**10 - 1)}(B)"]
        found += [f"H{rng.randint(10**9, 10**10 - 1)}", f"h-{rng.randint(10**7, 10**8 - 1)}"]
    found += ["", " ", "K7QM9XD4P", "hello", "²²²²²²²²²²²²²²²²²²", "１２３４５６７８９", "张伟"]
    found += [
        "ＡＢＣ１２３",
        "a\x00b",
        "ß" * 9,
        "BOX-001",
        "2112250001",
        "21122500O1",
        "---",
        "O" * 9,
    ]
    return found


def walk_ins(seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for raw in scans(seed, 25):
        out.append(
            {
                "name": rng.choice(["", " ", "过路人", "李" * 120, "A B"]),
                "id_type": rng.choice(["", *DOCUMENT_TYPES]),
                "id_number": raw,
                "phone": rng.choice(
                    [
                        "",
                        "13912345678",
                        "+86 139-1234-5678",
                        "0086139123456780",
                        "139",
                        "1391234567x",
                        "13912345678.0",
                    ]
                ),
                "address": rng.choice(["", "5号楼301", "  ", "x" * 300]),
            }
        )
    return out


def _python(call, *args) -> list[Any]:  # type: ignore[no-untyped-def]
    try:
        value = call(*args)
    except rules.Refusal as refusal:
        return [refusal.code, refusal.message]
    if isinstance(value, rules.PersonKey):
        return ["ok", value.value]
    if isinstance(value, rules.WalkInData):
        return ["ok", [value.name, value.id_type, value.id_number, value.phone, value.address]]
    return ["ok", value]


JS = """([data, cases]) => {
  const r = window.DoorstepRules(data.rules);
  const answer = (a) => a.code ? [a.code, a.message] : ["ok", a.value];
  return cases.map(([kind, args]) => {
    if (kind === "tube") return answer(r.tubeCode(args[0], args[1]));
    if (kind === "person") return answer(r.personKey(args[0], args[1]));
    if (kind === "scan") return answer(r.personScan(args[0], args[1], args[2], args[3]));
    const w = r.walkIn(args[0]);
    return w.code ? [w.code, w.message] : ["ok", [w.value.name, w.value.id_type, w.value.id_number, w.value.phone, w.value.address]];
  });
}"""


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_pages_checks_answer_exactly_as_the_servers_rules(browser, language):
    cases: list[tuple[str, list[Any]]] = []
    expected: list[list[Any]] = []
    with translation.override(language):
        data = {"rules": rules.page_data(PATTERNS[0], "10")}
        for raw in scans():
            for pattern in PATTERNS:
                cases.append(("tube", [raw, pattern]))
                expected.append(_python(rules.tube_code, raw, pattern))
            for id_type in DOCUMENT_TYPES:
                cases.append(("person", [raw, id_type]))
                expected.append(_python(rules.person_key, raw, id_type))
            cases.append(("scan", [raw, PATTERNS[0], "2112250001", 3]))
            expected.append(_python(rules.person_scan, raw, PATTERNS[0], "2112250001", 3))
        for fields in walk_ins():
            cases.append(("walk_in", [fields]))
            expected.append(_python(rules.walk_in, fields))
    page = browser.new_page()
    page.add_script_tag(content=RULES_JS.read_text(encoding="utf-8"))
    answers = page.evaluate(JS, [data, cases])
    page.close()
    assert len(cases) > 10_000
    mismatches = [
        (case, want, got)
        for case, want, got in zip(cases, expected, answers, strict=True)
        if want != got
    ]
    assert mismatches == [], mismatches[:5]
    # The generator reaches every kind of answer, good and bad.
    kinds = {want[0] for want in expected}
    assert {"ok", "not_a_tube", "invalid", "bad_code", "bad_id_number", "bad_document"} <= kinds
    assert {"worker_code", "not_a_person", "tube_still_open"} <= kinds

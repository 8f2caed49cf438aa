"""One limit for the look-up secret (a person code and the last six characters of a document
number), on every path that checks it.

The forms are found, not listed: every page the URL conf can build without arguments is fetched
as nobody, and every form on it with a person-code field and a document field is one of them. The
source is read too: only ``territory/secret.py`` may compare a pair.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
import threading
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from doorstep.assistance.models import Request
from doorstep.territory import secret
from doorstep.testing import make_household, make_resident
from doorstep.testing.forms import page_forms

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _plain_urls(resolver: URLResolver | None = None, prefix: str = "") -> list[str]:
    """Every URL name that takes no argument, namespaced."""
    names = []
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            space = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            names += _plain_urls(entry, space)
        elif (
            isinstance(entry, URLPattern)
            and entry.name
            and not entry.pattern.converters
            and not re.search(r"[(<]", str(entry.pattern))
        ):
            names.append(prefix + entry.name)
    return names


def pair_forms() -> list[tuple[str, dict[str, str], str, str]]:
    """Every public form that takes a person code and a document tail: its URL, its fields
    with their first values, and the names of the code and the document fields."""
    found = []
    client = _client()
    for name in _plain_urls():
        response = client.get(reverse(name))
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for form in page_forms(response.content.decode()):
            names = list(form.fields)
            code = next((n for n in names if "code" in n), None)
            document = next((n for n in names if "document" in n or "tail" in n), None)
            if form.method == "post" and code and document:
                found.append((form.action or reverse(name), form.fields, code, document))
    return found


def _send(client: Client, form, code: str, tail: str, address: str):  # type: ignore[no-untyped-def]
    url, fields, code_field, document_field = form
    data = {**fields, code_field: code, document_field: tail}
    return client.post(url, data, REMOTE_ADDR=address)


def _answer(response) -> str:  # type: ignore[no-untyped-def]
    """What the page says went wrong (the alert), or that it answered."""
    page = response.content.decode()
    alert = re.search(r'role="alert">(.*?)</p>', page, re.S)
    return alert.group(1).strip() if alert else "answered"


def _found(response) -> bool:  # type: ignore[no-untyped-def]
    """Whether the form took the pair as right: it answered with anything but a refusal."""
    refusals = {secret.Pair(secret.NO_MATCH).message, secret.Pair(secret.REFUSED).message}
    return response.status_code < 500 and not any(r[:40] in _answer(response) for r in refusals)


def _client() -> Client:
    return Client(headers={"accept-language": "en"})


@pytest.fixture
def person():  # type: ignore[no-untyped-def]
    return make_resident(make_household(room="301"), name="王芳")


@pytest.fixture
def neighbour():  # type: ignore[no-untyped-def]
    return make_resident(make_household(room="302"), name="李娜")


def test_only_the_limiter_compares_a_look_up_pair():
    """Any other call of the comparison would be a path round the limit."""
    callers = []
    for path in ROOT.rglob("*.py"):
        if "tests" in path.parts or "testing" in path.parts or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(node, "attr", None) or getattr(node, "id", None)
            if name == "resident_by_code_and_document" and isinstance(node.ctx, ast.Load):  # type: ignore[attr-defined]
                callers.append(str(path.relative_to(ROOT)))
    assert callers == ["territory/secret.py"]


def test_the_forms_that_take_the_pair_are_found():
    assert {url for url, *_rest in pair_forms()} >= {
        reverse("command:me"),
        reverse("assistance:ask"),
    }


def test_thirty_wrong_tails_from_ten_addresses_meet_one_limit_across_every_form(person, neighbour):
    forms = pair_forms()
    client = _client()
    answers = []
    for n in range(30):
        form = forms[n % len(forms)]
        response = _send(client, form, person.person_code, f"{n:05d}Y", f"127.0.0.{n % 10 + 1}")
        answers.append(response.status_code)
    # Three tries per address is well under the address's limit: the code's limit stops them,
    # whichever form they came through.
    wrong = secret.BY_CODE.tries
    assert all(status != 429 for status in answers[:wrong]), answers
    assert answers[wrong:] == [429] * (30 - wrong), answers
    # The right pair now gets the same answer as a wrong one, on every form: nothing to learn.
    for form in forms:
        right = _send(client, form, person.person_code, person.id_number[-6:], "127.0.0.99")
        wrong_again = _send(client, form, person.person_code, "00000Y", "127.0.0.98")
        assert right.status_code == wrong_again.status_code == 429
        assert _answer(right) == _answer(wrong_again)
        assert "Too many wrong tries for this person code" in _answer(right)
    assert not Request.objects.exists()
    # Someone else is not held back by those failures, from any of the same addresses.
    for n, form in enumerate(forms):
        served = _send(
            client, form, neighbour.person_code, neighbour.id_number[-6:], f"127.0.0.{n + 1}"
        )
        assert _found(served), _answer(served)


@pytest.mark.parametrize("index", [0, 1], ids=["ask", "status"])
def test_a_malformed_pair_answers_and_counts_as_a_wrong_one(index, person):
    form = sorted(pair_forms())[index]
    client = _client()
    sent = [
        (person.person_code, "00000Y"),  # a wrong tail
        (person.person_code, "1"),  # too short
        (person.person_code[:-1] + "?", person.id_number[-6:]),  # not a person code
        ("", ""),
        ("K7QM9XD4P", person.id_number[-6:]),  # nobody's code
    ]
    answers = {
        (r.status_code, _answer(r)) for r in (_send(client, form, *s, "127.0.0.7") for s in sent)
    }
    assert len(answers) == 1, answers
    # Malformed tries count under the code like wrong ones.
    for n in range(secret.BY_CODE.tries):
        _send(client, form, person.person_code, "1" * (n % 3), f"127.0.1.{n}")
    refused = _send(client, form, person.person_code, person.id_number[-6:], "127.0.2.1")
    assert refused.status_code == 429


def test_a_right_pair_costs_nothing(person):
    """A household behind one address looks every member up, as often as it likes."""
    client = _client()
    for _ in range(secret.BY_ADDRESS.tries + secret.BY_CODE.tries):
        response = client.post(
            reverse("command:me"),
            {"code": person.person_code, "document": person.id_number[-6:]},
            REMOTE_ADDR="127.0.0.5",
        )
        assert _found(response), _answer(response)


def test_one_address_cannot_try_one_tail_against_many_codes(person):
    others = [
        make_resident(make_household(room=f"4{n:02d}")) for n in range(secret.BY_ADDRESS.tries)
    ]
    for other in others:
        assert secret.check(other.person_code, "00000Y", "127.0.3.1").outcome == secret.NO_MATCH
    refused = secret.check(person.person_code, person.id_number[-6:], "127.0.3.1")
    assert (refused.outcome, refused.resident) == (secret.REFUSED, None)
    assert secret.check(person.person_code, person.id_number[-6:], "127.0.3.2").found


def test_a_code_is_paused_for_the_day_after_twenty_wrong_tails(person):
    start = timezone.now()
    tries = 0
    while tries < secret.BY_CODE_DAILY.tries:
        at = start + dt.timedelta(minutes=11 * (tries // secret.BY_CODE.tries))
        assert (
            secret.check(person.person_code, "00000Y", f"127.0.4.{tries}", at).outcome == "no_match"
        )
        tries += 1
    later = start + dt.timedelta(hours=2)
    refused = secret.check(person.person_code, person.id_number[-6:], "127.0.4.99", later)
    assert refused.outcome == secret.REFUSED
    # The refusal says how long: until the first of the twenty leaves the day.
    assert refused.wait_minutes == 22 * 60
    assert "Wait 1320 minutes" in refused.message
    assert secret.check(
        person.person_code,
        person.id_number[-6:],
        "127.0.4.99",
        start + dt.timedelta(days=1, minutes=1),
    ).found


def test_the_refusal_names_the_wait_left_in_the_window(person):
    start = timezone.now()
    for n in range(secret.BY_CODE.tries):
        secret.check(person.person_code, "00000Y", f"127.0.5.{n}", start)
    refused = secret.check(
        person.person_code, "00000Y", "127.0.5.9", start + dt.timedelta(minutes=3)
    )
    assert refused.wait_minutes == 7
    assert "Wait 7 minutes" in refused.message and "call 120" in refused.message


@pytest.mark.django_db(transaction=True)
def test_wrong_tails_sent_all_at_once_get_no_more_answers_than_the_limit():
    """Each try is written before the keys are counted: of requests that arrive together, the
    n-th written counts at least n, so no more than the limit are compared."""
    person = make_resident(make_household(room="501"), name="赵敏")
    sent = 12
    barrier = threading.Barrier(sent)
    outcomes: list[str] = []

    def send(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes.append(secret.check(person.person_code, f"{n:05d}Y", f"127.0.6.{n}").outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(sent)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(outcomes) == sent
    assert outcomes.count(secret.NO_MATCH) <= secret.BY_CODE.tries, outcomes

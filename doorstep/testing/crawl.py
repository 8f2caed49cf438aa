"""Walk every URL the URL conf can build, as one user, and find the people a page shows.

``routes`` reads the patterns from ``get_resolver()``; ``urls`` fills each pattern's arguments
with every object of the database that the argument names (``campaign_id`` takes every
campaign, ``task_id`` every door-to-door task, ``code`` every tube code), so the user's own
objects and everyone else's are asked for alike. Each URL is fetched as a page, as an htmx
fragment where its view answers htmx, with each query parameter its view reads, and with the
device token for the API; a view that answers GET with 405 is posted to, empty, in a savepoint
rolled back afterwards, so that nothing the crawl does changes what it reads next.

``People`` holds what would give a person away (a name, masked or full; a document, masked or
full; a phone, masked or full; a room; a person code) and ``People.found`` names which of them
a response shows: pages, fragments, JSON, and the text of every part of an XLSX. ``unmarked``
names those a response shows outside a drill's mark (``data-drill``, or a «演练» cell).
"""

from __future__ import annotations

import html
import inspect
import io
import itertools
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

from django.apps import apps
from django.db import transaction
from django.db.models import Model
from django.http import HttpResponseBase
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from openpyxl import load_workbook

from doorstep.command.views import PANELS
from doorstep.core.masking import mask_document, mask_name, mask_phone
from doorstep.district.views import PANELS as DISTRICT_PANELS
from doorstep.sampling.models import Tube, WalkIn
from doorstep.territory.models import Resident

# Patterns the crawl leaves, each with its reason: none of them shows a resident to these users.
NOT_CRAWLED = {
    "admin": "the admin site answers only staff users (is_staff), which no persona is",
    "login": "the sign-in form",
    "logout": "signing out would end the crawl's own session",
    "set_language": "sets a cookie and redirects",
    # It answers "ok" or a refusal and shows nobody; a GET with a signature records a report.
    "dlr": "Kannel's delivery reports, signed per message (notices/tests/test_telling.py)",
}
# URL arguments whose name is not their model's: ``task_id`` is a door-to-door task.
MODEL_OF = {"task": "canvass.BuildingTask", "need": "assistance.Request"}
ARGUMENT = re.compile(r"<(?:\w+:)?(\w+)>")


def _str_values() -> dict[str, Callable[[], list[str]]]:
    """Text arguments, and where their values come from."""
    return {
        "code": lambda: list(Tube.objects.order_by("pk").values_list("code", flat=True)),
        # The town's command panels and the district board's: each view answers 404 for the
        # other's names.
        "panel": lambda: list(PANELS) + list(DISTRICT_PANELS),
    }


@dataclass(frozen=True)
class Route:
    name: str  # "canvass:revisits"
    route: str  # "canvass/<int:campaign_id>/communities/<int:community_id>/revisits/"
    callback: Callable[..., Any]
    args: tuple[str, ...]

    @property
    def api(self) -> bool:
        return self.route.startswith("api/")


def routes() -> list[Route]:
    found: list[Route] = []

    def walk(patterns: Iterable[Any], prefix: str, namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                inner = ":".join(n for n in (namespace, p.namespace) if n)
                if p.namespace not in NOT_CRAWLED:
                    walk(p.url_patterns, prefix + str(p.pattern), inner)
            elif isinstance(p, URLPattern) and p.name not in NOT_CRAWLED:
                route = prefix + str(p.pattern)
                args = tuple(ARGUMENT.findall(route))
                name = f"{namespace}:{p.name}" if namespace else str(p.name)
                found.append(Route(name, route, p.callback, args))

    walk(get_resolver().url_patterns, "", "")
    return found


def _model(arg: str) -> type[Model] | None:
    kind = arg.removesuffix("_id")
    if kind in MODEL_OF:
        return apps.get_model(MODEL_OF[kind])
    return next((m for m in apps.get_models() if m._meta.model_name == kind.replace("_", "")), None)


def values(arg: str) -> list[str]:
    """Every value of the database that the argument can take."""
    text = _str_values()
    if arg in text:
        return text[arg]()
    model = _model(arg)
    if model is None:
        raise LookupError(
            f"The crawl cannot fill <{arg}>: name the argument <thing>_id after its model, "
            "or add it to MODEL_OF or _str_values in doorstep/testing/crawl.py."
        )
    return [str(pk) for pk in model._default_manager.order_by("pk").values_list("pk", flat=True)]


def _source(callback: Callable[..., Any]) -> str:
    """The view's source and that of its module's helpers it calls by name."""
    view = inspect.unwrap(callback)
    try:
        own = inspect.getsource(view)
        module = inspect.getmodule(view)
    except (OSError, TypeError):
        return ""
    helpers = [
        inspect.getsource(f)
        for name, f in inspect.getmembers(module, inspect.isfunction)
        if f.__module__ == view.__module__ and f is not view and f"{name}(" in own
    ]
    return "\n".join([own, *helpers])


def _query_values(name: str, literals: set[str], searches: list[str]) -> list[str]:
    if name == "q":
        return searches
    if literals:
        return sorted(literals)
    try:
        return values(name)
    except LookupError:
        return ["1"]


def queries(route: Route, searches: list[str]) -> list[tuple[str, str]]:
    """Query strings to add, each parameter the view reads with each value it can take, and
    what the user typed (a search), which the page may repeat without giving anything away."""
    source = _source(route.callback)
    names = set(re.findall(r"GET\.get\(\s*\"(\w+)\"", source))
    found = [("", "")]
    for name in sorted(names - {"page"}):
        literals = set(re.findall(rf"GET\.get\(\s*\"{name}\"[^)]*\)\s*==\s*\"([^\"]*)\"", source))
        found += [
            (f"?{name}={quote(v)}", v if name == "q" else "")
            for v in _query_values(name, literals, searches)
        ]
    return found


def answers_htmx(route: Route) -> bool:
    return bool(re.search(r"htmx|HX-Request", _source(route.callback)))


def _filled(route: str, values: Iterable[str]) -> str:
    """The route with its arguments replaced, in the order it names them."""
    chosen = iter(values)
    return "/" + ARGUMENT.sub(lambda _m: next(chosen), route)


def urls(route: Route) -> list[str]:
    return [_filled(route.route, c) for c in itertools.product(*[values(a) for a in route.args])]


def _body(response: HttpResponseBase) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return response.content  # type: ignore[attr-defined,no-any-return]


def _is_workbook(body: bytes) -> bool:
    return body[:4] == b"PK\x03\x04"


@dataclass(frozen=True)
class Fetched:
    route: Route
    method: str
    url: str
    htmx: bool
    status: int
    headers: str
    content_type: str
    body: bytes
    typed: str = ""  # a search the user typed, which the page may repeat

    def __str__(self) -> str:
        return f"{self.method} {self.url}{' (htmx)' if self.htmx else ''} [{self.route.name}]"

    @property
    def text(self) -> str:
        """What the response shows: its headers, and its body as text (every XML part of an
        XLSX, JSON with its escapes undone, HTML with its entities undone)."""
        if _is_workbook(self.body):
            with zipfile.ZipFile(io.BytesIO(self.body)) as workbook:
                parts = [
                    workbook.read(n).decode("utf-8", "replace")
                    for n in workbook.namelist()
                    if n.endswith((".xml", ".rels"))
                ]
            return self.headers + "\n" + html.unescape("\n".join(parts))
        text = self.body.decode("utf-8", "replace")
        if "json" in self.content_type:
            with suppress(ValueError):
                text = json.dumps(json.loads(text), ensure_ascii=False)
        return self.headers + "\n" + html.unescape(text)


def _fetched(
    route: Route, method: str, url: str, htmx: bool, response: HttpResponseBase, typed: str = ""
) -> Fetched:
    return Fetched(
        route,
        method,
        url,
        htmx,
        response.status_code,
        " ".join(f"{k}: {v}" for k, v in response.items()),
        response.get("Content-Type", ""),
        _body(response),
        typed,
    )


def _fetch(client: Client, method: str, url: str, headers: dict[str, str]) -> HttpResponseBase:
    if method == "get":
        return client.get(url, headers=headers)
    with transaction.atomic():
        # Empty JSON: the API and the lane's outbox read JSON, and a form reads an empty form.
        response = client.post(url, "{}", content_type="application/json", headers=headers)
        transaction.set_rollback(True)
    return response


def crawl(client: Client, token: str, searches: list[str]) -> Iterator[Fetched]:
    """Every URL of every route, as the client's user (and with ``token`` for the API)."""
    for route in routes():
        headers = {"Authorization": f"Bearer {token}"} if route.api else {}
        variants = [False, True] if answers_htmx(route) else [False]
        extras = queries(route, searches)
        for url in urls(route):
            response = _fetch(client, "get", url, headers)
            if response.status_code == 405:
                response = _fetch(client, "post", url, headers)
                yield _fetched(route, "POST", url, False, response)
                continue
            yield _fetched(route, "GET", url, False, response)
            for (extra, typed), htmx in itertools.product(extras, variants):
                if not extra and not htmx:
                    continue
                sent = {**headers, "HX-Request": "true"} if htmx else headers
                response = _fetch(client, "get", url + extra, sent)
                yield _fetched(route, "GET", url + extra, htmx, response, typed)


def _tokens(person: Resident | WalkIn) -> dict[str, str]:
    """What gives a person away, each with what it is, for the failure message."""
    masked = mask_name(person.name)
    if isinstance(person, WalkIn):
        where, room = person.address, {}
    else:
        home = person.household
        where = f"{home.unit.building.name} {home.room}"
        room = {home.room: f"the room {home.room} ({home.unit.building.name})"}
    of = f"{masked} ({where})"
    tokens = {
        person.name: f"the name of {of}",
        masked: f"the masked name of {of}",
        person.id_number: f"the document of {of}",
        mask_document(person.id_number): f"the masked document of {of}",
        person.phone: f"the phone of {of}",
        mask_phone(person.phone): f"the masked phone of {of}",
        **room,
    }
    if isinstance(person, Resident):
        tokens[person.person_code] = f"the person code of {of}"
        tokens[person.person_code_display] = f"the person code of {of}"
    return tokens


@dataclass
class People:
    """What gives away the ``hidden`` people (residents and walk-ins) and none of the
    ``shown``."""

    hidden: Iterable[Resident | WalkIn]
    shown: Iterable[Resident | WalkIn]
    tokens: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for r in self.shown:
            seen |= set(_tokens(r))
        self.tokens = {
            token: why
            for r in self.hidden
            for token, why in _tokens(r).items()
            if token and token not in seen
        }
        longest_first = sorted(self.tokens, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, longest_first)) or "(?!)")

    def found(self, text: str) -> list[str]:
        return sorted({self.tokens[m] for m in self._pattern.findall(text)})


def leaks(fetched: Iterable[Fetched], people: People) -> list[str]:
    """One line per response that shows a hidden person: where, and what it showed."""
    return [
        f"{f} shows {', '.join(found)}"
        for f in fetched
        if (found := people.found(f.text.replace(f.typed, "") if f.typed else f.text))
    ]


# Elements with no end tag: they hold no text, so they never enclose a person.
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
# What a drill row says of itself in a workbook: a cell of its own.
DRILL_CELL = "演练"


class _Unmarked(HTMLParser):
    """People named in text or attributes outside any element marked ``data-drill``."""

    def __init__(self, people: People) -> None:
        super().__init__()
        self.people = people
        self.open: list[tuple[str, bool]] = []
        self.found: list[str] = []

    def _marked(self) -> bool:
        return any(drill for _tag, drill in self.open)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        drill = any(name == "data-drill" for name, _value in attrs)
        if not (drill or self._marked()):
            self.found += self.people.found(" ".join(v or "" for _n, v in attrs))
        if tag not in VOID:
            self.open.append((tag, drill))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag("br", attrs)  # no end tag to wait for

    def handle_endtag(self, tag: str) -> None:
        for n in range(len(self.open) - 1, -1, -1):
            if self.open[n][0] == tag:
                del self.open[n:]
                return

    def handle_data(self, data: str) -> None:
        if not self._marked():
            self.found += self.people.found(data)


def unmarked(fetched: Fetched, people: People) -> list[str]:
    """The people a response shows outside a drill mark: in HTML, outside every element with
    ``data-drill`` (a drill row, or the main part of a drill's page); in a workbook, on a row
    without a «演练» cell; anywhere else, anywhere."""
    if _is_workbook(fetched.body):
        book = load_workbook(io.BytesIO(fetched.body), read_only=True)
        rows = [
            " ".join(str(v) for v in row if v is not None)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        ]
        return sorted({w for row in rows if DRILL_CELL not in row for w in people.found(row)})
    if "html" in fetched.content_type:
        parser = _Unmarked(people)
        parser.feed(fetched.body.decode("utf-8", "replace"))
        parser.close()
        return sorted(set(parser.found))
    return people.found(fetched.text)

"""The forms of the project, found rather than listed: on a rendered page (``page_forms``) and
in the templates (``template_forms``: a form whose action names a URL, which a page may render
only in some states, such as the alert acknowledgement on the dashboard)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
_ACTION = re.compile(r"""(?:action|hx-post|hx-get)="\{% url '([\w:]+)'""")
_METHOD = re.compile(r'method="(\w+)"', re.I)
# A name may be built from a variable (``role_{{ s.pk }}``): kept with its variable, for the
# caller to fill in.
_NAME = re.compile(r'\bname="([\w\-]*(?:\{\{[^}]*\}\})?)"')


@dataclass
class Form:
    """A form: where it goes, how, and each field's name with its first value (a select's
    first option, a checkbox's value)."""

    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), (a.get("method") or "get").lower()))
        elif not self.forms:
            return
        elif tag == "option" and self._select and not self.forms[-1].fields[self._select]:
            self.forms[-1].fields[self._select] = a.get("value", "")
        elif tag in {"input", "textarea", "button"} and a.get("name"):
            self.forms[-1].fields.setdefault(a["name"], a.get("value", ""))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self.forms[-1].fields.setdefault(a["name"], "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def page_forms(html: str) -> list[Form]:
    """The forms of a rendered page, without the CSRF token."""
    parser = _Parser()
    parser.feed(html)
    for form in parser.forms:
        form.fields.pop("csrfmiddlewaretoken", None)
    return parser.forms


def template_forms() -> dict[str, dict[str, set[str]]]:
    """For each URL name a template's form is sent to: its method and its fields' names, a name
    built from a variable with the variable in it (``role_{{ s.pk }}``)."""
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in sorted(ROOT.rglob("templates/**/*.html")):
        for attrs, body in _FORM.findall(path.read_text(encoding="utf-8")):
            action = _ACTION.search(attrs)
            if action is None:
                continue
            method = _METHOD.search(attrs)
            names = set(_NAME.findall(body)) - {"csrfmiddlewaretoken", ""}
            found[action.group(1)][method.group(1).lower() if method else "get"] |= names
    return found

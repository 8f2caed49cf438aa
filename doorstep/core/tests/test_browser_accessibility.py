"""Every page, in real Chromium, as the role it is meant for: no axe-core violation of impact
serious or critical, and on a phone no tap target under 44 px.

The pages are found as the fence crawl finds them (``doorstep.testing.crawl``): every route
of the URL conf, its arguments filled from the demo's database. Each page is checked once, as
the first persona that may open it: the field roles on a 360x740 phone first, then the command
roles at a desk. axe-core comes from npm (``package.json``; ``make`` runs ``npm ci``): without
it the test fails, saying so.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from doorstep.core.demo_logins import DEMO_PASSWORD
from doorstep.core.models import User
from doorstep.demo.town import build_demo
from doorstep.testing import crawl, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[3] / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 360, "height": 740}
DESK = {"width": 1280, "height": 800}
# Field roles on phones, then the command at a desk; each page is checked as the first of them
# that may open it.
PERSONAS = [
    ("canvasser", PHONE),
    ("leader", PHONE),
    ("registrar", PHONE),
    ("worker", PHONE),
    ("lab", PHONE),
    ("commander", DESK),
    ("district", DESK),
    ("admin", DESK),
]
TRIES = 40  # argument combinations tried per route before it is left to the next persona
# What a finger taps: controls, and links that stand alone (a link inside a sentence is exempt,
# as WCAG 2.5.8 exempts inline targets).
TARGETS = """() => {
  const out = [];
  const inline = (el) => el.tagName === 'A' && !el.classList.contains('button')
    && el.closest('p, li, td, th, dd, span, small, h1, h2, h3, label')
    && (el.parentElement.textContent.trim() !== el.textContent.trim());
  for (const el of document.querySelectorAll(
      'a[href], button, select, summary, input:not([type=hidden]), [role=button]')) {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!r.width || !r.height || style.visibility === 'hidden' || el.closest('[hidden]')) continue;
    if (inline(el)) continue;
    const box = el.type === 'checkbox' || el.type === 'radio' ? (el.closest('label') || el) : el;
    const b = box.getBoundingClientRect();
    if (b.height < 43.5 || b.width < 43.5) {
      out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className}`
        + ` "${(el.textContent || el.value || '').trim().slice(0, 24)}" ${Math.round(b.width)}x${Math.round(b.height)}`);
    }
  }
  return out;
}"""


def _html_page(client: Client, route: crawl.Route) -> str | None:
    """A URL of the route this client opens as an HTML page (200), or None."""
    values = [crawl.values(a) for a in route.args]
    for chosen in itertools.islice(itertools.product(*values), TRIES):
        url = crawl._filled(route.route, chosen)
        response = client.get(url)
        if (
            response.status_code == 200
            and response["Content-Type"].startswith("text/html")
            and b"<html" in response.content[:500]  # a page, not a fragment (checked in its page)
        ):
            return url
    return None


def _axe(page: Any) -> list[str]:
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`)"
    )
    return list(found)


def test_every_page_has_no_serious_accessibility_fault_and_big_enough_targets(live_server, browser):
    assert AXE.exists(), f"axe-core is not installed at {AXE}: run `npm ci` (make does it)"
    build_demo(600, progress=lambda _line: None)
    routes = [
        r
        for r in crawl.routes()
        if not r.api
        and not r.name.startswith(("simulate:", "core:health"))
        and r.name not in {"canvass:service_worker", "sampling:service_worker"}
    ]
    done: set[str] = set()
    faults: list[str] = []
    small: list[str] = []
    for username, viewport in PERSONAS:
        client = Client()
        client.force_login(User.objects.get(username=username))
        # axe is injected as a script of the test's own: the page's CSP would refuse it.
        page = browser.new_context(viewport=viewport, locale="zh-CN", bypass_csp=True).new_page()
        sign_in(page, live_server.url, username, DEMO_PASSWORD)
        for route in routes:
            if route.name in done:
                continue
            url = _html_page(client, route)
            if url is None:
                continue
            done.add(route.name)
            page.goto(live_server.url + url)
            page.add_script_tag(path=str(AXE))
            faults += [f"{username} {url}: {v}" for v in _axe(page)]
            if viewport is PHONE:
                small += [f"{username} {url}: {t}" for t in page.evaluate(TARGETS)]
        page.context.close()
    assert len(done) > 60, sorted(done)
    assert not faults, "\n".join(faults)
    assert not small, "\n".join(small)


def test_sign_out_is_in_sight_on_a_phone_in_english_and_chinese(live_server, browser):
    """English words are longer: the menu scrolls sideways, Sign out stays on the screen."""
    build_demo(600, progress=lambda _line: None)
    for locale in ("en-US", "zh-CN"):
        for username in ("leader", "worker", "commander"):
            page = browser.new_context(viewport=PHONE, locale=locale).new_page()
            sign_in(page, live_server.url, username, DEMO_PASSWORD)
            button = page.locator("form.sign-out button")
            box = button.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360, (
                locale,
                username,
                box,
            )
            assert box["height"] >= 44 and button.is_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            page.context.close()

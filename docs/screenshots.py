"""Take the README's screenshots from a running demo (`doorstep demo`), in the system Chromium.

.venv/bin/python docs/screenshots.py [http://127.0.0.1:8000]
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from doorstep.core import chromium, codes

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(__file__).parent / "img"


def sign_in(page: Page, username: str) -> None:
    page.goto(f"{BASE}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "doorstep-demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{BASE}/")


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium.PATH, args=chromium.ARGS)
        phone = browser.new_page(
            viewport={"width": 360, "height": 760}, device_scale_factor=2, locale="zh-CN"
        )
        sign_in(phone, "worker")
        phone.goto(f"{BASE}/territory/residents/")
        phone.screenshot(path=str(OUT / "residents.png"))
        phone.goto(f"{BASE}/")
        phone.screenshot(path=str(OUT / "home-worker.png"))
        desk = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        sign_in(desk, "commander")
        desk.goto(f"{BASE}/campaigns/")
        desk.click("table a")
        desk.screenshot(path=str(OUT / "campaign-zones.png"), full_page=True)
        desk.goto(f"{BASE}/territory/communities/")
        desk.click("table a")
        desk.screenshot(path=str(OUT / "community-buildings.png"))
        desk.goto(f"{BASE}/workforce/where/")
        desk.screenshot(path=str(OUT / "who-is-where.png"), full_page=True)
        desk.click("#where a[href*='/workforce/lanes/']")
        desk.screenshot(path=str(OUT / "lane-staff.png"), full_page=True)
        phone.goto(f"{BASE}/workforce/")
        phone.click("table a")
        phone.screenshot(path=str(OUT / "muster-board.png"))
        leader = browser.new_page(
            viewport={"width": 360, "height": 760}, device_scale_factor=2, locale="zh-CN"
        )
        sign_in(leader, "leader")
        leader.goto(f"{BASE}/canvass/")
        leader.screenshot(path=str(OUT / "canvass-claims.png"))
        leader.click("#held a.button")
        leader.screenshot(path=str(OUT / "canvass-building.png"))
        # Down the building by its floor index: it stays on screen, floors still to knock marked.
        last = leader.locator("#floor-index a.floor").last
        last.click()
        leader.screenshot(path=str(OUT / "canvass-floor-index.png"))
        desk.goto(f"{BASE}/canvass/")
        desk.click("#coverage a:has-text('阳光里社区')")
        desk.screenshot(path=str(OUT / "canvass-community.png"), full_page=True)
        desk.goto(f"{BASE}/canvass/")
        desk.click("text=动态")
        desk.screenshot(path=str(OUT / "canvass-feed.png"))
        registrar = browser.new_page(
            viewport={"width": 360, "height": 760}, device_scale_factor=2, locale="zh-CN"
        )
        sign_in(registrar, "registrar")
        registrar.goto(f"{BASE}/sampling/")
        registrar.click("#site-1 li:nth-child(3) a, section li:nth-child(3) a")
        # Lane 3 is filling a tube: one scan the server will refuse (a code on nobody's
        # roster), made without signal, then one still waiting: the alarm and the pending row.
        registrar.wait_for_selector("#code:focus")
        registrar.context.set_offline(True)
        registrar.keyboard.type(codes.new_code())
        registrar.keyboard.press("Enter")
        registrar.wait_for_selector("#members li.pending")
        registrar.context.set_offline(False)
        registrar.wait_for_selector("#lane-alarms:not([hidden])")
        registrar.context.set_offline(True)
        registrar.keyboard.type(codes.new_code())
        registrar.keyboard.press("Enter")
        registrar.wait_for_selector("#members li.pending")
        registrar.screenshot(path=str(OUT / "lane.png"), full_page=True)
        registrar.context.set_offline(False)
        wall = browser.new_page(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
        sign_in(wall, "commander")
        wall.goto(f"{BASE}/command/")
        wall.goto(wall.url.split("?")[0] + "?wall=1")
        wall.wait_for_selector("#panel-alerts")
        wall.screenshot(path=str(OUT / "command-wall.png"))
        wall.set_viewport_size({"width": 1400, "height": 900})
        wall.goto(wall.url.split("?")[0])
        wall.wait_for_selector("#panel-alerts")
        wall.screenshot(path=str(OUT / "command-dashboard.png"), full_page=True)
        worker = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        sign_in(worker, "commander")
        worker.goto(f"{BASE}/lab/retests/")
        worker.screenshot(path=str(OUT / "retests.png"))
        worker.goto(f"{BASE}/notices/messages/")
        worker.screenshot(path=str(OUT / "text-messages.png"))
        # The demo's pool member without a phone, in 富锦园社区: the commander's phone sees her.
        door = browser.new_page(
            viewport={"width": 360, "height": 760}, device_scale_factor=2, locale="zh-CN"
        )
        sign_in(door, "commander")
        door.goto(f"{BASE}/notices/doors/")
        door.screenshot(path=str(OUT / "tell-at-the-door.png"))
        chief = browser.new_page(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
        sign_in(chief, "district")
        chief.goto(f"{BASE}/district/?wall=1")
        chief.wait_for_selector("#panel-support")
        chief.screenshot(path=str(OUT / "district-wall.png"))
        sender = browser.new_page(
            viewport={"width": 360, "height": 760}, device_scale_factor=2, locale="zh-CN"
        )
        sign_in(sender, "sender")
        sender.goto(f"{BASE}/workforce/support/")
        sender.locator("#quotas a").last.click()
        sender.locator("#batches a").last.click()
        sender.wait_for_selector("#people")
        sender.screenshot(path=str(OUT / "support-batch.png"))
        desk.goto(f"{BASE}/campaigns/")
        desk.click("table a")
        starts = desk.locator("section:has(form[action*='starts'])").first
        starts.scroll_into_view_if_needed()
        starts.screenshot(path=str(OUT / "start-times.png"))
        paper = browser.new_page(viewport={"width": 900, "height": 1200}, locale="zh-CN")
        sign_in(paper, "commander")
        paper.goto(f"{BASE}/sampling/lanes/1/paper/")
        paper.screenshot(path=str(OUT / "paper-sheet.png"))
        browser.close()


if __name__ == "__main__":
    main()

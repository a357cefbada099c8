"""`make screenshots`: PNGs of the console's main screens in docs/console/, by the browser tests' own
steps (tests/console/ui.py) against a fresh local run seeded with a small story."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from local.server import LocalSystem, start
from tests.console.ui import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, Org, give_points, sign_in, sign_out

OUT = Path(__file__).resolve().parents[2] / "docs" / "console"


def seed(system: LocalSystem) -> Org:
    org = Org(system, org_id="acme")
    org.config(points={"approval_threshold": 1000})
    org.customer("c-1001", name="Ada Lovelace", email="ada@example.com", phone="+447700900123")
    org.customer("c-1002", name="Adam Smith", email="adam@example.com", phone="+447700900456")
    org.customer("c-1003", name="Grace Hopper", email="grace@example.com")
    for customer, points in (("c-1001", 500), ("c-1002", 120), ("c-1003", 80), ("c-1001", 40)):
        org.grant(customer, points)
    series = {"name": "Welcome back 10%", "discount": {"type": "PERCENT", "value": 10}, "valid_days": 30}
    org.call("PUT", "/coupon-series/welcome10", {**series, "codes": [f"WB10-{n:04d}" for n in range(25)]})
    org.call(
        "PUT",
        "/coupon-series/sorry5",
        {"name": "Sorry £5", "discount": {"type": "AMOUNT", "value": 5}, "valid_days": 60},
    )
    for customer, points in (("c-1002", 1500), ("c-1003", 2500)):
        org.grant(customer, points, actor="bob", roles="agent")
    return org


def shoot(page: Page, name: str) -> None:
    page.locator(".view:not([aria-busy])").wait_for()
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=False)
    print(f"  {OUT.relative_to(Path.cwd()) if OUT.is_relative_to(Path.cwd()) else OUT}/{name}.png")


def story(page: Page, system: LocalSystem) -> None:
    url = system.url
    page.goto(f"{url}/console/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.get_by_label("User").fill("alice")
    shoot(page, "01-sign-in")
    sign_in(page, url, "acme", "alice", "agent")
    page.get_by_label("Search customers").fill("ad")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Ada Lovelace").wait_for()
    shoot(page, "02-customers")
    page.get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_role("heading", name="Ada Lovelace", level=1)).to_be_visible()
    shoot(page, "03-customer")
    give_points(page, 1200, "Parcel lost twice; goodwill agreed with the customer on the phone")
    expect(page.get_by_role("status")).to_contain_text("Waiting for approval")
    shoot(page, "04-give-points-waiting")
    sign_out(page)
    sign_in(page, url, "acme", "carol", "approver")
    page.get_by_role("link", name="Approvals").click()
    expect(page.get_by_role("button", name="Approve selected")).to_be_visible()
    shoot(page, "05-approvals")
    page.get_by_role("article").first.get_by_role("link", name="Details and history").click()
    page.get_by_role("heading", name="History").wait_for()
    shoot(page, "06-request")
    sign_out(page)
    sign_in(page, url, "acme", "dana", "admin")
    page.get_by_role("link", name="Bulk import").click()
    csv = b"customer_id,points,comment\nc-1001,100,spring promo\nc-1002,50,spring promo\nc-404,10,unknown customer\n"
    page.get_by_label("CSV file").set_input_files({"name": "spring-promo.csv", "mimeType": "text/csv", "buffer": csv})
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("button", name="Download report")).to_be_visible(timeout=60_000)
    shoot(page, "07-bulk-import")
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Points credited").fill("Hi {customer_name}, {points} points for {nickname}!")
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("unknown placeholder").first.wait_for()
    page.get_by_label("Points credited").scroll_into_view_if_needed()
    shoot(page, "08-settings-error")
    page.get_by_role("link", name="Coupon series").click()
    page.get_by_role("button", name="Add codes to Welcome back 10%").wait_for()
    shoot(page, "09-coupon-series")


def phone(page: Page, system: LocalSystem) -> None:
    sign_in(page, system.url, "acme", "alice", "agent")
    page.goto(f"{system.url}/console/#/customers/c-1001")
    expect(page.get_by_role("heading", name="Ada Lovelace", level=1)).to_be_visible()
    shoot(page, "10-customer-phone")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    system = start(api_port=0, moto_port=0, parameters={"LogLevel": "ERROR"})
    try:
        seed(system)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for viewport, play in ((DESKTOP, story), (PHONE, phone)):
                context = browser.new_context(viewport=viewport, device_scale_factor=1)  # type: ignore[arg-type]
                play(context.new_page(), system)
                context.close()
            browser.close()
    finally:
        system.stop()
    print(f"screenshots written in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

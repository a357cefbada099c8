"""`make screenshots`: PNGs of the console's main screens in docs/console/, taken while playing the
README's "whole goodwill story by hand" through the browser (the browser tests' own steps in
tests/console/ui.py), against a fresh local run. It fails if any step of that story does."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from local.devserver.server import LocalSystem, start
from tests.console.ui import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, Org, give_points, sign_in, sign_out

OUT = Path(__file__).resolve().parents[2] / "docs" / "console"
CSV = b"customer_id,points\nc-1,100\nc-404,5\n"


def shoot(page: Page, name: str) -> None:
    page.locator(".view:not([aria-busy])").wait_for()
    page.screenshot(path=str(OUT / f"{name}.png"))
    print(f"  docs/console/{name}.png", flush=True)


def background(system: LocalSystem) -> None:
    """Other customers and another agent's requests (after the threshold is set), so that lists
    look like a working day."""
    org = Org(system, org_id="acme")
    org.customer("c-2", name="Adam Smith", email="adam@example.com", phone="+447700900456")
    org.customer("c-3", name="Grace Hopper", email="grace@example.com")
    org.grant("c-2", 120, actor="bob", roles="agent")
    org.grant("c-3", 2500, actor="bob", roles="agent")


def admin_setup(page: Page, system: LocalSystem) -> None:
    url = system.url
    sign_in(page, url, "acme", "dana", "admin")
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Approval threshold (points)").fill("1000")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    page.get_by_role("link", name="Customers").click()
    page.get_by_text("Add a customer (admin)").click()
    page.get_by_label("Customer id").fill("c-1")
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("E-mail").fill("ada@example.com")
    page.get_by_label("Phone").fill("+447700900123")
    page.get_by_role("button", name="Add customer").click()
    expect(page.get_by_role("heading", name="Ada Lovelace", level=1)).to_be_visible()
    page.get_by_role("link", name="Coupon series").click()
    form = page.get_by_role("form", name="Create a coupon series")
    form.get_by_label("Series id").fill("sorry10")
    form.get_by_label("Name", exact=True).fill("Sorry 10%")
    form.get_by_label("Discount value").fill("10")
    form.get_by_label("Codes").fill("\n".join(f"SORRY10-{n:03d}" for n in range(1, 21)))
    form.get_by_role("button", name="Create series").click()
    expect(page.get_by_role("button", name="Add codes to Sorry 10%")).to_be_visible()
    shoot(page, "09-coupon-series")
    sign_out(page)
    background(system)


def agent_story(page: Page, system: LocalSystem) -> None:
    url = system.url
    page.get_by_label("User").fill("alice")
    shoot(page, "01-sign-in")
    sign_in(page, url, "acme", "alice", "agent")
    page.get_by_label("Search customers").fill("ad")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Ada Lovelace").wait_for()
    shoot(page, "02-customers")
    page.get_by_role("link", name="Ada Lovelace").click()
    give_points(page, 250, "Parcel 3 days late", reason="LATE_DELIVERY")
    expect(page.get_by_role("status")).to_contain_text("New balance: 250 points")
    page.get_by_role("link", name="Back to the customer").click()
    give_points(page, 1500, "Parcel lost twice; agreed on the phone")
    expect(page.get_by_role("status")).to_contain_text("Waiting for approval")
    shoot(page, "04-give-points-waiting")
    page.get_by_role("link", name="Back to the customer").click()
    page.get_by_role("button", name="Give coupon").click()
    page.get_by_label("Coupon series").select_option("sorry10")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("status")).to_contain_text("Waiting for approval")
    sign_out(page)


def approver_story(page: Page, system: LocalSystem) -> None:
    url = system.url
    sign_in(page, url, "acme", "carol", "approver")
    page.get_by_role("link", name="Approvals").click()
    expect(page.get_by_role("article")).to_have_count(3)
    shoot(page, "05-approvals")
    page.get_by_role("article", name="+1,500 points for c-1").get_by_role("button", name="Approve", exact=True).click()
    page.get_by_role("dialog").get_by_label("Points").fill("1200")
    page.get_by_role("dialog").get_by_role("button", name="Confirm approval").click()
    page.get_by_role("article", name="Coupon sorry10 for c-1").get_by_role("checkbox").check()
    page.get_by_role("button", name="Approve selected").click()
    page.get_by_role("dialog").get_by_role("button", name="Confirm approval").click()
    expect(page.get_by_text("1 of 1 approved")).to_be_visible()
    page.get_by_role("article", name="+1,500 points for c-1").get_by_role("link", name="c-1").click()
    expect(page.get_by_test_id("current-default")).to_have_text("1,450", timeout=30_000)
    expect(page.get_by_role("region", name="Coupons").get_by_role("cell", name="SORRY10-001")).to_be_visible()
    shoot(page, "03-customer")
    page.get_by_role("region", name="Goodwill requests").get_by_role("link", name="+1,200 points").click()
    expect(page.get_by_role("region", name="Notifications").get_by_role("cell", name="+447700900123")).to_be_visible()
    shoot(page, "06-request")
    sign_out(page)


def admin_import(page: Page, system: LocalSystem) -> None:
    url = system.url
    sign_in(page, url, "acme", "dana", "admin")
    page.get_by_role("link", name="Bulk import").click()
    page.get_by_label("CSV file").set_input_files({"name": "spring-promo.csv", "mimeType": "text/csv", "buffer": CSV})
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("button", name="Download report")).to_be_visible(timeout=60_000)
    shoot(page, "07-bulk-import")
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Points credited").fill("Hi {customer_name}, {points} points for {nickname}!")
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("unknown placeholder").first.wait_for()
    page.get_by_label("Points credited").scroll_into_view_if_needed()
    shoot(page, "08-settings-error")


def phone(page: Page, system: LocalSystem) -> None:
    url = system.url
    sign_in(page, url, "acme", "alice", "agent")
    page.goto(f"{url}/console/#/customers/c-1")
    expect(page.get_by_role("heading", name="Ada Lovelace", level=1)).to_be_visible()
    shoot(page, "10-customer-phone")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    system: LocalSystem = start(api_port=0, moto_port=0, parameters={"LogLevel": "ERROR"})
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for viewport, plays in (
                (DESKTOP, (admin_setup, agent_story, approver_story, admin_import)),
                (PHONE, (phone,)),
            ):
                context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
                page = context.new_page()
                page.set_default_timeout(15_000)
                page.goto(f"{system.url}/console/")
                for play in plays:
                    play(page, system)
                context.close()
            browser.close()
    finally:
        system.stop()
    print(f"screenshots written in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

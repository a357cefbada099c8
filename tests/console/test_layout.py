"""Every screen at 1280x800 and 390x844 without horizontal scrolling, usable by keyboard."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from local.devserver.server import LocalSystem
from tests.console.conftest import Watch, open_page
from tests.console.ui import DESKTOP, PHONE, Org, no_horizontal_scroll, sign_in

SCREENS = [
    ("#/customers?q=c-1", "Customers"),
    ("#/customers/c-1", "Ada Lovelace"),
    ("#/customers/c-1/points", "Give points to Ada Lovelace"),
    ("#/customers/c-1/coupon", "Give a coupon to Ada Lovelace"),
    ("#/approvals", "Approvals"),
    ("#/imports", "Bulk import"),
    ("#/series", "Coupon series"),
    ("#/settings", "Settings"),
]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280x800", "390x844"])
def test_every_screen_fits_the_viewport(
    system: LocalSystem, org: Org, browser: Browser, watch: Watch, viewport: dict[str, int]
) -> None:
    org.config(points={"approval_threshold": 10})
    org.customer(
        "c-1", name="Ada Lovelace", email="ada.lovelace.with.a.long.address@example.com", phone="+447700900123"
    )
    request = org.grant("c-1", 5000, actor="bob", roles="agent")["request"]
    expires = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    lot = {"customer_id": "c-1", "program_id": "default", "points": 7, "reason": "REWARD", "expires_at": expires}
    org.call("POST", "/goodwill/points", lot)
    context, page = open_page(browser, watch, viewport)
    try:
        sign_in(page, system.url, org.org_id, "dana", "admin")
        no_horizontal_scroll(page)
        for hash_, title in [*SCREENS, (f"#/requests/{request['request_id']}", "+5,000 points")]:
            page.goto(f"{system.url}/console/{hash_}")
            expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
            page.locator(".view:not([aria-busy])").wait_for()
            no_horizontal_scroll(page)
            shown = page.locator("main").inner_text()
            assert not re.search(r"\b(null|undefined|NaN)\b|\[object ", shown), f"{hash_} shows: {shown}"
        page.goto(f"{system.url}/console/#/customers/c-1")
        expect(page.get_by_role("region", name="Balances")).to_contain_text("7 points on")
    finally:
        context.close()
    assert not watch.problems(), "\n".join(watch.problems())


def test_keyboard_only_sign_in_and_give_points(system: LocalSystem, org: Org, page: Page) -> None:
    org.customer("c-1", name="Ada Lovelace")
    page.goto(f"{system.url}/console/")
    page.get_by_label("Organisation").fill(org.org_id)
    page.keyboard.press("Tab")
    page.keyboard.type("alice")
    page.keyboard.press("Enter")  # submits the sign-in form
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    # The page heading takes focus after navigation
    page.goto(f"{system.url}/console/#/customers/c-1/points")
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    page.keyboard.press("Tab")
    for _ in range(10):
        if page.evaluate("() => document.activeElement.name") == "points":
            break
        page.keyboard.press("Tab")
    page.keyboard.type("30")
    page.get_by_label("Points").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("New balance: 30 points")


def test_unknown_customer_shows_not_found_page(system: LocalSystem, org: Org, page: Page, watch: Watch) -> None:
    watch.expect_4xx = True  # the API answers 404
    sign_in(page, system.url, org.org_id, "alice", "agent")
    page.goto(f"{system.url}/console/#/customers/nobody")
    expect(page.get_by_role("heading", name="Not found", level=1)).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("nobody")
    page.get_by_role("link", name="Back to customers").click()
    expect(page.get_by_label("Search customers")).to_be_focused()


def test_a_malformed_escape_in_the_address_shows_the_not_found_page(system: LocalSystem, org: Org, page: Page) -> None:
    sign_in(page, system.url, org.org_id, "alice", "agent")
    # "100%" is no valid escape: decoding it throws (URIError), which left a blank page
    page.goto(f"{system.url}/console/#/customers/100%")
    expect(page.get_by_role("heading", name="Page not found", level=1)).to_be_focused()
    page.get_by_role("link", name="Go to customers").click()
    expect(page.get_by_label("Search customers")).to_be_visible()

"""Steps a person takes in the console, by the accessible names of CONTRACT.md section 16."""

from __future__ import annotations

from playwright.sync_api import Page, expect

ROLE_CHOICE = {"agent": "agent", "approver": "approver", "admin": "admin"}


def sign_in(page: Page, url: str, org: str, user: str, role: str) -> None:
    page.goto(f"{url}/console/")
    page.get_by_label("Organisation").fill(org)
    page.get_by_label("User").fill(user)
    page.get_by_label("Roles").select_option(ROLE_CHOICE[role])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def no_horizontal_scroll(page: Page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"horizontal scrolling: scrollWidth {widths[0]} > clientWidth {widths[1]}"


def give_points(page: Page, points: int, comment: str = "") -> None:
    page.get_by_role("button", name="Give points").click()
    page.get_by_label("Points").fill(str(points))
    page.get_by_label("Reason").select_option("SERVICE_RECOVERY")
    if comment:
        page.get_by_label("Comment").fill(comment)
    page.get_by_role("button", name="Send request").click()

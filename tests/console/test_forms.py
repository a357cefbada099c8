"""Forms: API errors shown next to their field with nothing lost; a coupon from a pool."""

from __future__ import annotations

import re

from playwright.sync_api import Page, Route, expect

from local.devserver.server import LocalSystem
from tests.console.conftest import Watch
from tests.console.ui import Org, sign_in


def test_comment_too_long_shown_next_to_field_form_kept(
    system: LocalSystem, org: Org, page: Page, watch: Watch
) -> None:
    watch.expect_4xx = True  # the API answers 422: shown next to the field
    org.customer("c-ada", name="Ada Lovelace")
    sign_in(page, system.url, org.org_id, "alice", "agent")
    page.goto(f"{system.url}/console/#/customers/c-ada/points")
    # When the agent sends a comment over 500 characters
    long_comment = "x" * 501
    page.get_by_label("Points").fill("75")
    page.get_by_label("Reason").select_option("LATE_DELIVERY")
    page.get_by_label("Comment").fill(long_comment)
    page.get_by_label("Message to customer").fill("Sorry for the wait")
    page.get_by_label("Notify customer").uncheck()
    page.get_by_role("button", name="Send request").click()
    # Then the API's message sits under the Comment field, which is marked invalid
    comment = page.get_by_label("Comment")
    expect(comment).to_have_attribute("aria-invalid", "true")
    error_id = comment.get_attribute("aria-describedby").split()[-1]  # type: ignore[union-attr]
    expect(page.locator(f"#{error_id}")).to_contain_text(re.compile("500 characters", re.IGNORECASE))
    expect(page.get_by_label("Points")).not_to_have_attribute("aria-invalid", "true")
    # And nothing the agent typed is lost
    expect(page.get_by_label("Points")).to_have_value("75")
    expect(page.get_by_label("Reason")).to_have_value("LATE_DELIVERY")
    expect(comment).to_have_value(long_comment)
    expect(page.get_by_label("Message to customer")).to_have_value("Sorry for the wait")
    expect(page.get_by_label("Notify customer")).not_to_be_checked()
    # And nothing was granted
    assert org.call("GET", "/customers/c-ada")["balances"]["default"]["current"] == 0


def test_coupon_from_pool_issued_and_listed(system: LocalSystem, org: Org, page: Page) -> None:
    # Given a pool of two codes and coupons that need no approval
    org.config(coupons={"auto_approve": True})
    org.customer("c-ada", name="Ada Lovelace")
    series = {"name": "Sorry 10%", "discount": {"type": "PERCENT", "value": 10}, "valid_days": 30}
    org.call("PUT", "/coupon-series/sorry10", {**series, "codes": ["SORRY-A", "SORRY-B"]})
    sign_in(page, system.url, org.org_id, "alice", "agent")
    page.goto(f"{system.url}/console/#/customers/c-ada")
    page.get_by_role("button", name="Give coupon").click()
    # The series list says how many codes are left
    series_select = page.get_by_label("Coupon series")
    expect(series_select.get_by_role("option", name="Sorry 10% (10% off, 2 codes left)")).to_be_attached()
    page.get_by_label("Reason").select_option("DAMAGED_ITEM")
    page.get_by_label("Comment").fill("cracked mug")
    page.get_by_role("button", name="Send request").click()
    # Then the first code of the pool is issued and shown
    expect(page.get_by_role("status")).to_contain_text("Coupon issued: SORRY-A")
    page.get_by_role("link", name="Back to the customer").click()
    expect(page.get_by_role("region", name="Coupons").get_by_role("cell", name="SORRY-A")).to_be_visible()
    # And the pool has one code left
    assert org.call("GET", "/coupon-series/sorry10")["available"] == 1


def test_template_with_unknown_placeholder_rejected_next_to_field(
    system: LocalSystem, org: Org, page: Page, watch: Watch
) -> None:
    watch.expect_4xx = True
    sign_in(page, system.url, org.org_id, "dana", "admin")
    page.get_by_role("link", name="Settings").click()
    template = page.get_by_label("Points credited")
    template.fill("Hi {customer_name}, {points} points for {nickname}")
    page.get_by_label("Approval threshold (points)").fill("5000")
    page.get_by_role("button", name="Save settings").click()
    expect(template).to_have_attribute("aria-invalid", "true")
    error_id = template.get_attribute("aria-describedby").split()[-1]  # type: ignore[union-attr]
    expect(page.locator(f"#{error_id}")).to_contain_text("unknown placeholder {nickname}")
    expect(template).to_have_value("Hi {customer_name}, {points} points for {nickname}")
    expect(page.get_by_label("Approval threshold (points)")).to_have_value("5000")
    # Nothing was saved
    assert org.call("GET", "/config")["points"]["approval_threshold"] is None
    # Fixing the template saves both changes
    template.fill("Hi {customer_name}, {points} points for you")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    assert org.call("GET", "/config")["points"]["approval_threshold"] == 5000


def test_admin_creates_pool_series_then_adds_codes(system: LocalSystem, org: Org, page: Page) -> None:
    sign_in(page, system.url, org.org_id, "dana", "admin")
    page.get_by_role("link", name="Coupon series").click()
    form = page.get_by_role("form", name="Create a coupon series")
    form.get_by_label("Series id").fill("winback")
    form.get_by_label("Name", exact=True).fill("Win back 5")
    form.get_by_label("Discount type").select_option("AMOUNT")
    form.get_by_label("Discount value").fill("5")
    form.get_by_label("Codes").fill("WB-1\nWB-2\n\nWB-3\n")
    form.get_by_role("button", name="Create series").click()
    row = page.get_by_role("row", name="Win back 5")
    expect(row).to_contain_text("3")  # codes left
    row.get_by_role("button", name="Add codes to Win back 5").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Codes").fill("WB-4\nWB-5")
    dialog.get_by_role("button", name="Add codes").click()
    expect(page.get_by_role("row", name="Win back 5").get_by_role("cell").nth(4)).to_have_text("5")
    series = org.call("GET", "/coupon-series/winback")
    assert (series["kind"], series["available"], series["discount"]) == ("POOL", 5, {"type": "AMOUNT", "value": 5})


def test_adding_a_code_of_another_series_is_refused_at_the_codes_field(
    system: LocalSystem, org: Org, page: Page, watch: Watch
) -> None:
    watch.expect_4xx = True  # the PUT answers 422: the console shows it at the codes
    series = {"discount": {"type": "AMOUNT", "value": 5}, "valid_days": 30}
    org.call("PUT", "/coupon-series/winback", {**series, "name": "Win back 5", "codes": ["WB-1", "WB-2"]})
    org.call("PUT", "/coupon-series/spring", {**series, "name": "Spring", "codes": ["SP-1"]})
    sign_in(page, system.url, org.org_id, "dana", "admin")
    page.get_by_role("link", name="Coupon series").click()
    page.get_by_role("row", name="Spring").get_by_role("button", name="Add codes to Spring").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Codes").fill("SP-2\nWB-2")
    dialog.get_by_role("button", name="Add codes").click()
    codes = dialog.get_by_label("Codes")
    expect(codes).to_have_attribute("aria-invalid", "true")
    error_id = codes.get_attribute("aria-describedby").split()[-1]  # type: ignore[union-attr]
    expect(dialog.locator(f"#{error_id}")).to_have_text("WB-2 is in coupon series winback")
    expect(codes).to_have_value("SP-2\nWB-2")  # nothing typed is lost
    assert org.call("GET", "/coupon-series/spring")["available"] == 1  # nothing written


def test_reason_error_lands_on_its_row_after_a_row_is_removed(
    system: LocalSystem, org: Org, page: Page, watch: Watch
) -> None:
    watch.expect_4xx = True
    sign_in(page, system.url, org.org_id, "dana", "admin")
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("button", name="Remove reason SERVICE_RECOVERY").click()
    rows = page.locator(".reason-row")
    rows.nth(2).get_by_label("Code").fill("not a code")  # DAMAGED_ITEM's row, now the third
    page.get_by_role("button", name="Save settings").click()
    expect(rows.nth(2).get_by_label("Code")).to_have_attribute("aria-invalid", "true")
    expect(rows.nth(1).get_by_label("Code")).not_to_have_attribute("aria-invalid", "true")
    assert org.call("GET", "/config")["reasons"][0]["code"] == "SERVICE_RECOVERY"  # nothing saved


def test_agent_offered_the_orgs_own_reasons_and_a_grant_with_one_succeeds(
    system: LocalSystem, org: Org, page: Page
) -> None:
    # Given an org whose reasons are its own, not the contract's defaults
    org.config(
        reasons=[{"code": "GESTURE", "label": "Goodwill gesture"}, {"code": "CORRECTION", "label": "Correction"}]
    )
    org.customer("c-ada", name="Ada Lovelace")
    # When an agent (who may not read GET /config) opens Give points
    sign_in(page, system.url, org.org_id, "alice", "agent")
    page.goto(f"{system.url}/console/#/customers/c-ada/points")
    # Then the reasons offered are the org's
    reason = page.get_by_label("Reason")
    expect(reason.locator("option")).to_have_text(["Goodwill gesture (GESTURE)", "Correction (CORRECTION)"])
    # And a grant with one of them is added
    page.get_by_label("Points").fill("30")
    reason.select_option("GESTURE")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("status")).to_contain_text("New balance: 30 points")
    assert org.call("GET", "/customers/c-ada/transactions")["items"][0]["reason"] == "GESTURE"


def test_codes_left_drop_on_the_form_after_a_coupon_is_issued(system: LocalSystem, org: Org, page: Page) -> None:
    # Given a pool of two codes and coupons that need no approval
    org.config(coupons={"auto_approve": True})
    org.customer("c-ada", name="Ada Lovelace")
    series = {"name": "Sorry 10%", "discount": {"type": "PERCENT", "value": 10}, "valid_days": 30}
    org.call("PUT", "/coupon-series/sorry10", {**series, "codes": ["SORRY-A", "SORRY-B"]})
    sign_in(page, system.url, org.org_id, "alice", "agent")
    page.goto(f"{system.url}/console/#/customers/c-ada/coupon")
    series_select = page.get_by_label("Coupon series")
    expect(series_select.locator("option")).to_have_text(["Sorry 10% (10% off, 2 codes left)"])
    # When the agent issues one
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("status")).to_contain_text("Coupon issued: SORRY-A")
    # Then the form, ready for another, counts the code it just handed out
    expect(series_select.locator("option")).to_have_text(["Sorry 10% (10% off, 1 code left)"])
    expect(series_select).to_have_value("sorry10")


def test_adding_an_existing_customer_id_is_refused_and_the_profile_kept(
    system: LocalSystem, org: Org, page: Page
) -> None:
    # Given a customer c-ada
    org.customer("c-ada", name="Ada Lovelace", email="ada@example.com", phone="+447700900123")
    before = org.call("GET", "/customers/c-ada")
    # When an admin adds a customer under the same id
    sign_in(page, system.url, org.org_id, "dana", "admin")
    page.get_by_text("Add a customer (admin)").click()
    page.get_by_label("Customer id").fill("c-ada")
    page.get_by_label("Name").fill("Someone Else")
    page.get_by_role("button", name="Add customer").click()
    # Then the form says the customer exists, next to the id, and keeps what was typed
    customer_id = page.get_by_label("Customer id")
    expect(customer_id).to_have_attribute("aria-invalid", "true")
    error_id = customer_id.get_attribute("aria-describedby").split()[-1]  # type: ignore[union-attr]
    expect(page.locator(f"#{error_id}")).to_have_text(
        "A customer with the id c-ada already exists: nothing was changed."
    )
    expect(page.get_by_role("link", name="Open customer c-ada")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("Someone Else")
    # And the existing profile is untouched
    assert org.call("GET", "/customers/c-ada") == before


def test_a_customer_added_by_someone_else_since_the_search_is_not_overwritten(
    system: LocalSystem, org: Org, page: Page, watch: Watch
) -> None:
    watch.expect_4xx = True  # the PUT answers 412: the console shows it at the id
    # Given another admin adds c-ada after this form searched for the id, before its PUT
    raced: list[str] = []

    def other_admin_first(route: Route) -> None:
        if route.request.method == "PUT" and not raced:
            org.customer("c-ada", name="Ada Lovelace", email="ada@example.com")
            raced.append(route.request.headers.get("if-none-match", ""))
        route.continue_()

    page.route(re.compile(r".*/customers/c-ada$"), other_admin_first)
    sign_in(page, system.url, org.org_id, "dana", "admin")
    page.get_by_text("Add a customer (admin)").click()
    page.get_by_label("Customer id").fill("c-ada")
    page.get_by_label("Name").fill("Someone Else")
    page.get_by_role("button", name="Add customer").click()
    # Then the form says the customer exists and the other admin's profile stands
    error_id = page.get_by_label("Customer id").get_attribute("aria-describedby").split()[-1]  # type: ignore[union-attr]
    expect(page.locator(f"#{error_id}")).to_have_text(
        "A customer with the id c-ada already exists: nothing was changed."
    )
    assert raced == ["*"]  # the race happened, and the console's PUT was create-only
    assert org.call("GET", "/customers/c-ada")["name"] == "Ada Lovelace"


def test_creating_a_series_with_an_existing_id_is_refused_and_the_series_kept(
    system: LocalSystem, org: Org, page: Page, watch: Watch
) -> None:
    watch.expect_4xx = True  # the create-only PUT answers 412: the console shows it at the id
    # Given a pool series "sorry10" at 10% that agents hand out
    series = {"name": "Sorry 10%", "description": "apology", "discount": {"type": "PERCENT", "value": 10}}
    org.call("PUT", "/coupon-series/sorry10", {**series, "valid_days": 30, "codes": ["S-1", "S-2"]})
    before = org.call("GET", "/coupon-series/sorry10")
    # When another admin creates a series with the same id (a new 50% series, they think)
    sign_in(page, system.url, org.org_id, "dana", "admin")
    page.get_by_role("link", name="Coupon series").click()
    form = page.get_by_role("form", name="Create a coupon series")
    form.get_by_label("Series id").fill("sorry10")
    form.get_by_label("Name", exact=True).fill("Half price")
    form.get_by_label("Discount value").fill("50")
    form.get_by_role("button", name="Create series").click()
    # Then the form says the series exists, next to the id, with a link to it, and keeps what was typed
    series_id = form.get_by_label("Series id")
    expect(series_id).to_have_attribute("aria-invalid", "true")
    error_id = series_id.get_attribute("aria-describedby").split()[-1]  # type: ignore[union-attr]
    expect(form.locator(f"#{error_id}")).to_have_text("A series with this id already exists: nothing was changed.")
    form.get_by_role("link", name="Show series sorry10").click()
    expect(page.locator('[data-series="sorry10"]')).to_be_focused()
    expect(form.get_by_label("Name", exact=True)).to_have_value("Half price")
    # And the existing series is left as it was
    assert org.call("GET", "/coupon-series/sorry10") == before

"""An agent's goodwill story in the browser: sign in, find the customer, give points."""

from __future__ import annotations

import requests
from playwright.sync_api import Page, Route, expect

from local.devserver.server import LocalSystem
from tests.console.conftest import Watch
from tests.console.ui import Org, give_points, no_horizontal_scroll, sign_in


def test_agent_gives_points_under_threshold_balance_shown(system: LocalSystem, org: Org, page: Page) -> None:
    # Given a customer with 100 points
    org.customer("c-ada", name="Ada Lovelace", email="ada@example.com", phone="+447700900123")
    org.grant("c-ada", 100)
    org.customer("c-adam", name="Adam Smith")
    org.customer("c-grace", name="Grace Hopper")
    # When an agent signs in and searches by the first letters of the name
    sign_in(page, system.url, org.org_id, "alice", "agent")
    page.get_by_label("Search customers").fill("ad")
    page.get_by_role("button", name="Search").click()
    results = page.get_by_role("region", name="Search results")
    expect(results.get_by_role("link")).to_have_count(2)
    expect(results.get_by_role("link", name="Grace Hopper")).to_have_count(0)
    # And opens the customer and gives 250 points
    results.get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_role("heading", name="Ada Lovelace", level=1)).to_be_visible()
    expect(page.get_by_test_id("current-default")).to_have_text("100")
    give_points(page, 250, "parcel 3 days late")
    # Then the answer says the points were added, with the new balance
    expect(page.get_by_role("status")).to_contain_text("Points added")
    expect(page.get_by_role("status")).to_contain_text("New balance: 350 points")
    # And the form is ready for the next grant, with its defaults back
    expect(page.get_by_label("Points")).to_have_value("")
    expect(page.get_by_label("Notify customer")).to_be_checked()
    expect(page.get_by_label("Counts towards tier")).to_be_checked()
    # And the customer page shows the balance and the ledger entry, newest first
    page.get_by_role("link", name="Back to the customer").click()
    expect(page.get_by_test_id("current-default")).to_have_text("350")
    ledger = page.get_by_role("region", name="Ledger")
    newest = ledger.get_by_role("row").nth(1)
    expect(newest).to_contain_text("+250")
    expect(newest).to_contain_text("CONSOLE")  # the source comes from the sign-in, not from a header
    no_horizontal_scroll(page)


def test_ledger_load_more_appends_older_entries(system: LocalSystem, org: Org, page: Page) -> None:
    # Given a customer with 12 ledger entries (a page is 10)
    org.customer("c-many", name="Many Entries")
    for points in range(1, 13):
        org.grant("c-many", points)
    sign_in(page, system.url, org.org_id, "alice", "agent")
    page.goto(f"{system.url}/console/#/customers/c-many")
    ledger = page.get_by_role("region", name="Ledger")
    rows = ledger.get_by_role("row")
    expect(rows).to_have_count(11)  # header + the 10 newest
    expect(rows.nth(1)).to_contain_text("+12")
    # When the agent asks for more
    ledger.get_by_role("button", name="Load more").click()
    # Then the two oldest are appended, and there is nothing more to load
    expect(rows).to_have_count(13)
    expect(rows.nth(12)).to_contain_text("+1")
    expect(ledger.get_by_role("button", name="Load more")).to_be_hidden()


def test_agent_reverses_a_ledger_entry(system: LocalSystem, org: Org, page: Page) -> None:
    # Given a customer with two grants
    org.customer("c-rev", name="Rev Erse")
    org.grant("c-rev", 100)
    org.grant("c-rev", 40)
    sign_in(page, system.url, org.org_id, "alice", "agent")
    page.goto(f"{system.url}/console/#/customers/c-rev")
    ledger = page.get_by_role("region", name="Ledger")
    newest = ledger.get_by_role("row").nth(1)
    expect(newest).to_contain_text("+40")
    # When the agent reverses the newest grant
    newest.get_by_role("button", name="Reverse").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Reason").select_option("CORRECTION")
    dialog.get_by_label("Comment").fill("given twice by mistake")
    dialog.get_by_role("button", name="Confirm reversal").click()
    # Then the balance drops back, the reversal is the newest entry and cannot itself be reversed
    expect(page.get_by_test_id("current-default")).to_have_text("100")
    # And the page, drawn again with the new balance, still says what happened
    expect(page.get_by_role("status")).to_have_text("The entry was reversed.")
    rows = ledger.get_by_role("row")
    expect(rows).to_have_count(4)
    expect(rows.nth(1)).to_contain_text("-40")
    expect(rows.nth(1).get_by_role("button", name="Reverse")).to_have_count(0)
    expect(rows.nth(2)).to_contain_text("Reversed")
    expect(rows.nth(2).get_by_role("button", name="Reverse")).to_have_count(0)
    expect(rows.nth(3).get_by_role("button", name="Reverse")).to_be_visible()


def test_reversal_waiting_for_approval_shown_on_the_refreshed_customer_page(
    system: LocalSystem, org: Org, page: Page
) -> None:
    # Given a customer with two grants, in an org where more than 10 points need an approver
    org.customer("c-rev", name="Rev Erse")
    org.grant("c-rev", 100)
    org.grant("c-rev", 40)
    org.config(points={"approval_threshold": 10})
    sign_in(page, system.url, org.org_id, "alice", "agent")
    page.goto(f"{system.url}/console/#/customers/c-rev")
    ledger = page.get_by_role("region", name="Ledger")
    newest = ledger.get_by_role("row").nth(1)
    expect(newest).to_contain_text("+40")
    # When the agent reverses the newest grant (202: it waits for an approver)
    newest.get_by_role("button", name="Reverse").click()
    page.get_by_role("dialog").get_by_role("button", name="Confirm reversal").click()
    # Then the page is drawn again: the request waits, the balance is unchanged
    requests = page.get_by_role("region", name="Goodwill requests")
    expect(requests.get_by_role("row").nth(1)).to_contain_text("Reversal -40 points")
    expect(requests.get_by_role("row").nth(1)).to_contain_text("Waiting for approval")
    expect(page.get_by_role("status")).to_have_text("The reversal is waiting for approval.")
    expect(page.get_by_test_id("current-default")).to_have_text("140")
    # And the entry offers no second reversal while the first one waits
    expect(newest).to_contain_text("Reversal waiting for approval")
    expect(newest.get_by_role("button", name="Reverse")).to_have_count(0)
    expect(ledger.get_by_role("row").nth(2).get_by_role("button", name="Reverse")).to_be_visible()


def test_a_zero_point_entry_offers_no_reverse(system: LocalSystem, org: Org, page: Page) -> None:
    # Given a customer with 100 points, and a SET import that sets them to 100 (a 0-point entry)
    org.customer("c-1", name="Ada")
    org.grant("c-1", 100)
    assert org.run_import("customer_id,points\nc-1,100\n", mode="SET")["totals"]["applied"] == 1
    [entry, *_] = org.call("GET", "/customers/c-1/transactions")["items"]
    assert (entry["type"], entry["points"]) == ("BULK_SET", 0)
    # (which the API never reverses: 409 NOT_REVERSIBLE)
    headers = {"X-Goodwill-Org": org.org_id, "X-Goodwill-Actor": "x", "X-Goodwill-Roles": "agent"}
    path = f"/customers/c-1/transactions/{entry['transaction_id']}/reverse"
    refused = requests.post(f"{system.url}{path}", json={"reason": "CORRECTION"}, headers=headers, timeout=20)
    assert refused.status_code == 409, refused.text
    # When an agent opens the customer
    sign_in(page, system.url, org.org_id, "alice", "agent")
    page.goto(f"{system.url}/console/#/customers/c-1")
    rows = page.get_by_role("region", name="Ledger").get_by_role("row")
    expect(rows).to_have_count(3)
    # Then the 0-point entry has no "Reverse" (CONTRACT.md 16: on each *reversible* row); the grant has
    expect(rows.nth(1).get_by_role("button", name="Reverse")).to_have_count(0)
    expect(rows.nth(2).get_by_role("button", name="Reverse")).to_be_visible()


def test_a_waiting_reversal_behind_ten_newer_requests_offers_no_second_reverse(
    system: LocalSystem, org: Org, page: Page
) -> None:
    # Given a 500-point entry whose reversal waits for an approver...
    org.customer("c-1", name="Ada")
    org.grant("c-1", 500)
    org.config(points={"approval_threshold": 100})
    [entry] = org.call("GET", "/customers/c-1/transactions")["items"]
    path = f"/customers/c-1/transactions/{entry['transaction_id']}/reverse"
    org.call("POST", path, {"reason": "CORRECTION"}, actor="bob", roles="agent")
    # ...and ten newer requests of the customer (the page shows 10 requests)
    for _ in range(10):
        org.grant("c-1", 200, actor="bob", roles="agent")
    # When an agent opens the customer
    sign_in(page, system.url, org.org_id, "alice", "agent")
    page.goto(f"{system.url}/console/#/customers/c-1")
    ledger = page.get_by_role("region", name="Ledger")
    expect(ledger.get_by_role("row")).to_have_count(2)
    # Then the entry says its reversal waits, with no second "Reverse" (which the API refuses, 409)
    expect(ledger.get_by_text("Reversal waiting for approval")).to_be_visible()
    expect(ledger.get_by_role("button", name="Reverse")).to_have_count(0)


def test_a_reversal_retried_after_a_lost_answer_reports_the_reversal(
    system: LocalSystem, org: Org, page: Page, watch: Watch
) -> None:
    watch.expect_4xx = True
    # Given a customer with a 100-point credit
    org.customer("c-1", name="Ada")
    org.grant("c-1", 100)
    sign_in(page, system.url, org.org_id, "alice", "agent")
    page.goto(f"{system.url}/console/#/customers/c-1")
    # And the first answer to the reversal is lost on its way back (the API applied it)
    lost: list[int] = []

    def lose_first_answer(route: Route) -> None:
        if lost:
            route.continue_()
            return
        lost.append(route.fetch().status)
        route.abort()

    page.route("**/transactions/*/reverse", lose_first_answer)
    page.get_by_role("button", name="Reverse").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Confirm reversal").click()
    expect(dialog.get_by_role("alert")).to_contain_text("could not be reached")
    assert lost == [201]
    watch.errors.clear()  # the aborted request's network error, provoked here
    # When the agent tries again, as the message says
    dialog.get_by_role("button", name="Confirm reversal").click()
    # Then the console reports the reversal that happened (the same Idempotency-Key: its first answer)
    expect(page.get_by_role("status")).to_have_text("The entry was reversed.")
    assert org.call("GET", "/customers/c-1")["balances"]["default"]["current"] == 0
    assert len(org.call("GET", "/customers/c-1/transactions")["items"]) == 2  # one reversal

"""An agent's goodwill story in the browser: sign in, find the customer, give points."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from local.server import LocalSystem
from tests.console.ui import Org, give_points, no_horizontal_scroll, sign_in


def test_agent_gives_points_under_threshold_balance_shown(system: LocalSystem, org: Org, page: Page) -> None:
    # Given a customer with 100 points
    org.customer("c-ada", name="Ada Lovelace", email="ada@example.com", phone="+447700900123")
    org.grant("c-ada", 100)
    # When an agent signs in, opens the customer and gives 250 points
    sign_in(page, system.url, org.org_id, "alice", "agent")
    page.goto(f"{system.url}/console/#/customers/c-ada")
    expect(page.get_by_role("heading", name="Ada Lovelace", level=1)).to_be_visible()
    expect(page.get_by_test_id("current-default")).to_have_text("100")
    give_points(page, 250, "parcel 3 days late")
    # Then the answer says the points were added, with the new balance
    expect(page.get_by_role("status")).to_contain_text("Points added")
    expect(page.get_by_role("status")).to_contain_text("New balance: 350 points")
    # And the customer page shows the balance and the ledger entry, newest first
    page.get_by_role("link", name="Back to the customer").click()
    expect(page.get_by_test_id("current-default")).to_have_text("350")
    ledger = page.get_by_role("region", name="Ledger")
    expect(ledger.get_by_role("row").nth(1)).to_contain_text("+250")
    no_horizontal_scroll(page)

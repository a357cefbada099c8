"""Batch decisions in the browser: POST /goodwill/request-decisions, a result shown per request."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from local.devserver.server import LocalSystem
from tests.console.conftest import Watch
from tests.console.ui import Org, sign_in


def test_batch_approve_three_with_own_request_two_approved_one_refused(
    system: LocalSystem, org: Org, page: Page, watch: Watch
) -> None:
    # Given three pending requests, one of them made by the approver
    org.config(points={"approval_threshold": 10})
    for customer in ("c-1", "c-2", "c-3"):
        org.customer(customer)
    org.grant("c-1", 100, actor="bob", roles="agent")
    org.grant("c-2", 200, actor="carol", roles="agent,approver")
    org.grant("c-3", 300, actor="bob", roles="agent")
    # When carol selects all three and approves them in one go
    sign_in(page, system.url, org.org_id, "carol", "approver")
    page.get_by_role("link", name="Approvals").click()
    for name in ("+100 points for c-1", "+200 points for c-2", "+300 points for c-3"):
        page.get_by_role("article", name=name).get_by_role("checkbox").check()
    page.get_by_role("button", name="Approve selected").click()
    page.get_by_role("dialog").get_by_role("button", name="Confirm approval").click()
    # Then each request shows its own outcome: two approved, hers refused
    expect(page.get_by_role("status").first).to_contain_text("2 of 3 approved; 1 refused")
    expect(page.get_by_role("article", name="+100 points for c-1")).to_contain_text("Decided: approved")
    expect(page.get_by_role("article", name="+300 points for c-3")).to_contain_text("Decided: approved")
    own = page.get_by_role("article", name="+200 points for c-2")
    expect(own.get_by_role("alert")).to_contain_text(re.compile("Refused: .*own request", re.IGNORECASE))
    expect(own.get_by_role("button", name="Approve", exact=True)).to_be_visible()

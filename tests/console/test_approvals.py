"""Maker-checker in the browser: a grant over the threshold waits, an approver decides it."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from local.devserver.server import LocalSystem
from tests.console.conftest import Watch
from tests.console.ui import Org, give_points, sign_in, sign_out


def test_grant_over_threshold_waits_then_approved_with_changed_points(
    system: LocalSystem, org: Org, page: Page
) -> None:
    # Given an org where grants above 1000 points need approval
    org.config(points={"approval_threshold": 1000})
    org.customer("c-ada", name="Ada Lovelace")
    # When an agent gives 1500 points
    sign_in(page, system.url, org.org_id, "alice", "agent")
    page.goto(f"{system.url}/console/#/customers/c-ada")
    give_points(page, 1500, "parcel lost twice")
    # Then the answer says plainly that the points wait for approval
    expect(page.get_by_role("status")).to_contain_text("Waiting for approval")
    page.get_by_role("link", name="Back to the customer").click()
    expect(page.get_by_test_id("current-default")).to_have_text("0")
    # When an approver signs in and approves it with 1200 points instead
    sign_out(page)
    sign_in(page, system.url, org.org_id, "carol", "approver")
    page.get_by_role("link", name="Approvals").click()
    card = page.get_by_role("article", name="+1,500 points for c-ada")
    card.get_by_role("button", name="Approve", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Points").fill("1200")
    dialog.get_by_label("Comment").fill("1200 is our policy for lost parcels")
    dialog.get_by_role("button", name="Confirm approval").click()
    expect(card).to_contain_text("Decided: approved")
    # Then the customer page shows the new balance once the workflow has applied it
    card.get_by_role("link", name="c-ada").click()
    expect(page.get_by_test_id("current-default")).to_have_text("1,200", timeout=30_000)
    # And the request's page shows its history: created, approved (1200), fulfilled, notification steps
    page.get_by_role("region", name="Goodwill requests").get_by_role("link", name="+1,200 points").click()
    history = page.get_by_role("region", name="History")
    expect(history).to_contain_text("created · alice")
    expect(history).to_contain_text("approved · carol")
    expect(history).to_contain_text("points 1,200")
    expect(history).to_contain_text("fulfilled")


def test_approver_deciding_own_request_sees_readable_refusal(
    system: LocalSystem, org: Org, page: Page, watch: Watch
) -> None:
    watch.expect_4xx = True  # the API answers 403: the console shows it as a message
    # Given a pending request made by carol herself
    org.config(points={"approval_threshold": 10})
    org.customer("c-bob", name="Bob")
    org.grant("c-bob", 50, actor="carol", roles="agent,approver")
    # When carol tries to approve it
    sign_in(page, system.url, org.org_id, "carol", "approver")
    page.get_by_role("link", name="Approvals").click()
    page.get_by_role("article", name="+50 points for c-bob").get_by_role("button", name="Approve", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Confirm approval").click()
    # Then the refusal is a sentence, not JSON, and the request still waits
    alert = dialog.get_by_role("alert")
    expect(alert).to_contain_text(re.compile("own request", re.IGNORECASE))
    expect(alert).not_to_contain_text("{")
    assert org.call("GET", "/goodwill/requests?status=PENDING_APPROVAL")["items"][0]["customer_id"] == "c-bob"


def test_agent_sees_queue_without_decision_buttons_and_403_as_message(
    system: LocalSystem, org: Org, page: Page, watch: Watch
) -> None:
    watch.expect_4xx = True
    org.config(points={"approval_threshold": 10})
    org.customer("c-1")
    org.grant("c-1", 100, actor="bob", roles="agent")
    sign_in(page, system.url, org.org_id, "alice", "agent")
    page.get_by_role("link", name="Approvals").click()
    card = page.get_by_role("article", name="+100 points for c-1")
    expect(card).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^(Approve|Reject)"))).to_have_count(0)
    expect(page.get_by_role("checkbox")).to_have_count(0)
    expect(page.get_by_role("link", name="Settings")).to_have_count(0)
    # An admin page opened by its address answers 403: shown as a message, the page still works
    page.goto(f"{system.url}/console/#/settings")
    expect(page.get_by_role("alert")).to_contain_text(re.compile("admin|permission|role", re.IGNORECASE))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_reject_without_comment_refused_at_field_then_rejected(
    system: LocalSystem, org: Org, page: Page, watch: Watch
) -> None:
    watch.expect_4xx = True  # the first try is a 422 on comment
    org.config(points={"approval_threshold": 10})
    org.customer("c-1")
    org.grant("c-1", 100, actor="bob", roles="agent")
    sign_in(page, system.url, org.org_id, "carol", "approver")
    page.get_by_role("link", name="Approvals").click()
    card = page.get_by_role("article", name="+100 points for c-1")
    card.get_by_role("button", name="Reject", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Confirm rejection").click()
    expect(dialog.get_by_label("Comment")).to_have_attribute("aria-invalid", "true")
    dialog.get_by_label("Comment").fill("not covered by the policy")
    dialog.get_by_role("button", name="Confirm rejection").click()
    expect(card).to_contain_text("Decided: rejected")
    request = org.call("GET", "/goodwill/requests?customer_id=c-1")["items"][0]
    assert (request["status"], request["decision_comment"]) == ("REJECTED", "not covered by the policy")

"""The console under the headers CloudFront adds when deployed (template.yaml,
ConsoleResponseHeadersPolicy): the same pages, the same story, and not one Content-Security-Policy
violation (an inline script or style, a foreign asset, eval would each be one)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, Route, expect

from local.aws.template import load
from local.devserver.server import LocalSystem
from tests.console.ui import Org, give_points, sign_in

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


def deployed_headers(system: LocalSystem) -> dict[str, str]:
    """The policy's headers as CloudFront sends them (the CSP resolved for this stack)."""
    policy = load()["Resources"]["ConsoleResponseHeadersPolicy"]["Properties"]
    security: Any = system.stack.resolver.resolve(policy)["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    return {
        "Content-Security-Policy": security["ContentSecurityPolicy"]["ContentSecurityPolicy"],
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": security["FrameOptions"]["FrameOption"],
        "Referrer-Policy": security["ReferrerPolicy"]["ReferrerPolicy"],
    }


def test_console_story_runs_under_the_deployed_security_headers(system: LocalSystem, org: Org, page: Page) -> None:
    # Given the console's pages served with the deployed headers
    headers = deployed_headers(system)
    assert "script-src 'self'" in headers["Content-Security-Policy"]

    under_policy: list[str] = []

    def with_headers(route: Route) -> None:
        served = route.fetch()
        route.fulfill(response=served, headers={**served.headers, **headers})
        under_policy.append(route.request.url.removeprefix(system.url))

    page.route("**/console/**", with_headers)
    page.context.add_init_script(RECORD_VIOLATIONS)
    org.customer("c-ada", name="Ada Lovelace", email="ada@example.com")
    # When an agent signs in, finds the customer and gives points
    sign_in(page, system.url, org.org_id, "alice", "agent")
    page.get_by_label("Search customers").fill("ada")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("region", name="Search results").get_by_role("link", name="Ada Lovelace").click()
    give_points(page, 25)
    expect(page.get_by_role("status")).to_contain_text("Points added")
    # Then the policy was in force and nothing the console does broke it
    assert {"/console/", "/console/js/main.js"} <= set(under_policy)
    assert page.evaluate("() => window.__violations") == []

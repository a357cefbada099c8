"""The deployed sign-in, played in the browser: Cognito's hosted UI and token endpoint and API
Gateway's Cognito authorizer are stood in for by Playwright routes on the local origin, so the
console's own code (authorization code + PKCE, token storage, refresh, sign-out, 401) runs as
deployed. Nothing leaves the machine."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from playwright.sync_api import Page, Route, expect

from local.devserver.server import LocalSystem
from tests.console.conftest import Watch
from tests.console.ui import Org

CLIENT_ID = "console-app-client"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def id_token(org: str, sub: str, serial: int) -> str:
    claims = {"custom:org_id": org, "sub": sub, "email": f"{sub}@example.com", "cognito:groups": ["agent"], "n": serial}
    return ".".join([b64url(b'{"alg":"none"}'), b64url(json.dumps(claims).encode()), "sig"])


class FakeCognito:
    """Hosted UI, token endpoint and the API's authorizer, as routes on the page."""

    def __init__(self, system: LocalSystem, org: str, expires_in: int = 3600) -> None:
        self.system, self.org, self.expires_in = system, org, expires_in
        self.domain = f"{system.url}/fake-cognito"
        self.authorize: dict[str, str] = {}
        self.grants: list[dict[str, str]] = []
        self.issued: list[str] = []
        self.api_tokens: list[str] = []
        self.logout: dict[str, str] = {}
        self.refuse_api = False

    def install(self, page: Page) -> None:
        config = {"mode": "cognito", "api_url": self.system.url, "cognito_domain": self.domain, "client_id": CLIENT_ID}
        page.route("**/console/config.json", lambda r: r.fulfill(json=config))
        page.route(lambda url: url.startswith(f"{self.domain}/oauth2/authorize?"), self.on_authorize)
        page.route(f"{self.domain}/oauth2/token", self.on_token)
        page.route(lambda url: url.startswith(f"{self.domain}/logout?"), self.on_logout)
        page.route(self.is_api, self.on_api)

    def is_api(self, url: str) -> bool:
        parts = urlsplit(url)
        return url.startswith(self.system.url) and not parts.path.startswith(("/console", "/fake-cognito"))

    def on_authorize(self, route: Route) -> None:
        self.authorize = {k: v[0] for k, v in parse_qs(urlsplit(route.request.url).query).items()}
        back = f"{self.authorize['redirect_uri']}?{urlencode({'code': 'the-code', 'state': self.authorize['state']})}"
        route.fulfill(status=302, headers={"Location": back})

    def on_token(self, route: Route) -> None:
        form = {k: v[0] for k, v in parse_qs(route.request.post_data or "").items()}
        self.grants.append(form)
        if form["grant_type"] == "authorization_code":
            verifier_ok = (
                b64url(hashlib.sha256(form["code_verifier"].encode()).digest()) == self.authorize["code_challenge"]
            )
            if not (verifier_ok and form["code"] == "the-code" and form["client_id"] == CLIENT_ID):
                route.fulfill(status=400, json={"error": "invalid_grant"})
                return
        token = id_token(self.org, "alice", len(self.issued))
        self.issued.append(token)
        body: dict[str, Any] = {
            "id_token": token,
            "access_token": "a",
            "expires_in": self.expires_in,
            "token_type": "Bearer",
        }
        if form["grant_type"] == "authorization_code":
            body["refresh_token"] = "the-refresh-token"
        route.fulfill(json=body)

    def on_logout(self, route: Route) -> None:
        self.logout = {k: v[0] for k, v in parse_qs(urlsplit(route.request.url).query).items()}
        route.fulfill(status=302, headers={"Location": self.logout["logout_uri"]})

    def on_api(self, route: Route) -> None:
        # API Gateway's Cognito authorizer: the ID token in Authorization, its claims to the function.
        token = route.request.headers.get("authorization", "")
        self.api_tokens.append(token)
        if self.refuse_api or token not in self.issued:
            route.fulfill(status=401, json={"message": "Unauthorized"})
            return
        claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        # The token is settled here: the local API gets its claims as the local claim headers.
        headers = {k: v for k, v in route.request.headers.items() if k != "authorization"}
        headers["x-goodwill-org"] = claims["custom:org_id"]
        headers["x-goodwill-actor"] = claims["sub"]
        headers["x-goodwill-roles"] = ",".join(claims["cognito:groups"])
        route.continue_(headers=headers)


def storage(page: Page) -> dict[str, Any]:
    return page.evaluate("() => ({local: {...localStorage}, session: {...sessionStorage}})")  # type: ignore[no-any-return]


def test_hosted_ui_code_pkce_sign_in_tokens_in_session_storage_and_sign_out(
    system: LocalSystem, org: Org, page: Page
) -> None:
    org.customer("c-ada", name="Ada Lovelace")
    cognito = FakeCognito(system, org.org_id)
    cognito.install(page)
    # When a person opens the console and signs in through the hosted UI
    page.goto(f"{system.url}/console/#/customers/c-ada")
    page.get_by_role("button", name="Sign in").click()
    # Then the hosted UI was asked for a code with PKCE (S256) and a state
    assert cognito.authorize["response_type"] == "code"
    assert cognito.authorize["client_id"] == CLIENT_ID
    assert cognito.authorize["code_challenge_method"] == "S256"
    assert cognito.authorize["redirect_uri"] == f"{system.url}/console/"
    # And after the code exchange (the verifier matched the challenge) the customer page opens
    expect(page.get_by_role("heading", name="Ada Lovelace", level=1)).to_be_visible()
    assert [g["grant_type"] for g in cognito.grants] == ["authorization_code"]
    assert "code=" not in page.url and page.url.endswith("#/customers/c-ada")
    # With the ID token on every API call, and tokens only in sessionStorage
    assert cognito.api_tokens and set(cognito.api_tokens) == {cognito.issued[0]}
    kept = storage(page)
    assert kept["local"] == {}
    assert "goodwill.pkce" not in kept["session"]  # the verifier is gone once used
    assert json.loads(kept["session"]["goodwill.session"])["id_token"] == cognito.issued[0]
    # When the person signs out, the hosted UI's logout is called and the tokens are gone
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert cognito.logout == {"client_id": CLIENT_ID, "logout_uri": f"{system.url}/console/"}
    assert storage(page)["session"] == {}


def test_token_near_expiry_refreshed_before_the_call(system: LocalSystem, org: Org, page: Page) -> None:
    org.customer("c-ada", name="Ada Lovelace")
    cognito = FakeCognito(system, org.org_id, expires_in=20)  # under the 30 s margin: refresh first
    cognito.install(page)
    page.goto(f"{system.url}/console/#/customers/c-ada")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Ada Lovelace", level=1)).to_be_visible()
    grants = [g["grant_type"] for g in cognito.grants]
    assert grants[0] == "authorization_code" and "refresh_token" in grants[1:]
    assert all(g["refresh_token"] == "the-refresh-token" for g in cognito.grants[1:])
    # No call went out with the token that was about to expire: each carried a refreshed one
    assert cognito.api_tokens and set(cognito.api_tokens) <= set(cognito.issued[1:])


def test_api_401_signs_out_with_a_message(system: LocalSystem, org: Org, page: Page, watch: Watch) -> None:
    watch.expect_4xx = True
    org.customer("c-ada", name="Ada Lovelace")
    cognito = FakeCognito(system, org.org_id)
    cognito.install(page)
    page.goto(f"{system.url}/console/#/customers/c-ada")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Ada Lovelace", level=1)).to_be_visible()
    # When the API refuses the token (revoked, expired elsewhere)
    cognito.refuse_api = True
    page.goto(f"{system.url}/console/#/customers/c-ada?again")
    # Then the person is signed out and told why
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("session has ended")
    assert "goodwill.session" not in storage(page)["session"]

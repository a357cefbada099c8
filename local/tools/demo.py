"""`make demo`: start the local system, play a scripted scenario over HTTP, print what happened.

Every step talks to the API exactly as a client would (urllib, the local claim headers). Steps
are plain functions registered with @step, run in order; a step whose route the template does
not deploy yet answers 404 "no such route" and is reported as skipped, so a feature's step can
be written before the feature lands. Exit status 0 only when every answer was the expected one.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO
from urllib.error import HTTPError
from urllib.request import Request, urlopen

ULID = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{26}\b")


@dataclass(frozen=True)
class Caller:
    org: str | None
    actor: str
    roles: str
    email: str | None = None

    def headers(self) -> dict[str, str]:
        found = {"X-Goodwill-Actor": self.actor, "X-Goodwill-Roles": self.roles}
        if self.org:
            found["X-Goodwill-Org"] = self.org
        if self.email:
            found["X-Goodwill-Email"] = self.email
        return found


@dataclass(frozen=True)
class ApiClient(Caller):
    """A storefront or service: its access token, and no claim headers."""

    token: str = ""

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def error(self) -> dict[str, Any]:
        return self.body.get("error", {}) if isinstance(self.body, dict) else {}

    @property
    def route_missing(self) -> bool:
        return self.status == 404 and self.error.get("message") == "no such route"


def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> Reply:
    hdrs = dict(headers or {})
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    if body is not None and not isinstance(body, bytes):
        hdrs.setdefault("Content-Type", "application/json")
    request = Request(url, data=data, method=method, headers=hdrs)
    try:
        with urlopen(request, timeout=30) as resp:
            status, raw, found = resp.status, resp.read(), dict(resp.headers)
    except HTTPError as exc:
        status, raw, found = exc.code, exc.read(), dict(exc.headers)
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return Reply(status, parsed, found)


class RouteMissing(Exception):
    """The template does not deploy this route yet: the step is skipped."""


class StepFailed(Exception):
    """An answer was not the expected one; already reported."""


@dataclass
class Scenario:
    url: str
    org: str = "acme"
    other_org: str = "globex"
    out: TextIO = sys.stdout
    state: dict[str, Any] = field(default_factory=dict)
    calls: int = 0
    failures: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    _title: str = ""
    _title_shown: bool = False

    def __post_init__(self) -> None:
        self.nonce = uuid.uuid4().hex[:8]
        self.admin = Caller(self.org, "alice", "admin", "alice@example.com")
        self.agent = Caller(self.org, "bob", "agent", "bob@example.com")
        self.approver = Caller(self.org, "carol", "approver", "carol@example.com")
        self.stranger = Caller(self.other_org, "mallory", "admin")
        self.no_org = Caller(None, "eve", "admin")

    # ------------------------------------------------------------------ calling the API
    def call(
        self,
        who: Caller,
        route: str,
        body: Any = None,
        *,
        expect: int | Iterable[int] = 200,
        facts: Callable[[Reply], str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """`route` is "METHOD /path?query"; an unexpected status ends the step as failed."""
        method, path = route.split(" ", 1)
        reply = http(method, self.url + path, body, {**who.headers(), **(headers or {})})
        self.calls += 1
        wanted = {expect} if isinstance(expect, int) else set(expect)
        if reply.route_missing and 404 not in wanted:
            self.line(route, "404 skipped (route not deployed)")
            raise RouteMissing(route)
        if reply.status not in wanted:
            detail = _error_facts(reply) or str(reply.body)[:120]
            self.line(route, f"{reply.status} FAIL expected {sorted(wanted)}  {detail}")
            self.failures.append(f"{self._title}: {route} -> {reply.status}")
            raise StepFailed(route)
        self.line(route, f"{reply.status} ok  {facts(reply) if facts else _error_facts(reply)}")
        return reply

    def wait(
        self,
        who: Caller,
        path: str,
        until: Callable[[Reply], bool],
        facts: Callable[[Reply], str],
        timeout: float = 15,
    ) -> Reply:
        """GET `path` until `until` holds (workflows run asynchronously), then report it."""
        deadline = time.monotonic() + timeout
        while True:
            reply = http("GET", self.url + path, headers=who.headers())
            done = reply.status == 200 and until(reply)
            if done or reply.status != 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.calls += 1
        if reply.route_missing:
            self.line(f"GET {path}", "404 skipped (route not deployed)")
            raise RouteMissing(path)
        summary = facts(reply) if reply.status == 200 else _error_facts(reply)
        self.line(f"GET {path}", f"{reply.status} {'ok' if done else 'FAIL'}  {summary}")
        if not done:
            self.failures.append(f"{self._title}: GET {path} never got there: {summary}")
            raise StepFailed(path)
        return reply

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            self.line("check", f"FAIL {message}")
            self.failures.append(f"{self._title}: {message}")

    # ------------------------------------------------------------------ printing
    def line(self, call: str, result: str) -> None:
        title, self._title_shown = ("" if self._title_shown else self._title), True
        call = ULID.sub(lambda m: f"{m[0][:6]}..{m[0][-4:]}", call)
        print(f"{title:<36} {call:<46} {result}", file=self.out)

    def note(self, text: str) -> None:
        print(f"{'':<36} {text}", file=self.out)

    def begin(self, title: str) -> None:
        self._title, self._title_shown = title, False


def _error_facts(reply: Reply) -> str:
    err = reply.error
    return f"{err.get('code')}: {err.get('message')}" if err else ""


STEPS: list[tuple[str, Callable[[Scenario], None]]] = []


def step(title: str) -> Callable[[Callable[[Scenario], None]], Callable[[Scenario], None]]:
    def register(fn: Callable[[Scenario], None]) -> Callable[[Scenario], None]:
        STEPS.append((title, fn))
        return fn

    return register


POINTS = "POST /goodwill/points"


def points(customer: str, amount: int, **extra: Any) -> dict[str, Any]:
    body = {"customer_id": customer, "program_id": "default", "points": amount}
    return {**body, "reason": "SERVICE_RECOVERY", **extra}


def granted(r: Reply) -> str:
    req, bal, txn = r.body["request"], r.body.get("balance"), r.body.get("transaction") or {}
    after = f"  balance {bal['current']}/{bal['lifetime']} (current/lifetime)" if bal else ""
    amount = f"{req['points']:+d}" if isinstance(req.get("points"), int) else ""
    return f"{req['status']} {txn.get('type', req['type'])} {amount}{after}"


def status(r: Reply) -> str:
    body = r.body.get("request", r.body)
    decided = f" by {body['decided_by']}" if body.get("decided_by") else ""
    return f"{body['status']}{decided}"


# ---------------------------------------------------------------------- the scenario
def _config_facts(r: Reply) -> str:
    threshold = r.body["points"]["approval_threshold"]
    return f"programs {r.body['programs']}, {len(r.body['reasons'])} reasons, approval above {threshold}"


@step("admin configures the org")
def configure(s: Scenario) -> None:
    codes = ["SERVICE_RECOVERY", "LATE_DELIVERY", "DAMAGED_ITEM", "CORRECTION", "BULK_ADJUSTMENT"]
    config = {
        "programs": ["default"],
        "reasons": [{"code": c, "label": c.replace("_", " ").capitalize()} for c in codes],
        "points": {"approval_threshold": 1000},
        "channels": {"mandatory": [], "priority": ["SMS", "EMAIL", "PUSH"]},
    }
    s.call(s.admin, "PUT /config", config, facts=_config_facts)


CUSTOMERS = {
    "c-1": {"name": "Ada Lovelace", "email": "ada@example.com", "phone": "+15555550101"},
    "c-2": {"name": "Grace Hopper", "email": "grace@example.com", "phone": "+15555550102"},
    "c-3": {"name": "Alan Turing", "email": "alan@example.com"},
}


def _customer_facts(r: Reply) -> str:
    verb = "created" if r.status == 201 else "replaced"
    return f"{verb} {r.body['name']} <{r.body['email']}> {r.body['phone'] or ''}".rstrip()


@step("admin creates customers")
def create_customers(s: Scenario) -> None:
    for customer_id, profile in CUSTOMERS.items():
        s.call(s.admin, f"PUT /customers/{customer_id}", profile, expect=(200, 201), facts=_customer_facts)
    # Create-only (If-None-Match: *), as the console's Add customer does: an existing id is kept.
    reply = s.call(s.admin, "PUT /customers/c-1", {"name": "Someone Else"}, expect=412, headers={"If-None-Match": "*"})
    s.check(reply.error.get("code") == "PRECONDITION_FAILED", "expected PRECONDITION_FAILED")


@step("admin adds a webhook")
def add_webhook(s: Scenario) -> None:
    from local.devserver.webhook_receiver import Receiver

    receiver = s.state["receiver"] = Receiver().start()
    body = {"url": receiver.url, "event_types": ["Points Changed"], "description": "demo receiver"}
    shown = lambda r: f"{r.body['url']} secret {r.body['secret'][:10]}..."  # noqa: E731
    reply = s.call(s.admin, f"PUT /webhooks/demo-{s.nonce}", body, expect=201, facts=shown)
    s.state["webhook_secret"] = reply.body["secret"]


@step("agent grants points")
def grant(s: Scenario) -> None:
    body = points("c-1", 500, reason="LATE_DELIVERY", comment="parcel 3 days late")
    body["customer_message"] = "Sorry your parcel was late!"
    reply = s.call(s.agent, POINTS, body, expect=201, facts=granted)
    s.state["grant"] = reply.body["request"]["request_id"]
    s.state["balance"] = reply.body["balance"]["current"]


@step("the webhook gets the grant, signed")
def webhook_delivery(s: Scenario) -> None:
    from local.devserver.webhook_receiver import verify

    receiver = s.state.get("receiver")
    if receiver is None:
        raise RouteMissing("webhooks")
    deadline = time.monotonic() + 15
    while not receiver.deliveries and time.monotonic() < deadline:
        time.sleep(0.1)
    s.check(bool(receiver.deliveries), "the receiver got no delivery")
    if receiver.deliveries:
        got = receiver.deliveries[0]
        valid = verify(s.state["webhook_secret"], got.body, got.headers["Goodwill-Signature"])
        s.line(
            "POST (to the receiver)",
            f"{got.event['event_type']} {got.event['points']} points, signature {'verified' if valid else 'INVALID'}",
        )
        s.check(valid, "the signature did not verify")
    s.call(s.admin, f"GET /webhooks/demo-{s.nonce}", facts=_last_attempt)
    s.call(s.admin, "GET /_local/events", facts=_published)


def _last_attempt(r: Reply) -> str:
    attempts = r.body["last_attempts"]
    return f"last attempt {attempts[0]['outcome']} ({attempts[0]['status_code']})" if attempts else "no attempt"


def _published(r: Reply) -> str:
    items = r.body["items"]
    return f"{len(items)} event(s) on the bus, newest {items[0]['detail-type'] if items else None}"


@step("agent deducts points")
def deduct(s: Scenario) -> None:
    body = points("c-1", -120, reason="CORRECTION", comment="double credit last week")
    reply = s.call(s.agent, POINTS, body, expect=201, facts=granted)
    s.state["balance"] = reply.body["balance"]["current"]


@step("an overdraft is refused")
def overdraft(s: Scenario) -> None:
    # below the approval threshold: refused by the balance check itself
    body = points("c-1", -(s.state["balance"] + 100), reason="CORRECTION")
    reply = s.call(s.agent, POINTS, body, expect=409)
    s.check(reply.error.get("code") == "INSUFFICIENT_BALANCE", "expected INSUFFICIENT_BALANCE")


@step("a retry changes nothing")
def idempotent_retry(s: Scenario) -> None:
    key = {"Idempotency-Key": f"refund-{s.nonce}"}
    body = points("c-2", 250, comment="order 42 refund")
    first = s.call(s.agent, POINTS, body, expect=201, headers=key, facts=granted)
    again = s.call(s.agent, POINTS, body, expect=201, headers=key, facts=lambda r: "same key, same body")
    s.check(again.body == first.body, "a repeat with the same key must replay the first answer")
    if again.body == first.body:
        s.note("-> the first answer, replayed (same request_id and balance)")
    s.call(s.agent, POINTS, {**body, "points": 999}, expect=409, headers=key)
    once = first.body["balance"]["current"]
    credited = lambda r: f"balance {r.body['balances']['default']['current']}: credited once"  # noqa: E731
    reply = s.call(s.agent, "GET /customers/c-2", facts=credited)
    s.check(reply.body["balances"]["default"]["current"] == once, "the retry credited twice")


@step("invalid input is refused")
def invalid(s: Scenario) -> None:
    reply = s.call(s.agent, POINTS, points("c-1", 0, reason="nope"), expect=422)
    fields = sorted({d["field"] for d in reply.error.get("details", [])})
    s.check(reply.error.get("code") == "VALIDATION_ERROR" and "points" in fields, f"fields {fields}")


def _balances(r: Reply) -> str:
    found = ", ".join(f"{p} {b['current']}/{b['lifetime']}" for p, b in r.body["balances"].items())
    return f"{r.body['name']}  balances {found}"


@step("agent reads a customer")
def read_customer(s: Scenario) -> None:
    s.call(s.agent, "GET /customers/c-1", facts=_balances)


@step("agent reads the ledger")
def read_ledger(s: Scenario) -> None:
    reply = s.call(
        s.agent, "GET /customers/c-1/transactions?limit=10", facts=lambda r: f"{len(r.body['items'])} entries"
    )
    s.note(f"{'created_at':<25}{'type':<17}{'points':>7}{'current':>9}{'lifetime':>9}  reason")
    for e in reply.body["items"]:
        s.note(
            f"{e['created_at']:<25}{e['type']:<17}{e['points']:>+7d}{e['current_after']:>9}"
            f"{e['lifetime_after']:>9}  {e['reason']} by {e['actor']}: {e.get('comment') or ''}"
        )


def approve(s: Scenario, request_id: str, **body: Any) -> None:
    """An approver approves; the workflow fulfils the request within seconds."""
    s.call(s.approver, f"POST /goodwill/requests/{request_id}/approve", body, facts=status)
    path = f"/goodwill/requests/{request_id}"
    reply = s.wait(s.agent, path, lambda r: r.body["status"] not in UNDECIDED, status)
    s.check(reply.body["status"] == "FULFILLED", f"the request ended {reply.body['status']}")


UNDECIDED = ("PENDING_APPROVAL", "APPROVED")


@step("a large grant waits for approval")
def approval(s: Scenario) -> None:
    body = points("c-2", 2500, comment="cancelled flight")
    reply = s.call(s.agent, POINTS, body, expect=202, facts=status)
    request_id = reply.body["request"]["request_id"]
    s.call(s.agent, f"POST /goodwill/requests/{request_id}/approve", {}, expect=403)
    approve(s, request_id, comment="ok, flight cancelled")


@step("approver rejects a request")
def rejection(s: Scenario) -> None:
    reply = s.call(s.agent, POINTS, points("c-3", 5000), expect=202, facts=status)
    reject = f"POST /goodwill/requests/{reply.body['request']['request_id']}/reject"
    s.call(s.approver, reject, {"comment": "too generous"}, facts=status)


@step("nobody approves their own")
def self_approval(s: Scenario) -> None:
    reply = s.call(s.approver, POINTS, points("c-1", 2000), expect=202, facts=status)
    request_id = reply.body["request"]["request_id"]
    reply = s.call(s.approver, f"POST /goodwill/requests/{request_id}/approve", {}, expect=403)
    s.check(reply.error.get("code") == "SELF_APPROVAL_FORBIDDEN", "expected SELF_APPROVAL_FORBIDDEN")


def _series_facts(r: Reply) -> str:
    unit = "%" if r.body["discount"]["type"] == "PERCENT" else ""
    return f"{r.body['name']}: {r.body['discount']['value']}{unit} off for {r.body['valid_days']} days"


@step("agent issues a coupon")
def coupon(s: Scenario) -> None:
    series = {"name": "Welcome back", "discount": {"type": "PERCENT", "value": 10}, "valid_days": 30}
    s.call(s.admin, "PUT /coupon-series/welcome-10", series, expect=(200, 201), facts=_series_facts)
    body = {"customer_id": "c-1", "series_id": "welcome-10", "reason": "SERVICE_RECOVERY"}
    reply = s.call(s.agent, "POST /goodwill/coupons", body, expect=(201, 202), facts=status)
    if reply.status == 202:
        approve(s, reply.body["request"]["request_id"])
    codes = lambda r: ", ".join(f"{c['code']} until {c['expires_at'][:10]}" for c in r.body["items"])  # noqa: E731
    s.call(s.agent, "GET /customers/c-1/coupons", facts=codes)


BULK_CSV = """email,points,reason,comment
ada@example.com,100,BULK_ADJUSTMENT,spring campaign
grace@example.com,100,,spring campaign
alan@example.com,50,,
nobody@example.com,10,,no such customer
"""


@step("admin uploads a bulk CSV")
def bulk_import(s: Scenario) -> None:
    body = {"program_id": "default", "mode": "ADD"}
    reply = s.call(s.admin, "POST /goodwill/bulk-imports", body, expect=201, facts=lambda r: r.body["status"])
    upload = http("PUT", reply.body["upload_url"], BULK_CSV.encode(), reply.body.get("upload_headers"))
    s.line("PUT <upload_url> (4 rows, 1 bad)", f"{upload.status} {'ok' if upload.status == 200 else 'FAIL'}")
    s.check(upload.status == 200, f"the upload answered {upload.status}")
    path = f"/goodwill/bulk-imports/{reply.body['import_id']}"
    done = s.wait(s.admin, path, lambda r: r.body["status"] in FINISHED, status, timeout=20)
    s.note(f"-> totals {done.body.get('totals')}")
    s.check(done.body["status"] == "COMPLETED_WITH_ERRORS", "one bad row: COMPLETED_WITH_ERRORS")
    s.state["import_id"] = reply.body["import_id"]


FINISHED = ["COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED"]


@step("admin reverts the bulk import")
def bulk_revert(s: Scenario) -> None:
    import_id = s.state.get("import_id")
    s.check(bool(import_id), "the bulk import step ran first")
    path = f"/goodwill/bulk-imports/{import_id}"
    s.call(s.admin, f"POST {path}/revert", {"comment": "wrong file"}, expect=202, facts=status)
    ended = lambda r: r.body["status"] in ("REVERTED", "REVERTED_WITH_ERRORS")  # noqa: E731
    done = s.wait(s.admin, path, ended, lambda r: f"{r.body['status']} {r.body['revert']['totals']}", timeout=20)
    s.check(done.body["revert"]["totals"]["reversed"] == 3, "each of the 3 applied rows reversed once")
    again = s.call(s.admin, f"POST {path}/revert", {}, expect=409)
    s.check(again.error.get("code") == "NOT_REVERTIBLE", "an import is reverted at most once")


@step("agent reverses a mistaken grant")
def reversal(s: Scenario) -> None:
    body = points("c-2", 40, comment="meant for another customer", notify=False)
    txn = s.call(s.agent, POINTS, body, expect=201, facts=granted).body["transaction"]["transaction_id"]
    undo = {"reason": "CORRECTION", "comment": "granted to the wrong customer"}
    route = f"POST /customers/c-2/transactions/{txn}/reverse"
    reply = s.call(s.agent, route, undo, expect=201, facts=granted)
    s.check(reply.body["transaction"]["reverses"] == txn, "the reversal names the entry it reverses")
    again = s.call(s.agent, route, undo, expect=409)
    s.check(again.error.get("code") == "ALREADY_REVERSED", "an entry is reversed at most once")


@step("unspent points expire")
def expiry(s: Scenario) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=2)
    body = points("c-3", 30, comment="expires in 2 s", notify=False, expires_at=soon.isoformat())
    s.call(s.agent, POINTS, body, expect=201, facts=granted)
    expiring = lambda r: f"expiring {r.body['balances']['default']['expiring']}"  # noqa: E731
    s.call(s.agent, "GET /customers/c-3", facts=expiring)
    while datetime.now(UTC) <= soon:
        time.sleep(0.2)
    ran = lambda r: f"run {r.body['status']}"  # noqa: E731
    s.call(s.agent, "POST /_local/schedules/expire-points/run", facts=ran)
    entries = lambda r: ", ".join(f"{e['type']} {e['points']}" for e in r.body["items"][:2])  # noqa: E731
    reply = s.call(s.agent, "GET /customers/c-3/transactions?limit=2", facts=entries)
    s.check(reply.body["items"][0]["type"] == "EXPIRY", "the lot expired as an EXPIRY entry")


@step("the customer is told")
def notifications(s: Scenario) -> None:
    wiring = (http("GET", f"{s.url}/_local/health").body or {}).get("environment")
    if wiring is not None and not wiring.get("NOTIFY_STATE_MACHINE_ARN"):
        s.line("(no NOTIFY_STATE_MACHINE_ARN)", "skipped (notification workflow not deployed)")
        raise RouteMissing("notifications")
    path = f"/goodwill/requests/{s.state['grant']}"
    told = lambda r: f"{len(r.body['notifications'])} notification(s)"  # noqa: E731
    reply = s.wait(s.agent, path, lambda r: bool(r.body["notifications"]), told, timeout=10)
    sent = reply.body["notifications"]
    for n in sent:
        s.note(f"-> {n['channel']} {n['status']} to {n.get('to')} {n.get('error') or ''}".rstrip())
    s.check(any(n["status"] == "SENT" for n in sent), "no notification was sent")


@step("a storefront calls with its own credentials")
def storefront(s: Scenario) -> None:
    scopes = ["goodwill/points.write", "goodwill/customers.read"]
    created = s.call(s.admin, "POST /api-clients", {"name": "Web shop", "scopes": scopes}, expect=201)
    client_id, secret = created.body["client_id"], created.body["client_secret"]
    s.note(f"-> client {client_id}, secret shown once, tokens at {created.body['token_url']}")
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    form = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {basic}"}
    token = http("POST", created.body["token_url"], b"grant_type=client_credentials", form)
    s.calls += 1
    s.check(token.status == 200 and token.body.get("token_type") == "Bearer", f"token endpoint said {token.status}")
    shop = ApiClient(None, f"client:{client_id}", "", token=str(token.body.get("access_token", "")))
    key = {"Idempotency-Key": f"order-{s.nonce}", "X-Goodwill-Source": "CONSOLE"}
    body = points("c-1", 40, comment="order 1001")
    first = s.call(shop, POINTS, body, expect=201, headers=key, facts=granted)
    txn = first.body.get("transaction", {})
    s.check((txn.get("actor"), txn.get("source")) == (f"client:{client_id}", "API"), f"recorded as {txn}")
    again = s.call(shop, POINTS, body, expect=201, headers=key, facts=lambda r: "replayed: same answer")
    s.check(again.body == first.body, "the replay must return the first answer")
    s.call(shop, f"GET /goodwill/requests/{s.state['grant']}", expect=403)  # outside its scopes
    s.call(s.admin, f"DELETE /api-clients/{client_id}", facts=lambda r: "revoked")
    s.call(shop, "GET /customers/c-1", expect=401)


@step("an agent is refused admin work")
def forbidden(s: Scenario) -> None:
    s.call(s.agent, "PUT /config", {"programs": ["default"]}, expect=403)


@step("another org sees nothing")
def tenancy(s: Scenario) -> None:
    s.call(s.stranger, "GET /customers/c-1", expect=404)
    s.call(s.stranger, f"GET /goodwill/requests/{s.state['grant']}", expect=404)


@step("a caller without an org")
def unauthenticated(s: Scenario) -> None:
    s.call(s.no_org, "GET /customers/c-1", expect=401)


# ---------------------------------------------------------------------- running it
def run(url: str, org: str = "acme", out: TextIO = sys.stdout) -> Scenario:
    """Play every step against the API at `url`; the Scenario holds calls, failures, skips."""
    s = Scenario(url.rstrip("/"), org=org, other_org=f"{org}-rival", out=out)
    started = time.monotonic()
    print(f"Goodwill demo: org {org!r} at {s.url}", file=out)
    for number, (title, fn) in enumerate(STEPS, 1):
        s.begin(f"{number:>2} {title}")
        try:
            fn(s)
        except RouteMissing:
            s.skipped.append(title)
        except StepFailed:
            pass
        except Exception as exc:  # a step that breaks is reported as a failure, not hidden
            s.line("step", f"FAIL {type(exc).__name__}: {exc}")
            s.failures.append(f"{title}: {type(exc).__name__}: {exc}")
    print_outbox(s)
    took = time.monotonic() - started
    verdict = "all as expected" if not s.failures else f"{len(s.failures)} UNEXPECTED"
    print(
        f"{len(STEPS)} steps, {s.calls} calls in {took:.1f} s: {verdict}; {len(s.skipped)} skipped (not deployed yet)",
        file=out,
    )
    for failure in s.failures:
        print(f"  FAILED {failure}", file=out)
    return s


def print_outbox(s: Scenario) -> None:
    reply = http("GET", f"{s.url}/_local/outbox")
    if reply.status != 200:
        print(f"Outbox: not available ({reply.status})", file=s.out)
        return
    items = reply.body["items"]
    print(f"Outbox ({len(items)} sent, newest first)", file=s.out)
    for item in items[:20]:
        text = " ".join(str(item["body"]).split())
        subject = f"[{item['subject']}] " if item.get("subject") else ""
        print(f"  {item['sent_at']}  {item['channel']:<5} {item['to']:<22} {subject}{text}"[:160], file=s.out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="play against a running `make local` instead of starting one")
    parser.add_argument("--org", default="acme")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    if args.url:
        failed = bool(run(args.url, args.org).failures)
        print(f"Member Care console (the same story in a browser): {args.url.rstrip('/')}/console/")
        return 1 if failed else 0
    from local.devserver.server import start

    started = time.monotonic()
    print("Starting the local system ...", flush=True)
    system = start(parameters={"LogLevel": "ERROR"})  # the transcript, not the logs
    print(f"started in {time.monotonic() - started:.1f} s", flush=True)
    try:
        scenario = run(system.url, args.org)
    finally:
        system.stop()
    print("Member Care console (the same story in a browser): `make local`, then http://127.0.0.1:3000/console/")
    return 0 if not scenario.failures else 1


if __name__ == "__main__":
    raise SystemExit(main())

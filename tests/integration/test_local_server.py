"""The local run (`make local`, `make demo`): real HTTP to the API, moto's server behind it."""

from __future__ import annotations

import contextlib
import io
import json
import socket
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
import requests

from local.aws import template
from local.devserver import server
from local.devserver.server import LocalSystem, start
from local.tools import demo

ADMIN = {"X-Goodwill-Org": "acme", "X-Goodwill-Actor": "alice", "X-Goodwill-Roles": "admin"}
ADMIN_LINES = "".join(f"{k}: {v}\r\n" for k, v in ADMIN.items())


@pytest.fixture(autouse=True)
def _aws_credentials() -> None:
    """Replaces the suite's fixture: here the local system owns the AWS environment."""


@pytest.fixture(scope="module")
def system() -> Iterator[LocalSystem]:
    running = start(parameters={"LogLevel": "ERROR"})
    yield running
    running.stop()


def exchange(system: LocalSystem, request: bytes, *, half_close: bool = True) -> bytes:
    """Raw bytes to the local API; what the client receives until the server closes (or 5 s pass)."""
    host, port = system.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(request)
        if half_close:
            conn.shutdown(socket.SHUT_WR)
        received = b""
        with contextlib.suppress(TimeoutError, ConnectionError):
            while chunk := conn.recv(65536):
                received += chunk
        return received


def outbox(system: LocalSystem, **query: str) -> list[dict[str, Any]]:
    reply = requests.get(f"{system.url}/_local/outbox", params=query, timeout=10)
    assert reply.status_code == 200
    return reply.json()["items"]  # type: ignore[no-any-return]


def test_put_customer_with_claim_headers_is_created(system: LocalSystem) -> None:
    # When an admin PUTs a customer with the local claim headers
    body = {"name": "Ada Lovelace", "phone": "+15555550101"}
    reply = requests.put(f"{system.url}/customers/srv-1", json=body, headers=ADMIN, timeout=10)
    # Then it is created and reads back with its balances
    assert reply.status_code == 201, reply.text
    assert reply.headers["Content-Type"] == "application/json"
    got = requests.get(f"{system.url}/customers/srv-1", headers=ADMIN, timeout=10)
    assert got.status_code == 200
    assert got.json()["balances"] == {"default": {"current": 0, "lifetime": 0, "expiring": []}}


def test_an_id_with_at_and_colon_sent_percent_encoded_is_that_customer(system: LocalSystem) -> None:
    # Given customers whose ids hold "@" and ":" (the id pattern admits both)
    for cid in ("ada@example.com", "shop:42"):
        assert requests.put(f"{system.url}/customers/{cid}", json={"name": "Ada"}, headers=ADMIN, timeout=10).ok
        # When a client (the console's encodeURIComponent) sends the id percent-encoded, which
        # API Gateway hands the function as sent
        encoded = cid.replace("@", "%40").replace(":", "%3A")
        got = requests.get(f"{system.url}/customers/{encoded}", headers=ADMIN, timeout=10)
        # Then it is that customer
        assert got.status_code == 200, got.text
        assert got.json()["customer_id"] == cid


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Goodwill-Actor": "alice", "X-Goodwill-Roles": "admin"}],
    ids=["no-claims", "no-org"],
)
def test_request_without_org_header_is_unauthorized(system: LocalSystem, headers: dict[str, str]) -> None:
    reply = requests.get(f"{system.url}/customers/srv-1", headers=headers, timeout=10)
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "UNAUTHORIZED"


def test_person_id_token_signed_with_the_published_key_is_served_over_http(system: LocalSystem) -> None:
    from joserfc import jwt
    from joserfc.jwk import KeySet

    from local.aws import tokens

    published = requests.get(f"{system.url}{tokens.JWKS_PATH}", timeout=10).json()
    env = system.stack.functions.merged_environment()
    person = {"custom:org_id": "acme", "sub": "alice", "cognito:groups": "admin"}
    token = tokens.sign(tokens.id_token_claims(person, env["CONSOLE_CLIENT_ID"], env["USER_POOL_ID"]))
    assert jwt.decode(token, KeySet.import_key_set(published), algorithms=["RS256"]).claims["sub"] == "alice"
    reply = requests.get(f"{system.url}/api-clients", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert reply.status_code == 200, reply.text
    forged = tokens.sign(
        tokens.id_token_claims(person, env["CONSOLE_CLIENT_ID"], env["USER_POOL_ID"]), tokens.new_key()
    )
    assert (
        requests.get(f"{system.url}/api-clients", headers={"Authorization": f"Bearer {forged}"}, timeout=10).status_code
        == 401
    )


def test_unknown_route_is_404_with_the_error_shape(system: LocalSystem) -> None:
    reply = requests.get(f"{system.url}/no/such/route", headers=ADMIN, timeout=10)
    assert reply.status_code == 404
    assert reply.json() == {"error": {"code": "NOT_FOUND", "message": "no such route", "details": []}}


@pytest.mark.parametrize(
    ("method", "path"), [("DELETE", "/config"), ("PATCH", "/customers/c-1"), ("POST", "/customers")]
)
def test_a_method_the_path_lacks_is_404_as_the_deployed_api_answers(
    system: LocalSystem, method: str, path: str
) -> None:
    # API Gateway answers a method the resource lacks with MISSING_AUTHENTICATION_TOKEN, which
    # template.yaml maps to 404 NOT_FOUND (CONTRACT.md section 2), not 405
    gateway = template.load()["Resources"]["GoodwillApi"]["Properties"]["GatewayResponses"]
    missing = gateway["MISSING_AUTHENTICATION_TOKEN"]
    reply = requests.request(method, f"{system.url}{path}", headers=ADMIN, timeout=10)
    assert reply.status_code == int(missing["StatusCode"]) == 404
    assert reply.json() == json.loads(missing["ResponseTemplates"]["application/json"])


@pytest.mark.parametrize("path", ["/console/", "/console/config.json", "/openapi.json", "/_local/health"])
def test_head_of_a_local_file_or_route_is_its_get_without_the_body(system: LocalSystem, path: str) -> None:
    got = requests.get(f"{system.url}{path}", timeout=30)
    head = requests.head(f"{system.url}{path}", timeout=30)
    assert (head.status_code, head.content) == (got.status_code, b"") == (200, b""), head.status_code
    assert head.headers["Content-Type"] == got.headers["Content-Type"]
    assert int(head.headers["Content-Length"]) == len(got.content)


def test_head_of_an_api_route_is_the_404_headers_with_no_body(system: LocalSystem) -> None:
    # API Gateway routes HEAD as its own method, which no route has: the missing-route 404
    with requests.Session() as session:  # one kept-alive connection: nothing is left on it after HEAD
        head = session.head(f"{system.url}/customers/srv-1", headers=ADMIN, timeout=10)
        missing = session.request("PATCH", f"{system.url}/customers/srv-1", headers=ADMIN, timeout=10)
    assert (head.status_code, head.headers["Content-Type"], head.content) == (404, "application/json", b"")
    assert int(head.headers["Content-Length"]) == len(missing.content)
    assert missing.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("framing", "body", "status"),
    [
        ("Content-Length: abc", "{}", 400),
        ("Content-Length: -5", "{}", 400),
        ("Content-Length: 2\r\nContent-Length: 3", "{}", 400),
        ("Content-Length: 99999999999999", "{}", 413),
        (f"Content-Length: {10 * 1024 * 1024 + 1}", "{}", 413),  # API Gateway's 10 MB payload limit
        ("Transfer-Encoding: chunked", "zz\r\n{}\r\n0\r\n\r\n", 400),
        ("Transfer-Encoding: chunked", "1\r\n{}\r\n0\r\n\r\n", 400),
        ("Transfer-Encoding: chunked\r\nContent-Length: 2", "2\r\n{}\r\n0\r\n\r\n", 400),
        ("Transfer-Encoding: gzip", "{}", 400),
    ],
    ids=[
        "non-numeric",
        "negative",
        "two-lengths",
        "huge",
        "over-10MB",
        "bad-chunk-size",
        "long-chunk",
        "te-and-cl",
        "gzip",
    ],
)
def test_malformed_framing_is_answered_in_the_error_shape_and_closed(
    system: LocalSystem, framing: str, body: str, status: int
) -> None:
    # Once dropped with no answer (a huge length after a MemoryError); now refused before any route
    for path in ("/_local/oauth2/token", "/customers/frame-1"):
        head = f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Goodwill-Org: acme\r\n{framing}\r\n\r\n"
        answer, _, payload = exchange(system, (head + body).encode()).partition(b"\r\n\r\n")
        assert answer.startswith(f"HTTP/1.1 {status} ".encode()), (path, answer)
        assert b"\r\nConnection: close" in answer
        code = {400: "BAD_REQUEST", 413: "PAYLOAD_TOO_LARGE"}[status]  # one code for a body too large
        assert json.loads(payload)["error"]["code"] == code
    assert requests.get(f"{system.url}/customers/frame-1", headers=ADMIN, timeout=10).status_code == 404


def test_a_body_over_the_limit_is_refused_before_it_is_sent(system: LocalSystem) -> None:
    head = f"PUT /customers/frame-2 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {10 * 1024 * 1024 + 1}\r\n\r\n"
    assert exchange(system, head.encode(), half_close=False).startswith(b"HTTP/1.1 413 ")


def test_a_chunked_body_is_read_whole(system: LocalSystem) -> None:
    chunks = iter([b'{"name": ', b'"Chunked"}'])  # requests sends a generator chunked
    reply = requests.put(f"{system.url}/customers/frame-3", data=chunks, headers=ADMIN, timeout=10)
    assert reply.status_code == 201, reply.text
    assert reply.json()["name"] == "Chunked"


@pytest.mark.parametrize("framing", ["Content-Length: 64\r\n\r\n", "Transfer-Encoding: chunked\r\n\r\n40\r\n"])
def test_a_body_cut_short_by_the_client_is_not_applied(system: LocalSystem, framing: str) -> None:
    # The client announces 64 bytes, sends 17 and gives up: API Gateway never forwards such a
    # request; the local server read to the end of the stream and applied what had arrived
    head = f"PUT /customers/frame-cut HTTP/1.1\r\nHost: 127.0.0.1\r\n{ADMIN_LINES}{framing}"
    assert exchange(system, head.encode() + b'{"name": "Trunc"}') == b""
    assert requests.get(f"{system.url}/customers/frame-cut", headers=ADMIN, timeout=10).status_code == 404


@pytest.mark.parametrize(
    "sent", ["", "PUT /customers/frame-idle HTTP/1.1\r\n", "BODY"], ids=["nothing", "head", "body"]
)
def test_a_client_that_stops_sending_is_disconnected_and_nothing_is_applied(
    system: LocalSystem, monkeypatch: pytest.MonkeyPatch, sent: str
) -> None:
    # Once a connection that stalled (nothing sent, half a head, half a body) was held for ever
    assert server._ApiHandler.timeout is not None and server._ApiHandler.timeout <= 60  # a stall is bounded
    monkeypatch.setattr(server._ApiHandler, "timeout", 0.5)  # the same bound, reached in half a second
    head = f"PUT /customers/frame-idle HTTP/1.1\r\nHost: 127.0.0.1\r\n{ADMIN_LINES}Content-Length: 64\r\n\r\n"
    partial = (head + '{"name": "Idle"' if sent == "BODY" else sent).encode()
    host, port = system.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(partial)
        assert conn.recv(65536) == b""  # closed by the server, long before the client's 10 s
    assert requests.get(f"{system.url}/customers/frame-idle", headers=ADMIN, timeout=10).status_code == 404


def test_a_body_that_is_not_utf8_is_400_and_writes_nothing(system: LocalSystem) -> None:
    # A Windows tool sending Latin-1: once decoded with replacement characters and stored (201)
    headers = {**ADMIN, "Content-Type": "application/json"}
    latin1 = '{"name": "Zoë Brontë"}'.encode("latin-1")
    reply = requests.put(f"{system.url}/customers/enc-1", data=latin1, headers=headers, timeout=10)
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"] == {"code": "BAD_REQUEST", "message": "the request body is not UTF-8", "details": []}
    assert requests.get(f"{system.url}/customers/enc-1", headers=ADMIN, timeout=10).status_code == 404
    # API Gateway's own answers come first; the same name in UTF-8 is stored as sent
    assert requests.put(f"{system.url}/no/such", data=latin1, headers=headers, timeout=10).status_code == 404
    for refused in ({}, {"Authorization": "Bearer not-a-token"}):  # no caller; the authorizer's refusal
        assert (
            requests.put(f"{system.url}/customers/enc-1", data=latin1, headers=refused, timeout=10).status_code == 401
        )
    utf8 = requests.put(
        f"{system.url}/customers/enc-1", data=latin1.decode("latin-1").encode(), headers=headers, timeout=10
    )
    assert (utf8.status_code, utf8.json()["name"]) == (201, "Zoë Brontë")


def test_malformed_json_reaches_the_handler_and_is_400(system: LocalSystem) -> None:
    headers = {**ADMIN, "Content-Type": "application/json"}
    reply = requests.put(f"{system.url}/config", data="{nope", headers=headers, timeout=10)
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "BAD_REQUEST"


def test_health_lists_routes_and_endpoint(system: LocalSystem) -> None:
    body = requests.get(f"{system.url}/_local/health", timeout=10).json()
    assert body["status"] == "ok"
    assert body["aws_endpoint_url"] == system.moto_url
    assert "PUT /customers/{customer_id}" in body["routes"]


def test_outbox_lists_sms_emails_and_push_newest_first(system: LocalSystem) -> None:
    # Given one message per channel, sent through moto's server as the workflows send them
    tag = uuid.uuid4().hex[:6]
    sns, ses, sesv2 = (system.stack.client(n) for n in ("sns", "ses", "sesv2"))
    sns.publish(PhoneNumber="+15555550199", Message=f"sms {tag}")
    outbox(system)  # the outbox stamps what it sees: observe between sends to fix the order
    ses.send_email(
        Source="goodwill@example.com",
        Destination={"ToAddresses": [f"{tag}@example.com"]},
        Message={"Subject": {"Data": "Hello"}, "Body": {"Text": {"Data": f"email {tag}"}}},
    )
    outbox(system)
    sesv2.send_email(
        FromEmailAddress="goodwill@example.com",
        Destination={"ToAddresses": [f"{tag}@example.com"]},
        Content={"Simple": {"Subject": {"Data": "Again"}, "Body": {"Text": {"Data": f"v2 {tag}"}}}},
    )
    outbox(system)
    raw = EmailMessage()
    raw["From"], raw["To"], raw["Subject"] = "goodwill@example.com", f"raw-{tag}@example.com", "Raw"
    raw.set_content(f"raw {tag}")
    ses.send_raw_email(RawMessage={"Data": raw.as_bytes()})
    outbox(system)
    app = sns.create_platform_application(Name=f"app-{tag}", Platform="GCM", Attributes={})
    endpoint = sns.create_platform_endpoint(PlatformApplicationArn=app["PlatformApplicationArn"], Token=f"token-{tag}")[
        "EndpointArn"
    ]
    push = json.dumps({"default": f"push {tag}", "GCM": json.dumps({"data": {}})})
    sns.publish(TargetArn=endpoint, Message=push, MessageStructure="json")

    # When the outbox is read
    items = [i for i in outbox(system) if tag in i["body"]]

    # Then every message is there, newest first, in the contract's shape
    assert [(i["channel"], i["to"], i["subject"], i["body"]) for i in items] == [
        ("PUSH", endpoint, None, f"push {tag}"),
        ("EMAIL", f"raw-{tag}@example.com", "Raw", f"raw {tag}"),
        ("EMAIL", f"{tag}@example.com", "Again", f"v2 {tag}"),
        ("EMAIL", f"{tag}@example.com", "Hello", f"email {tag}"),
        ("SMS", "+15555550199", None, f"sms {tag}"),
    ]
    assert all(i["sent_at"].endswith("Z") for i in items)
    sms_only = outbox(system, channel="SMS", to="+15555550199")
    assert {i["channel"] for i in sms_only} == {"SMS"}


def test_state_machine_executes_and_its_sms_reaches_the_outbox(system: LocalSystem) -> None:
    # Given a state machine that texts a customer (the Step Functions interpreter calls back
    # into moto's server on MOTO_PORT)
    tag = uuid.uuid4().hex[:6]
    sfn = system.stack.client("stepfunctions")
    definition = {
        "StartAt": "Text",
        "States": {
            "Text": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {"PhoneNumber": "+15555550177", "Message": f"sfn {tag}"},
                "End": True,
            }
        },
    }
    arn = sfn.create_state_machine(
        name=f"probe-{tag}",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/goodwill-local",
    )["stateMachineArn"]

    # When it runs
    run = sfn.start_execution(stateMachineArn=arn, name=f"run-{tag}")["executionArn"]
    deadline = time.monotonic() + 10
    while (status := sfn.describe_execution(executionArn=run)["status"]) == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)

    # Then it succeeded and the SMS is in the outbox
    assert status == "SUCCEEDED"
    assert [i["body"] for i in outbox(system, channel="SMS", to="+15555550177")] == [f"sfn {tag}"]


def test_demo_scenario_plays_through_with_every_answer_as_expected(system: LocalSystem) -> None:
    out = io.StringIO()
    scenario = demo.run(system.url, org=f"demo-{uuid.uuid4().hex[:6]}", out=out)
    assert not scenario.failures, out.getvalue()
    assert scenario.calls >= 20


def test_local_api_holds_64_concurrent_clients_without_reset_or_5xx(system: LocalSystem) -> None:
    """A burst of 64 clients connecting at once (three rounds, a fresh connection each): every one
    is answered, none reset, none 5xx. The listen backlog of http.server's default (5) dropped some."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    clients = 64
    assert system._api.request_queue_size >= clients  # the listen backlog takes the whole burst
    assert requests.put(f"{system.url}/customers/load-1", json={"name": "L"}, headers=ADMIN, timeout=10).ok
    barrier = threading.Barrier(clients)

    def client(_: int) -> list[int | str]:
        answers: list[int | str] = []
        for _round in range(3):
            barrier.wait(30)
            try:
                got = requests.get(
                    f"{system.url}/customers/load-1", headers={**ADMIN, "Connection": "close"}, timeout=60
                )
                answers.append(got.status_code)
            except requests.ConnectionError as exc:
                answers.append(type(exc.__context__ or exc).__name__)
        return answers

    with ThreadPoolExecutor(max_workers=clients) as pool:
        answers = [a for batch in pool.map(client, range(clients)) for a in batch]
    assert len(answers) == 3 * clients
    assert answers == [200] * len(answers), sorted({str(a) for a in answers})


def test_schedules_are_listed_and_run_on_demand_until_finished(system: LocalSystem) -> None:
    # Given a lot that expires two seconds from now
    from datetime import UTC, datetime, timedelta

    agent = {**ADMIN, "X-Goodwill-Roles": "agent"}
    assert requests.put(f"{system.url}/customers/exp-1", json={"name": "Ex"}, headers=ADMIN, timeout=10).ok
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    grant = {"customer_id": "exp-1", "program_id": "default", "points": 25, "reason": "REWARD", "expires_at": soon}
    assert requests.post(f"{system.url}/goodwill/points", json=grant, headers=agent, timeout=10).status_code == 201
    health = requests.get(f"{system.url}/_local/health", timeout=10).json()
    assert "expire-points" in health["schedules"]
    while datetime.now(UTC).isoformat() <= soon:
        time.sleep(0.2)
    # When the expiry schedule is run on demand
    reply = requests.post(f"{system.url}/_local/schedules/expire-points/run", timeout=120)
    # Then it answers once the run has finished, and the lot has expired
    assert reply.status_code == 200 and reply.json()["status"] == "SUCCEEDED", reply.text
    ledger = requests.get(f"{system.url}/customers/exp-1/transactions", headers=agent, timeout=10).json()["items"]
    assert [(e["type"], e["points"]) for e in ledger] == [("EXPIRY", -25), ("GOODWILL_CREDIT", 25)]
    assert requests.post(f"{system.url}/_local/schedules/nope/run", timeout=10).status_code == 404

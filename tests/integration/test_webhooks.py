"""Webhooks: URLs refused, signed deliveries to the org's own endpoints, retries, the dead-letter queue."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from goodwill import aws
from goodwill.webhooks import delivery, urls
from local.aws.stack import Stack
from local.devserver.webhook_receiver import Receiver, verify
from tests.integration.test_events import _stream_records
from tests.support import ADMIN, AGENT, OTHER_ADMIN, Api

PUBLIC = "93.184.215.14"


@pytest.fixture
def local_webhooks(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOODWILL_LOCAL_WEBHOOKS", "true")
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "0.5")
    aws.reset_clients()


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    started: list[Receiver] = []
    yield started
    for receiver in started:
        receiver.stop()


def _receiver(receivers: list[Receiver], **kw: Any) -> Receiver:
    receiver = Receiver(**kw).start()
    receivers.append(receiver)
    return receiver


def _hook(api: Api, webhook_id: str, url: str, as_: dict[str, str] = ADMIN, **body: Any) -> dict[str, Any]:
    reply = api.put(f"/webhooks/{webhook_id}", {"url": url, "event_types": ["Points Changed"], **body}, as_=as_)
    assert reply.status == 201, reply.body
    return reply.body  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://hooks.example.com/x", "https"),
        ("https://10.0.0.7/x", "private"),
        ("https://169.254.169.254/latest/meta-data", "private"),
        ("https://[::1]/x", "private"),
        ("https://localhost/x", "private"),
        ("https://user:pw@hooks.example.com/x", "without user"),
        ("https://internal.example.com/x", "private"),
        ("https://nowhere.invalid/x", "cannot be resolved"),
        ("http://127.0.0.1:8080/x", "https"),  # only the local run may call 127.0.0.1
        ("https://hooks.example.com/" + "a" * 2030, "2048"),
        # accepted before, but no request line can carry them (or urlsplit silently drops them)
        ("https://hooks.example.com/goodwill hooks", "spaces or control characters"),
        ("https://hooks.example.com/x?to=ada lovelace", "spaces or control characters"),
        ("https://hooks.example.com/x\ty", "spaces or control characters"),
        ("https://hooks.example.com/x?a=1\r\nX-Injected: 1", "spaces or control characters"),
        ("https://hooks.example.com/x\x00", "spaces or control characters"),
        ("https://hooks.example.com/x\x7f", "spaces or control characters"),
        ("https://hooks.example.com/caf\u00e9", "percent-encode"),
        ("https://hooks.example.com:0/x", "1-65535"),  # accepted before, then POSTed to 443
        ("https://hooks.example.com:65536/x", "not a URL"),
    ],
)
def test_put_refuses_urls_that_are_not_public_https(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch, url: str, why: str
) -> None:
    fake_dns = {"hooks.example.com": [PUBLIC], "internal.example.com": [PUBLIC, "10.1.2.3"], "localhost": ["127.0.0.1"]}

    def resolve(host: str, port: int) -> list[str]:
        if host not in fake_dns:
            raise OSError("Name or service not known")
        return fake_dns[host]

    monkeypatch.setattr(urls, "resolve", resolve)
    reply = api.put("/webhooks/w-1", {"url": url, "event_types": ["Points Changed"]})
    assert reply.status == 422, reply.body
    assert reply.fields() == {"url"}
    assert why in json.dumps(reply.body)
    assert api.get("/webhooks").body["items"] == []


def test_put_get_list_delete_show_the_secret_only_when_created(api: Api, stack: Stack) -> None:
    # When an admin creates a webhook to a public address, replaces it, lists and deletes it
    created = _hook(api, "crm", f"https://{PUBLIC}/goodwill", description="CRM")
    replaced = api.put("/webhooks/crm", {"url": f"https://{PUBLIC}/v2", "event_types": ["Coupon Issued"]})
    listed = api.get("/webhooks").body["items"]
    one = api.get("/webhooks/crm").body

    # Then the secret is shown once, the replacement keeps the id, and deleting makes it 404
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert replaced.status == 200 and "secret" not in replaced.body
    assert [w["url"] for w in listed] == [f"https://{PUBLIC}/v2"]
    assert (one["event_types"], one["last_attempts"]) == (["Coupon Issued"], [])
    assert api.get("/webhooks", as_=OTHER_ADMIN).body["items"] == []
    assert api.get("/webhooks/crm", as_=AGENT).status == 403
    assert api.call("DELETE", "/webhooks/crm").status == 200
    assert api.get("/webhooks/crm").status == 404
    assert api.call("DELETE", "/webhooks/crm").status == 404


@pytest.mark.parametrize("webhook_id", ["a%23b", "crm hooks", "-crm", "caf%C3%A9"])
def test_a_new_webhooks_id_is_an_id_and_anything_else_is_422_naming_it(api: Api, webhook_id: str) -> None:
    # Once any 64 characters: `#` (the keys' separator), spaces, non-ASCII were accepted as ids
    reply = api.put(f"/webhooks/{webhook_id}", {"url": f"https://{PUBLIC}/x", "event_types": ["Points Changed"]})
    assert reply.status == 422 and reply.fields() == {"webhook_id"}, reply.body
    assert api.get("/webhooks").body["items"] == []
    assert _hook(api, "crm:v2@eu", f"https://{PUBLIC}/x")["webhook_id"] == "crm:v2@eu"


def test_events_reach_only_the_orgs_own_receivers_signed(
    api: Api, stack: Stack, local_webhooks: None, receivers: list[Receiver]
) -> None:
    # Given a receiver of acme for points, one of acme for coupons only, and one of globex
    mine, coupons_only, theirs = (_receiver(receivers) for _ in range(3))
    secret = _hook(api, "mine", mine.url)["secret"]
    _hook(api, "coupons", coupons_only.url, event_types=["Coupon Issued"])
    _hook(api, "theirs", theirs.url, as_=OTHER_ADMIN)
    api.customer("c-1")

    # When acme grants points
    grant = api.grant("c-1", 100)
    stack.settle()

    # Then only acme's points receiver got it, once, signed with its secret
    assert (len(coupons_only.deliveries), len(theirs.deliveries)) == (0, 0)
    (got,) = mine.deliveries
    assert verify(secret, got.body, got.headers["Goodwill-Signature"])
    assert not verify(secret, got.body + b" ", got.headers["Goodwill-Signature"])
    assert got.event["event_type"] == got.headers["Goodwill-Event-Type"] == "Points Changed"
    assert got.event["event_id"] == got.headers["Goodwill-Event-Id"]
    assert (got.event["org_id"], got.event["transaction_id"]) == ("acme", grant.body["transaction"]["transaction_id"])
    (attempt,) = api.get("/webhooks/mine").body["last_attempts"]
    assert (attempt["outcome"], attempt["status_code"], attempt["error"]) == ("DELIVERED", 200, None)

    # and a redelivered stream record does not reach the receiver a second time
    stack.functions.by_id["StreamEventsFunction"].invoke({"Records": _stream_records(stack)})
    stack.settle()
    assert len(mine.deliveries) == 1


def _end_back_off(stack: Stack) -> int:
    """Show every hidden message of the webhook queue again (its back-off has passed); how many."""
    from moto.core.utils import unix_time_millis
    from moto.sqs.models import sqs_backends

    queue = sqs_backends["123456789012"]["us-east-1"].queues[stack.attr("WebhookQueue", "QueueName")]
    hidden = [m for m in queue._messages if not m.visible]
    for message in hidden:
        message.visible_at = unix_time_millis() - 1
    return len(hidden)


def test_failing_receivers_are_retried_then_dead_lettered_without_holding_up_the_others(
    api: Api, stack: Stack, local_webhooks: None, receivers: list[Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a receiver that answers 500, one that times out, and one that works
    broken, slow, fine = _receiver(receivers, status=500), _receiver(receivers, delay=1.5), _receiver(receivers)
    for name, receiver in (("broken", broken), ("slow", slow), ("fine", fine)):
        _hook(api, name, receiver.url)
    api.customer("c-1")

    back_offs: list[int] = []
    real = aws.sqs().change_message_visibility
    monkeypatch.setattr(
        aws.sqs(), "change_message_visibility", lambda **kw: back_offs.append(kw["VisibilityTimeout"]) or real(**kw)
    )

    # When a grant is made, the failed deliveries come back after their back-off, and after 24 h
    assert api.grant("c-1", 100).status == 201
    stack.settle()
    assert _end_back_off(stack) == 2
    stack.pump_queues()
    assert _end_back_off(stack) == 2
    monkeypatch.setattr(delivery, "RETRY_FOR", timedelta(0))  # the 24 h are over
    stack.pump_queues()

    # Then the working receiver got it once; the others were tried after 30 s and 60 s, then dead-lettered
    assert len(fine.deliveries) == 1
    assert back_offs == [30, 30, 60, 60]
    assert (len(broken.deliveries), len(slow.deliveries)) == (3, 3)
    broken_attempts = api.get("/webhooks/broken").body["last_attempts"]
    assert [(a["attempt"], a["outcome"], a["status_code"], a["error"]) for a in broken_attempts] == [
        (3, "DEAD_LETTERED", 500, "HTTP 500"),
        (2, "RETRYING", 500, "HTTP 500"),
        (1, "RETRYING", 500, "HTTP 500"),
    ]
    slow_attempts = api.get("/webhooks/slow").body["last_attempts"]
    assert [a["outcome"] for a in slow_attempts] == ["DEAD_LETTERED", "RETRYING", "RETRYING"]
    assert all(a["status_code"] is None and "timed out" in a["error"] for a in slow_attempts)
    sqs = stack.client("sqs")
    dead = sqs.receive_message(QueueUrl=stack.ref("WebhookDeadLetterQueue"), MaxNumberOfMessages=10)["Messages"]
    assert sorted(json.loads(m["Body"])["webhook_id"] for m in dead) == ["broken", "slow"]
    assert _end_back_off(stack) == 0 and stack.pump_queues() == 0  # nothing left to retry
    # A message an operator redrives from the dead-letter queue (a new message) is tried again
    [redriven] = [m["Body"] for m in dead if json.loads(m["Body"])["webhook_id"] == "broken"]
    sqs.send_message(QueueUrl=stack.ref("WebhookQueue"), MessageBody=redriven)
    stack.pump_queues()
    assert len(broken.deliveries) == 4


def test_back_off_doubles_from_30_seconds_to_an_hour() -> None:
    assert [delivery.delay(n) for n in (1, 2, 3, 4, 7, 8, 30)] == [30, 60, 120, 240, 1920, 3600, 3600]


def test_a_webhook_subscribed_to_points_expiring_gets_the_reminder_event(
    api: Api, stack: Stack, local_webhooks: None, receivers: list[Receiver]
) -> None:
    from tests.integration.test_expiry import days, run

    # Given a receiver that wants only Points Expiring, and a lot expiring in 10 days
    receiver = _receiver(receivers)
    secret = _hook(api, "tiers", receiver.url, event_types=["Points Expiring"])["secret"]
    api.customer("c-1")
    credit = api.grant("c-1", 40, expires_at=days(10), notify=False).body["transaction"]
    stack.settle()
    assert receiver.deliveries == []

    # When the expiry run sends the lot's reminder
    assert run(days(4))["reminded"] == 1
    stack.settle()

    # Then the receiver got that one event, signed
    (got,) = receiver.deliveries
    assert verify(secret, got.body, got.headers["Goodwill-Signature"])
    assert (got.event["event_type"], got.event["transaction_id"], got.event["points"]) == (
        "Points Expiring",
        credit["transaction_id"],
        40,
    )


class _Rebinding:
    """A resolver stub for hooks.example.com: a public address until `flip`, a private one after."""

    def __init__(self, later: str = "10.0.0.5") -> None:
        self.answers = [PUBLIC]
        self.later = later
        self.calls = 0

    def flip(self) -> None:
        self.answers = [self.later]

    def __call__(self, host: str, port: int) -> list[str]:
        assert host == "hooks.example.com"
        self.calls += 1
        return list(self.answers)


@pytest.mark.parametrize("later", ["10.0.0.5", "169.254.169.254", "127.0.0.1"])
def test_a_host_that_resolves_to_a_private_address_at_delivery_is_refused_and_recorded(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch, later: str
) -> None:
    import socket

    # Given a webhook whose host was public when it was saved
    dns = _Rebinding(later)
    monkeypatch.setattr(urls, "resolve", dns)
    connected: list[Any] = []
    monkeypatch.setattr(socket, "create_connection", lambda *a, **kw: connected.append(a) or pytest.fail("connected"))
    _hook(api, "crm", "https://hooks.example.com/goodwill")
    api.customer("c-1")

    # When the name resolves to a private address by the time an event is delivered
    dns.flip()
    assert api.grant("c-1", 100).status == 201
    stack.settle()

    # Then nothing was connected to, and the attempt is a failure saying why (retried later)
    assert connected == []
    (attempt,) = api.get("/webhooks/crm").body["last_attempts"]
    assert (attempt["outcome"], attempt["status_code"]) == ("RETRYING", None)
    assert attempt["error"] == (
        "refused: the host hooks.example.com resolves to a private, loopback or link-local address"
    )


def test_a_delivery_connects_to_the_address_it_checked_with_tls_on_the_host_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import socket
    import ssl

    from goodwill.webhooks import sender

    # Given a name that answers a public address once, then a private one (a rebinding attacker)
    dns = _Rebinding()
    monkeypatch.setattr(urls, "resolve", lambda host, port: (dns(host, port), dns.flip())[0])
    connected: list[tuple[str, int]] = []
    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **kw: connected.append(address) or object())
    handshakes: list[str | None] = []

    class Tls:
        def wrap_socket(self, sock: object, server_hostname: str | None = None) -> object:
            handshakes.append(server_hostname)
            raise ssl.SSLCertVerificationError("certificate verify failed: Hostname mismatch")

    trusted = sender.tls_context()
    monkeypatch.setattr(sender, "tls_context", lambda: Tls())
    message = {"payload": {"a": 1}, "event_id": "e-1", "event_type": "Points Changed"}

    # When one delivery is made
    status, error = sender.post("https://hooks.example.com/goodwill?x=1", "whsec_x", message)

    # Then the name was resolved once, the connection went to the public address that was checked,
    # and TLS was spoken to (and verified against) the host name; its failure is the attempt's error
    assert dns.calls == 1
    assert connected == [(PUBLIC, 443)]
    assert handshakes == ["hooks.example.com"]
    assert status is None and error and error.startswith("SSLCertVerificationError") and "Hostname mismatch" in error
    assert (trusted.verify_mode, trusted.check_hostname) == (ssl.CERT_REQUIRED, True)


def _stored(webhook_id: str, org_id: str = "acme") -> dict[str, Any]:
    from goodwill.repositories import keys, table

    item = table.get(keys.webhook(org_id, webhook_id))
    assert item is not None
    return item


def test_secrets_are_stored_encrypted_and_decrypted_once_per_instance(
    api: Api, stack: Stack, local_webhooks: None, receivers: list[Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    from goodwill.repositories import webhook_secrets
    from tests.support import table_items

    webhook_secrets.clear_cache()  # a fresh delivery instance
    decrypts: list[str] = []
    real = aws.kms().decrypt
    monkeypatch.setattr(aws.kms(), "decrypt", lambda **kw: decrypts.append(kw["KeyId"]) or real(**kw))

    # Given a webhook created by an admin
    receiver = _receiver(receivers)
    secret = _hook(api, "crm", receiver.url)["secret"]
    api.customer("c-1")

    # Then the table holds only a ciphertext, bound to this webhook (another's context refuses it)
    stored = _stored("crm")
    assert "secret" not in stored and secret not in json.dumps(table_items(stack))
    blob = base64.b64decode(stored["secret_ciphertext"])
    context = {"goodwill:org_id": "acme", "goodwill:webhook_id": "other"}
    with pytest.raises(aws.kms().exceptions.InvalidCiphertextException):
        real(KeyId=stack.attr("WebhookSecretKey", "Arn"), CiphertextBlob=blob, EncryptionContext=context)

    # When three grants are delivered
    for points in (1, 2, 3):
        assert api.grant("c-1", points).status == 201
    stack.settle()

    # Then each is signed with the secret, and the instance asked KMS once, with the stack's key
    assert len(receiver.deliveries) == 3
    assert all(verify(secret, d.body, d.headers["Goodwill-Signature"]) for d in receiver.deliveries)
    assert decrypts == [stack.attr("WebhookSecretKey", "Arn")]


def test_a_webhook_saved_with_a_plaintext_secret_keeps_working_and_is_sealed_on_its_next_put(
    api: Api, stack: Stack, local_webhooks: None, receivers: list[Receiver]
) -> None:
    from goodwill.repositories import keys, table

    # Given a webhook stored before secrets were encrypted (a plaintext secret, no ciphertext)
    receiver = _receiver(receivers)
    _hook(api, "old", receiver.url)
    legacy = {k: v for k, v in _stored("old").items() if k != "secret_ciphertext"}
    table.put({**legacy, **keys.webhook("acme", "old"), "secret": "whsec_legacy"})
    api.customer("c-1")

    # When an event is delivered, the admin replaces the webhook, and another is delivered
    assert api.grant("c-1", 1).status == 201
    stack.settle()
    assert api.put("/webhooks/old", {"url": receiver.url, "event_types": ["Points Changed"]}).status == 200
    sealed = _stored("old")
    assert api.grant("c-1", 2).status == 201
    stack.settle()

    # Then both were signed with the old secret, which the PUT moved into a ciphertext
    assert [verify("whsec_legacy", d.body, d.headers["Goodwill-Signature"]) for d in receiver.deliveries] == [
        True,
        True,
    ]
    assert "secret" not in sealed and sealed["secret_ciphertext"]


def test_a_secret_kms_cannot_decrypt_is_a_failed_attempt_and_nothing_is_sent(
    api: Api, stack: Stack, local_webhooks: None, receivers: list[Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    from goodwill.repositories import webhook_secrets

    # Given a webhook, and KMS refusing every Decrypt
    receiver = _receiver(receivers)
    _hook(api, "crm", receiver.url)
    api.customer("c-1")
    webhook_secrets.clear_cache()
    refused: list[bool] = []

    def decrypt(**kw: Any) -> Any:
        refused.append(True)
        raise ClientError({"Error": {"Code": "KMSInternalException", "Message": "down"}}, "Decrypt")

    monkeypatch.setattr(aws.kms(), "decrypt", decrypt)

    # When an event is delivered
    assert api.grant("c-1", 1).status == 201
    stack.settle()

    # Then the fault fired, nothing went out unsigned, and the attempt says why (retried later)
    assert refused and receiver.deliveries == []
    (attempt,) = api.get("/webhooks/crm").body["last_attempts"]
    assert (attempt["outcome"], attempt["error"]) == (
        "RETRYING",
        "the signing secret could not be decrypted (KMS KMSInternalException)",
    )


def _trickling_receiver(seconds_per_byte: float) -> tuple[str, threading.Thread, list[int]]:
    """Accepts one POST, then sends a 2xx one byte at a time: never silent for a whole timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    sent = [0]

    def serve() -> None:
        conn, _ = server.accept()
        conn.settimeout(5)
        conn.recv(65536)
        for byte in TRICKLED:
            time.sleep(seconds_per_byte)
            try:
                conn.send(bytes([byte]))
            except OSError:
                break
            sent[0] += 1
        conn.close()
        server.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.getsockname()[1]}/hooks", thread, sent


TRICKLED = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 40 + b"\r\nContent-Length: 0\r\n\r\n"


def test_a_receiver_trickling_its_answer_is_cut_off_at_the_timeout_as_a_failed_attempt(
    stack: Stack, local_webhooks: None
) -> None:
    from goodwill.webhooks import sender

    # Given a receiver that answers 200 a byte every 0.1 s (each read well inside the 0.5 s timeout)
    url, thread, sent = _trickling_receiver(0.1)
    message = {"payload": {"a": 1}, "event_id": "e-1", "event_type": "Points Changed"}
    # When one delivery is made
    status, error = sender.post(url, "whsec_x", message)
    thread.join(15)
    # Then the exchange was cut off at the timeout, long before the answer was complete: a failed
    # attempt (retried with back-off), not a delivery. Before, the 200 arrived ~8 s later and counted.
    assert (status, error) == (None, "timed out after 0.5 s")
    assert 0 < sent[0] < len(TRICKLED) // 2, sent

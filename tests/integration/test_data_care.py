"""Customer data care: contact details never reach the logs, templates cannot inject markup."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest

from local.aws.stack import Stack
from tests.support import AGENT, Api

ACCOUNT, REGION = "123456789012", "us-east-1"
PHONE, EMAIL = "+15555550100", "c-1@example.com"


def _emails() -> list[Any]:
    from moto.ses.models import ses_backends

    return list(ses_backends[ACCOUNT][REGION].sent_messages)


def test_logs_carry_masked_contacts_never_the_phone_number_or_address(api: Api, stack: Stack) -> None:
    from goodwill.observability import logger

    handler = logger.registered_handler  # what Powertools writes to (stdout in a Lambda)
    assert isinstance(handler, logging.StreamHandler)
    captured = io.StringIO()
    stream = handler.setStream(captured)
    level = logger.log_level
    logger.setLevel("DEBUG")  # everything our code logs, at every level
    try:
        api.customer("c-1", phone=PHONE, email=EMAIL)
        api.put("/config", {"channels": {"mandatory": ["EMAIL"], "priority": ["SMS", "EMAIL"]}})
        reply = api.grant("c-1", 120, customer_message="Sorry about the parcel!")
        assert reply.status == 201, reply.body
        stack.settle()
        request = api.get(f"/goodwill/requests/{reply.body['request']['request_id']}", as_=AGENT).body
        assert [(n["channel"], n["status"]) for n in request["notifications"]] == [("EMAIL", "SENT"), ("SMS", "SENT")]
    finally:
        logger.setLevel(level)
        handler.setStream(stream)
    logged = captured.getvalue()
    plans = [json.loads(line) for line in logged.splitlines() if '"notification plan"' in line]
    assert plans, "the plan is logged (at INFO), so the masking below is really exercised"
    assert {a["to"] for a in plans[0]["attempts"]} == {"+15*******00", "c***@example.com"}
    assert PHONE not in logged and EMAIL not in logged


@pytest.mark.parametrize(
    "message",
    ['<a href="https://evil.example/claim">Claim 10,000 points</a>', "<script>alert(1)</script><img src=x>"],
)
def test_markup_in_a_message_reaches_the_email_as_plain_text(api: Api, stack: Stack, message: str) -> None:
    api.customer("c-1", phone=None)
    saved = api.put(
        "/config", {"templates": {"POINTS_CREDITED": "<b>Hi {customer_name}</b>: {points}. {customer_message}"}}
    )
    assert saved.status == 200, saved.body
    from goodwill import aws

    bodies: list[dict[str, Any]] = []  # what the notification function hands SES
    aws.ses_single_try().meta.events.register(
        "provide-client-params.ses.SendEmail", lambda params, **_: bodies.append(params["Message"]["Body"])
    )
    reply = api.grant("c-1", 120, customer_message=message)
    assert reply.status == 201, reply.body
    stack.settle()
    (email,) = _emails()
    assert email.body == f"<b>Hi Ada Lovelace</b>: 120. {message}"  # the literal text, not an HTML part
    assert [set(b) for b in bodies] == [{"Text"}]  # SES never gets an Html body to render


@pytest.mark.parametrize(
    "template",
    ["{customer_name.__class__}", "{customer_name!r}", "{points:>1000000}", "{0}", "Hi {customer_name"],
)
def test_a_template_cannot_reach_beyond_its_placeholders(api: Api, template: str) -> None:
    before = api.get("/config").body
    reply = api.put("/config", {"templates": {"POINTS_CREDITED": template}})
    assert reply.status == 422, reply.body
    assert reply.body["error"]["details"][0]["field"].startswith("templates.POINTS_CREDITED")
    assert api.get("/config").body == before

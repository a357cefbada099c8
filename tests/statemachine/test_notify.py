"""The real notification ASL executed by moto: mandatory channels, priority fallback, recording."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.aws.stack import Stack
from tests.support import AGENT, Api

ACCOUNT, REGION = "123456789012", "us-east-1"


def _sms(phone: str | None = None) -> list[tuple[str, str]]:
    from moto.sns.models import sns_backends

    sent = list(sns_backends[ACCOUNT][REGION].sms_messages.values())
    return [m for m in sent if phone is None or m[0] == phone]


def _emails() -> list[Any]:
    from moto.ses.models import ses_backends

    return list(ses_backends[ACCOUNT][REGION].sent_messages)


def _push_endpoint(stack: Stack, app: str | None = None) -> str:
    """A device's endpoint under the stack's platform application (PushPlatformApplications), or `app`."""
    sns = stack.client("sns")
    app = app or stack.resolver.refs["PushPlatformApplications"].split(",")[0]
    token = f"device-token-{app.rsplit('/', 1)[-1]}"  # moto hands out one endpoint per token, whatever the app
    return str(sns.create_platform_endpoint(PlatformApplicationArn=app, Token=token)["EndpointArn"])


def _pushes(endpoint_arn: str) -> list[str]:
    from moto.sns.models import sns_backends

    endpoint = sns_backends[ACCOUNT][REGION].platform_endpoints[endpoint_arn]
    return list(endpoint.messages.values())


def _grant_and_settle(api: Api, stack: Stack, **fields: Any) -> dict[str, Any]:
    reply = api.grant("c-1", 120, customer_message="Sorry about the parcel!", **fields)
    assert reply.status == 201, reply.body
    stack.settle()
    request = api.get(f"/goodwill/requests/{reply.body['request']['request_id']}", as_=AGENT).body
    assert request["status"] == "FULFILLED"
    return request  # type: ignore[no-any-return]


def _attempts(request: dict[str, Any]) -> list[tuple[str, str]]:
    return [(n["channel"], n["status"]) for n in request["notifications"]]


def _set_phone(stack: Stack, phone: str) -> None:
    """Legacy data: a phone that was stored before validation existed (SNS rejects it)."""
    stack.client("dynamodb").update_item(
        TableName=stack.ref("GoodwillTable"),
        Key={"PK": {"S": "ORG#acme#CUST#c-1"}, "SK": {"S": "PROFILE"}},
        UpdateExpression="SET phone = :p",
        ExpressionAttributeValues={":p": {"S": phone}},
    )


def test_sms_is_the_first_priority_channel(api: Api, stack: Stack) -> None:
    api.customer("c-1", name="Ada")
    request = _grant_and_settle(api, stack)
    assert _attempts(request) == [("SMS", "SENT")]
    assert request["notifications"][0]["message_id"]
    ((_, text),) = _sms("+15555550100")
    assert "Ada" in text and "120 points" in text and "balance is now 120" in text and "Sorry about" in text
    assert _emails() == []
    assert [h["event"] for h in request["history"]][-1] == "notification"


def test_no_phone_falls_to_email(api: Api, stack: Stack) -> None:
    api.customer("c-1", phone=None)
    request = _grant_and_settle(api, stack)
    assert _attempts(request) == [("SMS", "SKIPPED"), ("EMAIL", "SENT")]
    (email,) = _emails()
    assert email.destinations["ToAddresses"] == ["c-1@example.com"]
    assert email.subject == "Points added to your account"


def test_sms_failure_falls_through_to_email(api: Api, stack: Stack) -> None:
    api.customer("c-1")
    _set_phone(stack, "not-a-number")
    request = _grant_and_settle(api, stack)
    assert _attempts(request) == [("SMS", "FAILED"), ("EMAIL", "SENT")]
    assert request["notifications"][0]["error"]
    assert len(_emails()) == 1


def test_email_failure_falls_through_to_push(api: Api, stack: Stack) -> None:
    endpoint = _push_endpoint(stack)
    api.put("/config", {"channels": {"priority": ["EMAIL", "PUSH", "SMS"]}})
    api.customer("c-1", push_endpoint_arn=endpoint)
    stack.client("ses").delete_identity(Identity="goodwill@example.com")  # unverified sender: SES refuses
    request = _grant_and_settle(api, stack)
    assert _attempts(request) == [("EMAIL", "FAILED"), ("PUSH", "SENT")]
    assert len(_pushes(endpoint)) == 1
    assert _sms() == []


def test_opted_out_channel_is_skipped(api: Api, stack: Stack) -> None:
    api.customer("c-1", opted_out_channels=["SMS"])
    request = _grant_and_settle(api, stack)
    assert _attempts(request) == [("SMS", "SKIPPED"), ("EMAIL", "SENT")]
    assert request["notifications"][0]["error"] == "opted out"
    assert _sms() == []


def test_mandatory_channels_are_used_then_the_first_priority_channel(api: Api, stack: Stack) -> None:
    api.put("/config", {"channels": {"mandatory": ["EMAIL"], "priority": ["EMAIL", "SMS", "PUSH"]}})
    api.customer("c-1")
    request = _grant_and_settle(api, stack)
    assert _attempts(request) == [("EMAIL", "SENT"), ("SMS", "SENT")]
    assert len(_emails()) == 1 and len(_sms()) == 1


def test_nothing_reachable_is_recorded_and_the_grant_stands(api: Api, stack: Stack) -> None:
    api.put("/customers/c-1", {"name": "Ghost"})
    request = _grant_and_settle(api, stack)
    assert _attempts(request) == [("SMS", "SKIPPED"), ("EMAIL", "SKIPPED"), ("PUSH", "SKIPPED")]
    assert api.balance("c-1")["current"] == 120


def test_every_channel_failing_leaves_the_request_fulfilled_with_failures_visible(api: Api, stack: Stack) -> None:
    api.customer("c-1")
    _set_phone(stack, "0012")
    stack.client("ses").delete_identity(Identity="goodwill@example.com")
    request = _grant_and_settle(api, stack)
    assert _attempts(request) == [("SMS", "FAILED"), ("EMAIL", "FAILED"), ("PUSH", "SKIPPED")]
    assert request["status"] == "FULFILLED"


def test_notify_false_sends_nothing(api: Api, stack: Stack) -> None:
    api.customer("c-1")
    request = _grant_and_settle(api, stack, notify=False)
    assert request["notifications"] == []
    assert _sms() == [] and _emails() == []
    assert not [e for e in stack.executions() if e["name"].startswith("notify-")]


@pytest.mark.parametrize("points", [-20])
def test_debit_uses_the_debit_template(api: Api, stack: Stack, points: int) -> None:
    api.put("/config", {"templates": {"POINTS_DEBITED": "Dear {customer_name}: -{abs_points}, now {balance}."}})
    api.customer("c-1", name="Ada")
    api.grant("c-1", 100, notify=False)
    reply = api.grant("c-1", points)
    stack.settle()
    assert reply.status == 201
    assert [t for _, t in _sms()] == ["Dear Ada: -20, now 80."]


def _sns_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """An SNS outage: every Publish (SMS and push alike) answers InternalError."""
    from moto.sns.exceptions import InternalError
    from moto.sns.models import SNSBackend

    def unavailable(*_args: Any, **_kwargs: Any) -> str:
        raise InternalError("Amazon SNS is unavailable")

    monkeypatch.setattr(SNSBackend, "publish", unavailable)


def _grant_through_outage(api: Api, stack: Stack) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Grant, then wait out the workflow's retries (1 s + 2 s per failing channel)."""
    reply = api.grant("c-1", 120, customer_message="Sorry about the parcel!")
    assert reply.status == 201, reply.body
    stack.settle()
    (execution,) = [e for e in stack.executions() if e["name"].startswith("notify-")]
    assert stack.wait_for(execution["executionArn"], timeout=30)["status"] == "SUCCEEDED"
    stack.settle()
    history = stack.client("stepfunctions").get_execution_history(
        executionArn=execution["executionArn"], maxResults=1000
    )["events"]
    request = api.get(f"/goodwill/requests/{reply.body['request']['request_id']}", as_=AGENT).body
    return request, history


def _failed_sns_calls(history: list[dict[str, Any]]) -> int:
    """Sends the workflow saw fail transiently (each one Publish: the function's SNS client tries once)."""
    return sum(
        1
        for e in history
        if e["type"] == "TaskFailed" and e["taskFailedEventDetails"].get("error") == "ChannelUnavailableError"
    )


def test_sns_outage_is_retried_then_falls_through_to_email_and_is_recorded(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.customer("c-1")
    _sns_down(monkeypatch)
    request, history = _grant_through_outage(api, stack)
    assert request["status"] == "FULFILLED"
    assert _attempts(request) == [("SMS", "FAILED"), ("EMAIL", "SENT")]
    assert "InternalError" in request["notifications"][0]["error"]
    assert _failed_sns_calls(history) == 3  # the first try and two retries, then the fall-through
    assert _sms() == [] and len(_emails()) == 1
    assert api.balance("c-1")["current"] == 120


def test_sns_and_ses_outage_records_every_attempt_and_the_grant_stands(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = _push_endpoint(stack)
    api.customer("c-1", push_endpoint_arn=endpoint)
    _sns_down(monkeypatch)
    stack.client("ses").delete_identity(Identity="goodwill@example.com")
    request, history = _grant_through_outage(api, stack)
    assert request["status"] == "FULFILLED"
    assert _attempts(request) == [("SMS", "FAILED"), ("EMAIL", "FAILED"), ("PUSH", "FAILED")]
    assert all(n["error"] for n in request["notifications"])
    assert _failed_sns_calls(history) == 6  # SMS and push: three tries each
    assert _sms() == [] and _emails() == [] and _pushes(endpoint) == []
    assert api.balance("c-1")["current"] == 120


def test_execution_history_holds_no_contact_and_no_message_body(api: Api, stack: Stack) -> None:
    """Step Functions keeps every state's input and task parameters: a real notify run's recorded
    history names the request and the channels, never a phone, an address, an endpoint or a body."""
    endpoint = _push_endpoint(stack)
    api.put("/config", {"channels": {"mandatory": ["EMAIL", "PUSH"], "priority": ["SMS"]}})
    api.customer("c-1", push_endpoint_arn=endpoint)
    request = _grant_and_settle(api, stack)
    assert _attempts(request) == [("EMAIL", "SENT"), ("PUSH", "SENT"), ("SMS", "SENT")]
    (sms,) = _sms()
    phone, body = sms
    email = request["notifications"][0]["to"]
    sfn = stack.client("stepfunctions")
    (execution,) = [e for e in stack.executions() if e["name"].startswith("notify-")]
    history = sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
    recorded = json.dumps(history, default=str)

    assert "Send on channel" in recorded and request["request_id"] in recorded  # the history is real
    for secret in (phone, email, endpoint, body, "Sorry about the parcel!"):
        assert secret not in recorded, f"{secret!r} is in the execution history"


def _foreign_app(stack: Stack) -> str:
    """Another org's platform application in the same account: not configured for this stack."""
    created = stack.client("sns").create_platform_application(Name="globex-app", Platform="GCM", Attributes={})
    return str(created["PlatformApplicationArn"])


def test_an_endpoint_of_another_platform_application_is_refused_with_422(api: Api, stack: Stack) -> None:
    foreign = _push_endpoint(stack, _foreign_app(stack))
    reply = api.put("/customers/c-1", {"name": "Ada", "push_endpoint_arn": foreign})
    assert reply.status == 422, reply.body
    assert reply.fields() == {"push_endpoint_arn"}
    assert api.get("/customers/c-1").status == 404  # nothing written
    assert api.put("/customers/c-1", {"name": "Ada", "push_endpoint_arn": _push_endpoint(stack)}).status == 201


def test_a_stored_endpoint_of_another_application_is_never_published_to(api: Api, stack: Stack) -> None:
    foreign = _push_endpoint(stack, _foreign_app(stack))
    api.put("/config", {"channels": {"priority": ["PUSH", "EMAIL"]}})
    api.customer("c-1")
    stack.client("dynamodb").update_item(  # stored before the check existed
        TableName=stack.ref("GoodwillTable"),
        Key={"PK": {"S": "ORG#acme#CUST#c-1"}, "SK": {"S": "PROFILE"}},
        UpdateExpression="SET push_endpoint_arn = :p",
        ExpressionAttributeValues={":p": {"S": foreign}},
    )
    request = _grant_and_settle(api, stack)
    assert _attempts(request) == [("PUSH", "FAILED"), ("EMAIL", "SENT")]
    assert "platform application" in request["notifications"][0]["error"]
    assert _pushes(foreign) == []


def test_without_configured_applications_no_endpoint_is_accepted(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from goodwill.settings import get_settings

    endpoint = _push_endpoint(stack)
    monkeypatch.setenv("PUSH_PLATFORM_APPLICATIONS", "")
    get_settings.cache_clear()
    try:
        reply = api.put("/customers/c-1", {"name": "Ada", "push_endpoint_arn": endpoint})
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert reply.status == 422

"""Links to the Member Care console in the messages Goodwill sends: each one opens the console's
page (served locally at /console/, on CloudFront at /) on the screen it names, which the console
finds in the URL's hash (console/js/main.js's ROUTES), as `#/requests/ID` and `#/imports`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from goodwill.links import console_link
from goodwill.settings import get_settings
from local.aws.stack import Stack
from local.devserver import console
from tests.integration.test_bulk_imports import customers, run_import
from tests.support import ADMIN, AGENT, Api

MAIN_JS = Path(__file__).resolve().parents[2] / "console" / "js" / "main.js"
ACCOUNT, REGION = "123456789012", "us-east-1"


def console_routes() -> list[tuple[re.Pattern[str], str]]:
    """The console's own routing table: `[/^\\/requests\\/([^/]+)$/, "request", ...]` per screen."""
    rows = re.findall(r'^\s*\[/(\^.*?\$)/, "([\w-]+)"', MAIN_JS.read_text(), flags=re.MULTILINE)
    assert rows, "console/js/main.js's ROUTES were not found"
    return [(re.compile(pattern.replace("\\/", "/")), view) for pattern, view in rows]


def opened_screen(link: str) -> tuple[str, str | None]:
    """Which screen the console shows for `link` (and the id it is given), as main.js routes it;
    the page itself must be the console's (locally: what the dev server answers for the path)."""
    url = urlsplit(link)
    status, headers, _ = console.serve("GET", url.path)
    assert (status, headers["Content-Type"]) == (200, ["text/html; charset=utf-8"]), link
    path = url.fragment.split("?")[0]
    for pattern, view in console_routes():
        if match := pattern.fullmatch(path):
            return view, unquote(match.group(1)) if match.groups() else None
    pytest.fail(f"the console has no screen for {link}")


def test_approvers_are_sent_a_link_that_opens_the_request_screen(api: Api, stack: Stack) -> None:
    from moto.sns.models import sns_backends

    # Given a grant over the approval threshold
    api.put("/config", {"points": {"approval_threshold": 100}})
    api.customer("c-1")
    reply = api.grant("c-1", 500, as_=AGENT)
    assert reply.status == 202, reply.body
    request_id = reply.body["request"]["request_id"]
    # When its workflow tells the approvers
    stack.settle()
    topic = sns_backends[ACCOUNT][REGION].topics[stack.ref("ApprovalsTopic")]
    [(_, message, *_)] = topic.sent_notifications
    # Then the message's link opens that request in the console
    [link] = re.findall(r"https?://\S+", message)
    assert link == f"http://127.0.0.1:3000/console/#/requests/{request_id}"
    assert opened_screen(link) == ("request", request_id)


def test_the_import_actor_is_sent_a_link_that_opens_the_imports_screen(api: Api, stack: Stack) -> None:
    from moto.ses.models import ses_backends

    # Given an import run by an admin with an e-mail address
    customers(api, "c-1")
    import_id, _ = run_import(api, stack, "customer_id,points\nc-1,5\n")
    # When it ends, the admin is e-mailed; then its link opens the console's bulk import screen
    [mail] = [m for m in ses_backends[ACCOUNT][REGION].sent_messages if ADMIN["email"] in m.destinations["ToAddresses"]]
    [link] = re.findall(r"https?://\S+", mail.body)
    assert link == f"http://127.0.0.1:3000/console/#/imports?import_id={import_id}"
    assert opened_screen(link) == ("imports", None)


@pytest.mark.parametrize(
    "base",
    [
        "https://d111.cloudfront.net/#",  # the template's default: the console the stack hosts
        "https://d111.cloudfront.net",
        "https://d111.cloudfront.net/",
        "https://care.example.com/#/",
    ],
)
def test_console_links_put_the_screen_in_the_hash_whatever_the_base_ends_with(
    base: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONSOLE_BASE_URL", base)
    get_settings.cache_clear()
    try:
        link = console_link("requests", "01J/X Y")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert link == base.split("/#")[0].rstrip("/") + "/#/requests/01J%2FX%20Y"


def test_the_approval_message_link_matches_its_link_field(api: Api, stack: Stack) -> None:
    # The workflow's input carries the link on its own too (for consumers of the execution).
    api.put("/config", {"points": {"approval_threshold": 100}})
    api.customer("c-1")
    request_id = api.grant("c-1", 500, as_=AGENT).body["request"]["request_id"]
    stack.settle()
    sfn = stack.client("stepfunctions")
    [execution] = [e for e in stack.executions() if e["name"] == f"req-{request_id}"]
    payload = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
    assert payload["link"] in payload["summary"]
    assert opened_screen(payload["link"]) == ("request", request_id)


def test_every_function_that_links_to_the_console_is_given_the_same_console() -> None:
    # The request reconciler restarts approval workflows, so its messages carry links too: with
    # the parameter left empty (the default) it must link to the hosted console, not to "/#/...".
    template = (Path(__file__).resolve().parents[2] / "template.yaml").read_text()
    values = set(re.findall(r"^\s+CONSOLE_BASE_URL: (.+)$", template, flags=re.MULTILINE))
    assert values == {
        '!If [HasConsoleBaseUrl, !Ref ConsoleBaseUrl, !Sub "https://${ConsoleDistribution.DomainName}/#"]'
    }

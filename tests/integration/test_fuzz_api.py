"""Fuzzing the local API over HTTP with schemathesis, driven by the committed docs/openapi.json.

For every operation of the document, schemathesis generates valid and invalid requests (bodies,
path, query and header parameters) and sends them to the local run with admin claims. Every
answer must be no 5xx, a documented status code, the documented content type, and a body that
matches the documented schema: the document is what the API does, error paths included.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from local.devserver.server import LocalSystem, start
from local.tools.openapi import DOCUMENT, LOCAL_CLAIM_SCHEMES

ADMIN = {"X-Goodwill-Org": "fuzz", "X-Goodwill-Actor": "fuzzer", "X-Goodwill-Roles": "admin"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Deterministic in CI; set GOODWILL_FUZZ_SEED to explore other inputs.
SEED = int(os.environ.get("GOODWILL_FUZZ_SEED", "20261123"))
EXAMPLES_PER_OPERATION = 25

schema = schemathesis.openapi.from_path(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"mode": "all", "max-examples": EXAMPLES_PER_OPERATION},
            "phases": {
                "examples": {"enabled": True},
                # Boundary values, missing fields, wrong types, undeclared media types. Not
                # undeclared methods: API Gateway answers those before any function runs.
                "coverage": {"enabled": True, "unexpected-methods": []},
                "fuzzing": {"enabled": True},
            },
        }
    ),
)


@pytest.fixture(autouse=True)
def _aws_credentials() -> None:
    """Replaces the suite's fixture: here the local system owns the AWS environment."""


@pytest.fixture(scope="module")
def system() -> Iterator[LocalSystem]:
    running = start(parameters={"LogLevel": "ERROR"})
    yield running
    running.stop()


@schema.parametrize()
def test_api_answers_as_documented(case: Any, system: LocalSystem) -> None:
    case.call_and_validate(base_url=system.url, headers=ADMIN, checks=CHECKS, timeout=30)


# ---------------------------------------------------------------- what the fuzzing found
@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary=x"])
def test_a_multipart_body_is_refused(system: LocalSystem, content_type: str) -> None:
    # Given a customer with a name
    url = f"{system.url}/customers/mp-1"
    assert requests.put(url, json={"name": "Ada"}, headers=ADMIN, timeout=30).status_code in (200, 201)
    # When a client sends its replacement as multipart (Powertools would parse it as no fields at
    # all, replacing the profile by an empty one)
    headers = {**ADMIN, "Content-Type": content_type}
    reply = requests.put(url, data=b'{"name": "Grace"}', headers=headers, timeout=30)
    # Then it is refused and nothing changed
    assert (reply.status_code, reply.json()["error"]["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert requests.get(url, headers=ADMIN, timeout=30).json()["name"] == "Ada"


# ---------------------------------------------------------------- the document, served
def test_local_run_serves_the_document_with_its_own_server_and_claim_headers(system: LocalSystem) -> None:
    reply = requests.get(f"{system.url}/openapi.json", timeout=30)
    assert reply.status_code == 200
    served = reply.json()
    committed = schema.raw_schema
    people = {name: [] for name in LOCAL_CLAIM_SCHEMES}

    def without_people(document: dict[str, Any]) -> dict[str, Any]:
        """The paths with each operation's security minus its first (people's) entry."""
        return {
            path: {m: {**op, "security": op["security"][1:]} for m, op in item.items()}
            for path, item in document["paths"].items()
        }

    assert without_people(served) == without_people(committed)
    assert all(op["security"][0] == people for item in served["paths"].values() for op in item.values())
    assert served["servers"] == [{"url": system.url, "description": "This local run"}]
    assert served["security"] == [people]
    schemes = served["components"]["securitySchemes"]
    headers = {s["name"] for s in schemes.values() if s["type"] == "apiKey"}
    assert headers == {"X-Goodwill-Org", "X-Goodwill-Actor", "X-Goodwill-Roles"}
    token_url = schemes["ApiClient"]["flows"]["clientCredentials"]["tokenUrl"]
    assert token_url == f"{system.url}/_local/oauth2/token"


def test_local_run_serves_swagger_ui_without_a_cdn(system: LocalSystem) -> None:
    page = requests.get(f"{system.url}/docs", timeout=30)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "<title>Goodwill API</title>" in page.text
    assert "src='/docs/swagger-ui-bundle.min.js'" in page.text
    assert "href='/docs/swagger-ui.min.css'" in page.text
    for asset, kind in (("swagger-ui-bundle.min.js", "text/javascript"), ("swagger-ui.min.css", "text/css")):
        got = requests.get(f"{system.url}/docs/{asset}", timeout=30)
        assert got.status_code == 200
        assert got.headers["Content-Type"] == kind
        assert len(got.content) > 100_000


def test_documentation_routes_are_read_only(system: LocalSystem) -> None:
    reply = requests.post(f"{system.url}/openapi.json", json={}, timeout=30)
    assert reply.status_code == 405
    assert reply.json()["error"]["code"] == "METHOD_NOT_ALLOWED"

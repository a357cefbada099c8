"""Browser tests of the Member Care console: Debian's Chromium driven by Playwright, against the
local run (local.devserver.server.start) started once per session; a fresh browser context per test.

Every test's page is watched: a request to any origin but the local API and its S3 (moto) fails
the test, so does an uncaught exception or a console error that is not the network's report of an
API answer the test provoked (a 4xx the console shows as a message).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from local.devserver.server import LocalSystem, start
from tests.console.ui import CHROMIUM, CHROMIUM_ARGS, DESKTOP, Org

NETWORK_4XX = "Failed to load resource: the server responded with a status of 4"


@pytest.fixture(autouse=True)
def _aws_credentials() -> None:
    """Replaces the suite's fixture: here the local system owns the AWS environment."""


# Package scope: the local system owns the process's AWS environment (endpoint, moto port), so it
# must be stopped before the integration tests start local systems of their own.
@pytest.fixture(scope="package")
def system() -> Iterator[LocalSystem]:
    running = start(api_port=0, moto_port=0, parameters={"LogLevel": "ERROR"})
    yield running
    running.stop()


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install -y chromium)")
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@dataclass
class Watch:
    """What a page did that a test may not: foreign requests, errors, 4xx it did not expect."""

    allowed: set[str]
    foreign: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    api_4xx: list[str] = field(default_factory=list)
    asset_errors: list[str] = field(default_factory=list)
    expect_4xx: bool = False

    def on_request(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme in ("blob", "data"):
            return
        if f"{parts.scheme}://{parts.netloc}" not in self.allowed:
            self.foreign.append(url)

    def on_response(self, url: str, status: int) -> None:

        if status < 400:
            return
        if urlsplit(url).path.startswith("/console"):
            self.asset_errors.append(f"{status} {url}")
        else:
            self.api_4xx.append(f"{status} {url}")

    def on_console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.errors.append(msg.text)

    def problems(self) -> list[str]:
        found = [f"request to a foreign origin: {u}" for u in self.foreign]
        found += [f"console asset failed: {e}" for e in self.asset_errors]
        for text in self.errors:
            if not (self.expect_4xx and text.startswith(NETWORK_4XX)):
                found.append(f"browser console error: {text}")
        if not self.expect_4xx:
            found += [f"unexpected API error answer: {e}" for e in self.api_4xx]
        return found


@pytest.fixture
def watch(system: LocalSystem) -> Watch:
    moto = urlsplit(system.moto_url)
    return Watch(allowed={system.url, f"{moto.scheme}://{moto.netloc}"})


def open_page(browser: Browser, watch: Watch, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport, accept_downloads=True)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("request", lambda r: watch.on_request(r.url))
    page.on("response", lambda r: watch.on_response(r.url, r.status))
    page.on("console", watch.on_console)
    page.on("pageerror", lambda e: watch.errors.append(f"uncaught: {e}"))
    return context, page


@pytest.fixture
def page(browser: Browser, watch: Watch) -> Iterator[Page]:
    context, opened = open_page(browser, watch, DESKTOP)
    yield opened
    context.close()
    assert not watch.problems(), "\n".join(watch.problems())


@pytest.fixture
def org(system: LocalSystem) -> Org:
    return Org(system)

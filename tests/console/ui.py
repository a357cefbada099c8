"""Steps a person takes in the console, by the accessible names of CONTRACT.md section 16."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests
from playwright.sync_api import Page, expect

from local.devserver.server import LocalSystem

CHROMIUM = os.environ.get("GOODWILL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@dataclass
class Org:
    """A fresh organisation per test, seeded over the API as an admin."""

    system: LocalSystem
    org_id: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:10]}")

    def call(self, method: str, path: str, body: Any = None, actor: str = "seed", roles: str = "admin") -> Any:
        headers = {"X-Goodwill-Org": self.org_id, "X-Goodwill-Actor": actor, "X-Goodwill-Roles": roles}
        reply = requests.request(method, f"{self.system.url}{path}", json=body, headers=headers, timeout=20)
        assert reply.status_code < 300, f"{method} {path} -> {reply.status_code} {reply.text}"
        return reply.json() if reply.content else None

    def customer(self, customer_id: str, **profile: Any) -> Any:
        return self.call("PUT", f"/customers/{customer_id}", profile)

    def grant(self, customer_id: str, points: int, actor: str = "seed", roles: str = "admin") -> Any:
        body = {"customer_id": customer_id, "program_id": "default", "points": points, "reason": "REWARD"}
        return self.call("POST", "/goodwill/points", body, actor=actor, roles=roles)

    def run_import(self, csv_text: str, mode: str = "ADD") -> Any:
        """A bulk import of `csv_text`, uploaded and followed to its end; its record."""
        slot = self.call("POST", "/goodwill/bulk-imports", {"program_id": "default", "mode": mode})
        headers = slot.get("upload_headers") or {}
        reply = requests.put(slot["upload_url"], data=csv_text.encode(), headers=headers, timeout=20)
        assert reply.status_code < 300, reply.text
        for _ in range(120):
            record = self.call("GET", f"/goodwill/bulk-imports/{slot['import_id']}")
            if record["status"] in ("COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED"):
                return record
            time.sleep(0.5)
        raise AssertionError(f"import {slot['import_id']} did not finish")

    def config(self, **changes: Any) -> Any:
        current = self.call("GET", "/config")
        for key, value in changes.items():
            current[key] = {**current[key], **value} if isinstance(value, dict) else value
        return self.call("PUT", "/config", current)


ROLE_CHOICE = {"agent": "agent", "approver": "approver", "admin": "admin"}


def sign_in(page: Page, url: str, org: str, user: str, role: str) -> None:
    page.goto(f"{url}/console/")
    page.get_by_label("Organisation").fill(org)
    page.get_by_label("User").fill(user)
    page.get_by_label("Roles").select_option(ROLE_CHOICE[role])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def no_horizontal_scroll(page: Page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"horizontal scrolling: scrollWidth {widths[0]} > clientWidth {widths[1]}"


def give_points(page: Page, points: int, comment: str = "", reason: str = "SERVICE_RECOVERY") -> None:
    page.get_by_role("button", name="Give points").click()
    page.get_by_label("Points").fill(str(points))
    page.get_by_label("Reason").select_option(reason)
    if comment:
        page.get_by_label("Comment").fill(comment)
    page.get_by_role("button", name="Send request").click()

"""`make local`: a bulk import over real HTTP, the file PUT to the presigned URL (as with curl)."""

from __future__ import annotations

import time

import pytest
import requests

from local.devserver.server import start

ADMIN = {
    "X-Goodwill-Org": "acme",
    "X-Goodwill-Actor": "alice",
    "X-Goodwill-Roles": "admin",
    "X-Goodwill-Email": "alice@acme.test",
}


@pytest.fixture(autouse=True)
def _aws_credentials() -> None:
    """Replaces the suite's fixture: here the local system owns the AWS environment."""


def test_a_file_put_to_the_presigned_url_is_imported_by_the_local_run() -> None:
    with start(parameters={"LogLevel": "ERROR"}) as system:
        customer = {"name": "Ada", "email": "ada@example.com"}
        assert requests.put(f"{system.url}/customers/c-1", json=customer, headers=ADMIN, timeout=10).status_code == 201
        reply = requests.post(f"{system.url}/goodwill/bulk-imports", json={"program_id": "default"}, headers=ADMIN)
        assert reply.status_code == 201, reply.text
        created = reply.json()
        assert created["upload_url"].startswith(system.moto_url)

        upload = requests.put(
            created["upload_url"],
            data=b"email,points\nada@example.com,42\n",
            headers=created["upload_headers"],
            timeout=10,
        )
        assert upload.status_code == 200, upload.text

        url = f"{system.url}/goodwill/bulk-imports/{created['import_id']}"
        deadline = time.monotonic() + 30
        view = requests.get(url, headers=ADMIN, timeout=10).json()
        while view["status"] in ("AWAITING_UPLOAD", "RUNNING") and time.monotonic() < deadline:
            time.sleep(0.1)
            view = requests.get(url, headers=ADMIN, timeout=10).json()
        assert (view["status"], view["totals"]) == ("COMPLETED", {"rows": 1, "applied": 1, "failed": 0})
        balance = requests.get(f"{system.url}/customers/c-1", headers=ADMIN, timeout=10).json()["balances"]
        assert balance["default"] == {"current": 42, "lifetime": 42, "expiring": []}
        report = requests.get(view["report_url"], timeout=10)
        assert report.content.decode("utf-8-sig").splitlines()[1].startswith("1,c-1,ada@example.com,42,APPLIED,")
        # The record turns COMPLETED first and the e-mail follows in the same task: wait for it (a bound).
        assert _mailed(system.url, "alice@acme.test", created["import_id"], deadline=time.monotonic() + 30)

        # The revert, as README's curl does it: 202, REVERTED, the balance back, the revert report.
        reverted = requests.post(f"{url}/revert", json={"comment": "wrong file"}, headers=ADMIN, timeout=10)
        assert (reverted.status_code, reverted.json()["status"]) == (202, "REVERTING"), reverted.text
        deadline = time.monotonic() + 30
        while view["status"] != "REVERTED" and time.monotonic() < deadline:
            time.sleep(0.1)
            view = requests.get(url, headers=ADMIN, timeout=10).json()
        assert view["revert"]["totals"] == {"rows": 1, "reversed": 1, "failed": 0, "skipped": 0}, view
        balance = requests.get(f"{system.url}/customers/c-1", headers=ADMIN, timeout=10).json()["balances"]
        assert balance["default"]["current"] == 0
        lines = requests.get(view["revert_report_url"], timeout=10).content.decode("utf-8-sig").splitlines()
        assert lines[1].startswith("1,c-1,ada@example.com,-42,REVERSED,")
        again = requests.post(f"{url}/revert", json={}, headers=ADMIN, timeout=10)
        assert (again.status_code, again.json()["error"]["code"]) == (409, "NOT_REVERTIBLE")


def _mailed(url: str, to: str, text: str, deadline: float) -> bool:
    while True:
        outbox = requests.get(f"{url}/_local/outbox", params={"to": to}, timeout=10).json()
        if any(text in item["body"] for item in outbox["items"]):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)

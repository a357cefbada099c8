"""Every sample event under events/ is fed to its function, so none goes stale."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from goodwill.clock import iso, now
from local.aws.stack import Stack
from tests.integration.sample_effects import EFFECTS
from tests.support import Api, function_for

ROOT = Path(__file__).resolve().parents[2]
EVENTS = sorted((ROOT / "events").glob("*/*.json"))


SAMPLE_REQUESTS = ("01JSAMPLEREQUEST000000001", "01JSAMPLEREQUEST000000002")


def _seed(api: Api) -> None:
    """The world the samples assume: org acme, customer cust-001 with points, a coupon pool, two
    pending requests (by agent bob) with the ids the samples use."""
    from goodwill.approvals import records
    from goodwill.repositories import table

    api.put("/customers/cust-001", {"name": "Ada", "email": "ada@example.com", "phone": "+447700900123"})
    api.grant("cust-001", 500)
    api.put(
        "/coupon-series/winter-10",
        {
            "name": "Winter",
            "discount": {"type": "PERCENT", "value": 10},
            "valid_days": 60,
            "codes": ["SEED-1", "SEED-2"],
        },
    )
    asked = iso(now() - timedelta(days=1))  # within the default 72 hours' approval time
    for request_id in SAMPLE_REQUESTS:
        record = records.new_record(
            "acme",
            request_id,
            {
                "type": "POINTS",
                "customer_id": "cust-001",
                "program_id": "default",
                "points": 2000,
                "reason": "SERVICE_RECOVERY",
                "source": "API",
                "requested_by": "bob",
                "notify": True,
                "status": "PENDING_APPROVAL",
                "created_at": asked,
                "affects_tier": True,
                "history": [records.history_entry("created", "bob", asked)],
            },
        )
        assert table.transact([records.put_new_op("acme", record)]) is None
    _seed_bulk_imports(api)


SAMPLE_IMPORTS = ("01JSAMPRE1MP0RT00000000001", "01JSAMPRE1MP0RT00000000002")
SAMPLE_UPLOAD = b"customer_id,points,reason\r\ncust-001,250,SERVICE_RECOVERY\r\n,50,\r\n"


def _seed_bulk_imports(api: Api) -> None:
    """Two imports: one awaiting the upload that events/bulk_csv_import/upload.json announces (the
    file is in the bucket, its event not yet delivered), one running (the workflow task samples)."""
    import moto.s3.notifications as s3_notifications

    from goodwill.repositories import imports_records

    for import_id, status in zip(SAMPLE_IMPORTS, ("AWAITING_UPLOAD", "RUNNING"), strict=True):
        record = {
            "import_id": import_id,
            "org_id": "acme",
            "status": status,
            "attempt": int(status == "RUNNING"),
            "upload_key": f"imports/acme/{import_id}.csv",
            "program_id": "default",
            "mode": "ADD",
            "created_by": "alice",
            "created_at": "2026-11-23T10:00:00.000Z",
        }
        assert imports_records.create("acme", record)
    notify = s3_notifications._invoke_awslambda
    s3_notifications._invoke_awslambda = lambda *args: None
    try:
        key = f"imports/acme/{SAMPLE_IMPORTS[0]}.csv"
        api.stack.client("s3").put_object(Bucket=api.stack.ref("ImportBucket"), Key=key, Body=SAMPLE_UPLOAD)
    finally:
        s3_notifications._invoke_awslambda = notify


def test_every_function_folder_has_sample_events(stack: Stack) -> None:
    folders = {fn.code_dir.name for fn in stack.functions.by_id.values()}
    with_events = {p.parent.name for p in EVENTS}
    assert folders <= with_events, f"functions without sample events: {folders - with_events}"


def test_every_sample_event_has_its_effect_checked() -> None:
    assert {f"{p.parent.name}/{p.stem}" for p in EVENTS} == set(EFFECTS)


@pytest.mark.parametrize("path", EVENTS, ids=[f"{p.parent.name}/{p.stem}" for p in EVENTS])
def test_sample_event_exercises_its_path_and_has_its_effect(api: Api, stack: Stack, path: Path) -> None:
    _seed(api)
    event = json.loads(path.read_text())
    prepare, check = EFFECTS[f"{path.parent.name}/{path.stem}"]
    if prepare:
        prepare(api, event)
    result = function_for(stack, path.parent.name).invoke(event)
    if "httpMethod" in event and event.get("type") != "REQUEST":  # REQUEST: an authorizer event
        assert result["statusCode"] < 400, result["body"]
    check(api, result)

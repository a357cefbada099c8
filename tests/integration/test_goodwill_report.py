"""GET /reports/goodwill: exact, from aggregates counted once per change, JSON and CSV."""

from __future__ import annotations

import csv
import io
import itertools
import uuid
from collections import defaultdict
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goodwill.clock import now
from goodwill.repositories import keys, table
from local.aws.apigw import dispatch
from local.aws.stack import Stack
from tests.integration.test_bulk_imports import HEADER, run_import
from tests.support import ADMIN, AGENT, APPROVER, Api, claims

TODAY = now().date()
DAY = TODAY.isoformat()


def _report(api: Api, group_by: str, as_: dict[str, str] | None = None, **query: Any) -> dict[str, Any]:
    reply = api.get("/reports/goodwill", query={"group_by": group_by, **query}, **({"as_": as_} if as_ else {}))
    assert reply.status == 200, reply.body
    return {
        row["key"]: [row["credited"], row["debited"], row["requests"], row["coupons"]] for row in reply.body["items"]
    }


def test_report_totals_grants_approvals_coupons_and_imports_by_every_group(api: Api, stack: Stack) -> None:
    # Given grants by two agents, a debit, an approved grant, a coupon and an import by the admin
    api.put("/config", {"points": {"approval_threshold": 1000}, "coupons": {"auto_approve": True}})
    for c in ("c-1", "c-2"):
        api.customer(c)
    erin = claims(roles="agent", actor="erin")
    api.grant("c-1", 100, reason="LATE_DELIVERY")
    api.grant("c-2", 50, as_=erin)
    api.grant("c-1", -30, reason="CORRECTION")
    pending = api.grant("c-2", 2000, as_=erin).body["request"]["request_id"]
    stack.settle()
    assert api.post(f"/goodwill/requests/{pending}/approve", {}, as_=APPROVER).status == 200
    stack.settle()
    series = {"name": "Ten", "discount": {"type": "PERCENT", "value": 10}, "valid_days": 30, "codes": ["TEN-1"]}
    api.put("/coupon-series/ten", series)
    api.post("/goodwill/coupons", {"customer_id": "c-1", "series_id": "ten", "reason": "REWARD"}, as_=AGENT)
    run_import(api, stack, HEADER + "c-1,,7,,,,\nc-2,,-3,,,,\n")
    stack.settle()

    # Then every grouping adds up exactly (bulk rows under the import's actor and BULK_ADJUSTMENT)
    assert _report(api, "reason") == {
        "BULK_ADJUSTMENT": [7, 3, 0, 0],
        "CORRECTION": [0, 30, 1, 0],
        "LATE_DELIVERY": [100, 0, 1, 0],
        "REWARD": [0, 0, 1, 1],
        "SERVICE_RECOVERY": [2050, 0, 2, 0],
    }
    assert _report(api, "actor") == {"alice": [7, 3, 0, 0], "bob": [100, 30, 3, 1], "erin": [2050, 0, 2, 0]}
    assert _report(api, "program") == {"-": [0, 0, 1, 1], "default": [2157, 33, 4, 0]}
    assert _report(api, "day", **{"from": DAY, "to": DAY}) == {DAY: [2157, 33, 5, 1]}
    assert (
        _report(
            api,
            "day",
            **{"from": (TODAY - timedelta(days=91)).isoformat(), "to": (TODAY - timedelta(days=1)).isoformat()},
        )
        == {}
    )


def test_report_as_csv_is_the_same_with_formula_safe_cells(api: Api, stack: Stack) -> None:
    # Given a grant by an actor whose id a spreadsheet would run as a formula
    api.customer("c-1")
    api.grant("c-1", 40, as_=claims(roles="agent", actor="=HYPERLINK(1)"))
    stack.settle()

    # When the report is downloaded as CSV, by parameter or by Accept header
    by_param = _raw(api, "group_by=actor&format=csv", {})
    by_accept = _raw(api, "group_by=actor", {"Accept": "text/csv"})

    # Then both are the same CSV, the cell escaped
    headers = {k: v[-1] for k, v in by_param["multiValueHeaders"].items()}
    assert by_param["statusCode"] == 200 and headers["Content-Type"].startswith("text/csv")
    assert "attachment" in headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(by_param["body"])))
    assert rows == [["key", "credited", "debited", "requests", "coupons"], ["'=HYPERLINK(1)", "40", "0", "1", "0"]]
    assert by_accept["body"] == by_param["body"]


def _raw(api: Api, query: str, headers: dict[str, str]) -> dict[str, Any]:
    return dispatch(api.router, "GET", "/reports/goodwill", query, headers, None, ADMIN)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-03-02", "to": "2026-03-01"}, "from"),
        ({"from": "2026-01-01", "to": "2026-04-03"}, "to"),  # 93 days
        ({"from": "2026-02-30"}, "from"),
        ({"from": "1.1.2026"}, "from"),
        # The default 30-day window would run past year 9999 / before year 1 (was a 500 OverflowError).
        ({"from": "9999-12-20"}, "from"),
        ({"to": "0001-01-05"}, "to"),
        ({"from": "0001-01-01", "to": "9999-12-31"}, "to"),
        ({"group_by": "customer"}, "group_by"),
        ({"format": "xml"}, "format"),
    ],
)
def test_report_refuses_bad_ranges_and_groups(api: Api, stack: Stack, query: dict[str, str], field: str) -> None:
    reply = api.get("/reports/goodwill", query=query)
    assert (reply.status, reply.fields()) == (422, {field})


def test_report_is_for_admins_of_the_org(api: Api, stack: Stack) -> None:
    assert api.get("/reports/goodwill", as_=AGENT).status == 403
    assert api.get("/reports/goodwill", query={"from": "2026-01-01", "to": "2026-04-02"}).status == 200  # 92 days


# ---------------------------------------------------------------------------------- hypothesis

ENTRY = st.tuples(
    st.integers(min_value=0, max_value=3),  # days ago
    st.sampled_from(["SERVICE_RECOVERY", "LATE_DELIVERY", "=EVIL"]),
    st.sampled_from(["bob", "erin", "alice"]),
    st.sampled_from(["default", "gold"]),
    st.integers(min_value=-500, max_value=500).filter(bool),
    st.booleans(),  # from a request
    st.booleans(),  # a coupon request rather than a ledger entry
)


def _record(org: str, n: int, entry: tuple[Any, ...]) -> dict[str, Any]:
    ago, reason, actor, program, points, from_request, coupon = entry
    at = f"{(TODAY - timedelta(days=ago)).isoformat()}T10:00:00.000Z"
    if coupon:
        key = keys.request(org, f"R{n:06d}")
        image = {"type": "COUPON", "status": "FULFILLED", "reason": reason, "requested_by": actor, "fulfilled_at": at}
        image.update({"created_at": at, "request_id": f"R{n:06d}", "customer_id": "c-1", "org_id": org})
    else:
        key = keys.ledger(org, "c-1", f"T{n:06d}")
        image = {"transaction_id": f"T{n:06d}", "customer_id": "c-1", "program_id": program, "points": points}
        image.update({"type": "GOODWILL_CREDIT" if points > 0 else "GOODWILL_DEBIT", "reason": reason})
        image.update({"actor": actor, "created_at": at, "source": "API", "current_after": 0, "lifetime_after": 0})
        image["request_id"] = f"R{n:06d}" if from_request else None
    return {
        "eventID": str(n),
        "eventName": "INSERT",
        "dynamodb": {
            "Keys": table.serialize(key),
            "NewImage": table.serialize({**key, **image}),
            "SequenceNumber": f"{n:021d}",
        },
    }


def _brute_force(entries: list[tuple[Any, ...]], group_by: str) -> dict[str, list[int]]:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for ago, reason, actor, program, points, from_request, coupon in entries:
        day = (TODAY - timedelta(days=ago)).isoformat()
        key = {"reason": reason, "actor": actor, "program": "-" if coupon else program, "day": day}[group_by]
        row = totals[key]
        if coupon:
            row[2] += 1
            row[3] += 1
        else:
            row[0] += max(points, 0)
            row[1] += max(-points, 0)
            row[2] += int(from_request)
    return dict(totals)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(ENTRY, max_size=40), batch=st.integers(min_value=1, max_value=25), data=st.data())
def test_report_equals_a_brute_force_sum_whatever_is_redelivered(
    api: Api, stack: Stack, entries: list[tuple[Any, ...]], batch: int, data: st.DataObject
) -> None:
    # Given a generated ledger of a fresh org, its stream records delivered in batches, some twice
    org = f"o{uuid.uuid4().hex[:12]}"
    records = [_record(org, n, e) for n, e in enumerate(entries)]
    again = data.draw(st.lists(st.sampled_from(records), max_size=10)) if records else []
    consumer = stack.functions.by_id["StreamEventsFunction"]
    for start in range(0, len(records), batch):
        assert consumer.invoke({"Records": records[start : start + batch]}) == {"batchItemFailures": []}
    for chunk in itertools.batched(again, 4, strict=False):
        assert consumer.invoke({"Records": list(chunk)}) == {"batchItemFailures": []}

    # Then the report of every grouping equals the sum done by hand
    admin = claims(org=org)
    window = {"from": (TODAY - timedelta(days=3)).isoformat(), "to": DAY}
    for group_by in ("reason", "actor", "program", "day"):
        expected = _brute_force(entries, group_by)
        reported = _report(api, group_by, as_=admin, **window)
        assert reported == {k: v for k, v in expected.items()}, group_by

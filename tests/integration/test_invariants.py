"""Properties that hold whatever happens: random sequences of grants and decisions through the API
keep the balance, the ledger and the requests consistent; any bytes as a CSV never crash the parser.

The stateful test drives the real handlers in-process (moto, the template's table) as agents and
approvers would, and plays the request workflow's tasks (fulfil, expire) the way the Step
Functions workflow calls them, then checks every invariant after every step. A model of the
balance (the README's ledger rules) predicts each answer.
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from goodwill.bulk.csvfile import CsvFileError, ImportRules, InvalidRow, ValidRow, count_rows_and_offsets, parse
from tests.support import Api, claims, table_items

THRESHOLD = 300  # |points| above it wait for an approver
TERMINAL = {"FULFILLED", "REJECTED", "FAILED", "EXPIRED"}
# The history a request has in each status (auto-approved grants are approved by `system`).
HISTORY = {
    "PENDING_APPROVAL": ["created"],
    "FULFILLED": ["created", "approved", "fulfilled"],
    "REJECTED": ["created", "rejected"],
    "FAILED": ["created", "approved", "failed"],
    "EXPIRED": ["created", "expired"],
}
_orgs = itertools.count()


class LedgerMachine(RuleBasedStateMachine):
    api: Api  # bound by the test

    pending = Bundle("pending")
    decided = Bundle("decided")

    @initialize(allow_negative=st.sampled_from([False, False, True]), opening=st.sampled_from([0, 1, 350, 800, 2000]))
    def new_org(self, allow_negative: bool, opening: int) -> None:
        org = f"inv-{next(_orgs)}"
        self.admin = claims(org=org, roles="admin", actor="ada")
        self.agent = claims(org=org, roles="agent", actor="bob")
        self.approver = claims(org=org, roles="approver", actor="carol")
        self.org, self.allow_negative = org, allow_negative
        self.current = self.lifetime = 0
        self.statuses: dict[str, str] = {}
        self.points: dict[str, int] = {}  # request -> the points it applies (or would)
        self.tier: dict[str, bool] = {}  # request -> affects_tier
        self.keyed: list[tuple[str, dict[str, Any], Any, int]] = []  # (key, body, first answer)
        self.keys = itertools.count()
        config = {"points": {"allow_negative_balance": allow_negative}}
        assert self.api.put("/config", config, as_=self.admin).status == 200
        assert self.api.put("/customers/c", {"name": "Ada"}, as_=self.admin).status == 201
        if opening:  # an opening balance, granted before approvals are switched on
            body = {"customer_id": "c", "program_id": "default", "points": opening, "reason": "MIGRATION"}
            reply = self.api.post("/goodwill/points", body, as_=self.agent)
            assert reply.status == 201, reply.body
            self.statuses[reply.body["request"]["request_id"]] = "FULFILLED"
            self.points[reply.body["request"]["request_id"]] = opening
            self._apply(opening, affects_tier=True)
        config["points"]["approval_threshold"] = THRESHOLD
        assert self.api.put("/config", config, as_=self.admin).status == 200

    # ------------------------------------------------------------ the model
    def _covers(self, points: int) -> bool:
        return self.allow_negative or points > 0 or self.current + points >= 0

    def _apply(self, points: int, affects_tier: bool) -> None:
        self.current += points
        if affects_tier:
            self.lifetime = max(0, self.lifetime + points)

    # ------------------------------------------------------------ rules
    @rule(
        target=pending,
        size=st.integers(1, THRESHOLD) | st.integers(THRESHOLD + 1, 2 * THRESHOLD),  # auto | pending
        debit=st.booleans(),
        affects_tier=st.booleans(),
        keyed=st.booleans(),
    )
    def grant(self, size: int, debit: bool, affects_tier: bool, keyed: bool) -> Any:
        points = -size if debit else size
        body = {
            "customer_id": "c",
            "program_id": "default",
            "points": points,
            "reason": "CORRECTION",
            "affects_tier": affects_tier,
            "notify": False,
        }
        key = f"key-{next(self.keys)}" if keyed else None
        headers = {"Idempotency-Key": key} if key else None
        reply = self.api.post("/goodwill/points", body, as_=self.agent, headers=headers)
        if not self._covers(points):
            assert (reply.status, reply.error_code) == (409, "INSUFFICIENT_BALANCE"), reply.body
            return multiple()
        if key:
            self.keyed.append((key, body, reply.body, reply.status))
        request = reply.body["request"]
        self.points[request["request_id"]] = points
        self.tier[request["request_id"]] = affects_tier
        if size > THRESHOLD:
            assert reply.status == 202, reply.body
            self.statuses[request["request_id"]] = "PENDING_APPROVAL"
            return request["request_id"]
        assert reply.status == 201, reply.body
        self._apply(points, affects_tier)
        assert reply.body["balance"] == {"current": self.current, "lifetime": self.lifetime}
        self.statuses[request["request_id"]] = "FULFILLED"
        return multiple()

    @rule(
        target=decided,
        request_id=consumes(pending),
        resize=st.none() | st.integers(1, THRESHOLD) | st.integers(THRESHOLD + 1, 5 * THRESHOLD),
        overdraw=st.booleans(),
    )
    def approve(self, request_id: str, resize: int | None, overdraw: bool) -> str:
        body: dict[str, Any] = {"comment": "fine"}
        if overdraw and self.points[request_id] < 0:  # a debit made larger than the balance
            resize = max(self.current, 0) + 1
        if resize is not None:  # the approver changes the amount, keeping its sign
            body["points"] = self.points[request_id] = resize if self.points[request_id] > 0 else -resize
        reply = self.api.post(f"/goodwill/requests/{request_id}/approve", body, as_=self.approver)
        assert (reply.status, reply.body["status"]) == (200, "APPROVED"), reply.body
        # What the request workflow's fulfil task does once it hears of the decision.
        outcome = self._workflow_task("fulfil", request_id)
        points = self.points[request_id]
        if self._covers(points):
            assert outcome == {"status": "FULFILLED"}
            self._apply(points, self.tier[request_id])
            self.statuses[request_id] = "FULFILLED"
        else:  # the balance no longer covers it: checked again when applied
            assert outcome == {"status": "FAILED", "error": "INSUFFICIENT_BALANCE"}
            self.statuses[request_id] = "FAILED"
        return request_id

    @rule(target=decided, request_id=consumes(pending))
    def reject(self, request_id: str) -> str:
        reply = self.api.post(f"/goodwill/requests/{request_id}/reject", {"comment": "no"}, as_=self.approver)
        assert (reply.status, reply.body["status"]) == (200, "REJECTED"), reply.body
        self.statuses[request_id] = "REJECTED"
        return request_id

    @rule(target=decided, request_id=consumes(pending))
    def expire(self, request_id: str) -> str:
        """The workflow's wait for a decision timed out."""
        assert self._workflow_task("expire", request_id) == {"status": "EXPIRED"}
        self.statuses[request_id] = "EXPIRED"
        return request_id

    @rule(request_id=decided, approve=st.booleans())
    def decide_again(self, request_id: str, approve: bool) -> None:
        action, body = ("approve", {}) if approve else ("reject", {"comment": "again"})
        reply = self.api.post(f"/goodwill/requests/{request_id}/{action}", body, as_=self.approver)
        assert (reply.status, reply.error_code) == (409, "NOT_PENDING"), reply.body

    @rule(data=st.data())
    def repeat_a_keyed_grant(self, data: st.DataObject) -> None:
        if not self.keyed:
            return
        key, body, first_body, first_status = data.draw(st.sampled_from(self.keyed))
        reply = self.api.post("/goodwill/points", body, as_=self.agent, headers={"Idempotency-Key": key})
        assert (reply.status, reply.body) == (first_status, first_body)  # and the model did not move

    def _workflow_task(self, action: str, request_id: str) -> Any:
        task = {"action": action, "org_id": self.org, "request_id": request_id}
        return self.api.stack.functions.by_id["RequestWorkflowFunction"].invoke(task)

    # ------------------------------------------------------------ invariants, after every step
    @invariant()
    def balance_ledger_and_requests_agree(self) -> None:
        balance = self.api.balance("c", as_=self.admin)
        ledger = self.api.ledger("c", as_=self.admin)  # newest first
        requests = self._requests()
        assert balance == {"current": self.current, "lifetime": self.lifetime}
        assert balance["current"] == sum(entry["points"] for entry in ledger)
        if not self.allow_negative:
            assert balance["current"] >= 0
        # Replayed oldest first, every entry follows from its predecessor by the ledger rules.
        current = lifetime = 0
        for entry in reversed(ledger):
            current += entry["points"]
            if entry["affects_tier"]:
                lifetime = max(0, lifetime + entry["points"])
            assert (entry["current_after"], entry["lifetime_after"]) == (current, lifetime), entry
            assert self.allow_negative or entry["current_after"] >= 0
        assert (current, lifetime) == (balance["current"], balance["lifetime"])
        # One ledger entry per fulfilled request, and none for any other.
        fulfilled = {r["request_id"]: r for r in requests if r["status"] == "FULFILLED"}
        assert sorted(e["request_id"] for e in ledger) == sorted(fulfilled)
        for entry in ledger:
            assert fulfilled[entry["request_id"]]["transaction_id"] == entry["transaction_id"]
            assert entry["points"] == self.points[entry["request_id"]]
        # Every request is pending or terminal, with the history of its status.
        assert {r["request_id"]: r["status"] for r in requests} == self.statuses
        for request in requests:
            assert request["status"] in TERMINAL | {"PENDING_APPROVAL"}
            assert [h["event"] for h in request["history"]] == HISTORY[request["status"]], request
            decider = request["history"][1]["actor"] if len(request["history"]) > 1 else None
            assert decider in (None, "system", "carol")

    def teardown(self) -> None:
        """Empty the table: moto queries an index by scanning every item, so a table that kept
        every example's items would make each step slower than the last."""
        ddb, name = self.api.stack.client("dynamodb"), self.api.stack.ref("GoodwillTable")
        keys = [{"PK": i["PK"], "SK": i["SK"]} for i in table_items(self.api.stack)]
        for at in range(0, len(keys), 25):
            batch = [{"DeleteRequest": {"Key": key}} for key in keys[at : at + 25]]
            ddb.batch_write_item(RequestItems={name: batch})

    def _requests(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token = None
        while True:
            query = {"customer_id": "c", "limit": 100, "next_token": token}
            reply = self.api.get("/goodwill/requests", as_=self.agent, query=query)
            assert reply.status == 200, reply.body
            items.extend(reply.body["items"])
            if not (token := reply.body["next_token"]):
                return items


STATEFUL = settings(
    max_examples=50,
    stateful_step_count=15,
    deadline=None,
    derandomize=True,  # the same sequences on every run: CI stays deterministic
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def test_balance_ledger_and_requests_stay_consistent_over_random_sequences(api: Api) -> None:
    bound = type("BoundLedgerMachine", (LedgerMachine,), {"api": api})
    run_state_machine_as_test(bound, settings=STATEFUL)


# ---------------------------------------------------------------- the CSV parser never crashes
RULES = ImportRules(allowed_reasons=frozenset({"BULK_ADJUSTMENT", "REWARD"}))
COLUMNS = ["customer_id", "email", "points", "reason", "comment", "expires_at", "affects_tier"]


def _outcome(chunks: list[bytes], rules: ImportRules) -> list[ValidRow | InvalidRow] | CsvFileError:
    try:
        return list(parse(iter(chunks), rules))
    except CsvFileError as exc:
        return exc


def _scan(chunks: list[bytes], rules: ImportRules) -> int | CsvFileError:
    try:
        return count_rows_and_offsets(iter(chunks), 3, rules).rows
    except CsvFileError as exc:
        return exc


def _check(data: bytes, cut: int, mode: str) -> None:
    rules = ImportRules(allowed_reasons=RULES.allowed_reasons, mode=mode)  # type: ignore[arg-type]
    chunks = [data[:cut], data[cut:]] if cut else [data]
    rows = _outcome(chunks, rules)  # only CsvFileError may escape: anything else fails here
    scanned = _scan(chunks, rules)
    if isinstance(rows, CsvFileError):
        assert isinstance(scanned, CsvFileError)
        return
    assert [r.row for r in rows] == list(range(1, len(rows) + 1))
    assert all(isinstance(r, ValidRow | InvalidRow) for r in rows)
    assert scanned == len(rows)


CSV_FUZZ = settings(max_examples=300, deadline=None, derandomize=True, database=None)


@CSV_FUZZ
@given(data=st.binary(max_size=400), cut=st.integers(0, 400), mode=st.sampled_from(["ADD", "SET"]))
def test_any_bytes_as_a_csv_yield_rows_or_a_file_error(data: bytes, cut: int, mode: str) -> None:
    _check(data, min(cut, len(data)), mode)


@CSV_FUZZ
@given(
    header=st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=5),
    body=st.text(st.characters(codec="utf-8"), max_size=300),
    bom=st.booleans(),
    cut=st.integers(0, 400),
    mode=st.sampled_from(["ADD", "SET"]),
)
def test_any_text_under_a_plausible_header_yields_rows_or_a_file_error(
    header: list[str], body: str, bom: bool, cut: int, mode: str
) -> None:
    data = ("\ufeff" if bom else "").encode() + (",".join(header) + "\n" + body).encode()
    _check(data, min(cut, len(data)), mode)

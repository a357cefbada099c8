"""Lots under random sequences (hypothesis, stateful): credits with and without expiry, debits,
reversals, clock advances and expiry runs (some repeated) through the real handlers and the real
expiry service keep every invariant of section 12:

- `current` = the lots' remainders + the open lot (>= 0), or a negative balance with no lots;
- no lot below 0 (emptied lots are gone);
- every EXPIRY entry takes at most its lot's remainder at the time of the run;
- each lot expires at most once;
- replaying the ledger oldest-first gives every entry's `current_after`.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from goodwill import clock
from goodwill.lots import model as lots_model
from goodwill.repositories import keys, table
from tests.integration.test_expiry import run
from tests.support import Api, claims

_orgs = itertools.count()


class LotsMachine(RuleBasedStateMachine):
    api: Api  # bound by the test

    entries = Bundle("entries")

    @initialize(allow_negative=st.booleans(), default_days=st.sampled_from([None, None, 5]))
    def new_org(self, allow_negative: bool, default_days: int | None) -> None:
        self.org = f"lots-{next(_orgs)}"
        self.admin = claims(org=self.org, roles="admin", actor="ada")
        self.agent = claims(org=self.org, roles="agent", actor="bob")
        self.offset = 0.0  # days the clock has moved on
        self.expired: set[str] = set()
        config = {"points": {"allow_negative_balance": allow_negative, "default_expiry_days": default_days}}
        assert self.api.put("/config", config, as_=self.admin).status == 200
        assert self.api.put("/customers/c", {"name": "Ada"}, as_=self.admin).status == 201

    def _at(self, days: float) -> str:
        return clock.iso(clock.now() + timedelta(days=self.offset + days))

    def _grant(self, points: int, expires_at: str | None) -> Any:
        body: dict[str, Any] = {"customer_id": "c", "program_id": "default", "points": points, "reason": "REWARD"}
        if expires_at:
            body["expires_at"] = expires_at
        return self.api.post("/goodwill/points", {**body, "notify": False}, as_=self.agent)

    # ------------------------------------------------------------ rules
    @rule(target=entries, points=st.integers(1, 200), expires_in=st.sampled_from([None, 1, 3, 10, 30]))
    def credit(self, points: int, expires_in: int | None) -> str:
        reply = self._grant(points, self._at(expires_in) if expires_in else None)
        assert reply.status == 201, reply.body
        return str(reply.body["transaction"]["transaction_id"])

    @rule(target=entries, points=st.integers(1, 300))
    def debit(self, points: int) -> str:
        reply = self._grant(-points, None)
        assert reply.status in (201, 409), reply.body
        return str(reply.body["transaction"]["transaction_id"]) if reply.status == 201 else "none"

    @rule(txn=entries)
    def reverse(self, txn: str) -> None:
        reply = self.api.post(f"/customers/c/transactions/{txn}/reverse", {"reason": "CORRECTION"}, as_=self.agent)
        if txn == "none":
            assert reply.status in (404, 422), reply.body
        else:
            assert reply.status in (201, 409), reply.body

    @rule(days=st.sampled_from([0.5, 2, 7, 20]))
    def advance(self, days: float) -> None:
        self.offset += days

    @rule(times=st.integers(1, 2))
    def expire(self, times: int) -> None:
        before = {lot.lot_id: lot.remaining for lot in self._lots()}
        known = {e["transaction_id"] for e in self._ledger()}
        for _ in range(times):
            run(self._at(0))
        fresh = [e for e in self._ledger() if e["transaction_id"] not in known]
        for entry in fresh:
            assert entry["type"] == "EXPIRY", entry
            lot = entry["expired_lot"]
            assert lot in before and 0 < -entry["points"] <= before[lot], (entry, before)
            assert lot not in self.expired, f"lot {lot} expired twice"
            self.expired.add(lot)

    # ------------------------------------------------------------ invariants
    def _balance(self) -> dict[str, Any]:
        return table.get(keys.balance(self.org, "c", "default")) or {"current": 0, "lots": []}

    def _lots(self) -> tuple[lots_model.Lot, ...]:
        return lots_model.from_item(self._balance().get("lots"))

    def _ledger(self) -> list[dict[str, Any]]:
        return self.api.ledger("c", as_=self.admin)

    @invariant()
    def balance_is_the_lots_plus_the_open_points(self) -> None:
        current, lots = int(self._balance()["current"]), self._lots()
        assert all(lot.remaining > 0 for lot in lots)
        assert current - lots_model.total(lots) >= 0 or (current < 0 and not lots), (current, lots)

    @invariant()
    def replaying_the_ledger_gives_every_current_after(self) -> None:
        running = 0
        for entry in sorted(self._ledger(), key=lambda e: e["transaction_id"]):
            running += entry["points"]
            assert entry["current_after"] == running, entry
        assert running == int(self._balance()["current"])


STATEFUL = settings(
    max_examples=12,
    stateful_step_count=14,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def test_lots_balances_and_the_ledger_stay_consistent_over_random_sequences(api: Api) -> None:
    bound = type("BoundLotsMachine", (LotsMachine,), {"api": api})
    run_state_machine_as_test(bound, settings=STATEFUL)

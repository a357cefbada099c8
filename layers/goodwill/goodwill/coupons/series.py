"""Coupon series and coupon allocation: a code is never issued twice, even under concurrency.

Pools hand out their codes in upload order through a counter on the series (conditional on the
value read; coupons.pools adds the codes); generated codes are random. Either way, the
code's org-wide claim item is put with attribute_not_exists in the same transaction as the
customer's coupon and the request update.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from goodwill import retry
from goodwill.auth import Principal
from goodwill.clock import iso, now, now_iso, ulid
from goodwill.coupons import pools
from goodwill.errors import NotFoundError, PreconditionFailedError, SeriesExhaustedError, ServiceUnavailableError
from goodwill.repositories import keys, pages, table
from goodwill.repositories.extra_ops import CouponExtraOpFailed
from goodwill.repositories.table import Item

if TYPE_CHECKING:  # validated by the series handler; granting and fulfilment need no model
    from goodwill.models.coupons import SeriesPutRequest

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SERIES_FIELDS = ("series_id", "name", "description", "discount", "valid_days", "kind", "created_at", "updated_at")


def codes_left(item: Item) -> int | None:
    """The codes a pool can still hand out; None for a generated series (never exhausted)."""
    if item.get("kind") != "POOL":
        return None
    return int(item.get("total", 0)) - int(item.get("next_index", 0))


def series_view(item: Item) -> dict[str, Any]:
    view = {k: item.get(k) for k in SERIES_FIELDS}
    view["issued"] = int(item.get("issued", 0))
    if item.get("kind") == "POOL":
        view["total"] = int(item.get("total", 0))
    view["available"] = codes_left(item)
    return view


def put_series(
    principal: Principal, series_id: str, body: SeriesPutRequest, only_if_new: bool = False
) -> tuple[bool, dict[str, Any]]:
    """Create or update a series; (created, view). `only_if_new`: create only (an existing series,
    also one created by a racing PUT since our read, is 412 and left as it is)."""
    org = principal.org_id
    key = keys.series(org, series_id)
    existing = table.get(key)
    if existing is not None and only_if_new:
        raise _exists(series_id)
    stamp = now_iso()
    kind = "POOL" if body.codes is not None or (existing or {}).get("kind") == "POOL" else "GENERATED"
    item: Item = {
        **key,
        "series_id": series_id,
        "org_id": org,
        "name": body.name,
        "description": body.description,
        "discount": body.discount.model_dump(mode="json"),
        "valid_days": body.valid_days,
        "kind": kind,
        "created_at": (existing or {}).get("created_at", stamp),
        "updated_at": stamp,
        "GSI1PK": keys.series_list(org),
        "GSI1SK": series_id,
    }
    if body.codes:
        pools.check(org, series_id, body.codes)
    created = _write_series(item, creating=existing is None, only_if_new=only_if_new)
    if body.codes:
        pools.append(org, series_id, body.codes)
    return created, series_view(_require_series(org, series_id))


def _exists(series_id: str) -> PreconditionFailedError:
    return PreconditionFailedError(
        f"coupon series {series_id} exists; nothing was changed",
        [{"field": "series_id", "message": "a series with this id exists"}],
    )


def _write_series(item: Item, creating: bool, only_if_new: bool = False) -> bool:
    """Create the series (True) or update its fields (False). Two first PUTs racing: one creates,
    the other finds it made and updates it (200), or is 412 when `only_if_new`. A write meeting an
    append's transaction on the series item (TransactionConflict) is tried again, never a 5xx."""
    for _ in retry.attempts(retry.CONTENTION):
        if creating:
            cancelled = table.transact([table.put_op(_new_series(item), condition="attribute_not_exists(PK)")])
            if cancelled is None:
                return True
            creating = not cancelled.failed(0)  # it exists now: update it instead
            if not creating and only_if_new:
                raise _exists(str(item["series_id"]))
            continue
        fields = {k: item[k] for k in ("name", "description", "discount", "valid_days", "kind", "updated_at")}
        update = "SET " + ", ".join(f"#{k} = :{k}" for k, v in fields.items() if v is not None)
        if fields["description"] is None:
            update += " REMOVE #description"
        names = {f"#{k}": k for k in fields}
        vals = {f":{k}": v for k, v in fields.items() if v is not None}
        cancelled = table.transact([table.update_op({"PK": item["PK"], "SK": item["SK"]}, update, names, vals)])
        if cancelled is None:
            return False
        if not cancelled.retryable:
            raise cancelled.refused()
    raise ServiceUnavailableError("the coupon series is being changed concurrently; retry")


def _new_series(item: Item) -> Item:
    return {**item, "total": 0, "next_index": 0, "issued": 0}


def _require_series(org: str, series_id: str) -> Item:
    item = table.get(keys.series(org, series_id))
    if item is None:
        raise NotFoundError(f"coupon series {series_id} not found")
    return item


def get_series(principal: Principal, series_id: str) -> dict[str, Any]:
    return series_view(_require_series(principal.org_id, series_id))


def list_series(principal: Principal, limit: int, next_token: str | None) -> dict[str, Any]:
    page = pages.query_page(
        ("GSI1PK", keys.series_list(principal.org_id)),
        index="GSI1",
        limit=limit,
        next_token=next_token,
        newest_first=False,
    )
    return {"items": [series_view(i) for i in page.items], "next_token": page.next_token}


def require_series(org: str, series_id: str) -> Item:
    return _require_series(org, series_id)


ExtraOps = Callable[[Item], Sequence[dict[str, Any]]]


def allocate(org: str, series_id: str, customer_id: str, request_id: str, extra_ops: ExtraOps) -> Item:
    """Issue one coupon of the series to the customer, atomically with `extra_ops(coupon)`.

    The transaction holds the claim on the code, the customer's coupon and `extra_ops`; a pool's
    series item rides along last (its counter is what hands codes out in order). A generated
    series' item does not: every customer's coupon would contend for it (TransactionConflict), so
    its `issued` count is added after the commit, outside the transaction."""
    for _ in retry.attempts(retry.CONTENTION):
        series = _require_series(org, series_id)
        left = codes_left(series)
        pool = left is not None
        if left is not None:
            if left <= 0:
                raise SeriesExhaustedError(f"coupon series {series_id} has no codes left")
            index = int(series.get("next_index", 0))
            code_item = table.get(keys.pool_code(org, series_id, index))
            if code_item is None:  # a slot without its code (an older append's): never a dead end
                table.transact([pools.skip_op(org, series_id, index)])
                continue
            code = str(code_item["code"])
        else:
            code = _generated_code(series_id)
        coupon = _coupon(series, code, customer_id, request_id)
        extras = list(extra_ops(coupon))
        ops = [
            _claim_op(org, code, coupon),
            table.put_op({**keys.customer_coupon(org, customer_id, coupon["coupon_id"]), **coupon}),
            *extras,
        ]
        if pool:
            ops.append(_pool_take_op(org, series_id, index))
        cancelled = table.transact(ops)
        if cancelled is None:
            if not pool:
                _count_issued(org, series_id)
            return coupon
        if any(cancelled.failed(i) for i in range(2, 2 + len(extras))):
            raise CouponExtraOpFailed(cancelled.reasons)
        if cancelled.failed(0) and pool:
            # This pool code was issued before (e.g. by another series): skip it for good.
            table.transact([pools.skip_op(org, series_id, index)])
        elif not (cancelled.failed(0) or cancelled.failed(len(ops) - 1) or cancelled.retryable):
            raise cancelled.refused()  # (a generated code another coupon holds: the next try draws anew)
    raise ServiceUnavailableError("the coupon series is under heavy concurrent use; retry")


def _claim_op(org: str, code: str, coupon: Item) -> dict[str, Any]:
    """The code's marker: a code is issued once, whichever series it came from."""
    claim = {k: coupon[k] for k in ("series_id", "customer_id", "request_id")}
    return table.put_op({**keys.coupon_code(org, code), **claim}, condition="attribute_not_exists(PK)")


def _pool_take_op(org: str, series_id: str, index: int) -> dict[str, Any]:
    return table.update_op(
        keys.series(org, series_id),
        "SET next_index = :n, issued = issued + :one",
        vals={":n": index + 1, ":i": index, ":one": 1},
        condition="next_index = :i",
    )


def _count_issued(org: str, series_id: str) -> None:
    """A generated series' `issued`: a plain ADD after the coupon committed (single-item writes
    are applied in turn, they do not cancel each other as transactions do). A crash between the
    two leaves the count one short; the coupons themselves are exact."""
    table.update_returning(table.update_op(keys.series(org, series_id), "ADD issued :one", vals={":one": 1}))


def _generated_code(series_id: str) -> str:
    prefix = "".join(c for c in series_id.upper() if c.isalnum())[:6] or "GW"
    return f"{prefix}-{''.join(secrets.choice(_ALPHABET) for _ in range(10))}"


def _coupon(series: Item, code: str, customer_id: str, request_id: str) -> Item:
    issued = now()
    return {
        "coupon_id": ulid(),
        "code": code,
        "series_id": series["series_id"],
        "customer_id": customer_id,
        "issued_at": iso(issued),
        "expires_at": iso(issued + timedelta(days=int(series["valid_days"]))),
        "request_id": request_id,
        "discount": series.get("discount"),
    }


def coupon_view(coupon: Item) -> dict[str, Any]:
    return {
        k: coupon.get(k)
        for k in ("code", "series_id", "customer_id", "issued_at", "expires_at", "request_id", "discount")
    }

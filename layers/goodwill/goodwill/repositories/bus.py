"""The EventBridge bus: PutEvents in batches of 10, retrying the entries EventBridge failed."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from goodwill import aws
from goodwill.observability import logger

BATCH = 10  # PutEvents takes at most 10 entries (and 256 KiB) per call
MAX_BATCH_BYTES = 240 * 1024
ATTEMPTS = 5
# Calls in flight at once: a batch of 1,000 stream records is 100 calls; one at a time they would
# make the function, not EventBridge, the bottleneck of a big import.
CONCURRENCY = 8
_RETRYABLE = {"ThrottlingException", "InternalException", "InternalFailure", "ServiceUnavailable"}


def _size(entry: dict[str, Any]) -> int:
    return sum(len(str(entry.get(k, "")).encode()) for k in ("Source", "DetailType", "Detail")) + 64


def batches(entries: Sequence[dict[str, Any]]) -> list[list[int]]:
    """Indices of `entries` cut into PutEvents calls: at most 10 entries and 240 KiB each."""
    found: list[list[int]] = []
    current: list[int] = []
    size = 0
    for i, entry in enumerate(entries):
        if current and (len(current) == BATCH or size + _size(entry) > MAX_BATCH_BYTES):
            found.append(current)
            current, size = [], 0
        current.append(i)
        size += _size(entry)
    if current:
        found.append(current)
    return found


def _put(entries: Sequence[dict[str, Any]], indices: list[int]) -> list[int]:
    """Send one batch; the indices that still failed after the retries."""
    pending = indices
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(random.uniform(0.05, 0.1) * 2**attempt)
        try:
            resp = aws.events().put_events(Entries=[entries[i] for i in pending])  # type: ignore[misc]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in _RETRYABLE:
                raise
            continue
        if not resp.get("FailedEntryCount"):
            return []
        results = resp["Entries"]
        codes = {str(r["ErrorCode"]) for r in results if r.get("ErrorCode")}
        logger.warning("EventBridge failed entries", extra={"failed": resp["FailedEntryCount"], "codes": sorted(codes)})
        pending = [i for i, r in zip(pending, results, strict=True) if r.get("ErrorCode")]
    return pending


def put(entries: Sequence[dict[str, Any]]) -> set[int]:
    """Publish `entries` (PutEvents request entries); the indices that could not be published."""
    groups = batches(entries)
    if len(groups) <= 1:
        return set(_put(entries, groups[0])) if groups else set()
    with ThreadPoolExecutor(max_workers=min(CONCURRENCY, len(groups))) as pool:
        return {i for failed in pool.map(lambda g: _put(entries, g), groups) for i in failed}

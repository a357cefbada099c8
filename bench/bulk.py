"""Bulk scaling: parse + validate rate (bench.csv_parse), our import code over 10k / 100k / 1M-row
files with AWS faked in-process (bench.bulk_scale) and, when bench/bulk_import.py exists, the
import end to end on moto (its own run(quick) -> dict). Absent, that part is skipped and said so."""

from __future__ import annotations

import importlib.util
from typing import Any

from bench import bulk_scale, csv_parse


def run(quick: bool = False) -> dict[str, Any]:
    found: dict[str, Any] = {"benchmark": "bulk", "csv_parse": csv_parse.run(quick)}
    found["bulk_scale"] = bulk_scale.run(quick)
    if importlib.util.find_spec("bench.bulk_import") is None:
        found["bulk_import"] = {"skipped": "bench/bulk_import.py is not there yet"}
        return found
    from bench import bulk_import  # type: ignore[attr-defined, unused-ignore]

    found["bulk_import"] = bulk_import.run(quick)
    return found


def per_1000_rows(result: dict[str, Any]) -> dict[str, float] | None:
    """Requests and WCU per 1,000 rows, under whichever of the usual names bulk_import reported them."""

    def first(data: Any, names: tuple[str, ...]) -> float | None:
        if isinstance(data, dict):
            for key, value in data.items():
                if key in names and isinstance(value, int | float):
                    return float(value)
            for value in data.values():
                hit = first(value, names)
                if hit is not None:
                    return hit
        if isinstance(data, list):
            for value in data:
                hit = first(value, names)
                if hit is not None:
                    return hit
        return None

    requests = first(result, ("requests_per_1000_rows", "dynamodb_requests_per_1000_rows"))
    if requests is None:
        return None
    found = {"requests_per_1000_rows": requests}
    wcu = first(result, ("wcu_per_row",))
    wcu_1000 = first(result, ("wcu_per_1000_rows",))
    if wcu is not None or wcu_1000 is not None:
        found["wcu_per_row"] = wcu if wcu is not None else (wcu_1000 or 0) / 1000
    one = first(result, ("wcu_per_row_one_per_customer",))
    if one:
        found["wcu_per_row_one_per_customer"] = one
    return found

"""On paper, for AWS: how long 1,000,000 rows take through the bulk import, with the arithmetic.

Inputs from the repository (chunk rows from template.yaml, MaxConcurrency from the state machine),
from this run (requests and WCU per 1,000 rows when bench/bulk_import.py measured them; the CPU
of one chunk from bench/bulk_scale.py: the median chunk's seconds on this machine, our code and
the SDK's client side, AWS faked; without it, only the parse rate of bench/csv_parse.py, which
leaves out building and sending the transactions), and stated assumptions about AWS (below).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from bench.lambda_env import ROOT

ROWS = 1_000_000
# Assumptions about AWS (us-east-1, arm64):
REQUEST_MS = 25.0  # mean DynamoDB latency of a BatchGetItem (100 keys) / TransactWriteItems (100 items)
LAMBDA_CPU_SHARE = 1024 / 1769  # a 1,024 MB function gets this share of one vCPU (= one core here)
CHUNK_OVERHEAD_S = 0.5  # Map item dispatch, invoke, S3 range GET, report write
ON_DEMAND_WRU_PER_S = 4000  # what a new on-demand table sustains before it has seen a higher peak
WRU_PRICE_PER_MILLION = 0.625  # on-demand write request units, USD
ASSUMED = {"requests_per_1000_rows": 40.0, "wcu_per_row": 4.0}  # from imports_apply: 2 items/row, 50 rows/tx


def chunk_rows() -> int:
    found = re.search(r'IMPORT_CHUNK_ROWS:\s*"?(\d+)', (ROOT / "template.yaml").read_text())
    return int(found.group(1)) if found else 5000


def import_param_validation() -> str:
    """DYNAMODB_PARAM_VALIDATION as the template gives it to the bulk import function."""
    found = re.search(r'DYNAMODB_PARAM_VALIDATION:\s*"?(\w+)', (ROOT / "template.yaml").read_text())
    return found.group(1) if found else "true"


def max_concurrency() -> int | None:
    path = ROOT / "statemachine" / "bulk_import.asl.json"
    if not path.exists():
        return None
    found: list[int] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("Type") == "Map" and "MaxConcurrency" in node:
                found.append(int(node["MaxConcurrency"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(path.read_text()))
    return found[0] if found else None


def estimate(
    parse_rows_per_s: float, measured: dict[str, float] | None = None, chunk_rows_per_s: float | None = None
) -> dict[str, Any]:
    """`chunk_rows_per_s`: rows a chunk task applies per second of CPU here (bench/bulk_scale.py);
    without it the CPU is the parse alone, at `parse_rows_per_s`."""
    per = {**ASSUMED, **(measured or {})}
    rows, concurrency = chunk_rows(), max_concurrency() or 10
    chunks = math.ceil(ROWS / rows)
    db_s = rows / 1000 * per["requests_per_1000_rows"] * REQUEST_MS / 1000
    cpu_s = rows / ((chunk_rows_per_s or parse_rows_per_s) * LAMBDA_CPU_SHARE)
    chunk_s = db_s + cpu_s + CHUNK_OVERHEAD_S
    waves = math.ceil(chunks / concurrency)
    lambda_bound_s = waves * chunk_s
    demand_wru_s = concurrency * rows * per["wcu_per_row"] / chunk_s
    dynamodb_bound_s = ROWS * per["wcu_per_row"] / ON_DEMAND_WRU_PER_S
    total_s = max(lambda_bound_s, dynamodb_bound_s)
    return {
        "rows": ROWS,
        "chunk_rows": rows,
        "max_concurrency": concurrency,
        "concurrency_source": "statemachine/bulk_import.asl.json" if max_concurrency() else "assumed",
        "per_1000_rows": per,
        "per_1000_rows_source": "measured" if measured else "assumed",
        "chunks": chunks,
        "chunk_seconds": round(chunk_s, 2),
        "chunk_dynamodb_seconds": round(db_s, 2),
        "chunk_cpu_seconds": round(cpu_s, 2),
        "chunk_cpu_source": "measured per chunk (bench/bulk_scale.py)" if chunk_rows_per_s else "parse only",
        "lambda_bound_minutes": round(lambda_bound_s / 60, 1),
        "dynamodb_demand_wru_per_s": round(demand_wru_s),
        "dynamodb_bound_minutes": round(dynamodb_bound_s / 60, 1),
        "estimate_minutes": round(total_s / 60, 1),
        "write_cost_usd": round(ROWS * per["wcu_per_row"] / 1e6 * WRU_PRICE_PER_MILLION, 2),
        "assumptions": {
            "dynamodb_request_ms": REQUEST_MS,
            "lambda_cpu_share": round(LAMBDA_CPU_SHARE, 2),
            "chunk_overhead_s": CHUNK_OVERHEAD_S,
            "on_demand_wru_per_s": ON_DEMAND_WRU_PER_S,
        },
    }

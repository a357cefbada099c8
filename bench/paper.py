"""On paper, for AWS: how long 1,000,000 rows take through the bulk import, with the arithmetic.

Inputs from the repository (chunk rows from template.yaml, the Distributed Map's MaxConcurrency
from the template's ImportMaxConcurrency default, which the deployed and the executed definition
both take), from this run (requests per 1,000 rows and write units per row, from the items the
import wrote, when bench/bulk_import.py measured them; the CPU of one chunk, of the scan and of
the finish from bench/bulk_scale.py: seconds on this machine, our code and the SDK's client side,
AWS faked; without them, only the parse rate of bench/csv_parse.py), and stated assumptions
about AWS (below). The estimate is for the file that costs most per row: every customer once (a
customer's later rows in a chunk share its balance write and cost about half).
"""

from __future__ import annotations

import math
import re
from typing import Any

from bench.lambda_env import ROOT

ROWS = 1_000_000
# Assumptions about AWS (us-east-1, arm64):
REQUEST_MS = 25.0  # mean DynamoDB latency of a BatchGetItem (100 keys) / TransactWriteItems (100 items)
LAMBDA_CPU_SHARE = 1024 / 1769  # a 1,024 MB function gets this share of one vCPU (= one core here)
CHUNK_OVERHEAD_S = 0.5  # Map item dispatch, invoke, S3 range GETs, report write
NEW_TABLE_WRU_PER_S = 4000  # what a new on-demand table serves at once (its default warm throughput)
WARM_WRU_PER_S = 20_000  # the WarmThroughput the README suggests for million-row imports
WRU_PRICE_PER_MILLION = 0.625  # on-demand write request units, USD
RRU_PRICE_PER_MILLION = 0.125  # on-demand read request units, USD
READS_PER_ROW = 2  # the profile and the balance, strongly consistent, each under 4 KB
LAMBDA_GB_S_PRICE = 0.0000133334  # arm64, USD
LAMBDA_GB = 1.0  # BulkCsvImportFunction's MemorySize
ASSUMED = {"requests_per_1000_rows": 40.0, "wcu_per_row": 4.0}  # 2 items a row, each doubled in a transaction


def _template() -> str:
    return (ROOT / "template.yaml").read_text()


def chunk_rows() -> int:
    found = re.search(r'IMPORT_CHUNK_ROWS:\s*"?(\d+)', _template())
    return int(found.group(1)) if found else 5000


def import_param_validation() -> str:
    """DYNAMODB_PARAM_VALIDATION as the template gives it to the bulk import function."""
    found = re.search(r'DYNAMODB_PARAM_VALIDATION:\s*"?(\w+)', _template())
    return found.group(1) if found else "true"


def max_concurrency() -> int | None:
    """The default of the template's ImportMaxConcurrency (DefinitionSubstitutions put it in the
    Distributed Map's MaxConcurrency, in AWS and in moto alike)."""
    found = re.search(r"ImportMaxConcurrency:\s*\n\s*Type: Number\s*\n\s*Default: (\d+)", _template())
    return int(found.group(1)) if found else None


def estimate(
    parse_rows_per_s: float,
    measured: dict[str, float] | None = None,
    chunk_rows_per_s: float | None = None,
    serial_cpu_s: float | None = None,
) -> dict[str, Any]:
    """`chunk_rows_per_s`: rows a chunk task applies per second of CPU here (bench/bulk_scale.py);
    without it the CPU is the parse alone, at `parse_rows_per_s`. `serial_cpu_s`: the scan and the
    finish of a 1M-row file here (they run before and after the chunks)."""
    per = {**ASSUMED, **(measured or {})}
    wcu = per.get("wcu_per_row_one_per_customer", per["wcu_per_row"])
    rows, concurrency = chunk_rows(), max_concurrency() or 10
    chunks = math.ceil(ROWS / rows)
    db_s = rows / 1000 * per["requests_per_1000_rows"] * REQUEST_MS / 1000
    cpu_s = rows / ((chunk_rows_per_s or parse_rows_per_s) * LAMBDA_CPU_SHARE)
    chunk_s = db_s + cpu_s + CHUNK_OVERHEAD_S
    serial_s = (serial_cpu_s or 0.0) / LAMBDA_CPU_SHARE
    waves = math.ceil(chunks / concurrency)
    lambda_bound_s = waves * chunk_s
    demand_wru_s = concurrency * rows * wcu / chunk_s
    new_s = ROWS * wcu / NEW_TABLE_WRU_PER_S
    warm_s = ROWS * wcu / WARM_WRU_PER_S
    write_usd = ROWS * wcu / 1e6 * WRU_PRICE_PER_MILLION
    read_usd = ROWS * READS_PER_ROW / 1e6 * RRU_PRICE_PER_MILLION
    lambda_usd = (chunks * chunk_s + serial_s) * LAMBDA_GB * LAMBDA_GB_S_PRICE
    return {
        "rows": ROWS,
        "chunk_rows": rows,
        "max_concurrency": concurrency,
        "concurrency_source": "template.yaml ImportMaxConcurrency" if max_concurrency() else "assumed",
        "per_1000_rows": per,
        "per_1000_rows_source": "measured" if measured else "assumed",
        "wcu_per_row": wcu,
        "chunks": chunks,
        "chunk_seconds": round(chunk_s, 2),
        "chunk_dynamodb_seconds": round(db_s, 2),
        "chunk_cpu_seconds": round(cpu_s, 2),
        "chunk_cpu_source": "measured per chunk (bench/bulk_scale.py)" if chunk_rows_per_s else "parse only",
        "scan_and_finish_seconds": round(serial_s, 1),
        "lambda_bound_minutes": round(lambda_bound_s / 60, 1),
        "dynamodb_demand_wru_per_s": round(demand_wru_s),
        "dynamodb_bound_minutes": round(new_s / 60, 1),
        "dynamodb_bound_minutes_warm": round(warm_s / 60, 1),
        "estimate_minutes": round((serial_s + max(lambda_bound_s, new_s)) / 60, 1),
        "estimate_minutes_warm": round((serial_s + max(lambda_bound_s, warm_s)) / 60, 1),
        "warm_wru_per_s_for_5_minutes": math.ceil(ROWS * wcu / max(300 - serial_s, 1) / 1000) * 1000,
        "write_cost_usd": round(write_usd, 2),
        "cost_per_million_rows_usd": round(write_usd + read_usd + lambda_usd, 2),
        "cost_per_1000_rows_usd": round((write_usd + read_usd + lambda_usd) / 1000, 5),
        "assumptions": {
            "dynamodb_request_ms": REQUEST_MS,
            "lambda_cpu_share": round(LAMBDA_CPU_SHARE, 2),
            "chunk_overhead_s": CHUNK_OVERHEAD_S,
            "new_table_wru_per_s": NEW_TABLE_WRU_PER_S,
            "warm_wru_per_s": WARM_WRU_PER_S,
            "wru_usd_per_million": WRU_PRICE_PER_MILLION,
            "rru_usd_per_million": RRU_PRICE_PER_MILLION,
            "lambda_usd_per_gb_s": LAMBDA_GB_S_PRICE,
        },
    }

"""Benchmark: parse + validate of a bulk import CSV on one core, and its memory.

    PYTHONPATH=.:layers/goodwill .venv/bin/python -m bench.csv_parse [--quick]

Measures rows/s of `parse` for a generated ADD file (customer_id, points, reason and now and
then a comment; 0.5 % bad rows), the whole-file scan that cuts chunks, and a SET import (which
remembers every customer). Memory: tracemalloc's peak while parsing a file that is generated
on the fly (never held whole) in 16 KiB chunks, for N/10 and N rows: in ADD mode the parser
holds about one chunk, whatever the row count; in SET mode it adds 16-32 bytes per customer.
"""

from __future__ import annotations

import gc
import json
import platform
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from goodwill.bulk.csvfile import ImportRules, ValidRow, count_rows_and_offsets, parse

GOAL_ROWS_PER_S = 200_000
CHUNK_BYTES = 1 << 20  # what the Lambda asks S3's StreamingBody.iter_chunks for
MEMORY_CHUNK_BYTES = 16 << 10  # smaller, so that even N/10 rows span several chunks
REASONS = frozenset({"BULK_ADJUSTMENT", "REWARD", "SERVICE_RECOVERY"})
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _row(n: int) -> str:
    points = "1.5" if n % 200 == 7 else str((n * 37) % 999 - 499 or 1)
    comment = f'"goodwill, case {n}"' if n % 10 == 0 else ""
    reason = "REWARD" if n % 3 else ""
    return f"C{n:08d},{points},{reason},{comment}\r\n"


def generate(rows: int, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The file as S3 would stream it, made on the fly."""
    buffer = ["customer_id,points,reason,comment\r\n"]
    size = 0
    for n in range(1, rows + 1):
        line = _row(n)
        buffer.append(line)
        size += len(line)
        if size >= chunk_bytes:
            yield "".join(buffer).encode()
            buffer, size = [], 0
    yield "".join(buffer).encode()


def _best_rate(rows: int, work: Callable[[], int], repeat: int = 3) -> tuple[float, int]:
    best, result = float("inf"), 0
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return rows / best, result


def _parse_all(chunks: list[bytes], mode: str = "ADD") -> int:
    rules = ImportRules(allowed_reasons=REASONS, mode=mode, now=NOW)  # type: ignore[arg-type]
    return sum(type(row) is ValidRow for row in parse(chunks, rules))


def _peak_kib(rows: int, mode: str = "ADD") -> float:
    """tracemalloc peak (KiB) over a parse of a generated file: the parser's working memory."""
    rules = ImportRules(allowed_reasons=REASONS, mode=mode, now=NOW)  # type: ignore[arg-type]
    gc.collect()
    tracemalloc.start()
    for _ in parse(generate(rows, MEMORY_CHUNK_BYTES), rules):
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return round(peak / 1024, 1)


def run(quick: bool = False) -> dict[str, Any]:
    rows = 20_000 if quick else 200_000
    chunks = list(generate(rows))
    add_rate, valid = _best_rate(rows, lambda: _parse_all(chunks))
    add_rules = ImportRules(allowed_reasons=REASONS, now=NOW)
    scan_rate, _ = _best_rate(rows, lambda: count_rows_and_offsets(chunks, 10_000, add_rules).rows)
    set_rate, _ = _best_rate(rows, lambda: _parse_all(chunks, "SET"))
    small, large = _peak_kib(rows // 10), _peak_kib(rows)
    set_small, set_large = _peak_kib(rows // 10, "SET"), _peak_kib(rows, "SET")
    return {
        "benchmark": "csv_parse",
        "python": platform.python_version(),
        "rows": rows,
        "file_mib": round(sum(map(len, chunks)) / (1 << 20), 1),
        "valid_rows": valid,
        "add_rows_per_s": round(add_rate),
        "goal_rows_per_s": GOAL_ROWS_PER_S,
        "meets_goal": add_rate >= GOAL_ROWS_PER_S,
        "scan_rows_per_s": round(scan_rate),
        "set_rows_per_s": round(set_rate),
        "memory_chunk_kib": MEMORY_CHUNK_BYTES >> 10,
        "add_peak_kib": {str(rows // 10): small, str(rows): large},
        "add_peak_growth_kib": round(large - small, 1),
        "set_peak_kib": {str(rows // 10): set_small, str(rows): set_large},
        "set_bytes_per_customer": round((set_large - set_small) * 1024 / (rows - rows // 10), 1),
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv[1:]), indent=2))

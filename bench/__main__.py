"""python -m bench [--quick] [--only SECTION ...]: run the benchmarks, print the table, write results."""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from bench.lambda_env import CACHE

# This process imports moto, cfn-lint and the app on every run: keep their byte code (outside the
# work tree, which PYTHONDONTWRITEBYTECODE keeps clean) so start-up does not recompile them.
sys.pycache_prefix = str(CACHE / "pyc-bench")
sys.dont_write_bytecode = False

SECTIONS = ("cold_start", "first_request", "latency", "cpu", "cost", "bulk", "size", "table_growth")


def _section(name: str) -> Callable[[bool], dict[str, Any]]:
    module = __import__(f"bench.{name}", fromlist=["run"])
    run: Callable[[bool], dict[str, Any]] = module.run
    return run


def _rows(results: dict[str, Any]) -> list[Any]:
    from bench import bulk, paper, rows

    table = []
    for name in ("cold_start", "first_request", "latency", "cpu", "cost"):
        if name in results and "error" not in results[name]:
            table += getattr(rows, name)(results[name])
    if "bulk" in results and "error" not in results["bulk"]:
        per_1000 = bulk.per_1000_rows(results["bulk"]["bulk_import"])
        table += rows.bulk(results["bulk"], per_1000)
        scale = results["bulk"].get("bulk_scale") or {}
        parse_rate = results["bulk"]["csv_parse"]["add_rows_per_s"]
        serial = scale.get("serial_cpu_seconds_1m")
        results["paper"] = paper.estimate(parse_rate, per_1000, scale.get("chunk_rows_per_s"), serial)
        table += rows.paper(results["paper"])
    if "size" in results and "error" not in results["size"]:
        table += rows.size(results["size"])
    if "table_growth" in results and "error" not in results["table_growth"]:
        table += rows.table_growth(results["table_growth"])
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer calls and rounds, no sam build (CI smoke)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run these sections only")
    args = parser.parse_args(argv)

    from bench import report

    info = report.machine()
    started = time.perf_counter()
    results: dict[str, Any] = {}
    failed = []
    for name in args.only or SECTIONS:
        began = time.perf_counter()
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        try:
            results[name] = _section(name)(args.quick)
        except Exception as exc:  # one broken section must not hide the others; the exit code says it
            traceback.print_exc()
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            failed.append(name)
        results[name]["seconds"] = round(time.perf_counter() - began, 1)
    info.update(mode="quick" if args.quick else "full", duration_s=round(time.perf_counter() - started))
    table = _rows(results)
    if args.only:  # a partial run keeps the other sections (and their rows) of the last results
        results, table = _merged(results, table, info)
    path = report.write(table, results, info)
    print(report.markdown(table, info))
    print(f"written: {path} and latest.md" + (f"; FAILED sections: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def _merged(results: dict[str, Any], table: list[Any], info: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    import json

    from bench.report import RESULTS, Row

    try:
        previous = json.loads((RESULTS / "latest.json").read_text())
    except (OSError, ValueError):
        return results, table
    info["sections_run"] = sorted(results)
    info["sections_kept_from"] = previous.get("machine", {}).get("date")
    merged = {**previous.get("sections", {}), **results}
    try:  # the table drawn again from every section's results: a table heading ("DynamoDB cost") is
        return merged, _rows(merged)  # shared by several sections, so rows cannot be kept by heading
    except (KeyError, TypeError, ValueError):  # a kept section written by older code: its old rows
        fresh = {row.section for row in table}
        kept = [Row(**row) for row in previous.get("rows", []) if row.get("section") not in fresh]
        return merged, kept + table


if __name__ == "__main__":
    sys.exit(main())

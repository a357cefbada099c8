"""One table row per measure, from each section's result."""

from __future__ import annotations

from typing import Any

from bench.report import Row


def cold_start(r: dict[str, Any]) -> list[Row]:
    warm, cold, goal = r["warm_pyc"], r["no_layer_pyc"], r["goal_ratio"]
    floor = f"{warm['floor']['median_ms']:.0f} ms"
    rows = [
        Row(
            "Cold start",
            "layer as specified imports every handler",
            _layer_check(r),
            goal="imports",
            met=not r["missing_from_layer"] if r["method"] == "lambda-like" else None,
        ),
        Row(
            "Cold start",
            "skeleton (floor + Logger, Metrics, validating resolver built, handler decorated), CPU",
            _ms(warm["skeleton"]),
            floor,
            _x(warm["skeleton"]["ratio"]),
        ),
    ]
    if "skeleton_paused" in warm:
        rows.append(
            Row(
                "Cold start",
                "the skeleton with init's GC pause (goodwill/__init__.py), CPU",
                _ms(warm["skeleton_paused"]),
                f"skeleton {_ms(warm['skeleton'])}",
                _x(warm["skeleton_paused"]["vs_skeleton"]),
            )
        )
    for name, v in warm.items():
        if name not in ("floor", "skeleton", "skeleton_paused"):
            top = ", ".join(f"{d['package']} {d['self_ms']:.0f}" for d in r["dominant"].get(name, [])[:3])
            measure = f"import {name}" + (f" (top: {top} ms)" if top else "") + f"; {_x(v['ratio'])} the floor"
            if "vs_paused_skeleton" in v:
                measure += f", {_x(v['vs_paused_skeleton'])} the paused skeleton"
            over = v.get("vs_skeleton", v["ratio"])
            rows.append(
                Row(
                    "Cold start",
                    measure,
                    _ms(v),
                    f"skeleton {_ms(warm['skeleton'])}",
                    _x(over),
                    f"≤ {goal}x",
                    over <= goal,
                )
            )
    cold_floor = f"{cold['floor']['median_ms']:.0f} ms" if cold else ""
    for name, v in cold.items():
        if name != "floor":
            rows.append(
                Row(
                    "Cold start",
                    f"import {name}, layer without byte code (as sam build ships it)",
                    f"{_ms(v)} (precompiled: {_ms(warm[name])})",
                    cold_floor,
                    _x(v["ratio"]),
                )
            )
    return rows


def first_request(r: dict[str, Any]) -> list[Row]:
    return [
        Row(
            "First request",
            f"fresh process: import + {v['route']} ({v['dynamodb_requests']} DynamoDB calls, answers canned)",
            f"{v['target_ms']:.0f} ms" + (" CPU" if "target_wall_ms" in v else ""),
            f"skeleton + same route and calls {v['floor_ms']:.0f} ms",
            _x(v["ratio"]),
            f"≤ {v['goal_ratio']}x",
            v["meets_goal"],
        )
        for v in r["routes"]
    ]


def cpu(r: dict[str, Any]) -> list[Row]:
    return [
        Row(
            "Handler CPU",
            f"{v['route']} ({v['dynamodb_requests']} DynamoDB calls, answers canned)",
            f"{v['handler_cpu_ms']:.2f} ms CPU; {v['gb_s_per_million']:,} GB-s"
            f" (${v['usd_per_million']:.2f}) per million",
            f"Powertools skeleton, same route and calls {v['skeleton_cpu_ms']:.2f} ms"
            f" (the SDK calls alone {v['floor_cpu_ms']:.2f} ms)",
            (_x(v["ratio"]) + f" ({_x(v['sdk_ratio'])} the SDK calls alone)") if v["ratio"] else "",
            f"≤ {v['goal_ratio']}x",
            v["meets_goal"],
        )
        for v in r["routes"]
    ]


def latency(r: dict[str, Any]) -> list[Row]:
    rows = []
    for v in r["routes"]:
        h, f = v["handler_ms"], v["floor_ms"]
        rows.append(
            Row(
                "Warm latency",
                f"{v['route']} ({v['dynamodb_requests']} DynamoDB calls)",
                f"p50 {h['p50']:.1f} / p99 {h['p99']:.1f} ms",
                f"p50 {f['p50']:.1f} / p99 {f['p99']:.1f} ms",
                f"{v['ratio_p50']:.2f}x (p99 {v['ratio_p99']:.2f}x)",
                f"≤ {v['goal_ratio']}x",
                v["meets_goal"],
            )
        )
    return rows


def cost(r: dict[str, Any]) -> list[Row]:
    rows = []
    for name, v in r["operations"].items():
        goal = r["goals"].get(name)
        met = None
        goal_text = ""
        if goal:
            met = v["requests"] <= goal["requests"] and v["wcu_table"] <= goal["wcu"]
            goal_text = f"≤ {goal['requests']} requests, ≤ {goal['wcu']} WCU"
        result = f"{v['requests']:g} requests, {v['rcu']:g} RCU, {v['wcu_table']:g} WCU (+{v['wcu_gsi']:g} GSI)"
        rows.append(Row("DynamoDB cost", name, result, goal=goal_text, met=met))
    return rows


def bulk(r: dict[str, Any], per_1000: dict[str, float] | None) -> list[Row]:
    p = r["csv_parse"]
    rows = [
        Row(
            "Bulk",
            f"parse + validate, one core ({p['rows']:,} rows)",
            f"{p['add_rows_per_s']:,} rows/s",
            goal=f"≥ {p['goal_rows_per_s']:,} rows/s",
            met=p["meets_goal"],
        ),
        Row(
            "Bulk",
            "parser memory, N/10 vs N rows (tracemalloc peak)",
            " vs ".join(f"{k} rows {v} KiB" for k, v in p["add_peak_kib"].items()),
            goal="flat",
            met=abs(p["add_peak_growth_kib"]) < 64,
        ),
    ]
    if "bulk_scale" in r:
        rows += scale(r["bulk_scale"])
    imported = r["bulk_import"]
    if "skipped" in imported:
        rows.append(Row("Bulk", "import of 10k / 100k / 1M rows", f"skipped: {imported['skipped']}"))
        return rows
    if per_1000:
        rows.append(_import_cost(per_1000))
    undone = imported.get("revert") or {}
    if per_1000 and "requests_per_1000_reverted_rows" in undone:
        rows.append(_revert_cost(undone, per_1000))
    for line in imported.get("table", []):
        rows.append(
            Row(
                "Bulk",
                str(line.get("measure", "")),
                str(line.get("result", "")),
                goal=str(line.get("goal", "")),
                met=line.get("met"),
            )
        )
    return rows


def _import_cost(per_1000: dict[str, float]) -> Row:
    n, units = per_1000["requests_per_1000_rows"], per_1000.get("wcu_per_row")
    result = f"{n:g} requests" + (f", {units:g} WCU a row" if units is not None else "")
    return Row("DynamoDB cost", "bulk import, per 1,000 rows", result, goal="≤ 60 requests", met=n <= 60)


def _revert_cost(undone: dict[str, Any], per_1000: dict[str, float]) -> Row:
    """The revert of that import beside the import: the same fan-out, a REVERSAL entry and the
    original's reversed_by a row where the import wrote one entry."""
    n, units = undone["requests_per_1000_reverted_rows"], undone["wcu_per_reverted_row"]
    imported, imported_units = per_1000["requests_per_1000_rows"], per_1000.get("wcu_per_row")
    floor = f"import: {imported:g} requests" + (f", {imported_units:g} WCU a row" if imported_units else "")
    ratio = f"{n / imported:.2f}x requests" + (f", {units / imported_units:.2f}x WCU" if imported_units else "")
    return Row(
        "DynamoDB cost",
        "bulk import revert, per 1,000 reverted rows (same file, same fan-out)",
        f"{n:g} requests, {units:g} WCU a row",
        floor,
        ratio,
        goal="≤ 60 requests",
        met=n <= 60,
    )


def scale(r: dict[str, Any]) -> list[Row]:
    """bench/bulk_scale.py: parse rate, import time and peak RSS per file size, and their flatness."""
    sizes = r["sizes"]
    names = " / ".join(_count(s["rows"]) for s in sizes)
    largest = max(sizes, key=lambda s: s["rows"])
    rows = [
        Row(
            "Bulk",
            f"parse + validate, whole file streamed, one core ({names} rows)",
            " / ".join(f"{s['parse_rows_per_s']:,}" for s in sizes) + " rows/s",
            goal="≥ 200,000 rows/s",
            met=largest["parse_rows_per_s"] >= 200_000,
        )
    ]
    for s in sizes:
        sampled = s["chunks_applied"] < s["chunks"]
        how = f"; {s['chunks_applied']} of {s['chunks']} chunks applied, time extrapolated" if sampled else ""
        rows.append(
            Row(
                "Bulk",
                f"import of {_count(s['rows'])} rows, our code + SDK, AWS faked in-process, fresh process{how}",
                f"{s['seconds']:g} s, {s['rows_per_s']:,} rows/s (chunk of {r['chunk_rows']:,}: median "
                f"{s['chunk_seconds']['median']:g} s); peak RSS {s['peak_rss_mib']:g} MiB",
            )
        )
    flat = r["flatness"]
    if flat["ratio"] is None:
        result, met = "needs two sizes (full run)", None
    else:
        small, large = (next(s for s in sizes if s["rows"] == n) for n in flat["compared"])
        middle = [f"{_count(s['rows'])} {s['peak_rss_mib']:g}" for s in sizes if s not in (small, large)]
        result = f"{small['peak_rss_mib']:g} → {large['peak_rss_mib']:g} MiB ({flat['ratio']:g}x)" + (
            f"; {', '.join(middle)} MiB" if middle else ""
        )
        met = flat["flat"]
    rows.append(
        Row(
            "Bulk",
            f"import peak RSS (VmHWM of each process), {' → '.join(_count(s['rows']) for s in sizes)} rows",
            result,
            goal=f"flat: ≤ {flat['limit']:g}x",
            met=met,
        )
    )
    return rows


def _count(rows: int) -> str:
    """10k, 100k, 1M."""
    if rows >= 1_000_000 and rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows >= 1000 and rows % 1000 == 0:
        return f"{rows // 1000}k"
    return f"{rows:,}"


def size(r: dict[str, Any]) -> list[Row]:
    fns = r["functions"].values()
    small, large = min(f["unzipped_kb"] for f in fns), max(f["unzipped_kb"] for f in fns)
    layer = r["layer"]
    return [
        Row("Size", f"function packages ({len(r['functions'])}), {r['method']}", f"{small:g}-{large:g} KB unzipped"),
        Row(
            "Size",
            "layer",
            f"{layer['unzipped_kb'] / 1024:.1f} MB unzipped, {layer['zipped_kb'] / 1024:.1f} MB zipped, "
            f"{layer['py_files']} .py / {layer['pyc_files']} .pyc",
        ),
        Row(
            "Size",
            "largest function + layer",
            f"{r['largest_function_plus_layer_mb']} MB",
            goal=f"< {r['unzipped_limit_mb']} MB",
            met=r["meets_goal"],
        ),
    ]


def paper(r: dict[str, Any]) -> list[Row]:
    return [
        Row(
            "On paper (AWS)",
            f"1M rows, new on-demand table: {r['chunks']} chunks of {r['chunk_rows']:,}, "
            f"MaxConcurrency {r['max_concurrency']}, {r['wcu_per_row']} write units a row",
            f"≈ {r['estimate_minutes']} min (Lambda-bound {r['lambda_bound_minutes']}, DynamoDB-bound "
            f"{r['dynamodb_bound_minutes']} at 4,000 WRU/s); a chunk ≈ {r['chunk_seconds']} s "
            f"({r['chunk_dynamodb_seconds']} s DynamoDB, {r['chunk_cpu_seconds']} s CPU: {r['chunk_cpu_source']})",
            goal="≤ 8 min",
            met=r["estimate_minutes"] <= 8,
        ),
        Row(
            "On paper (AWS)",
            f"1M rows, WarmThroughput {r['assumptions']['warm_wru_per_s']:,} WRU/s",
            f"≈ {r['estimate_minutes_warm']} min (DynamoDB-bound {r['dynamodb_bound_minutes_warm']}); "
            f"5 min needs ≈ {r['warm_wru_per_s_for_5_minutes']:,} WRU/s",
            goal="≤ 5 min",
            met=r["estimate_minutes_warm"] <= 5,
        ),
        Row(
            "On paper (AWS)",
            "cost of 1M rows (writes, reads, Lambda)",
            f"${r['cost_per_million_rows_usd']} (writes ${r['write_cost_usd']}): "
            f"${r['cost_per_1000_rows_usd']} per 1,000 rows",
            goal="not above $0.00277 per 1,000 (before)",
            met=r["cost_per_1000_rows_usd"] <= 0.00277,
        ),
    ]


def _layer_check(r: dict[str, Any]) -> str:
    if r["method"] != "lambda-like":
        return "not checked: pip could not install the layer, measured in the project's venv"
    return "yes" if not r["missing_from_layer"] else "fails: no " + ", ".join(r["missing_from_layer"])


def _ms(v: dict[str, Any]) -> str:
    return f"{v['median_ms']:.0f} ms" + (" CPU" if "wall_ms" in v else "")


def _x(ratio: float) -> str:
    return f"{ratio:.2f}x"


def table_growth(r: dict[str, Any]) -> list[Row]:
    return [
        Row(
            "Local table growth",
            f"{v['route']} with {r['items']:,} items in the table (moto, local/aws/moto_query.py)",
            f"p50 {v['full_ms']:.1f} ms",
            f"p50 {v['empty_ms']:.1f} ms (empty table)",
            f"{v['ratio']:.2f}x",
            f"≤ {r['goal_ratio']}x",
            v["meets_goal"],
        )
        for v in r["routes"]
    ]

"""Pure helpers of the benchmarks: percentiles, table renaming, bulk figures, the 1M-row arithmetic,
the bulk scaling run's chunk sample, memory verdict and table rows."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from bench import bulk, bulk_scale, paper, rows
from bench.floor import _rename
from bench.latency import percentile


def test_percentile_is_nearest_rank() -> None:
    samples = [float(n) for n in range(1, 101)]

    assert (percentile(samples, 50), percentile(samples, 99), percentile(samples, 100)) == (50.0, 99.0, 100.0)


def test_rename_replaces_the_table_in_keys_and_values_only_where_equal() -> None:
    params = {"RequestItems": {"t": {"Keys": [{"PK": {"S": "t"}}]}}, "TransactItems": [{"Put": {"TableName": "t"}}]}

    renamed = _rename(params, "t", "twin")

    assert renamed == {
        "RequestItems": {"twin": {"Keys": [{"PK": {"S": "twin"}}]}},
        "TransactItems": [{"Put": {"TableName": "twin"}}],
    }


def test_per_1000_rows_finds_nested_figures_and_derives_wcu_per_row() -> None:
    result = {"sizes": [{"rows": 10_000, "dynamodb": {"requests_per_1000_rows": 41.5, "wcu_per_1000_rows": 4000}}]}

    assert bulk.per_1000_rows(result) == {"requests_per_1000_rows": 41.5, "wcu_per_row": 4.0}


def test_per_1000_rows_is_none_without_a_request_count() -> None:
    assert bulk.per_1000_rows({"skipped": "absent"}) is None


def test_estimate_is_bounded_by_the_slower_of_lambda_and_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paper, "chunk_rows", lambda: 5000)
    monkeypatch.setattr(paper, "max_concurrency", lambda: 5)

    found = paper.estimate(200_000, {"requests_per_1000_rows": 40.0, "wcu_per_row": 4.0})

    assert found["chunks"] == 200
    assert found["dynamodb_bound_minutes"] == pytest.approx(1_000_000 * 4 / 4000 / 60, abs=0.1)
    assert found["estimate_minutes"] == max(found["lambda_bound_minutes"], found["dynamodb_bound_minutes"])


def test_estimate_takes_the_measured_chunk_cpu_over_the_parse_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paper, "chunk_rows", lambda: 5000)
    monkeypatch.setattr(paper, "max_concurrency", lambda: 5)

    parse_only = paper.estimate(200_000)
    measured = paper.estimate(200_000, chunk_rows_per_s=2_500)

    assert parse_only["chunk_cpu_seconds"] == pytest.approx(5000 / (200_000 * paper.LAMBDA_CPU_SHARE), abs=0.01)
    assert measured["chunk_cpu_seconds"] == pytest.approx(5000 / (2_500 * paper.LAMBDA_CPU_SHARE), abs=0.01)
    assert measured["chunk_cpu_source"].startswith("measured")
    assert measured["lambda_bound_minutes"] > parse_only["lambda_bound_minutes"]


@pytest.mark.parametrize(
    ("peaks", "ratio", "flat"),
    [
        ({10_000: 80.0, 100_000: 95.0, 1_000_000: 100.0}, 1.25, True),
        ({10_000: 80.0, 1_000_000: 120.0}, 1.5, True),
        ({10_000: 80.0, 100_000: 110.0, 1_000_000: 136.0}, 1.7, False),  # e.g. the file held whole
    ],
)
def test_flatness_compares_the_largest_file_with_the_smallest(
    peaks: dict[int, float], ratio: float, flat: bool
) -> None:
    found = bulk_scale.flatness(peaks)

    assert (found["ratio"], found["flat"], found["compared"]) == (ratio, flat, [min(peaks), max(peaks)])


def test_flatness_needs_two_sizes() -> None:
    assert bulk_scale.flatness({10_000: 80.0})["flat"] is None


def test_sample_chunks_takes_every_chunk_of_a_small_file() -> None:
    assert bulk_scale.sample_chunks(20, all_up_to=20, sample=10) == list(range(20))


def test_sample_chunks_spreads_the_sample_over_the_file_first_and_last_included() -> None:
    picked = bulk_scale.sample_chunks(200, all_up_to=20, sample=10)

    assert len(picked) == 10
    assert (picked[0], picked[-1]) == (0, 199)
    gaps = {b - a for a, b in itertools.pairwise(picked)}
    assert gaps <= {22, 23}


def test_chunk_stats_are_median_max_min() -> None:
    assert bulk_scale.chunk_stats([3.0, 1.0, 2.0, 10.0]) == {"median": 2.5, "max": 10.0, "min": 1.0}
    assert bulk_scale.chunk_stats([]) == {"median": 0.0, "max": 0.0, "min": 0.0}


def test_write_csv_streams_each_customer_twice_on_consecutive_rows(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"

    size = bulk_scale.write_csv(path, 25_001)

    lines = path.read_text().splitlines()
    assert size == path.stat().st_size
    assert lines[0] == "customer_id,points,reason,comment"
    assert len(lines) == 25_002
    assert [line.split(",")[0] for line in lines[1:5]] == ["B000000", "B000000", "B000001", "B000001"]
    assert lines[-1] == "B012500,72,,bench row 25000"


def _size(rows_: int, peak: float, applied: int, chunks: int) -> dict[str, object]:
    return {
        "rows": rows_,
        "parse_rows_per_s": 400_000,
        "chunks": chunks,
        "chunks_applied": applied,
        "seconds": 4.2,
        "rows_per_s": 2_381,
        "chunk_seconds": {"median": 2.1},
        "peak_rss_mib": peak,
    }


def test_scale_rows_say_which_sizes_were_sampled_and_whether_memory_stayed_flat() -> None:
    sizes = [_size(10_000, 80.0, 2, 2), _size(100_000, 95.0, 20, 20), _size(1_000_000, 130.0, 10, 200)]
    result = {"chunk_rows": 5000, "sizes": sizes, "flatness": bulk_scale.flatness({10_000: 80.0, 1_000_000: 130.0})}

    table = rows.scale(result)

    assert table[0].measure.endswith("(10k / 100k / 1M rows)") and table[0].met is True
    assert "extrapolated" not in table[2].measure
    assert "10 of 200 chunks applied, time extrapolated" in table[3].measure
    assert table[-1].result == "80 → 130 MiB (1.62x); 100k 95 MiB"
    assert table[-1].met is False


def test_peak_rss_is_vmhwm_in_mib() -> None:
    status = "Name:\tpython\nVmPeak:\t  900000 kB\nVmHWM:\t  104448 kB\nVmRSS:\t   90000 kB\n"

    assert bulk_scale.peak_rss_mib(status) == 102.0


def test_peak_rss_falls_back_to_ru_maxrss_without_proc() -> None:
    assert bulk_scale.peak_rss_mib("Name:\tpython\n") > 0


def test_a_partial_run_keeps_every_other_sections_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the committed results, and a run of the bulk section alone (its rows include one under
    # the "DynamoDB cost" heading, which the cost section's rows share)
    import json

    from bench import __main__ as main
    from bench import report

    committed = Path(__file__).resolve().parents[2] / "bench" / "results" / "latest.json"
    previous = json.loads(committed.read_text())
    (tmp_path / "latest.json").write_text(committed.read_text())
    monkeypatch.setattr(report, "RESULTS", tmp_path)
    fresh = {"bulk": previous["sections"]["bulk"]}

    # When the partial run is merged with the last results
    _, table = main._merged(fresh, main._rows(dict(fresh)), {})

    # Then the cost section's rows are all still there, beside the bulk rows, each once
    names = [(row.section, row.measure) for row in table]
    before = [(row["section"], row["measure"]) for row in previous["rows"]]
    assert ("DynamoDB cost", "grant, auto-approved") in names
    assert ("DynamoDB cost", "bulk import, per 1,000 rows") in names
    assert sorted(names) == sorted(before)


def test_a_cpu_row_holds_the_handler_to_the_skeleton_and_shows_the_sdk_ratio_beside() -> None:
    route = {
        "route": "POST /goodwill/points (replayed key)",
        "dynamodb_requests": 1,
        "handler_cpu_ms": 1.26,
        "floor_cpu_ms": 0.84,
        "skeleton_cpu_ms": 1.10,
        "ratio": 1.15,
        "sdk_ratio": 1.5,
        "gb_s_per_million": 2224,
        "usd_per_million": 0.03,
        "goal_ratio": 1.25,
        "meets_goal": True,
    }
    (row,) = rows.cpu({"routes": [route]})
    assert row.floor == "Powertools skeleton, same route and calls 1.10 ms (the SDK calls alone 0.84 ms)"
    assert row.ratio == "1.15x (1.50x the SDK calls alone)" and row.met is True

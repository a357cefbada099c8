"""Pure helpers of the benchmarks: percentiles, table renaming, bulk figures, the 1M-row arithmetic."""

from __future__ import annotations

import pytest

from bench import bulk, paper
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

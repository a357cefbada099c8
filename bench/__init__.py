"""Goodwill's benchmarks: `make bench` (python -m bench) and `make bench-quick` (--quick, CI's smoke).

Every number is a ratio against a floor measured side by side in the same run, or a count
(requests, capacity units, bytes): these 2-core machines are shared and noisy, and moto is not
DynamoDB. Results: bench/results/latest.json and latest.md (written by each run; they go stale
between runs, so quote a number with the run it came from).

- the run: `__main__.py` (sections and flags), `report.py` and `rows.py` (the table and results);
- sections: `latency.py`, `floor.py`, `table_growth.py`, `cold_start.py`, `first_request.py`,
  `cpu.py`, `cost.py`, `size.py`, `bulk.py` (with `bulk_import.py`, `bulk_scale.py`,
  `csv_parse.py`), `paper.py` (the 1M-row estimate for AWS);
- helpers: `harness.py` and `scenario.py` (the moto stack and the org the warm benchmarks use),
  `fake_aws.py` (a fast in-process AWS for the bulk scaling runs), `lambda_env.py` (a Lambda-like
  import path), `meter.py`, `capacity.py` and `wcu.py` (counting requests and capacity units;
  several have unit tests in tests/unit/test_bench_*.py).
"""

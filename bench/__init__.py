"""Goodwill's benchmarks: `make bench` (python -m bench) and `make bench-quick` (--quick, CI's smoke).

Every number is a ratio against a floor measured side by side in the same run, or a count
(requests, capacity units, bytes): these 2-core machines are shared and noisy, and moto is not
DynamoDB. Results: bench/results/latest.json and latest.md.
"""

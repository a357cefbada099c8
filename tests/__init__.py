"""Goodwill's tests (`make test`; the pytest markers are in pyproject.toml).

- `unit/`: pure Python, no AWS, seconds: the domain core's rules (`test_core_*.py`), the CSV
  parser, lots, the report, the console's static checks and the benchmarks' arithmetic;
- `integration/`: the real handlers in-process under moto, with the resources of template.yaml
  (fixtures in `conftest.py`, a REST client and claims in `support.py`, the IAM side of the
  least-privilege test in `iam.py`);
- `statemachine/`: the real statemachine/*.asl.json executed by moto, the handlers as its tasks;
- `console/`: the Member Care console in a real Chromium against the local run.
"""

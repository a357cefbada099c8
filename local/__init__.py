"""The local run: Goodwill on moto, with no AWS account (`make local`, `make demo`, and the tests).

- `aws/`: the local AWS. template.yaml's resources created in moto and their event sources
  driven (stack), the template read (template), its handlers run in-process (functions), API
  Gateway, its authorizer and Cognito emulated (apigw, authorizer, tokens), schedules fired
  (schedules), and moto made to answer as AWS does where Goodwill's guarantees depend on it
  (moto_*, docs/aws-fidelity.md).
  The tests (tests/conftest.py) and the benchmarks (bench/harness.py) build on it.
- `devserver/`: `make local`, the development server on 127.0.0.1:3000 and what it serves
  besides the API (the console's files, the outbox, the events log, a webhook receiver).
- `tools/`: generators and scripts: the OpenAPI document, the event schemas, the template
  checkov reads, and `make demo`.
"""

"""The local run: Goodwill on moto, with no AWS account (`make local`, `make demo`, and the tests).

Three kinds of file live here (issue 11 will give each its own folder):
- local AWS, emulation and patches: `stack.py` creates template.yaml's resources in moto and drives
  their event sources, `template.py` reads the template, `functions.py` runs its handlers
  in-process, `isolation.py` keeps one event per handler per thread, `apigw.py` emulates API
  Gateway (REST, payload v1), `tokens.py` the Cognito token endpoint and authorizer, and
  `moto_patches.py`, `moto_conflicts.py`, `moto_query.py`, `moto_s3_access.py` make moto answer
  as AWS does where Goodwill's guarantees depend on it (docs/aws-fidelity.md);
- the development server: `server.py` (`make local`), `console.py` (the console's files),
  `outbox.py` (what was "sent"), `demo.py` (`make demo`);
- tooling: `openapi.py` (docs/openapi.json), `event_schemas.py` (docs/events/*.schema.json),
  `sam_transform.py` (the transformed template checkov reads).
The tests (tests/conftest.py) and the benchmarks (bench/harness.py) build on the local AWS part.
"""

"""Runtime settings, read from the environment once, behind a cached getter.

A typed NamedTuple over os.environ, each field read from the variable of its name in capitals and
converted to its type, bounds checked. It was a pydantic-settings model, then a plain pydantic
model: pydantic-settings cost ~12 ms (and its AWS/CLI providers more) of every cold start, and
pydantic's model machinery ~40 ms of the authorizer's, which needs no other model.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, NamedTuple


class Settings(NamedTuple):
    # Each field is read from the variable of its name in capitals (TABLE_NAME), unless VARIABLES
    # names another, converted to the type of its default; BOUNDS are checked after that.

    # The single table every record lives in, and the stage (local / dev / prod) in names and logs.
    table_name: str = "goodwill"
    stage: str = "local"
    # Step Functions: the approval workflow, the notification walk, the bulk import / revert map.
    request_state_machine_arn: str = ""
    notify_state_machine_arn: str = ""
    import_state_machine_arn: str = ""
    # Where finished imports are announced (SNS), and the bucket uploads and reports live in.
    import_events_topic_arn: str = ""
    import_bucket: str = ""
    # Rows per chunk of a bulk import: one Step Functions Distributed Map item, one Lambda run.
    import_chunk_rows: int = 5000
    # Rows the scan holds before writing them out grouped by customer (memory of the scan).
    import_segment_rows: int = 25_000
    # Domain events (goodwill.events) go to this EventBridge bus; empty: publish nothing.
    event_bus_name: str = ""
    # Local run only: webhooks may call http://127.0.0.1:<port>. Never set in AWS.
    local_webhooks: bool = False
    webhook_queue_url: str = ""
    webhook_dead_letter_queue_url: str = ""
    webhook_timeout_seconds: float = 5.0
    # The KMS key webhook signing secrets are encrypted with (goodwill.repositories.webhook_secrets).
    webhook_secret_key_arn: str = ""
    ses_sender: str = "goodwill@example.com"
    console_base_url: str = "http://127.0.0.1:3000/console"
    # The console's Cognito app client: people whose token it issued are recorded as source CONSOLE.
    console_client_id: str = ""
    # The console's site (https://<CloudFront domain>): the one origin whose pages may read answers.
    console_origin: str = ""
    # API clients (goodwill.clients): the user pool their Cognito app clients live in, its token
    # endpoint, and how long a warm Lambda may serve a client's registry entry from memory (<= 60 s).
    user_pool_id: str = ""
    token_url: str = ""
    # The pool's signing keys (goodwill.identity.jwks); empty: the pool's own JWKS address (AWS).
    jwks_url: str = ""
    # App clients besides the console's whose ID tokens people may call with (comma-separated).
    person_app_client_ids: str = ""
    api_client_cache_seconds: float = 60.0
    # SNS platform applications (comma-separated ARNs) whose endpoints may be push targets.
    push_platform_applications: str = ""
    # How long a warm Lambda may serve an org's configuration from memory.
    config_cache_seconds: float = 30.0
    max_body_bytes: int = 64 * 1024
    idempotency_ttl_hours: int = 24
    # botocore's client-side check of request parameters; DynamoDB checks them again. The bulk
    # import turns it off (about 40 % of a chunk's CPU); tests and every other function keep it.
    dynamodb_param_validation: bool = True


# The fields (each of the type of its default) read from a variable other than their name in capitals.
VARIABLES: dict[str, str] = {"local_webhooks": "GOODWILL_LOCAL_WEBHOOKS"}
_CHECKS: dict[str, Callable[[Any, Any], bool]] = {">=": operator.ge, ">": operator.gt, "<=": operator.le}
BOUNDS: dict[str, tuple[tuple[str, float], ...]] = {
    "import_chunk_rows": ((">=", 1),),
    "import_segment_rows": ((">=", 1),),
    "webhook_timeout_seconds": ((">", 0),),
    "api_client_cache_seconds": ((">=", 0), ("<=", 60)),
}
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


def variable(field: str) -> str:
    """The environment variable a field is read from."""
    return VARIABLES.get(field, field.upper())


def _convert(kind: str, raw: str) -> Any:
    if kind == "bool":
        if raw.strip().lower() not in _TRUE | _FALSE:
            raise ValueError("not a boolean")
        return raw.strip().lower() in _TRUE
    if kind == "int":
        return int(raw)
    if kind == "float":
        return float(raw)
    return raw


def from_environ(environ: Mapping[str, str]) -> Settings:
    """The settings in `environ`; ValueError names the variable of a value that does not fit."""
    values: dict[str, Any] = {}
    for field, default in Settings._field_defaults.items():
        name, kind = variable(field), type(default).__name__
        if name not in environ:
            continue
        try:
            value = _convert(kind, environ[name])
        except ValueError as exc:
            raise ValueError(f"{name}: {environ[name]!r} is not a valid {kind}") from exc
        for op, limit in BOUNDS.get(field, ()):
            if not _CHECKS[op](value, limit):
                raise ValueError(f"{name}: must be {op} {limit}, not {value}")
        values[field] = value
    return Settings(**values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return from_environ(os.environ)

"""Runtime settings, read from the environment once, behind a cached getter.

A plain pydantic model over os.environ: pydantic-settings did the same for these flat values but
cost ~12 ms (and its AWS/CLI providers more) of every cold start.
"""

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    # Each field is read from the variable of its name in capitals (TABLE_NAME), unless it names another.
    model_config = ConfigDict(extra="ignore", frozen=True, alias_generator=str.upper)

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
    import_chunk_rows: int = Field(default=5000, ge=1)
    # Rows the scan holds before writing them out grouped by customer (memory of the scan).
    import_segment_rows: int = Field(default=25_000, ge=1)
    # Domain events (goodwill.events) go to this EventBridge bus; empty: publish nothing.
    event_bus_name: str = ""
    # Local run only: webhooks may call http://127.0.0.1:<port>. Never set in AWS.
    local_webhooks: bool = Field(default=False, alias="GOODWILL_LOCAL_WEBHOOKS")
    webhook_queue_url: str = ""
    webhook_dead_letter_queue_url: str = ""
    webhook_timeout_seconds: float = Field(default=5.0, gt=0)
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
    api_client_cache_seconds: float = Field(default=60.0, ge=0, le=60)
    # SNS platform applications (comma-separated ARNs) whose endpoints may be push targets.
    push_platform_applications: str = ""
    # How long a warm Lambda may serve an org's configuration from memory.
    config_cache_seconds: float = 30.0
    max_body_bytes: int = 64 * 1024
    idempotency_ttl_hours: int = 24
    # botocore's client-side check of request parameters; DynamoDB checks them again. The bulk
    # import turns it off (about 40 % of a chunk's CPU); tests and every other function keep it.
    dynamodb_param_validation: bool = True


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.model_validate(dict(os.environ))

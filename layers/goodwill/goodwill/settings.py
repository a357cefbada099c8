"""Runtime settings, read from the environment once, behind a cached getter.

A plain pydantic model over os.environ: pydantic-settings did the same for these flat values but
cost ~12 ms (and its AWS/CLI providers more) of every cold start.
"""

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    table_name: str = Field(default="goodwill", alias="TABLE_NAME")
    stage: str = Field(default="local", alias="STAGE")
    request_state_machine_arn: str = Field(default="", alias="REQUEST_STATE_MACHINE_ARN")
    notify_state_machine_arn: str = Field(default="", alias="NOTIFY_STATE_MACHINE_ARN")
    import_state_machine_arn: str = Field(default="", alias="IMPORT_STATE_MACHINE_ARN")
    import_events_topic_arn: str = Field(default="", alias="IMPORT_EVENTS_TOPIC_ARN")
    import_bucket: str = Field(default="", alias="IMPORT_BUCKET")
    # Rows per chunk of a bulk import: one Step Functions Distributed Map item, one Lambda run.
    import_chunk_rows: int = Field(default=5000, ge=1, alias="IMPORT_CHUNK_ROWS")
    # Rows the scan holds before writing them out grouped by customer (memory of the scan).
    import_segment_rows: int = Field(default=25_000, ge=1, alias="IMPORT_SEGMENT_ROWS")
    # Domain events (goodwill.events) go to this EventBridge bus; empty: publish nothing.
    event_bus_name: str = Field(default="", alias="EVENT_BUS_NAME")
    # Local run only: webhooks may call http://127.0.0.1:<port>. Never set in AWS.
    local_webhooks: bool = Field(default=False, alias="GOODWILL_LOCAL_WEBHOOKS")
    webhook_queue_url: str = Field(default="", alias="WEBHOOK_QUEUE_URL")
    webhook_dead_letter_queue_url: str = Field(default="", alias="WEBHOOK_DEAD_LETTER_QUEUE_URL")
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, alias="WEBHOOK_TIMEOUT_SECONDS")
    # The KMS key webhook signing secrets are encrypted with (goodwill.repositories.webhook_secrets).
    webhook_secret_key_arn: str = Field(default="", alias="WEBHOOK_SECRET_KEY_ARN")
    ses_sender: str = Field(default="goodwill@example.com", alias="SES_SENDER")
    console_base_url: str = Field(default="http://127.0.0.1:3000/console", alias="CONSOLE_BASE_URL")
    # The console's Cognito app client: people whose token it issued are recorded as source CONSOLE.
    console_client_id: str = Field(default="", alias="CONSOLE_CLIENT_ID")
    # The console's site (https://<CloudFront domain>): the one origin whose pages may read answers.
    console_origin: str = Field(default="", alias="CONSOLE_ORIGIN")
    # API clients (goodwill.clients): the user pool their Cognito app clients live in, its token
    # endpoint, and how long a warm Lambda may serve a client's registry entry from memory (<= 60 s).
    user_pool_id: str = Field(default="", alias="USER_POOL_ID")
    token_url: str = Field(default="", alias="TOKEN_URL")
    # The pool's signing keys (goodwill.identity.jwks); empty: the pool's own JWKS address (AWS).
    jwks_url: str = Field(default="", alias="JWKS_URL")
    # App clients besides the console's whose ID tokens people may call with (comma-separated).
    person_app_client_ids: str = Field(default="", alias="PERSON_APP_CLIENT_IDS")
    api_client_cache_seconds: float = Field(default=60.0, ge=0, le=60, alias="API_CLIENT_CACHE_SECONDS")
    # SNS platform applications (comma-separated ARNs) whose endpoints may be push targets.
    push_platform_applications: str = Field(default="", alias="PUSH_PLATFORM_APPLICATIONS")
    # How long a warm Lambda may serve an org's configuration from memory.
    config_cache_seconds: float = Field(default=30.0, alias="CONFIG_CACHE_SECONDS")
    max_body_bytes: int = Field(default=64 * 1024, alias="MAX_BODY_BYTES")
    idempotency_ttl_hours: int = Field(default=24, alias="IDEMPOTENCY_TTL_HOURS")
    # botocore's client-side check of request parameters; DynamoDB checks them again. The bulk
    # import turns it off (about 40 % of a chunk's CPU); tests and every other function keep it.
    dynamodb_param_validation: bool = Field(default=True, alias="DYNAMODB_PARAM_VALIDATION")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.model_validate(dict(os.environ))

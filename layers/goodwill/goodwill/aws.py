"""boto3 clients, created lazily and cached, so nothing talks to AWS at import time."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_ses import SESClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_stepfunctions import SFNClient

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=2, read_timeout=10)


@lru_cache(maxsize=1)
def _session() -> boto3.session.Session:
    return boto3.session.Session()


def _client(name: str, config: Config | None = None, **kwargs: Any) -> Any:
    merged = _CONFIG.merge(config) if config else _CONFIG
    return _session().client(name, config=merged, **kwargs)  # type: ignore[call-overload]


@lru_cache(maxsize=1)
def dynamodb() -> DynamoDBClient:
    from goodwill.settings import get_settings

    validate = get_settings().dynamodb_param_validation
    client: DynamoDBClient = _client("dynamodb", config=Config(parameter_validation=validate))
    return client


@lru_cache(maxsize=1)
def s3() -> S3Client:
    client: S3Client = _client("s3", config=Config(signature_version="s3v4"))
    return client


@lru_cache(maxsize=1)
def sns() -> SNSClient:
    client: SNSClient = _client("sns")
    return client


@lru_cache(maxsize=1)
def ses() -> SESClient:
    client: SESClient = _client("ses")
    return client


# The notification workflow retries a failed send itself (Retry with back-off, each try in its
# history): its clients try once, so one task is one Publish / SendEmail.
_SINGLE_TRY = Config(retries={"mode": "standard", "max_attempts": 1})


@lru_cache(maxsize=1)
def sns_single_try() -> SNSClient:
    client: SNSClient = _client("sns", config=_SINGLE_TRY)
    return client


@lru_cache(maxsize=1)
def ses_single_try() -> SESClient:
    client: SESClient = _client("ses", config=_SINGLE_TRY)
    return client


@lru_cache(maxsize=1)
def stepfunctions() -> SFNClient:
    client: SFNClient = _client("stepfunctions")
    return client


@lru_cache(maxsize=1)
def events() -> EventBridgeClient:
    client: EventBridgeClient = _client("events")
    return client


@lru_cache(maxsize=1)
def sqs() -> SQSClient:
    client: SQSClient = _client("sqs")
    return client


@lru_cache(maxsize=1)
def cognito_idp() -> CognitoIdentityProviderClient:
    client: CognitoIdentityProviderClient = _client("cognito-idp")
    return client


@lru_cache(maxsize=1)
def kms() -> Any:  # no boto3 stubs for KMS in this environment: two calls, typed where they are made
    return _client("kms")


def reset_clients() -> None:
    """Forget cached clients and settings (tests switch endpoints and environments)."""
    from goodwill.settings import get_settings

    for factory in (
        _session,
        dynamodb,
        s3,
        sns,
        ses,
        sns_single_try,
        ses_single_try,
        stepfunctions,
        events,
        sqs,
        cognito_idp,
        kms,
        get_settings,
    ):
        factory.cache_clear()

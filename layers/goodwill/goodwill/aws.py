"""boto3 clients, created lazily and cached, so nothing talks to AWS at import time."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, partial
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


# The notification workflow retries a failed send itself (Retry with back-off, each try in its
# history): its clients try once, so one task is one Publish / SendEmail.
_SINGLE_TRY = Config(retries={"mode": "standard", "max_attempts": 1})
_FACTORIES: list[Any] = [_session, dynamodb]


def _cached(name: str, config: Config | None = None) -> Callable[[], Any]:
    """A factory of one client, built on first use and cached (reset_clients forgets it)."""
    factory = lru_cache(maxsize=1)(partial(_client, name, config))
    _FACTORIES.append(factory)
    return factory


s3: Callable[[], S3Client] = _cached("s3", Config(signature_version="s3v4"))
sns: Callable[[], SNSClient] = _cached("sns")
ses: Callable[[], SESClient] = _cached("ses")
sns_single_try: Callable[[], SNSClient] = _cached("sns", _SINGLE_TRY)
ses_single_try: Callable[[], SESClient] = _cached("ses", _SINGLE_TRY)
stepfunctions: Callable[[], SFNClient] = _cached("stepfunctions")
events: Callable[[], EventBridgeClient] = _cached("events")
sqs: Callable[[], SQSClient] = _cached("sqs")
cognito_idp: Callable[[], CognitoIdentityProviderClient] = _cached("cognito-idp")
# No boto3 stubs for KMS in this environment: two calls, typed where they are made.
kms: Callable[[], Any] = _cached("kms")


def reset_clients() -> None:
    """Forget cached clients and settings (tests switch endpoints and environments)."""
    from goodwill.settings import get_settings

    for factory in (*_FACTORIES, get_settings):
        factory.cache_clear()

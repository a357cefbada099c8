"""The one Logger, Tracer and Metrics every handler shares."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
# Only botocore is patched (every AWS call becomes a subsegment): patch_all() would try to import
# and patch a dozen libraries the layer never uses, on every cold start.
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics()


def mask_phone(value: str | None) -> str:
    if not value:
        return ""
    return value[:3] + "*" * max(len(value) - 5, 0) + value[-2:]


def mask_email(value: str | None) -> str:
    if not value or "@" not in value:
        return ""
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}"

"""The one Logger and Metrics every handler shares, and the LambdaContext type its handler takes.

Tracing is not done in our code: the AWS X-Ray SDK (which Powertools' Tracer wraps) is in
maintenance mode and unsupported from 2027-02-25. Lambda active tracing (template Globals) records
each invocation; the opt-in OpenTelemetry layer (template parameter OpenTelemetryLayerArn) adds
spans for every AWS call without any code here. Logs keep the correlation: the Logger adds
`xray_trace_id` from Lambda's trace header and `correlation_id` from the API request id.
"""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext as LambdaContext

from goodwill import init_done


class _Logger(Logger):
    def inject_lambda_context(self, *args: Any, **kwargs: Any) -> Any:
        """Powertools' decorator; decorating the handler also ends init's GC pause (goodwill/__init__.py)."""
        init_done()
        return super().inject_lambda_context(*args, **kwargs)


logger: Logger = _Logger()
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

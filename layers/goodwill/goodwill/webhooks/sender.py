"""One signed POST of one event to one receiver: no redirects, a short timeout."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from goodwill.jsonutil import dumps
from goodwill.settings import get_settings
from goodwill.webhooks import signing, urls


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect could point anywhere, including inside the VPC: a 3xx is the receiver's answer.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def post(url: str, secret: str, message: Mapping[str, Any]) -> tuple[int | None, str | None]:
    """(status code or None, error or None): delivered when the error is None."""
    try:
        urls.check(url)  # again: what the host resolves to may have changed since it was saved
    except urls.RefusedUrlError as exc:
        return None, f"refused: {exc}"
    body = dumps(message["payload"]).encode()
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("User-Agent", "Goodwill-Webhooks/1.0")
    request.add_header("Goodwill-Event-Id", str(message["event_id"]))
    request.add_header("Goodwill-Event-Type", str(message["event_type"]))
    request.add_header(signing.HEADER, signing.header(secret, body))
    try:
        with _OPENER.open(request, timeout=get_settings().webhook_timeout_seconds) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, f"{type(reason).__name__}: {reason}"[:300]
    if 200 <= status < 300:
        return status, None
    return status, f"HTTP {status}"

"""One signed POST of one event to one receiver: to the address checked, no redirects, a short timeout
for the whole exchange.

The host is resolved and checked just before the POST (`urls.target`), and the connection goes to
the address that passed, not to whatever the name resolves to a moment later (DNS rebinding). TLS
still names the host: SNI and the certificate check are on the URL's host name, with the default
trust store. http.client never follows a redirect: a 3xx is the receiver's (failed) answer.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
from collections.abc import Mapping
from contextlib import suppress
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from goodwill.jsonutil import dumps
from goodwill.settings import get_settings
from goodwill.webhooks import signing, urls


@lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()  # CERT_REQUIRED and check_hostname: verify the host's name


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to `address`, speaking TLS to `host` (SNI, certificate) and sending `Host: host`."""

    def __init__(self, target: urls.Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=tls_context())
        self.target = target
        self.tls = tls_context()

    def connect(self) -> None:
        sock = socket.create_connection((self.target.address, self.target.port), self.timeout)
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.target.host)


def connection(target: urls.Target, timeout: float) -> http.client.HTTPConnection:
    if target.scheme == "https":
        return PinnedHTTPSConnection(target, timeout)
    return http.client.HTTPConnection(target.address, target.port, timeout=timeout)  # the local run's 127.0.0.1


def post(url: str, secret: str, message: Mapping[str, Any]) -> tuple[int | None, str | None]:
    """(status code or None, error or None): delivered when the error is None."""
    try:
        target = urls.target(url)  # again: what the host resolves to may have changed since it was saved
    except urls.RefusedUrlError as exc:
        return None, f"refused: {exc}"
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    body = dumps(message["payload"]).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Goodwill-Webhooks/1.0",
        "Goodwill-Event-Id": str(message["event_id"]),
        "Goodwill-Event-Type": str(message["event_type"]),
        signing.HEADER: signing.header(secret, body),
    }
    timeout = get_settings().webhook_timeout_seconds
    conn = connection(target, timeout)
    # The socket's timeout bounds each read; the watchdog bounds the whole exchange, so a receiver
    # that trickles its answer a byte at a time is cut off at `timeout` too (an attempt that failed).
    cut = threading.Event()
    watchdog = threading.Timer(timeout, _cut_off, (conn, cut))
    watchdog.start()
    try:
        conn.request("POST", path, body=body, headers=headers)
        status = int(conn.getresponse().status)
    except (http.client.HTTPException, OSError) as exc:
        return None, f"timed out after {timeout:g} s" if cut.is_set() else f"{type(exc).__name__}: {exc}"[:300]
    finally:
        watchdog.cancel()
        conn.close()
    if cut.is_set():
        return None, f"timed out after {timeout:g} s"
    if 200 <= status < 300:
        return status, None
    return status, f"HTTP {status}"


def _cut_off(conn: http.client.HTTPConnection, cut: threading.Event) -> None:
    """Shut the connection's socket: a read waiting on it returns at once (the plain socket's
    shutdown, under TLS too, so the reading thread's TLS state stays as it was)."""
    cut.set()
    sock = conn.sock
    if sock is not None:
        with suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)

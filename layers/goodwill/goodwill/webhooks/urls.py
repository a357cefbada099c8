"""Which URLs a webhook may call: https to public addresses only (no SSRF into the VPC or AWS).

The host is resolved when the webhook is saved and again before every delivery; every address
it resolves to must be public (not private, loopback, link-local such as the instance metadata
endpoint 169.254.169.254, multicast, reserved or unspecified). A delivery then connects to the
address it checked (`Target`), so a name that resolves elsewhere a moment later (DNS rebinding)
cannot steer it inside. The local run may also call
`http://127.0.0.1:<port>` (receivers on this machine).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from goodwill.settings import get_settings

MAX_LENGTH = 2048
# No request line may carry these (http.client refuses them), and urlsplit silently drops tab, CR
# and LF, so the URL saved would not be the URL called: the admin percent-encodes them instead.
_UNSENDABLE = re.compile(r"[\x00-\x20\x7f]")


class RefusedUrlError(ValueError):
    """The URL may not be called; the message says why (shown to the admin)."""


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (a seam for tests: no DNS there)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)})


def _local(parts: SplitResult) -> bool:
    return get_settings().local_webhooks and parts.scheme == "http" and parts.hostname == "127.0.0.1"


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _literal(host: str) -> str:
    return str(ipaddress.ip_address(host.split("%", 1)[0]))


@dataclass(frozen=True)
class Target:
    """Where one delivery goes: the URL's host (for the Host header, TLS SNI and the certificate
    check) and the address that was checked (the connection goes there, never to a fresh lookup)."""

    scheme: str
    host: str
    port: int
    address: str


def check(url: str) -> str:
    """`url` if a webhook may call it, else RefusedUrlError."""
    target(url)
    return url


def target(url: str) -> Target:
    """Where a webhook may call `url`, resolved and checked now, else RefusedUrlError."""
    if len(url) > MAX_LENGTH:
        raise RefusedUrlError(f"at most {MAX_LENGTH} characters")
    if _UNSENDABLE.search(url):
        raise RefusedUrlError("must not contain spaces or control characters (percent-encode them: %20)")
    try:
        parts = urlsplit(url)
        given = parts.port
    except ValueError as exc:
        raise RefusedUrlError(f"not a URL: {exc}") from exc
    if given == 0:  # urlsplit reads ":0" as no port; nothing listens there
        raise RefusedUrlError("the port must be 1-65535")
    port = given or (443 if parts.scheme == "https" else 80)
    if not (parts.path + parts.query).isascii():  # the request line is ASCII; the host may be IDN
        raise RefusedUrlError("the path and query must be ASCII: percent-encode other characters")
    if _local(parts):
        return Target("http", "127.0.0.1", port, "127.0.0.1")
    if parts.scheme != "https":
        raise RefusedUrlError("must be an https:// URL")
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise RefusedUrlError("must name a host, without user or password")
    try:
        addresses = [_literal(parts.hostname)] if _is_literal(parts.hostname) else resolve(parts.hostname, port)
    except (OSError, UnicodeError) as exc:
        raise RefusedUrlError(f"the host {parts.hostname} cannot be resolved") from exc
    if not addresses or not all(_public(a) for a in addresses):
        raise RefusedUrlError(f"the host {parts.hostname} resolves to a private, loopback or link-local address")
    return Target("https", parts.hostname, port, addresses[0])

"""The Member Care console's static files at /console/ in the local run (CloudFront's part on AWS).

Files come only from the repository's `console/` folder: the request path is resolved and must
stay inside it (no `..`, no symlink out, no dot-files). `config.json` is answered here rather than
read from disk: locally the console signs in with the claim headers of CONTRACT.md section 1 and
calls the API on its own origin.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "console"
PREFIX = "/console"
LOCAL_CONFIG = {"mode": "local", "api_url": ""}

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}
# What CloudFront's response-headers policy sets on AWS, kept close here so local use shows the
# same breakage a stricter deployment would (an inline script, a third-party asset).
SECURITY_HEADERS = {
    "Content-Security-Policy": [
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self' http://127.0.0.1:*; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ],
    "X-Content-Type-Options": ["nosniff"],
    "Referrer-Policy": ["no-referrer"],
}

Reply = tuple[int, dict[str, list[str]], bytes]


def is_console_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def serve(method: str, path: str) -> Reply:
    """Answer GET/HEAD for a path under /console (the caller checked `is_console_path`)."""
    if method not in ("GET", "HEAD"):
        return _text(405, "method not allowed")
    if path == PREFIX:
        return 301, {"Location": [PREFIX + "/"]}, b""
    relative = path[len(PREFIX) + 1 :] or "index.html"
    if relative == "config.json":
        return _reply(200, ".json", json.dumps(LOCAL_CONFIG).encode())
    target = _resolve(relative)
    if target is None:
        return _text(404, "not found")
    return _reply(200, target.suffix, target.read_bytes())  # HEAD too: the server sends its headers only


def _resolve(relative: str) -> Path | None:
    parts = relative.split("/")
    if any(part in ("", ".", "..") or part.startswith(".") or "\\" in part for part in parts):
        return None
    target = (ROOT / relative).resolve()
    if not target.is_relative_to(ROOT) or not target.is_file() or target.suffix not in CONTENT_TYPES:
        return None
    return target


def _reply(status: int, suffix: str, body: bytes) -> Reply:
    # no-cache: an edited file shows on the next reload (the local run is for working on it)
    return status, {"Content-Type": [CONTENT_TYPES[suffix]], "Cache-Control": ["no-cache"], **SECURITY_HEADERS}, body


def _text(status: int, message: str) -> Reply:
    return status, {"Content-Type": [CONTENT_TYPES[".txt"]]}, message.encode()

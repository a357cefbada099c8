"""The local run's static serving of the console: content types, and nothing outside console/."""

from __future__ import annotations

import json

import pytest

from local.devserver import console


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/console/", "text/html; charset=utf-8"),
        ("/console/index.html", "text/html; charset=utf-8"),
        ("/console/js/main.js", "text/javascript; charset=utf-8"),
        ("/console/app.css", "text/css; charset=utf-8"),
        ("/console/favicon.svg", "image/svg+xml"),
    ],
)
def test_console_file_is_served_with_its_content_type(path: str, content_type: str) -> None:
    status, headers, body = console.serve("GET", path)
    assert status == 200
    assert headers["Content-Type"] == [content_type]
    assert body == (console.ROOT / (path.removeprefix("/console/") or "index.html")).read_bytes()
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"][0]


def test_local_config_says_local_mode() -> None:
    status, _, body = console.serve("GET", "/console/config.json")
    assert status == 200
    assert json.loads(body) == {"mode": "local", "api_url": ""}


@pytest.mark.parametrize(
    "path",
    [
        "/console/../README.md",
        "/console/js/../../Makefile",
        "/console/js/../../local/devserver/server.py",
        "/console//etc/passwd",
        "/console/.hidden",
        "/console/README.md",  # not a served type
        "/console/nope.js",
        "/console/js",  # a directory
        "/console/js\\..\\..\\Makefile",
    ],
)
def test_path_outside_console_or_unknown_is_not_found(path: str) -> None:
    status, _, body = console.serve("GET", path)
    assert status == 404
    assert body == b"not found"


def test_bare_prefix_redirects_to_the_folder() -> None:
    status, headers, _ = console.serve("GET", "/console")
    assert (status, headers["Location"]) == (301, ["/console/"])


def test_writes_are_refused() -> None:
    assert console.serve("POST", "/console/index.html")[0] == 405

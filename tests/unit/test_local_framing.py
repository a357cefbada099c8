"""The local run's reading of a request body (local/devserver/framing.py): strict framing."""

from __future__ import annotations

import io
from email.message import Message

import pytest

from local.devserver import framing


def read(fields: dict[str, str], raw: bytes) -> bytes:
    headers = Message()
    for name, value in fields.items():
        headers[name] = value
    return framing.read_body(headers, io.BytesIO(raw))


@pytest.mark.parametrize(
    ("fields", "raw", "body"),
    [
        ({}, b"ignored", b""),
        ({"Content-Length": "0"}, b"", b""),
        ({"Content-Length": " 002 "}, b"{}rest", b"{}"),
        ({"Transfer-Encoding": "Chunked"}, b"2;ext=1\r\n{}\r\n0\r\n\r\n", b"{}"),
        ({"Transfer-Encoding": "chunked"}, b"1\n[\n01\r\n]\r\n0\r\nX-Trailer: a\r\n\r\n", b"[]"),
    ],
    ids=["none", "zero", "padded", "extension", "two-chunks-and-a-trailer"],
)
def test_a_well_framed_body_is_read_exactly(fields: dict[str, str], raw: bytes, body: bytes) -> None:
    assert read(fields, raw) == body


@pytest.mark.parametrize(
    ("fields", "raw", "status"),
    [
        ({"Content-Length": "1e3"}, b"", 400),
        ({"Content-Length": "+5"}, b"", 400),
        ({"Content-Length": "٣"}, b"", 400),  # a digit, but not an ASCII one
        ({"Content-Length": "9" * 5000}, b"", 413),  # past int()'s 4,300 digits: still 413
        ({"Content-Length": str(framing.MAX_BODY + 1)}, b"", 413),
        ({"Transfer-Encoding": "chunked"}, b"A00001\r\n", 413),
        ({"Transfer-Encoding": "chunked"}, b"a" * 9000 + b"\r\n", 400),
        ({"Transfer-Encoding": "chunked"}, b"0\r\n" + b"X: y\r\n" * 101, 400),
    ],
    ids=["exponent", "sign", "arabic-digit", "5000-digits", "limit+1", "chunk-over-limit", "long-line", "trailers"],
)
def test_a_malformed_or_oversized_body_is_refused(fields: dict[str, str], raw: bytes, status: int) -> None:
    with pytest.raises(framing.Refused) as refused:
        read(fields, raw)
    assert refused.value.status == status


@pytest.mark.parametrize(
    ("fields", "raw"),
    [
        ({"Content-Length": "5"}, b"{}"),
        ({"Transfer-Encoding": "chunked"}, b"5\r\n{}"),
        ({"Transfer-Encoding": "chunked"}, b"2\r\n{}\r\n"),
    ],
    ids=["length", "chunk", "no-last-chunk"],
)
def test_a_body_that_ends_early_is_cut_short(fields: dict[str, str], raw: bytes) -> None:
    with pytest.raises(framing.CutShort):
        read(fields, raw)

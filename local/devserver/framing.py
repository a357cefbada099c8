"""A request body read as API Gateway's front end takes one (the local run's HTTP server).

http.server leaves the body to the handler. Read loosely, a Content-Length that is not a number,
negative or huge, or a bad chunk size dropped the connection with no answer (a huge one after a
MemoryError), and a body cut short by the client was applied as far as it went. Here the framing
is read strictly: `Refused` is a 400 or 413 to answer before anything is routed, `CutShort` a
client that stopped sending before its body ended (nobody to answer, nothing to apply).
"""

from __future__ import annotations

import contextlib
import re
import socket
import time
from email.message import Message
from io import BufferedIOBase

MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit (REST APIs: 10 MB)
MAX_LINE = 8192  # a chunk-size or trailer line
MAX_TRAILERS = 100
_DIGITS = re.compile(r"[0-9]+")
_HEX = re.compile(rb"[0-9A-Fa-f]+")


class Refused(Exception):
    """A request whose framing cannot be read: answered in the error shape, then closed."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class CutShort(Exception):
    """The connection ended before the body did."""


def read_body(headers: Message, rfile: BufferedIOBase) -> bytes:
    """The body framed by Content-Length or chunked Transfer-Encoding (b"" without either)."""
    encodings = headers.get_all("Transfer-Encoding") or []
    lengths = [value.strip() for value in headers.get_all("Content-Length") or []]
    if encodings:
        if lengths or ",".join(encodings).strip().lower() != "chunked":
            raise _bad("Transfer-Encoding must be chunked alone, without Content-Length")
        return _read_chunked(rfile)
    if not lengths:
        return b""
    if len(set(lengths)) > 1 or not _DIGITS.fullmatch(lengths[0]):
        raise _bad("Content-Length is not a number of bytes")
    digits = lengths[0].lstrip("0")
    if len(digits) > len(str(MAX_BODY)) or int(digits or "0") > MAX_BODY:
        raise _too_large()
    return _read_exactly(rfile, int(digits or "0"))


def linger(connection: socket.socket, seconds: float = 2.0) -> None:
    """After a refusal: end our side, then drain what the client still sends for a while, so that
    closing does not reset the connection before the client has read the answer."""
    deadline = time.monotonic() + seconds
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_WR)
        drained = 0
        while drained <= MAX_BODY and (left := deadline - time.monotonic()) > 0:
            connection.settimeout(left)
            if not (data := connection.recv(65536)):
                return
            drained += len(data)


def _read_chunked(rfile: BufferedIOBase) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while size := _chunk_size(_line(rfile)):
        total += size
        if total > MAX_BODY:
            raise _too_large()
        chunks.append(_read_exactly(rfile, size))
        if _line(rfile):
            raise _bad("a chunk is longer than its size")
    for _ in range(MAX_TRAILERS):  # trailer fields, ignored, up to the empty line
        if not _line(rfile):
            return b"".join(chunks)
    raise _bad("too many trailer fields")


def _chunk_size(line: bytes) -> int:
    size = line.split(b";", 1)[0].strip()
    if not _HEX.fullmatch(size):
        raise _bad("a chunk size is not a hexadecimal number")
    if len(size.lstrip(b"0")) > 8:
        raise _too_large()
    return int(size, 16)


def _line(rfile: BufferedIOBase) -> bytes:
    line = rfile.readline(MAX_LINE + 1)
    if not line.endswith(b"\n"):
        if len(line) > MAX_LINE:
            raise _bad("a chunk line is too long")
        raise CutShort
    return line.rstrip(b"\r\n")


def _read_exactly(rfile: BufferedIOBase, size: int) -> bytes:
    data = rfile.read(size)
    if len(data) < size:
        raise CutShort
    return data


def _bad(message: str) -> Refused:
    return Refused(400, "BAD_REQUEST", message)


def _too_large() -> Refused:
    return Refused(413, "PAYLOAD_TOO_LARGE", "the request body is over API Gateway's 10 MB limit")

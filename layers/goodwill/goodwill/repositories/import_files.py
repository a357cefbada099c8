"""The import bucket: where files, chunk lists, report parts and reports live, and how they move.

    imports/{org_id}/{name}.csv        uploads (the only prefix that triggers an import)
    work/{org_id}/{import_id}/...      segments of rows by customer, the partition list and
                                       per-partition report parts (deleted when done)
    reports/{org_id}/{import_id}.csv   the report

Uploads are read as a stream, never whole: a GetObject (with a byte range for a chunk) read in
1 MiB pieces. Every read names the ETag the import started with (If-Match), so a file replaced
after the upload was accepted fails the import instead of mixing two files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from goodwill import aws
from goodwill.settings import get_settings

if TYPE_CHECKING:
    from botocore.response import StreamingBody
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef, ObjectIdentifierTypeDef

UPLOAD_PREFIX: Final = "imports/"
READ_CHUNK_BYTES: Final = 1 << 20
PARALLEL_READS: Final = 16  # ranges get_ranges fetches at once
URL_SECONDS: Final = 15 * 60
MIN_PART_BYTES: Final = 8 << 20  # S3 multipart parts are >= 5 MiB, except the last
UPLOAD_CONTENT_TYPE: Final = "text/csv"
UPLOAD_HEADERS: Final = {"Content-Type": UPLOAD_CONTENT_TYPE, "If-None-Match": "*"}
_UPLOAD_KEY = re.compile(r"imports/([A-Za-z0-9][A-Za-z0-9_.-]{0,63})/([^/]{1,200})\.csv", re.IGNORECASE)


class FileUnavailableError(Exception):
    """The upload changed or disappeared after the import accepted it."""


def bucket() -> str:
    return get_settings().import_bucket


def upload_key(org_id: str, import_id: str) -> str:
    return f"{UPLOAD_PREFIX}{org_id}/{import_id}.csv"


def parse_upload_key(key: str) -> tuple[str, str] | None:
    """(org_id, file name without .csv) of imports/{org_id}/{name}.csv; None for any other key."""
    match = _UPLOAD_KEY.fullmatch(key)
    return (match.group(1), match.group(2)) if match else None


def report_key(org_id: str, import_id: str) -> str:
    return f"reports/{org_id}/{import_id}.csv"


def work_prefix(org_id: str, import_id: str) -> str:
    return f"work/{org_id}/{import_id}/"


def revert_prefix(org_id: str, import_id: str) -> str:
    """A revert's work files, below its import's (which the import's clean-up leaves alone)."""
    return work_prefix(org_id, import_id) + "revert/"


def chunks_key(org_id: str, import_id: str) -> str:
    return work_prefix(org_id, import_id) + "chunks.json"


def part_key(org_id: str, import_id: str, index: int) -> str:
    return work_prefix(org_id, import_id) + f"parts/{index:07d}.csv"


def segment_key(org_id: str, import_id: str, segment: int) -> str:
    return work_prefix(org_id, import_id) + f"segments/{segment:05d}.csv"


def put_bytes(key: str, body: bytes) -> None:
    aws.s3().put_object(Bucket=bucket(), Key=key, Body=body, ContentType="text/csv; charset=utf-8")


def read_work(key: str, start: int, end: int) -> Iterator[bytes]:
    """Bytes [start, end) of a work file, streamed in READ_CHUNK_BYTES pieces."""
    if end <= start:
        return iter(())
    resp = aws.s3().get_object(Bucket=bucket(), Key=key, Range=f"bytes={start}-{end - 1}")
    chunks: Iterator[bytes] = resp["Body"].iter_chunks(READ_CHUNK_BYTES)
    return chunks


def get_range(key: str, start: int, end: int) -> bytes:
    return b"".join(read_work(key, start, end))


def get_ranges(ranges: Sequence[tuple[str, int, int]]) -> list[bytes]:
    """Several small ranges (key, start, end) of work files, fetched together, in order."""
    with ThreadPoolExecutor(PARALLEL_READS) as pool:
        return list(pool.map(lambda r: get_range(*r), ranges))


def _unavailable(exc: ClientError, key: str) -> Exception:
    code = exc.response.get("Error", {}).get("Code", "")
    if code in ("PreconditionFailed", "412"):
        return FileUnavailableError(f"{key} was replaced after the import started")
    # Without s3:ListBucket on the key's prefix S3 answers a missing key with 403, not 404.
    if code in ("NoSuchKey", "404", "NotFound", "AccessDenied", "403", "Forbidden"):
        return FileUnavailableError(f"{key} no longer exists")
    return exc


def _quoted(etag: str) -> str:
    """An ETag as HTTP's If-Match wants it (S3 events carry it without the quotes)."""
    return '"' + etag.strip('"') + '"'


def head(key: str, etag: str) -> dict[str, Any]:
    """Size and metadata (lower-case names, without x-amz-meta-) of this version of the upload."""
    try:
        resp = aws.s3().head_object(Bucket=bucket(), Key=key, IfMatch=_quoted(etag))
    except ClientError as exc:
        raise _unavailable(exc, key) from exc
    return {"size": resp["ContentLength"], "metadata": {k.lower(): v for k, v in resp.get("Metadata", {}).items()}}


def read(key: str, etag: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """Bytes [start, end) of the upload, streamed in READ_CHUNK_BYTES pieces."""
    args: dict[str, Any] = {"Bucket": bucket(), "Key": key, "IfMatch": _quoted(etag)}
    if start or end is not None:
        args["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
    if end is not None and end <= start:
        return iter(())
    try:
        resp = aws.s3().get_object(**args)
    except ClientError as exc:
        raise _unavailable(exc, key) from exc
    chunks: Iterator[bytes] = resp["Body"].iter_chunks(READ_CHUNK_BYTES)
    return chunks


def put_text(key: str, text: str, content_type: str = "text/csv; charset=utf-8") -> None:
    aws.s3().put_object(Bucket=bucket(), Key=key, Body=text.encode(), ContentType=content_type)


def _body(key: str, gone: tuple[str, ...] = ("NoSuchKey", "404")) -> StreamingBody | None:
    """The object's body, to read; None when S3 answers with one of the `gone` codes."""
    try:
        return aws.s3().get_object(Bucket=bucket(), Key=key)["Body"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in gone:
            return None
        raise


def get_text(key: str) -> str | None:
    body = _body(key)
    return None if body is None else body.read().decode()


def read_lines(key: str) -> Iterator[bytes] | None:
    """The object's lines (each with its line end), read as a stream; None when it is gone or no
    longer readable (an expired report may answer AccessDenied)."""
    body = _body(key, ("NoSuchKey", "404", "AccessDenied", "403"))
    return None if body is None else body.iter_lines(keepends=True)


def assemble(key: str, first: bytes, blocks: Iterable[bytes]) -> None:
    """Write `first` and then every block, in order, as one object, holding at most one multipart
    part (8 MiB) in memory. Small reports are one PutObject; larger ones a multipart upload whose
    parts are cut from the stream (blocks may be far below S3's 5 MiB minimum part size)."""
    s3, name = aws.s3(), bucket()
    buffer = bytearray(first)
    upload_id: str | None = None
    etags: list[CompletedPartTypeDef] = []
    try:
        for block in blocks:
            buffer += block
            if len(buffer) >= MIN_PART_BYTES:
                if upload_id is None:
                    upload_id = s3.create_multipart_upload(Bucket=name, Key=key, ContentType=_CSV)["UploadId"]
                etags.append(_upload_part(name, key, upload_id, len(etags) + 1, bytes(buffer)))
                buffer.clear()
        if upload_id is None:
            s3.put_object(Bucket=name, Key=key, Body=bytes(buffer), ContentType=_CSV)
            return
        if buffer or not etags:
            etags.append(_upload_part(name, key, upload_id, len(etags) + 1, bytes(buffer)))
        s3.complete_multipart_upload(Bucket=name, Key=key, UploadId=upload_id, MultipartUpload={"Parts": etags})
    except BaseException:
        if upload_id is not None:
            s3.abort_multipart_upload(Bucket=name, Key=key, UploadId=upload_id)
        raise


_CSV: Final = "text/csv; charset=utf-8"


def _upload_part(name: str, key: str, upload_id: str, number: int, body: bytes) -> CompletedPartTypeDef:
    resp = aws.s3().upload_part(Bucket=name, Key=key, UploadId=upload_id, PartNumber=number, Body=body)
    return {"ETag": resp["ETag"], "PartNumber": number}


def delete_prefix(prefix: str, keep: str | None = None) -> int:
    """Delete every object under `prefix` (work files) except those under `keep`; how many were deleted."""
    s3, name = aws.s3(), bucket()
    deleted = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name, Prefix=prefix):
        objects: list[ObjectIdentifierTypeDef] = [
            {"Key": o["Key"]} for o in page.get("Contents", []) if not (keep and o["Key"].startswith(keep))
        ]
        if objects:
            s3.delete_objects(Bucket=name, Delete={"Objects": objects, "Quiet": True})
            deleted += len(objects)
    return deleted


def presign_upload(key: str) -> str:
    return str(
        aws.s3().generate_presigned_url(
            "put_object",
            # Signed with If-None-Match: * so the URL creates the object once: a replay while (or
            # after) the import runs is refused by S3 with 412 and never replaces the file.
            Params={"Bucket": bucket(), "Key": key, "ContentType": UPLOAD_CONTENT_TYPE, "IfNoneMatch": "*"},
            ExpiresIn=URL_SECONDS,
        )
    )


def presign_download(key: str) -> str:
    filename = key.rsplit("/", 1)[-1]
    return str(
        aws.s3().generate_presigned_url(
            "get_object",
            Params={
                "Bucket": bucket(),
                "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
            },
            ExpiresIn=URL_SECONDS,
        )
    )

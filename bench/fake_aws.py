"""A fast, in-process stand-in for the DynamoDB, S3 and Step Functions calls of a bulk import.

It answers at botocore's `before-send` event, after the client has validated, serialised and
signed the request, and hands back an HTTP response that the client parses as usual: what is
measured around it is our code plus the SDK's client-side work, as in a Lambda, without the
network and without a service behind it. The request's parameters are taken at
`before-parameter-build` (before serialisation), so the fake never decodes a request body.

What it keeps, and what it does not:
- DynamoDB: the items that are not a customer's (the org, the import record, its checkpoints)
  are stored and read back; a customer's items (balances, ledger entries, claims) are written to
  nowhere, so memory does not grow with the rows. Every customer profile exists, no balance does
  yet. Conditions are not evaluated: every write succeeds.
- S3: objects live on disk under `workdir` (the upload is the generated file, never read whole);
  ranges, multipart uploads, listing and deletion as the import uses them.
- Step Functions: StartExecution is recorded (the bench then plays the workflow itself).

Time spent answering is summed in `seconds`, so that it can be told apart from ours.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from botocore.awsrequest import AWSResponse

CUSTOMER_MARKERS = ("#CUST#", "#REQ#")  # items of a customer or a request: written to nowhere


class _Body:
    """What botocore reads a response body from: read(amt) and stream(), over bytes or a file range."""

    def __init__(self, data: bytes | None = None, path: Path | None = None, start: int = 0, size: int = 0) -> None:
        self._buffer: io.BufferedReader | io.BytesIO
        if path is not None:
            self._buffer = path.open("rb")
            self._buffer.seek(start)
            self._left = size
        else:
            self._buffer = io.BytesIO(data or b"")
            self._left = len(data or b"")

    def read(self, amt: int | None = None) -> bytes:
        want = self._left if amt is None else min(amt, self._left)
        data = self._buffer.read(want) if want > 0 else b""
        self._left -= len(data)
        if not self._left:
            self.close()
        return data

    def stream(self, amt: int = 1 << 16, decode_content: bool = True) -> Iterator[bytes]:
        while chunk := self.read(amt):
            yield chunk

    def close(self) -> None:
        self._buffer.close()


def _response(status: int = 200, headers: dict[str, str] | None = None, body: _Body | None = None) -> AWSResponse:
    fields: Any = headers or {}  # AWSResponse takes any mapping (it copies it into a HeadersDict)
    return AWSResponse("https://fake.local/", status, fields, body or _Body())


def _json(payload: dict[str, Any]) -> AWSResponse:
    data = json.dumps(payload).encode()
    headers = {"content-type": "application/x-amz-json-1.0", "content-length": str(len(data))}
    return _response(headers=headers, body=_Body(data))


def _xml(root: str, inner: str) -> AWSResponse:
    data = f'<?xml version="1.0" encoding="UTF-8"?><{root}>{inner}</{root}>'.encode()
    return _response(headers={"content-type": "application/xml", "content-length": str(len(data))}, body=_Body(data))


class FakeAws:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.objects: dict[str, Path] = {}  # key -> file
        self.multipart: dict[str, list[Path]] = {}  # upload id -> parts
        self.executions: list[dict[str, Any]] = []
        self.requests: dict[str, int] = {}
        self.seconds = 0.0
        # per thread: a handler may send requests from several threads (the finish's range reads)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._files = 0

    # -------------------------------------------------------------------------- wiring

    def install(self, *clients: Any) -> None:
        for client in clients:
            events, service = client.meta.events, client.meta.service_model.service_id.hyphenize()
            events.register(f"before-parameter-build.{service}", self._remember)
            events.register(f"before-send.{service}", self._answer)

    def _remember(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self._local.pending = (model.name, params)

    def _answer(self, request: Any, **_: Any) -> AWSResponse:
        started = time.perf_counter()
        pending: tuple[str, dict[str, Any]] | None = getattr(self._local, "pending", None)
        assert pending is not None, "a request without parameters"
        operation, params = pending
        self._local.pending = None
        answer = getattr(self, f"_{operation}", None)
        if answer is None:
            raise NotImplementedError(f"the fake does not answer {operation}")
        with self._lock:
            self.requests[operation] = self.requests.get(operation, 0) + 1
            response: AWSResponse = answer(params)
            self.seconds += time.perf_counter() - started
        return response

    # -------------------------------------------------------------------------- S3

    def link(self, key: str, path: Path) -> str:
        """Serve `path` as object `key` (the upload); its ETag."""
        self.objects[key] = path
        return self.etag(path)

    @staticmethod
    def etag(path: Path) -> str:
        return hashlib.md5(str(path.stat().st_size).encode() + path.name.encode(), usedforsecurity=False).hexdigest()

    def _new_file(self, body: Any) -> Path:
        """A file holding a request's Body (bytes, or the file object botocore made of them)."""
        if isinstance(body, bytes | bytearray):
            data = bytes(body)
        else:
            body.seek(0)
            data = body.read()
        self._files += 1
        path = self.workdir / f"object-{self._files:07d}"
        path.write_bytes(data)
        return path

    def read_object(self, key: str) -> bytes:
        return self.objects[key].read_bytes()

    def _HeadObject(self, params: dict[str, Any]) -> AWSResponse:
        path = self.objects[params["Key"]]
        return _response(headers={"content-length": str(path.stat().st_size), "etag": f'"{self.etag(path)}"'})

    def _GetObject(self, params: dict[str, Any]) -> AWSResponse:
        path = self.objects[params["Key"]]
        size = path.stat().st_size
        start, end = 0, size - 1
        if "Range" in params:
            first, _, last = params["Range"].removeprefix("bytes=").partition("-")
            start, end = int(first), min(int(last) if last else size - 1, size - 1)
        length = max(end - start + 1, 0)
        headers = {"content-length": str(length), "etag": f'"{self.etag(path)}"', "content-type": "text/csv"}
        if "Range" in params:
            headers["content-range"] = f"bytes {start}-{end}/{size}"
        return _response(206 if "Range" in params else 200, headers, _Body(path=path, start=start, size=length))

    def _PutObject(self, params: dict[str, Any]) -> AWSResponse:
        self.objects[params["Key"]] = self._new_file(params["Body"])
        return _response(headers={"etag": '"0"'})

    def _CreateMultipartUpload(self, params: dict[str, Any]) -> AWSResponse:
        upload_id = f"upload-{len(self.multipart) + 1}"
        self.multipart[upload_id] = []
        bucket, key = escape(params["Bucket"]), escape(params["Key"])
        inner = f"<Bucket>{bucket}</Bucket><Key>{key}</Key><UploadId>{upload_id}</UploadId>"
        return _xml("InitiateMultipartUploadResult", inner)

    def _UploadPart(self, params: dict[str, Any]) -> AWSResponse:
        self.multipart[params["UploadId"]].append(self._new_file(params["Body"]))
        return _response(headers={"etag": f'"part-{params["PartNumber"]}"'})

    def _CompleteMultipartUpload(self, params: dict[str, Any]) -> AWSResponse:
        parts = self.multipart.pop(params["UploadId"])
        whole = parts[0]
        with whole.open("ab") as out:
            for part in parts[1:]:
                out.write(part.read_bytes())
                part.unlink()
        self.objects[params["Key"]] = whole
        bucket, key = escape(params["Bucket"]), escape(params["Key"])
        return _xml("CompleteMultipartUploadResult", f"<Bucket>{bucket}</Bucket><Key>{key}</Key><ETag>x</ETag>")

    def _AbortMultipartUpload(self, params: dict[str, Any]) -> AWSResponse:
        for part in self.multipart.pop(params["UploadId"], []):
            part.unlink()
        return _response(204)

    def _ListObjectsV2(self, params: dict[str, Any]) -> AWSResponse:
        prefix = params.get("Prefix", "")
        keys = sorted(k for k in self.objects if k.startswith(prefix))
        contents = "".join(f"<Contents><Key>{escape(k)}</Key><Size>0</Size></Contents>" for k in keys)
        inner = (
            f"<Name>{escape(params['Bucket'])}</Name><Prefix>{escape(prefix)}</Prefix><KeyCount>{len(keys)}"
            f"</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>{contents}"
        )
        return _xml("ListBucketResult", inner)

    def _DeleteObjects(self, params: dict[str, Any]) -> AWSResponse:
        for obj in params["Delete"]["Objects"]:
            path = self.objects.pop(obj["Key"], None)
            if path is not None and path.parent == self.workdir:
                path.unlink(missing_ok=True)  # stand-in objects share a file
        return _xml("DeleteResult", "")

    # -------------------------------------------------------------------------- Step Functions

    def _StartExecution(self, params: dict[str, Any]) -> AWSResponse:
        self.executions.append(json.loads(params["input"]))
        arn = params["stateMachineArn"].replace(":stateMachine:", ":execution:") + ":" + params["name"]
        return _json({"executionArn": arn, "startDate": time.time()})

    # -------------------------------------------------------------------------- DynamoDB

    @staticmethod
    def _key(item: dict[str, Any]) -> tuple[str, str]:
        return item["PK"]["S"], item["SK"]["S"]

    @staticmethod
    def _kept(key: tuple[str, str]) -> bool:
        return not any(marker in key[0] for marker in CUSTOMER_MARKERS)

    def put(self, item: dict[str, Any]) -> None:
        """Store an item (DynamoDB JSON) if it is one the fake keeps."""
        key = self._key(item)
        if self._kept(key):
            self.items[key] = item

    def _update(self, op: dict[str, Any]) -> None:
        """SET a = :v, ... REMOVE b, ...: the only update expressions of the import's records."""
        key = self._key(op["Key"])
        if not self._kept(key):
            return
        item = self.items.setdefault(key, dict(op["Key"]))
        names, values = op.get("ExpressionAttributeNames", {}), op.get("ExpressionAttributeValues", {})
        sets, _, removes = op["UpdateExpression"].partition("REMOVE")
        for assignment in sets.strip().removeprefix("SET").split(","):
            if "=" in assignment:
                name, value = (part.strip() for part in assignment.split("="))
                item[names.get(name, name)] = values[value]
        for name in removes.split(","):
            if name.strip():
                item.pop(names.get(name.strip(), name.strip()), None)

    def _GetItem(self, params: dict[str, Any]) -> AWSResponse:
        item = self.items.get(self._key(params["Key"]))
        return _json({"Item": item} if item else {})

    def _PutItem(self, params: dict[str, Any]) -> AWSResponse:
        self.put(params["Item"])
        return _json({})

    def _UpdateItem(self, params: dict[str, Any]) -> AWSResponse:
        self._update(params)
        return _json({})

    def _TransactWriteItems(self, params: dict[str, Any]) -> AWSResponse:
        for op in params["TransactItems"]:
            if "Put" in op:
                self.put(op["Put"]["Item"])
            elif "Update" in op:
                self._update(op["Update"])
            elif "Delete" in op:
                self.items.pop(self._key(op["Delete"]["Key"]), None)
        return _json({})

    def _BatchGetItem(self, params: dict[str, Any]) -> AWSResponse:
        responses: dict[str, list[dict[str, Any]]] = {}
        for table, request in params["RequestItems"].items():
            found = responses.setdefault(table, [])
            for key in request["Keys"]:
                pair = self._key(key)
                if pair in self.items:
                    found.append(self.items[pair])
                elif pair[1] == "PROFILE":  # every customer exists
                    found.append(key)
        return _json({"Responses": responses, "UnprocessedKeys": {}})

    def _Query(self, params: dict[str, Any]) -> AWSResponse:
        values = params["ExpressionAttributeValues"]
        pk, prefix = values[":pk"]["S"], values.get(":sk", {}).get("S", "")
        keys = sorted(k for k in self.items if k[0] == pk and k[1].startswith(prefix))
        if not params.get("ScanIndexForward", True):
            keys.reverse()
        if "ExclusiveStartKey" in params:
            after = self._key(params["ExclusiveStartKey"])
            keys = keys[keys.index(after) + 1 :] if after in keys else keys
        limit = params.get("Limit", len(keys))
        page = [self.items[k] for k in keys[:limit]]
        found: dict[str, Any] = {"Items": page, "Count": len(page), "ScannedCount": len(page)}
        if len(keys) > limit:
            found["LastEvaluatedKey"] = {"PK": page[-1]["PK"], "SK": page[-1]["SK"]}
        return _json(found)

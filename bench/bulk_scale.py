"""Benchmark: bulk import scaling. Our code over files of 10k, 100k and 1M rows, each size in a
fresh process, with AWS answered by an in-process fake (bench/fake_aws.py).

    PYTHONPATH=.:layers/goodwill .venv/bin/python -m bench.bulk_scale [--quick]

For each size the CSV is generated to a temporary file (the rows of bench/bulk_import.py: every
customer twice, on consecutive rows), then a new Python plays the import as the state machine
would, through the real Lambda handler (functions/bulk_csv_import/app.py): the upload event,
the scan, the chunks of IMPORT_CHUNK_ROWS rows (one after the other, as one warm Lambda would)
and the finish, which assembles the report. DynamoDB, S3 and Step Functions are answered at
botocore's before-send, so the time is ours plus the SDK's client side (validating, serialising,
signing, parsing): what a Lambda spends on CPU, without the waits. moto cannot do this at scale
(~470 writes/s: 1M rows would take hours); bench/bulk_import.py measures the import end to end
on moto at a size that fits.

A file of more than MAX_CHUNKS_APPLIED chunks (1M rows: 200) has SAMPLED_CHUNKS of them applied,
spread over the file; its chunk time is extrapolated from them (a chunk reads only its own byte
range and starts from nothing, so its cost does not depend on where it is), and the finish still
reads and assembles a part per chunk (stand-ins of the same size for the others).

Measured per size: rows/s and time of the whole import; parse + validate rows/s over the whole
file, streamed as a chunk worker reads it; the scan's rows/s; seconds per chunk (the median of
the largest file is what bench/paper.py takes as the CPU of one chunk); and the child's peak RSS
(VmHWM; see peak_rss_mib) before the import and after the scan, the chunks and the finish.
Memory is flat if the largest file's peak RSS is at most FLAT_RATIO times the smallest's.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bench import paper
from bench.lambda_env import CACHE, ROOT

SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000,)
# Peak RSS of the largest file / the smallest's (100x the rows): at most this is "flat". Anything
# held per row fails it: keeping the 1M-row file (27.5 MiB of bytes, as much again as text) would
# alone add ~55 MiB to the ~80 MiB of a warm handler (1.7x). The import's bounded buffers (1 MiB
# reads, one 5,000-row chunk, one 8 MiB multipart part of the report) stay well under it.
FLAT_RATIO = 1.5
MAX_CHUNKS_APPLIED = 20  # up to this many chunks, all are applied
SAMPLED_CHUNKS = 10  # of more, this many, spread over the file
CHILD_TIMEOUT_S = 900
ORG = "bench"
BUCKET = "goodwill-imports-bench"
STATE_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:goodwill-bulk-import-bench"
HANDLER = ROOT / "functions" / "bulk_csv_import" / "app.py"
HEADER = "customer_id,points,reason,comment\n"


def csv_lines(rows: int) -> Iterator[str]:
    """The header, then each customer twice on consecutive rows (as bench/bulk_import.py)."""
    yield HEADER
    for n in range(rows):
        yield f"B{n // 2:06d},{n % 97 + 1},,bench row {n}\n"


def write_csv(path: Path, rows: int) -> int:
    """Write the file without holding it; its size in bytes."""
    with path.open("w", encoding="utf-8", newline="") as out:
        batch: list[str] = []
        for line in csv_lines(rows):
            batch.append(line)
            if len(batch) >= 10_000:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))
    return path.stat().st_size


def flatness(peak_mib: dict[int, float], limit: float = FLAT_RATIO) -> dict[str, Any]:
    """Peak RSS of the largest file over the smallest's, and whether that is at most `limit`."""
    if len(peak_mib) < 2:
        return {"ratio": None, "limit": limit, "flat": None, "compared": sorted(peak_mib)}
    small, large = min(peak_mib), max(peak_mib)
    ratio = peak_mib[large] / peak_mib[small]
    return {"ratio": round(ratio, 2), "limit": limit, "flat": ratio <= limit, "compared": [small, large]}


def chunk_stats(seconds: Sequence[float]) -> dict[str, float]:
    """Median, slowest and fastest chunk, in seconds."""
    if not seconds:
        return {"median": 0.0, "max": 0.0, "min": 0.0}
    return {
        "median": round(statistics.median(seconds), 3),
        "max": round(max(seconds), 3),
        "min": round(min(seconds), 3),
    }


# ------------------------------------------------------------------------------- the child


def peak_rss_mib(status: str | None = None) -> float:
    """This process's peak RSS: VmHWM of /proc/self/status, where Linux has it. Not ru_maxrss: a
    child keeps the RSS its parent had when it forked (exec folds the old memory map's peak into
    ru_maxrss), so under `python -m bench`, whose process holds moto, every child would report
    the parent's ~370 MiB. ru_maxrss is the fallback where /proc is missing."""
    if status is None:
        try:
            status = Path("/proc/self/status").read_text()
        except OSError:
            status = ""
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)  # kB
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _child_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "IMPORT_"))}
    env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "goodwill")]),
            "PYTHONPYCACHEPREFIX": str(CACHE / "pyc-bench"),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "TABLE_NAME": "goodwill",
            "STAGE": "bench",
            "IMPORT_BUCKET": BUCKET,
            "IMPORT_STATE_MACHINE_ARN": STATE_MACHINE,
            "IMPORT_CHUNK_ROWS": str(paper.chunk_rows()),
            "DYNAMODB_PARAM_VALIDATION": paper.import_param_validation(),
            "POWERTOOLS_SERVICE_NAME": "goodwill",
            "POWERTOOLS_METRICS_NAMESPACE": "Goodwill",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    return env


def _s3_event(key: str, size: int, etag: str) -> dict[str, Any]:
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-11-23T10:00:00.000Z",
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "bench"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
            "object": {"key": key, "size": size, "eTag": etag, "sequencer": "00"},
        },
    }
    return {"Records": [record]}


def sample_chunks(total: int, all_up_to: int = MAX_CHUNKS_APPLIED, sample: int = SAMPLED_CHUNKS) -> list[int]:
    """Which chunks to apply: every one of up to `all_up_to` chunks; of more, `sample` spread
    evenly over the file, the first and the last included."""
    if total <= all_up_to:
        return list(range(total))
    if sample < 2:
        return [0][:sample]
    step = (total - 1) / (sample - 1)
    return sorted({round(i * step) for i in range(sample)})


def _stand_ins(fake: Any, pk: str, applied: list[int], total: int, part_key: Any) -> None:
    """Checkpoints and report parts for the chunks not applied: each a copy of the nearest applied
    chunk's, so that the finish reads and assembles as many parts, of the same size, as a full run."""
    for index in sorted(set(range(total)) - set(applied)):
        nearest = min(applied, key=lambda a: abs(a - index))
        checkpoint = dict(fake.items[(pk, f"CHUNK#{nearest:07d}")])
        checkpoint["SK"] = {"S": f"CHUNK#{index:07d}"}
        checkpoint["part_key"] = {"S": part_key(index)}
        fake.put(checkpoint)
        fake.objects[part_key(index)] = fake.objects[checkpoint_part(fake, pk, nearest)]


def checkpoint_part(fake: Any, pk: str, index: int) -> str:
    part: str = fake.items[(pk, f"CHUNK#{index:07d}")]["part_key"]["S"]
    return part


def _parse_whole(csv_path: Path) -> tuple[float, int]:
    """Seconds to parse + validate every row of the file as a chunk worker does (1 MiB reads,
    the default org's rules, ADD mode), and how many rows were valid."""
    from goodwill import clock
    from goodwill.bulk import csvfile
    from goodwill.models.config import OrgConfig
    from goodwill.repositories.import_files import READ_CHUNK_BYTES

    def blocks() -> Iterator[bytes]:
        with csv_path.open("rb") as source:
            while block := source.read(READ_CHUNK_BYTES):
                yield block

    rules = csvfile.ImportRules(allowed_reasons=frozenset(OrgConfig().reason_codes()), now=clock.now())
    started = time.perf_counter()
    valid = sum(type(row) is csvfile.ValidRow for row in csvfile.parse(blocks(), rules))
    return time.perf_counter() - started, valid


def child(csv_path: Path, workdir: Path, all_up_to: int, sample: int) -> dict[str, Any]:
    """Play one import over `csv_path` in this process (a fresh one: its peak RSS is this size's),
    applying the chunks sample_chunks picks; the finish then sees every chunk."""
    import importlib.util
    from types import SimpleNamespace

    from bench.fake_aws import FakeAws
    from goodwill import aws
    from goodwill.auth import Principal, Role
    from goodwill.bulk import imports
    from goodwill.models.imports import BulkImportCreateRequest
    from goodwill.repositories import import_files as files
    from goodwill.repositories import keys

    spec = importlib.util.spec_from_file_location("bulk_csv_import_app", HANDLER)
    assert spec is not None and spec.loader is not None
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    context = SimpleNamespace(
        function_name="BulkCsvImportFunction",
        memory_limit_in_mb=1024,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:BulkCsvImportFunction",
        aws_request_id="bench",
        get_remaining_time_in_millis=lambda: 900_000,
    )

    fake = FakeAws(workdir)
    fake.install(aws.dynamodb(), aws.s3(), aws.stepfunctions())
    fake.put({"PK": {"S": f"ORG#{ORG}"}, "SK": {"S": "ORG"}, "org_id": {"S": ORG}})
    admin = Principal(org_id=ORG, actor="bench", roles=frozenset({Role.ADMIN}))
    import_id = imports.create(admin, BulkImportCreateRequest(program_id="default"))["import_id"]
    key = files.upload_key(ORG, import_id)
    etag = fake.link(key, csv_path)
    before = peak_rss_mib()
    clock = time.process_time  # CPU of this process (the handler, the SDK and the fake), not wall time

    started = clock()
    app.lambda_handler(_s3_event(key, csv_path.stat().st_size, etag), context)
    (execution,) = fake.executions
    scan_started = clock()
    scanned = app.lambda_handler({"action": "scan", **execution}, context)
    scan_s = clock() - scan_started
    upload_and_scan_s = clock() - started
    after_scan = peak_rss_mib()
    assert scanned["proceed"], scanned
    chunks = json.loads(fake.read_object(scanned["chunks_key"]))  # the Distributed Map's ItemReader
    applied = sample_chunks(len(chunks), all_up_to, sample)
    per_chunk = []
    for index in applied:
        began = clock()
        task = {"action": "chunk", **execution, "header": scanned["header"], "chunk": chunks[index]}
        app.lambda_handler(task, context)
        per_chunk.append(clock() - began)
    after_chunks = peak_rss_mib()
    pk = keys.bulk_import(ORG, import_id)["PK"]
    _stand_ins(fake, pk, applied, len(chunks), lambda i: files.part_key(ORG, import_id, i))
    finish_started = clock()
    finished = app.lambda_handler({"action": "finish", **execution}, context)
    finish_s = clock() - finish_started
    with fake.objects[files.report_key(ORG, import_id)].open("rb") as report:
        report_rows = sum(1 for _ in report) - 1
    chunks_s = sum(per_chunk) / max(len(per_chunk), 1) * len(chunks)  # all of them, if sampled
    parse_s, valid = _parse_whole(csv_path)
    return {
        "status": finished["status"],
        "totals": finished["totals"],
        "report_rows": report_rows,
        "chunks": len(chunks),
        "chunks_applied": len(applied),
        "seconds": round(upload_and_scan_s + chunks_s + finish_s, 2),
        "measured_seconds": round(upload_and_scan_s + sum(per_chunk) + finish_s, 2),
        "scan_seconds": round(scan_s, 3),
        "chunk_seconds": chunk_stats(per_chunk),
        "chunks_seconds": round(chunks_s, 2),
        "finish_seconds": round(finish_s, 3),
        "fake_seconds": round(fake.seconds, 2),
        "parse_seconds": round(parse_s, 3),
        "parse_valid_rows": valid,
        "requests": fake.requests,
        "peak_rss_mib_after": {"before": before, "scan": after_scan, "chunks": after_chunks, "finish": peak_rss_mib()},
    }


# ------------------------------------------------------------------------------- the parent


def measure(
    rows: int, workdir: Path, all_up_to: int = MAX_CHUNKS_APPLIED, sample: int = SAMPLED_CHUNKS
) -> dict[str, Any]:
    """Generate the file, run the import over it in a fresh process, return what it measured."""
    csv_path = workdir / f"rows-{rows}.csv"
    size = write_csv(csv_path, rows)
    out = workdir / f"result-{rows}.json"
    objects = workdir / f"objects-{rows}"
    objects.mkdir()
    command = [sys.executable, "-m", "bench.bulk_scale", "--child", str(csv_path), str(objects), str(out)]
    command += [str(all_up_to), str(sample)]
    done = subprocess.run(
        command,
        env=_child_environment(),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,  # the handler's log lines
        stderr=subprocess.PIPE,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {rows:,}-row import failed: {done.stderr[-2000:]}")
    found: dict[str, Any] = json.loads(out.read_text())
    csv_path.unlink()
    applied = int(found["totals"]["applied"])
    seconds = float(found["seconds"])
    return {
        "rows": rows,
        "file_mib": round(size / (1 << 20), 1),
        **found,
        "rows_per_s": round(applied / seconds),
        "fake_share": round(float(found["fake_seconds"]) / float(found["measured_seconds"]), 3),
        "scan_rows_per_s": round(rows / float(found["scan_seconds"])),
        "parse_rows_per_s": round(rows / float(found["parse_seconds"])),
        "peak_rss_mib": found["peak_rss_mib_after"]["finish"],
    }


def run(quick: bool = False) -> dict[str, Any]:
    sizes = QUICK_SIZES if quick else SIZES
    with tempfile.TemporaryDirectory(prefix="goodwill-bulk-scale-") as tmp:
        results = [measure(rows, Path(tmp)) for rows in sizes]
    peaks = {r["rows"]: r["peak_rss_mib"] for r in results}
    largest = max(results, key=lambda r: r["rows"])
    chunk_rows, chunk_s = paper.chunk_rows(), largest["chunk_seconds"]["median"]
    return {
        "benchmark": "bulk_scale",
        "chunk_rows": chunk_rows,
        "sizes": results,
        "flatness": flatness(peaks),
        # one chunk's CPU here (our code + the SDK): the median over the largest file's chunks
        "chunk_cpu_seconds": chunk_s,
        "chunk_rows_per_s": round(chunk_rows / chunk_s) if chunk_s else None,
        # the scan and the finish, which run before and after the chunks, scaled to 1M rows
        "serial_cpu_seconds_1m": round(
            (largest["scan_seconds"] + largest["finish_seconds"]) * 1_000_000 / largest["rows"], 2
        ),
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        csv_file, objects_dir, result_file = (Path(a) for a in sys.argv[2:5])
        result_file.write_text(json.dumps(child(csv_file, objects_dir, int(sys.argv[5]), int(sys.argv[6]))))
    else:
        print(json.dumps(run(quick="--quick" in sys.argv[1:]), indent=2))

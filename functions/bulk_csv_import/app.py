"""Bulk CSV import: an upload under imports/ (S3 event) starts the import workflow; the workflow's
tasks (scan, chunk, finish, fail) run here too, so one function holds the import's permissions.
The same workflow reverts an import (its input says `job: revert`): those tasks are reverts.run."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.typing import LambdaContext

from goodwill import clock
from goodwill.bulk import imports, run
from goodwill.models.import_tasks import ImportTask
from goodwill.observability import logger


def on_uploads(event: S3Event) -> dict[str, Any]:
    outcomes = []
    for record in event.records:
        if not record.event_name.startswith("ObjectCreated:"):
            continue
        s3_object = record.s3.get_object
        upload = imports.Upload(
            bucket=record.s3.bucket.name,
            key=unquote_plus(s3_object.key),
            size=s3_object.size,
            etag=s3_object.etag,
            sequencer=str(s3_object.get("sequencer") or ""),
            event_time=clock.parse_iso(record.event_time),
            uploader=(record.get("userIdentity") or {}).get("principalId"),
        )
        outcome = imports.on_upload(upload)
        logger.info("upload handled", extra=outcome)
        outcomes.append(outcome)
    return {"imports": outcomes}


def run_task(task: ImportTask) -> dict[str, Any]:
    if task.job == "revert":
        return run_revert_task(task)
    if task.action == "scan":
        return run.scan(task.org_id, task.import_id, task.attempt)
    if task.action == "chunk":
        if task.header is None or task.chunk is None:
            raise ValueError("a chunk task needs the header and the chunk")
        return dict(run.process_chunk(task.org_id, task.import_id, task.header, task.chunk))
    if task.action == "finish":
        return run.finish(task.org_id, task.import_id, task.attempt)
    return run.record_failure(task.org_id, task.import_id, task.attempt, task.error)


def run_revert_task(task: ImportTask) -> dict[str, Any]:
    from goodwill.reverts import run as revert_run  # only a revert job loads the revert code

    if task.action == "scan":
        return revert_run.scan(task.org_id, task.import_id, task.attempt)
    if task.action == "chunk":
        if task.chunk is None:
            raise ValueError("a chunk task needs the chunk")
        return dict(revert_run.process_chunk(task.org_id, task.import_id, task.chunk))
    if task.action == "finish":
        return revert_run.finish(task.org_id, task.import_id, task.attempt)
    return revert_run.record_failure(task.org_id, task.import_id, task.attempt, task.error)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        return on_uploads(S3Event(event))
    return run_task(ImportTask.model_validate(event))  # a bad payload fails the task

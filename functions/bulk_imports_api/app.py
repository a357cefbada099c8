"""Bulk CSV imports (admin): POST /goodwill/bulk-imports for a presigned upload, GET one import,
POST .../revert to undo a finished one."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from goodwill.api import build_resolver, current_principal, json_response, resolve
from goodwill.auth import Role
from goodwill.bulk import imports
from goodwill.handler import route_responses
from goodwill.models.common import ID_PATTERN
from goodwill.models.import_responses import BulkImportCreatedResponse, BulkImportResponse
from goodwill.models.imports import BulkImportCreateRequest, RevertImportRequest
from goodwill.observability import logger, metrics
from goodwill.reverts import start as reverts

app = build_resolver()

ImportId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]


@app.post(
    "/goodwill/bulk-imports",
    summary="Start a bulk CSV import: get a presigned upload URL",
    description=(
        "Role: admin. PUT the CSV file to `upload_url` with `upload_headers` (within 15 minutes); the "
        "upload starts the import. Follow it with GET /goodwill/bulk-imports/{import_id}."
    ),
    tags=["Bulk imports"],
    operation_id="createBulkImport",
    responses=route_responses(
        {201: (BulkImportCreatedResponse, "Created: waiting for the upload")}, body=True, not_found="no such program"
    ),
)
def create_import(body: Annotated[BulkImportCreateRequest, Body()]) -> Any:
    created = imports.create(current_principal(app, Role.ADMIN), body)
    metrics.add_metric(name="BulkImportsCreated", unit="Count", value=1)
    return json_response(201, created)


@app.get(
    "/goodwill/bulk-imports/<import_id>",
    summary="Read a bulk import: status, totals and the report's URL",
    description="Role: admin. `report_url` (presigned, 15 minutes) appears once the report is written.",
    tags=["Bulk imports"],
    operation_id="getBulkImport",
    responses=route_responses({200: (BulkImportResponse, "The import")}, not_found="no such import", ids_in_path=True),
)
def get_import(import_id: ImportId) -> Any:
    return json_response(200, imports.get(current_principal(app, Role.ADMIN), import_id))


@app.post(
    "/goodwill/bulk-imports/<import_id>/revert",
    summary="Revert a finished bulk import: reverse every row it applied, exactly once",
    description=(
        "Role: admin. 202: the revert runs (status REVERTING) through the import's own workflow; each "
        "row the import applied gets a REVERSAL ledger entry (the single reversal's rules: a credit "
        "whose points are spent is FAILED unless the org allows negative balances; a row reversed "
        "before is SKIPPED). It ends REVERTED or REVERTED_WITH_ERRORS with `revert` totals and "
        "`revert_report_url`; the uploader is told as when the import ended. 409 NOT_REVERTIBLE: "
        "reverted or being reverted already, a dry run, or not finished. A revert whose workflow "
        "stopped is resumed by the same request."
    ),
    tags=["Bulk imports"],
    operation_id="revertBulkImport",
    responses=route_responses(
        {202: (BulkImportResponse, "Accepted: the revert runs")},
        body=True,
        not_found="no such import",
        ids_in_path=True,
        conflict="NOT_REVERTIBLE: reverted or being reverted already, a dry run, or not finished",
    ),
)
def revert_import(import_id: ImportId, body: Annotated[RevertImportRequest, Body()]) -> Any:
    record = reverts.start(current_principal(app, Role.ADMIN), import_id, body)
    metrics.add_metric(name="BulkImportReverts", unit="Count", value=1)
    return json_response(202, imports.view(record))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)

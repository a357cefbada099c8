"""Bulk CSV imports (admin): POST /goodwill/bulk-imports for a presigned upload, GET one import,
POST .../revert to undo a finished one."""

from __future__ import annotations

from typing import Annotated, Any

from goodwill.api import json_response
from goodwill.auth import Role
from goodwill.bulk import imports
from goodwill.handler import Api, Body, PathId, count
from goodwill.models.imports import BulkImportCreateRequest, RevertImportRequest
from goodwill.reverts import start as reverts

app = Api("Bulk imports")
NOT_REVERTIBLE = "NOT_REVERTIBLE: reverted or being reverted already, a dry run, or not finished"


@app.endpoint(
    "POST /goodwill/bulk-imports",
    {201: ("BulkImportCreatedResponse", "Created: waiting for the upload")},
    not_found="no such program",
    role=Role.ADMIN,
)
def create_bulk_import(body: Annotated[BulkImportCreateRequest, Body()]) -> Any:
    """Start a bulk CSV import: get a presigned upload URL

    Role: admin. PUT the CSV file to `upload_url` with `upload_headers` (within 15 minutes); the
    upload starts the import. Follow it with GET /goodwill/bulk-imports/{import_id}."""
    created = imports.create(app.caller(), body)
    count("BulkImportsCreated")
    return json_response(201, created)


@app.endpoint(
    "GET /goodwill/bulk-imports/<import_id>",
    {200: ("BulkImportResponse", "The import")},
    not_found="no such import",
    role=Role.ADMIN,
)
def get_bulk_import(import_id: PathId) -> Any:
    """Read a bulk import: status, totals and the report's URL

    Role: admin. `report_url` (presigned, 15 minutes) appears once the report is written."""
    return json_response(200, imports.get(app.caller(), import_id))


@app.endpoint(
    "POST /goodwill/bulk-imports/<import_id>/revert",
    {202: ("BulkImportResponse", "Accepted: the revert runs")},
    not_found="no such import",
    conflict=NOT_REVERTIBLE,
    role=Role.ADMIN,
)
def revert_bulk_import(import_id: PathId, body: Annotated[RevertImportRequest, Body()]) -> Any:
    """Revert a finished bulk import: reverse every row it applied, exactly once

    Role: admin. 202: the revert runs (status REVERTING) through the import's own workflow; each
    row the import applied gets a REVERSAL ledger entry (the single reversal's rules: a credit
    whose points are spent is FAILED unless the org allows negative balances; a row reversed
    before is SKIPPED). It ends REVERTED or REVERTED_WITH_ERRORS with `revert` totals and
    `revert_report_url`; the uploader is told as when the import ended. 409 NOT_REVERTIBLE:
    reverted or being reverted already, a dry run, or not finished. A revert whose workflow
    stopped is resumed by the same request."""
    record = reverts.start(app.caller(), import_id, body)
    count("BulkImportReverts")
    return json_response(202, imports.view(record))


lambda_handler = app.entry_point()

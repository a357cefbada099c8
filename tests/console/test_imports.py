"""Bulk import in the browser: upload with progress, follow the import, download the report."""

from __future__ import annotations

import csv
import io

from playwright.sync_api import Page, expect

from local.devserver.server import LocalSystem
from tests.console.conftest import Watch
from tests.console.ui import Org, sign_in

CSV = b"customer_id,points,comment\nc-1,100,promo\nc-2,50,promo\nc-404,10,nobody\nc-1,abc,bad points\n"


def test_upload_csv_good_and_bad_rows_totals_and_report(system: LocalSystem, org: Org, page: Page) -> None:
    org.customer("c-1")
    org.customer("c-2")
    sign_in(page, system.url, org.org_id, "dana", "admin")
    page.get_by_role("link", name="Bulk import").click()
    page.get_by_label("Mode").select_option("ADD")
    page.get_by_label("CSV file").set_input_files({"name": "promo.csv", "mimeType": "text/csv", "buffer": CSV})
    page.get_by_role("button", name="Upload").click()
    # The upload's progress bar fills, then the import is followed to its end
    expect(page.get_by_label("Upload progress")).to_have_attribute("value", "100")
    expect(page.get_by_role("button", name="Download report")).to_be_visible(timeout=60_000)
    panel = page.get_by_role("region", name="Import")
    expect(panel.get_by_role("status")).to_have_text("Completed with errors")
    expect(panel.locator(".pair")).to_have_text(["Rows4", "Applied2", "Failed2"])
    # The report downloads with a line per row
    with page.expect_download() as download:
        page.get_by_role("button", name="Download report").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert [(r["customer_id"], r["status"]) for r in rows] == [
        ("c-1", "APPLIED"),
        ("c-2", "APPLIED"),
        ("c-404", "FAILED"),
        ("c-1", "FAILED"),
    ]
    assert download.value.suggested_filename.endswith("-report.csv")
    # And the good rows were applied
    assert org.call("GET", "/customers/c-1")["balances"]["default"]["current"] == 100


def test_the_completion_mails_link_shows_that_import_and_its_report(system: LocalSystem, org: Org, page: Page) -> None:
    # Given a finished import (its completion mail links to #/imports?import_id=ID)
    org.customer("c-1")
    record = org.run_import("customer_id,points\nc-1,5\n")
    # When the admin follows the link
    sign_in(page, system.url, org.org_id, "dana", "admin")
    page.goto(f"{system.url}/console/#/imports?import_id={record['import_id']}")
    # Then the screen shows that import, its status, totals and report (the upload form stays below)
    panel = page.get_by_role("region", name="Import")
    expect(panel.get_by_role("heading", name=f"Import {record['import_id']}")).to_be_visible()
    expect(panel.get_by_role("status")).to_have_text("Completed")
    expect(panel.locator(".pair")).to_have_text(["Rows1", "Applied1", "Failed0"])
    with page.expect_download() as download:
        page.get_by_role("button", name="Download report").click()
    assert "c-1" in download.value.path().read_text(encoding="utf-8-sig")
    expect(page.get_by_role("button", name="Upload")).to_be_visible()


def test_a_link_to_an_import_of_another_org_shows_the_apis_message(
    system: LocalSystem, org: Org, page: Page, watch: Watch
) -> None:
    watch.expect_4xx = True  # the GET answers 404: shown in the import's panel
    # Given an import of another org
    other = Org(system)
    other.customer("c-1")
    record = other.run_import("customer_id,points\nc-1,5\n")
    # When this org's admin opens a link to it
    sign_in(page, system.url, org.org_id, "dana", "admin")
    page.goto(f"{system.url}/console/#/imports?import_id={record['import_id']}")
    # Then the panel says what the API said, and no report is offered
    panel = page.get_by_role("region", name="Import")
    expect(panel.get_by_role("alert")).to_contain_text("not found")
    expect(page.get_by_role("button", name="Download report")).to_have_count(0)

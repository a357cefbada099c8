"""Bulk CSV imports: creating one and reacting to its upload (imports), the workflow's tasks
(run: scan, chunk, finish, fail), checking the CSV (csvfile: the entry points; csvlines: bytes to
records; csvcolumns: one validator per column; csvrows: a row against its header), splitting it
into partitions (partition), planning and applying one chunk's rows exactly once (plan, apply),
the per-row report (report), and telling the uploader (notify). The import's S3 files are
repositories.import_files, its records repositories.imports_records; undoing an import is
goodwill.reverts."""

from typing import Final

# The largest file an import takes (the S3 object's size, checked before anything reads it). Here,
# not in csvlines, so that creating an import (bulk_imports_api) loads no CSV code.
MAX_FILE_BYTES: Final = 200 * 1024 * 1024

"""Undoing a bulk import (CONTRACT.md section 13): POST /goodwill/bulk-imports/{id}/revert starts
it (start), the import's own workflow runs it (run: scan, chunks, finish), each chunk reverses its
rows exactly once with the single reversal's semantics (apply), and the revert report is built
from the import report (files)."""

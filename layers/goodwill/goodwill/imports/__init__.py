"""Bulk CSV import files: parsing and checking the CSV (csvfile), splitting it into partitions
for the workflow's chunks (partition), and the per-row report (report)."""

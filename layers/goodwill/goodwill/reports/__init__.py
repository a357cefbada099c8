"""The goodwill spend report: who gave away how much, and why (CONTRACT.md section 15).

Owns the daily aggregates (`aggregates`: materialised from the table's stream, exactly once per
ledger entry and coupon, by a marker written in the same transaction as the increments) and the
report read from them (`spend`: at most 92 days, grouped by reason, actor, day or program, JSON
or CSV).
"""

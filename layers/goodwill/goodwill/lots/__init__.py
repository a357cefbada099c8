"""Expiring points: lots, their consumption and expiry, reminders, and reversals of ledger entries.

Every credit with an expiry is a lot (its transaction id, when it expires, its unspent remainder);
they live in the balance item itself, so a debit that consumes any number of lots is still the
one balance write and its ledger entry (2 items of a transaction, never near its 100-item limit).
Points without expiry (and balances written before lots existed) are the open lot: `current`
minus the sum of the lots, never stored, so an old balance is simply all open.
"""

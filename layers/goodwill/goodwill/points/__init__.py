"""Goodwill points and their ledger: granting points under the org's rules (grants), the balance
change and its ledger entry in one transaction (ledger), agents' daily limits (limits), and what
kind of change an entry is, with a credit's expiry terms (changes)."""

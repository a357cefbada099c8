"""Goodwill points and their ledger: granting points under the org's rules (grants), the balance
change and its ledger entry in one transaction (ledger), and agents' daily limits (limits)."""

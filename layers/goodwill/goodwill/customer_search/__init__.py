"""Finding customers (GET /customers?q=): by exact customer id, e-mail, phone, or name prefix.

It owns the index items that make names and phones searchable without a Scan (`index`), kept in
the profile's own transaction by repositories.customers; the reads over them (`lookup`); the
search itself (`search`); and the one-off migration that indexes profiles written before the
index existed (`backfill`). E-mails need no index of their own: the org's e-mail claim items
(keys.email) already map an address to its customer.
"""

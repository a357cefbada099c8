"""Finding customers (GET /customers?q=): by exact customer id, e-mail, phone, or name prefix.

The index items that make names and phones searchable without a Scan are data-layer
(repositories.customer_index, kept in the profile's own transaction by repositories.customers);
this package owns the reads over them (`lookup`); the
search itself (`search`); and the one-off migration that indexes profiles written before the
index existed (`backfill`). E-mails need no index of their own: the org's e-mail claim items
(keys.email) already map an address to its customer.
"""

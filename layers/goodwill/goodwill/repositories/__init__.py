"""The data layer, and the only code that talks to DynamoDB: table.py (serialisation, reads,
writes, transactions), pages.py (listing with next_token), keys.py (every key format), and one
module per kind of record. It imports nothing above it (tests/unit/test_layout.py)."""

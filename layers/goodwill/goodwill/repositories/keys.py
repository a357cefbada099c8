"""Every DynamoDB key format, in one place. Each org's items live under ORG#{org}."""

from __future__ import annotations

import hashlib


def org(org_id: str) -> dict[str, str]:
    return {"PK": f"ORG#{org_id}", "SK": "ORG"}


def config(org_id: str) -> dict[str, str]:
    return {"PK": f"ORG#{org_id}", "SK": "CONFIG"}


def customer_pk(org_id: str, customer_id: str) -> str:
    return f"ORG#{org_id}#CUST#{customer_id}"


def customer(org_id: str, customer_id: str) -> dict[str, str]:
    return {"PK": customer_pk(org_id, customer_id), "SK": "PROFILE"}


def email(org_id: str, address: str) -> dict[str, str]:
    return {"PK": f"ORG#{org_id}#EMAIL#{address.lower()}", "SK": "EMAIL"}


def balance(org_id: str, customer_id: str, program_id: str) -> dict[str, str]:
    return {"PK": customer_pk(org_id, customer_id), "SK": f"BAL#{program_id}"}


BALANCE_PREFIX = "BAL#"
LEDGER_PREFIX = "TXN#"
COUPON_PREFIX = "CPN#"


def ledger(org_id: str, customer_id: str, transaction_id: str) -> dict[str, str]:
    return {"PK": customer_pk(org_id, customer_id), "SK": f"{LEDGER_PREFIX}{transaction_id}"}


def customer_coupon(org_id: str, customer_id: str, code_id: str) -> dict[str, str]:
    return {"PK": customer_pk(org_id, customer_id), "SK": f"{COUPON_PREFIX}{code_id}"}


def request(org_id: str, request_id: str) -> dict[str, str]:
    return {"PK": f"ORG#{org_id}#REQ#{request_id}", "SK": "REQ"}


def requests_by_org(org_id: str) -> str:
    return f"ORG#{org_id}#REQS"


def requests_by_status(org_id: str, status: str) -> str:
    return f"ORG#{org_id}#REQS#{status}"


def requests_by_customer(org_id: str, customer_id: str) -> str:
    return f"ORG#{org_id}#CUST#{customer_id}#REQS"


def idempotency(org_id: str, scope: str, key: str) -> dict[str, str]:
    digest = hashlib.sha256(key.encode()).hexdigest()
    return {"PK": f"ORG#{org_id}#IDEM#{scope}#{digest}", "SK": "IDEM"}


def series(org_id: str, series_id: str) -> dict[str, str]:
    return {"PK": f"ORG#{org_id}#SERIES#{series_id}", "SK": "SERIES"}


def series_list(org_id: str) -> str:
    return f"ORG#{org_id}#SERIES"


def pool_code(org_id: str, series_id: str, index: int) -> dict[str, str]:
    return {"PK": f"ORG#{org_id}#SERIES#{series_id}", "SK": f"CODE#{index:09d}"}


def coupon_code(org_id: str, code: str) -> dict[str, str]:
    """Claim on a code: at most one issue of a code per org, across all series."""
    return {"PK": f"ORG#{org_id}#COUPON#{code}", "SK": "COUPON"}


def code_owner(org_id: str, code: str) -> dict[str, str]:
    """The pool an uploaded code belongs to: a code is in at most one series of an org."""
    return {"PK": f"ORG#{org_id}#COUPON#{code}", "SK": "POOL"}


def bulk_import(org_id: str, import_id: str) -> dict[str, str]:
    return {"PK": f"ORG#{org_id}#IMPORT#{import_id}", "SK": "IMPORT"}


def import_chunk(org_id: str, import_id: str, chunk: int) -> dict[str, str]:
    return {"PK": f"ORG#{org_id}#IMPORT#{import_id}", "SK": f"CHUNK#{chunk:07d}"}


REVERT_CHUNK_PREFIX = "REVERT#"


def revert_chunk(org_id: str, import_id: str, chunk: int) -> dict[str, str]:
    """A finished chunk of an import's revert (its counts and report part)."""
    return {"PK": f"ORG#{org_id}#IMPORT#{import_id}", "SK": f"{REVERT_CHUNK_PREFIX}{chunk:07d}"}


def import_customer(org_id: str, import_id: str, customer_id: str) -> dict[str, str]:
    """A SET import's claim on a customer: each customer is set at most once per import, whether
    the file names them by id or by e-mail. In the customer's partition, so claims spread out."""
    return {"PK": customer_pk(org_id, customer_id), "SK": f"IMPORT#{import_id}"}


def org_list() -> str:
    """GSI1 partition listing every org (its ORG item): what the request reconciler walks."""
    return "ORGS"


def agent_day(org_id: str, actor: str, day: str) -> dict[str, str]:
    """An agent's credits of one UTC day (the agent daily limit): contended only by that agent."""
    return {"PK": f"ORG#{org_id}#AGENT#{actor}", "SK": f"LIMIT#{day}"}


# ---------------------------------------------------------------- finding customers (customer_search)
def customer_name_partition(org_id: str, shard: str) -> str:
    """Customers by name, sharded by the first two characters of the normalised name (a search
    needs at least two): one partition per org and shard, sorted by name."""
    return f"ORG#{org_id}#NAME#{shard}"


# Between a name and the id in a name entry's sort key: below every character a name key holds
# (a space included), so "ada" sorts before "ada lovelace". Index version 1 used "#", which sorts
# after the space: the exact name came after every longer one.
NAME_ID_SEPARATOR = "\x1f"


def customer_name_entry(
    org_id: str, shard: str, name_key: str, customer_id: str, separator: str = NAME_ID_SEPARATOR
) -> dict[str, str]:
    return {"PK": customer_name_partition(org_id, shard), "SK": f"{name_key}{separator}{customer_id}"}


def customer_phone_partition(org_id: str, phone: str) -> str:
    """Customers by phone (E.164); several customers may share one."""
    return f"ORG#{org_id}#PHONE#{phone}"


def customer_phone_entry(org_id: str, phone: str, customer_id: str) -> dict[str, str]:
    return {"PK": customer_phone_partition(org_id, phone), "SK": f"CUST#{customer_id}"}


DUE_SHARDS = 16


def due_shard_pk(shard: int) -> str:
    return f"DUE#{shard:02d}"


def due_index(org_id: str, customer_id: str, program_id: str, due: str) -> dict[str, str]:
    """A balance with lots, in the due-date index (GSI4) at the time it next needs the expiry run
    (a reminder or an expiry). The index key is spread over DUE_SHARDS partitions by customer, so
    no partition is hot when a million lots fall due together, and no customer's write touches an
    org-wide item."""
    digest = hashlib.sha256(f"{org_id}#{customer_id}".encode()).digest()
    shard = int.from_bytes(digest[:4], "big") % DUE_SHARDS
    return {"GSI4PK": due_shard_pk(shard), "GSI4SK": f"{due}#{org_id}#{customer_id}#{program_id}"}


# API clients are found by their Cognito client id alone (the token names no org), so their items
# live under the client, not the org; the org's list of them is GSI1.
def api_client(client_id: str) -> dict[str, str]:
    return {"PK": f"APICLIENT#{client_id}", "SK": "APICLIENT"}


def api_client_rate(client_id: str) -> dict[str, str]:
    """The client's rate window; it exists exactly while the client is active (revocation deletes it)."""
    return {"PK": f"APICLIENT#{client_id}", "SK": "RATE"}


def api_clients_by_org(org_id: str) -> str:
    return f"ORG#{org_id}#APICLIENTS"


def webhooks(org_id: str) -> str:
    """The partition of an org's webhooks (listed, and read for every event of the org)."""
    return f"ORG#{org_id}#WEBHOOKS"


def webhook(org_id: str, webhook_id: str) -> dict[str, str]:
    return {"PK": webhooks(org_id), "SK": f"WEBHOOK#{webhook_id}"}


def webhook_log(org_id: str, webhook_id: str) -> str:
    """A webhook's delivery attempts (ATTEMPT#{ulid}) and delivered events (EVENT#{event_id})."""
    return f"ORG#{org_id}#WEBHOOK#{webhook_id}"


def report_day(org_id: str, day: str) -> str:
    """One org's goodwill report aggregates of one UTC day: `{group}#{key}#{shard}` items."""
    return f"ORG#{org_id}#AGG#{day}"


def report_seen(org_id: str, event_id: str) -> dict[str, str]:
    """The mark that an event was counted in the report aggregates (exactly once)."""
    return {"PK": f"ORG#{org_id}#AGGSEEN#{event_id}", "SK": "SEEN"}

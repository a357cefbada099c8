"""Webhook signing secrets at rest: encrypted with the stack's KMS key, bound to their webhook.

The webhooks API encrypts a new secret (kms:Encrypt) and the table holds only the ciphertext
(`secret_ciphertext`); the delivery function decrypts it (kms:Decrypt) and keeps the plaintext in
its instance's memory, so deliveries do not cost a KMS call each. The encryption context names the
org and the webhook: a ciphertext copied onto another webhook's item does not decrypt. Webhooks
saved before encryption (a plaintext `secret`) keep working; a PUT replacing one encrypts it.
"""

from __future__ import annotations

import base64
import threading
from functools import lru_cache
from typing import Any

from goodwill import aws
from goodwill.repositories.table import Item
from goodwill.settings import get_settings

CACHED = 1024  # secrets one delivery instance keeps decrypted (20 webhooks per org at most)


def _key() -> str:
    key = get_settings().webhook_secret_key_arn
    if not key:
        raise RuntimeError("WEBHOOK_SECRET_KEY_ARN is not set: webhook secrets are never stored in plaintext")
    return key


def _context(org_id: str, webhook_id: str) -> dict[str, str]:
    return {"goodwill:org_id": org_id, "goodwill:webhook_id": webhook_id}


def encrypt(org_id: str, webhook_id: str, secret: str) -> str:
    """The ciphertext to store for `secret` (base64)."""
    resp: dict[str, Any] = aws.kms().encrypt(
        KeyId=_key(), Plaintext=secret.encode(), EncryptionContext=_context(org_id, webhook_id)
    )
    return base64.b64encode(resp["CiphertextBlob"]).decode()


_LOCK = threading.Lock()  # deliveries run in threads: the first of them decrypts, the others wait


def decrypt(org_id: str, webhook_id: str, ciphertext: str) -> str:
    with _LOCK:
        return _decrypt(org_id, webhook_id, ciphertext)


def clear_cache() -> None:
    _decrypt.cache_clear()


@lru_cache(maxsize=CACHED)
def _decrypt(org_id: str, webhook_id: str, ciphertext: str) -> str:
    resp: dict[str, Any] = aws.kms().decrypt(
        KeyId=_key(), CiphertextBlob=base64.b64decode(ciphertext), EncryptionContext=_context(org_id, webhook_id)
    )
    return bytes(resp["Plaintext"]).decode()


def secret_of(item: Item) -> str:
    """The signing secret of a stored webhook (decrypted once per instance)."""
    if item.get("secret_ciphertext"):
        return decrypt(str(item["org_id"]), str(item["webhook_id"]), str(item["secret_ciphertext"]))
    return str(item["secret"])  # saved before secrets were encrypted


def sealed(org_id: str, webhook_id: str, item: Item) -> Item:
    """`item` with its secret encrypted (a webhook saved before encryption, on its next PUT)."""
    if item.get("secret_ciphertext") or not item.get("secret"):
        return item
    found = {k: v for k, v in item.items() if k != "secret"}
    found["secret_ciphertext"] = encrypt(org_id, webhook_id, str(item["secret"]))
    return found

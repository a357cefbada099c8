"""GET /customers?q=: which customers of the caller's org a query finds, in what order.

- A phone (E.164 once spaces, dots, dashes and brackets are dropped): the customers with it.
- Otherwise exact matches first, on the first page: the customer whose id is `q`, and the one
  whose e-mail is `q` (case-insensitive). A `q` holding `@` matches nothing else.
- Then, for two characters or more, every customer whose name starts with `q` (case-insensitive,
  accents kept, whitespace collapsed), in name order, a page at a time.
Every key starts with the caller's org: another org's customers cannot be reached.
"""

from __future__ import annotations

import re
from typing import Any

from goodwill.auth import Principal
from goodwill.customer_search import lookup
from goodwill.customers.profiles import customer_view
from goodwill.errors import ValidationFailedError
from goodwill.models.vocabulary import ID_PATTERN
from goodwill.repositories import customer_index as index
from goodwill.repositories import customers as customers_repo
from goodwill.repositories.table import Item

_PHONE_SEPARATORS = re.compile(r"[\s().-]")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_ID = re.compile(ID_PATTERN)


def search(principal: Principal, q: str, limit: int, next_token: str | None) -> dict[str, Any]:
    org = principal.org_id
    text = q.strip()
    if not text:
        raise ValidationFailedError.field("q", "must not be blank")
    phone = _PHONE_SEPARATORS.sub("", text)
    if _E164.fullmatch(phone):
        page = lookup.by_phone(org, phone, limit, next_token)
        return _answer(org, {}, [i["customer_id"] for i in page.items], page.next_token)
    key = index.name_key(text)
    by_name = "@" not in text and len(key) >= index.MIN_PREFIX
    if next_token and not by_name:
        raise ValidationFailedError.field("next_token", "this search has a single page")
    exact = {} if next_token else _exact(org, text)
    room = limit - len(exact)
    if not by_name:
        return _answer(org, exact, [], None)
    if room == 0:
        return _answer(org, exact, [], lookup.name_start_token(org, key))
    # The customer whose id is `q` is listed first on the first page, and not again by name.
    page = lookup.by_name(org, key, room, next_token, leave_out=text)
    return _answer(org, exact, [i["customer_id"] for i in page.items], page.next_token)


def _exact(org_id: str, text: str) -> dict[str, Item]:
    """The profiles `text` names exactly: by id, by e-mail."""
    found: dict[str, Item] = {}
    if _ID.fullmatch(text) and (profile := customers_repo.get_profile(org_id, text)):
        found[text] = profile
    cid = customers_repo.customer_by_email(org_id, text.lower()) if "@" in text else None
    if cid and cid not in found and (profile := customers_repo.get_profile(org_id, cid)):
        found[cid] = profile
    return found


def _answer(org_id: str, exact: dict[str, Item], ids: list[str], next_token: str | None) -> dict[str, Any]:
    profiles = {**exact, **lookup.profiles(org_id, ids)}
    ordered = [*exact, *ids]
    return {
        "items": [customer_view(org_id, profiles[cid]) for cid in ordered if cid in profiles],
        "next_token": next_token,
    }

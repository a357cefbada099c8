"""GET /customers?q=: which customers of the caller's org a query finds, in what order.

- A phone (E.164 once spaces, dots, dashes and brackets are dropped): the customers with it.
- Otherwise exact matches first: the customer whose id is `q`, and the one whose e-mail is `q`
  (case-insensitive), as many as the page holds (the rest on the next). A `q` holding `@`
  matches nothing else.
- Then, for two characters or more, every customer whose name starts with `q` (case-insensitive,
  accents kept, whitespace collapsed), in name order, a page at a time.
Never more than `limit` customers a page; a next_token while more may follow; paging through lists
every match once.
Every key starts with the caller's org: another org's customers cannot be reached.
"""

from __future__ import annotations

import base64
import json
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
    # A first page lists the exact matches, as many as fit; a token of `_exact_token` lists the rest.
    shown = _exact_from(next_token, text)
    if next_token and shown is None and not by_name:
        raise ValidationFailedError.field("next_token", "not a token issued by this listing")
    exact = list(_exact(org, text).items())[shown or 0 :] if not next_token or shown is not None else []
    if len(exact) > limit:
        return _answer(org, dict(exact[:limit]), [], _exact_token(text, (shown or 0) + limit))
    room = limit - len(exact)
    if not by_name:
        return _answer(org, dict(exact), [], None)
    if room == 0:
        return _answer(org, dict(exact), [], lookup.name_start_token(org, key))
    # The customer whose id is `q` is listed with the exact matches, and not again by name.
    names_token = None if shown is not None else next_token
    page = lookup.by_name(org, key, room, names_token, leave_out=text)
    return _answer(org, dict(exact), [i["customer_id"] for i in page.items], page.next_token)


def _exact_token(text: str, shown: int) -> str:
    """The next page of a search whose exact matches did not fit: how many were shown, for which `q`."""
    raw = json.dumps({"q": text, "exact_shown": shown}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _exact_from(token: str | None, text: str) -> int | None:
    """How many exact matches a token of `_exact_token` says were shown; None for any other token
    (a names token, checked by its listing). One of another `q` is refused."""
    if not token:
        return None
    try:
        plain = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError):
        return None
    if not isinstance(plain, dict) or "exact_shown" not in plain:
        return None
    shown = plain["exact_shown"]
    if plain.get("q") != text or type(shown) is not int or shown < 1:
        raise ValidationFailedError.field("next_token", "not a token issued by this listing")
    return shown


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

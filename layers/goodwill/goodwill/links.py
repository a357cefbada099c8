"""Links into the Member Care console, which routes by the URL's hash (console/js/main.js)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from goodwill.settings import get_settings


def console_link(*path: str, **query: str) -> str:
    """`{console}/#/{path}?{query}`: the console is one page (index.html, served at the base: /console/
    locally, / on CloudFront) and finds the screen in the hash, so `{console}/requests/ID` (no such
    file) is a 404 on both. The base may end with `/#` (the template's default) or not."""
    base = get_settings().console_base_url.rstrip("/").removesuffix("#").rstrip("/")
    route = "/".join(quote(part, safe="") for part in path)
    return f"{base}/#/{route}" + (f"?{urlencode(query)}" if query else "")

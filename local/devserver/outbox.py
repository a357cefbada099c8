"""What the local run "sent": every SMS, e-mail and push, read from moto's in-process backends.

The local HTTP server and moto's server share one process, so the backends read here are the
objects moto's handlers write to. moto keeps no send time, so an Outbox records when it first
saw each message; the local server observes every ~100 ms, which bounds the error.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import json
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from goodwill.clock import now_iso
from local.aws.template import ACCOUNT, REGION

Found = tuple[str, str, str, str | None, str]  # (key, channel, to, subject, body)


@dataclass(frozen=True)
class Sent:
    channel: str
    to: str
    subject: str | None
    body: str
    sent_at: str


class Outbox:
    def __init__(self, account: str = ACCOUNT, region: str = REGION) -> None:
        self.account = account
        self.region = region
        self._seen: dict[str, tuple[int, str]] = {}  # key -> (order seen, first seen at)
        self._order = itertools.count()
        self._lock = threading.Lock()

    def observe(self) -> list[Sent]:
        """Stamp messages not seen before; returns every message, newest first."""
        found = list(self._scan())
        with self._lock:
            stamp = now_iso()
            for key, *_ in found:
                if key not in self._seen:
                    self._seen[key] = (next(self._order), stamp)
            ordered = sorted(found, key=lambda f: self._seen[f[0]][0], reverse=True)
            return [Sent(ch, to, subj, body, self._seen[key][1]) for key, ch, to, subj, body in ordered]

    def items(self, channel: str | None = None, to: str | None = None) -> list[dict[str, Any]]:
        return [
            asdict(sent)
            for sent in self.observe()
            if (channel is None or sent.channel == channel.upper()) and (to is None or to in sent.to)
        ]

    def _scan(self) -> Iterator[Found]:
        yield from _sms_and_push(self.account, self.region)
        yield from _emails(self.account, self.region)


def _snapshot(values: Any) -> list[Any]:
    # Senders run on other threads; copying is atomic under the GIL but may meet a resize.
    for _ in range(5):
        try:
            return list(values)
        except RuntimeError:
            continue
    return []


def _sms_and_push(account: str, region: str) -> Iterator[Found]:
    from moto.sns.models import sns_backends

    backend = sns_backends[account][region]
    for message_id, (phone, text) in _snapshot(backend.sms_messages.items()):
        yield f"sms:{message_id}", "SMS", phone, None, text
    for arn, endpoint in _snapshot(backend.platform_endpoints.items()):
        for message_id, text in _snapshot(endpoint.messages.items()):
            yield f"push:{message_id}", "PUSH", arn, None, _push_text(text)


def _push_text(message: str) -> str:
    """MessageStructure=json publishes carry one text per platform; show the default."""
    try:
        parsed = json.loads(message)
    except ValueError:
        return message
    default = parsed.get("default") if isinstance(parsed, dict) else None
    return default if isinstance(default, str) else message


def _emails(account: str, region: str) -> Iterator[Found]:
    from moto.ses.models import ses_backends  # sesv2 stores its sends here too

    backend = ses_backends[account][region]
    for message in _snapshot(backend.sent_messages):
        kind = type(message).__name__
        if kind == "Message":
            to = _addresses(message.destinations)
            yield f"email:{message.id}", "EMAIL", to, message.subject, message.body
        elif kind == "RawMessage":
            subject, body = _parse_raw(message.raw_data)
            yield f"email:{message.id}", "EMAIL", ", ".join(message.destinations), subject, body
        elif kind in ("TemplateMessage", "BulkTemplateMessage"):
            ident = getattr(message, "id", None) or ",".join(getattr(message, "ids", []))
            to = _addresses(message.destinations)
            yield f"email:{ident}", "EMAIL", to, message.template, str(message.template_data)


def _addresses(destinations: Any) -> str:
    if isinstance(destinations, dict):
        keys = ("ToAddresses", "CcAddresses", "BccAddresses")
        return ", ".join(a for k in keys for a in destinations.get(k, []))
    if isinstance(destinations, list):  # bulk templated: [{"Destination": {...}}, ...]
        return ", ".join(_addresses(d.get("Destination", d)) for d in destinations)
    return str(destinations)


def _parse_raw(raw: str) -> tuple[str | None, str]:
    parsed = email.message_from_string(raw, policy=email.policy.default)
    subject = parsed.get("subject")
    part = parsed.get_body(preferencelist=("plain", "html"))
    body = part.get_content() if part is not None else raw
    return (str(subject) if subject is not None else None), str(body).strip()

"""Webhooks: an org's HTTPS endpoints that receive its domain events, signed, retried for 24 h.

Owns the endpoints' configuration (`service`), what a URL may be (`urls`: https, never a private,
loopback or link-local address), the signature (`signing`) and the delivery (`delivery`: an
EventBridge rule puts every event on an SQS queue; the delivery function fans an event out to one
message per matching endpoint of the event's org, POSTs it, and on failure hides the message for
an exponentially growing time until 24 h have passed, then moves it to the dead-letter queue).
"""

"""Telling the customer about a decided request: which channels, in which order, with which
message (plan), and sending one attempt inside the notification workflow (send)."""

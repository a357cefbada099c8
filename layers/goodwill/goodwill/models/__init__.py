"""Pydantic models: what comes in (request bodies, task payloads, org configuration, with the
shared field types of common.py) and what the API answers (responses.py). No I/O."""

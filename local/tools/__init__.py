"""Tooling over the local AWS: the OpenAPI document (openapi, docs/openapi.json), the domain events'
JSON Schemas (event_schemas, docs/events/), template.yaml after SAM's transform for checkov
(sam_transform, `make lint`), and the scripted scenario of `make demo` (demo)."""

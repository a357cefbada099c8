"""docs/events/*.schema.json: the JSON Schema of each domain event's detail, from its model.

`python -m local.tools.event_schemas` writes them; tests/integration/test_events.py fails when the
committed files differ from what the models say.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from local.aws.template import ROOT

DIRECTORY = ROOT / "docs" / "events"


def file_name(detail_type: str) -> str:
    return detail_type.lower().replace(" ", "-") + ".schema.json"


def schemas() -> dict[str, dict[str, Any]]:
    from goodwill.models.events import DETAILS

    found = {}
    for detail_type, model in DETAILS.items():
        schema = model.model_json_schema(mode="serialization")
        found[file_name(detail_type)] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://goodwill.example.com/events/{file_name(detail_type)}",
            **schema,
            "title": f"{detail_type}: the detail of the event (source goodwill)",
        }
    return found


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=False) + "\n"


def main(directory: Path = DIRECTORY) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    for name, schema in schemas().items():
        (directory / name).write_text(render(schema))
    print(f"wrote {len(schemas())} schemas to {directory}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

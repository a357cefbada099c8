"""Turn the sections' results into table rows, a markdown table and bench/results/latest.*."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Row:
    section: str
    measure: str
    result: str
    floor: str = ""
    ratio: str = ""
    goal: str = ""
    met: bool | None = None


def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _mark(met: bool | None) -> str:
    return {True: "yes", False: "**no**", None: ""}[met]


def markdown(rows: list[Row], info: dict[str, Any]) -> str:
    head = (
        f"Measured {info['date']} on {info['cpu']} ({info['cores']} cores), Python {info['python']}, "
        f"mode {info['mode']}, {info['duration_s']} s; load average {info['load_average_at_start']} at start.\n\n"
    )
    lines = [
        "| Section | Measure | Result | Floor | Ratio | Goal | Met |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        cells = [r.section, r.measure, r.result, r.floor, r.ratio, r.goal, _mark(r.met)]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return head + "\n".join(lines) + "\n"


def write(rows: list[Row], sections: dict[str, Any], info: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    payload = {"machine": info, "rows": [asdict(r) for r in rows], "sections": sections}
    (RESULTS / "latest.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    (RESULTS / "latest.md").write_text(markdown(rows, info))
    return RESULTS / "latest.json"

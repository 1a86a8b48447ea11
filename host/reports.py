"""Evaluations and benchmarks end the same way: the report as JSON, kept where `--report` says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_json_report(report: dict[str, Any], path: Path | None) -> str:
    """The report as indented JSON; also written to `path` (its folder made) if one is given."""
    text = json.dumps(report, indent=2)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    return text

"""The JSON report every evaluation and benchmark prints and keeps."""

from __future__ import annotations

import json
from pathlib import Path

from host.reports import write_json_report


def test_the_report_is_written_where_asked_with_its_folders(tmp_path: Path) -> None:
    report = {"what": "a test", "figures": {"sdr_db": 6.4}}
    path = tmp_path / "reports" / "deep" / "report.json"
    text = write_json_report(report, path)
    assert json.loads(text) == report
    assert path.read_text() == text + "\n"


def test_without_a_path_nothing_is_written(tmp_path: Path) -> None:
    text = write_json_report({"n": 1}, None)
    assert json.loads(text) == {"n": 1}
    assert list(tmp_path.iterdir()) == []

"""The data-quality section of the validation report (from data_quality.json)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from clinai.reporting import write_validation_report
from clinai.reporting._quality_view import quality_view

QUALITY = {
    "schema_version": 1,
    "status": "warn",
    "n_rows": 412,
    "n_checks": 5,
    "counts": {"pass": 4, "warn": 1, "fail": 0},
    "checks": [
        {"name": "type", "status": "pass", "count": 0, "column": "age", "message": "ok"},
        {"name": "type", "status": "pass", "count": 0, "column": "sex", "message": "ok"},
        {
            "name": "missing",
            "status": "warn",
            "count": 230,
            "column": "lactate",
            "message": "56% of values are missing: check the extraction of this column",
        },
        {"name": "outcome", "status": "pass", "count": 0, "column": "outcome", "message": "ok"},
        {"name": "bogus", "status": "maybe", "count": 1, "column": "x", "message": "dropped"},
    ],
}


def test_view_lists_findings_first_and_summarises_passes() -> None:
    view = quality_view(QUALITY)
    assert view is not None
    assert view["status"] == "warn"
    assert view["counts"] == {"fail": 0, "warn": 1, "pass": 4}
    assert [(r["name"], r["status"], r["columns"]) for r in view["rows"]] == [
        ("missing", "warn", None),
        ("type", "pass", 2),
        ("outcome", "pass", 1),
    ]
    assert quality_view(None) is None
    assert quality_view({"status": "pass", "checks": []}) is None


@pytest.mark.parametrize(
    ("language", "heading", "status"),
    [("en", "Data quality", "warning"), ("da", "Datakvalitet", "advarsel")],
)
def test_report_renders_the_section(
    tmp_path: Path,
    context: dict[str, Any],
    metrics: dict[str, Any],
    language: str,
    heading: str,
    status: str,
) -> None:
    path = write_validation_report(
        {**context, "data_quality": QUALITY},
        metrics,
        plots={},
        out_path=tmp_path / f"r.{language}.html",
        language=language,
    )
    html = path.read_text(encoding="utf-8")
    assert f'<h2 id="data-quality">{heading}</h2>' in html
    assert '<a href="#data-quality">' in html
    assert "56% of values are missing" in html
    assert f"<td>{status}</td>" in html
    assert "dropped" not in html  # an unknown status is not rendered


def test_report_without_quality_has_no_section(
    tmp_path: Path, context: dict[str, Any], metrics: dict[str, Any]
) -> None:
    path = write_validation_report(context, metrics, plots={}, out_path=tmp_path / "r.html")
    assert 'id="data-quality"' not in path.read_text(encoding="utf-8")

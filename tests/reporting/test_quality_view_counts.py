"""The data-quality section keeps the counts of checks that passed on many columns.

Before, a summarised row showed a dash: the missing values of columns below the warning
level (13,952 cells in a user's dataset) disappeared from the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clinai.reporting import write_validation_report
from clinai.reporting._quality_view import quality_view


def _check(name: str, status: str, count: int, column: str) -> dict[str, Any]:
    return {"name": name, "status": status, "count": count, "column": column, "message": "m"}


QUALITY = {
    "schema_version": 1,
    "status": "warn",
    "n_rows": 30330,
    "counts": {"pass": 4, "warn": 1, "fail": 0},
    "n_missing_cells": 13952 + 2100 + 345,
    "checks": [
        _check("type", "pass", 0, "age"),
        _check("type", "pass", 0, "bmi"),
        _check("missing", "warn", 13952, "smoker"),
        _check("missing", "pass", 2100, "bmi"),
        _check("missing", "pass", 345, "age"),
    ],
}


def test_summarised_passes_keep_the_sum_of_their_counts() -> None:
    view = quality_view(QUALITY)
    assert view is not None
    rows = {(r["name"], r["status"]): (r["count"], r["columns"]) for r in view["rows"]}
    assert rows == {
        ("missing", "warn"): (13952, None),
        ("type", "pass"): (0, 2),
        ("missing", "pass"): (2445, 2),
    }


def test_report_shows_the_summed_count(
    tmp_path: Path, context: dict[str, Any], metrics: dict[str, Any]
) -> None:
    path = write_validation_report(
        {**context, "data_quality": QUALITY}, metrics, plots={}, out_path=tmp_path / "r.html"
    )
    html = path.read_text(encoding="utf-8")
    section = html[html.index('id="data-quality"') :]
    assert '<td class="num">2,445</td>' in section
    assert '<td class="num">13,952</td>' in section
    assert '<td class="num">&#8211;</td>' in section  # the type checks: nothing counted

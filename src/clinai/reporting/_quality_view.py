"""Whitelisted view of ``data_quality.json`` for the validation report's data-quality section.

Reporting computes nothing: the view copies the named fields of the report written by
the prepare stage (check name, status, count, column, message). Checks that passed on
many columns are summarised in one row, so the table stays short; that row keeps the sum
of the columns' counts (e.g. the missing values of columns below the warning level), so
nothing counted disappears.
"""

from __future__ import annotations

from typing import Any

from clinai.reporting import _sanitize as s

__all__ = ["quality_view"]

_STATUSES = ("fail", "warn", "pass")
_MAX_ROWS = 200


def quality_view(value: Any) -> dict[str, Any] | None:
    """Return ``{"status", "n_rows", "counts", "rows"}`` or None when there is no report.

    ``rows`` lists failures and warnings one by one, then one row per check
    name that passed (``columns`` = how many columns it passed on, ``count`` =
    the sum of their counts).
    """
    report = s.mapping(value)
    checks = [s.mapping(c) for c in report.get("checks") or [] if isinstance(c, dict)]
    status = s.text(report.get("status"))
    if not checks or status not in _STATUSES:
        return None
    rows: list[dict[str, Any]] = []
    passed: dict[str, int] = {}
    passed_count: dict[str, float] = {}
    for check in checks:
        name = s.text(check.get("name")) or ""
        state = s.text(check.get("status"))
        if state == "pass":
            passed[name] = passed.get(name, 0) + 1
            passed_count[name] = passed_count.get(name, 0) + (s.number(check.get("count")) or 0)
            continue
        if state not in _STATUSES:
            continue
        rows.append(
            {
                "name": name,
                "status": state,
                "column": s.text(check.get("column")),
                "count": s.number(check.get("count")),
                "message": s.text(check.get("message")),
                "columns": None,
            }
        )
    rows.sort(key=lambda row: _STATUSES.index(row["status"]))
    rows += [
        {
            "name": n,
            "status": "pass",
            "column": None,
            "count": passed_count[n],
            "message": None,
            "columns": k,
        }
        for n, k in passed.items()
    ]
    counts = s.mapping(report.get("counts"))
    return {
        "status": status,
        "n_rows": s.number(report.get("n_rows")),
        "counts": {k: s.number(counts.get(k)) for k in _STATUSES},
        "rows": rows[:_MAX_ROWS],
    }

"""``clinai check-data``: the data checks of a use case's cohort, without training anything."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from clinai import data
from clinai._utils import atomic_write_text
from clinai.config import load_config
from clinai.runs._docstrings import fill_doc
from clinai.runs._prepare import QUALITY_FILE, _split, cohort_quality, load_cohort

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["QUALITY_FILE", "check_data", "cohort_quality", "quality_table"]

logger = logging.getLogger(__name__)

_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red"}
TITLE = "Data checks of {experiment}: {n:,} rows, {missing:,} missing feature values, {status}"
#: The message of one table row for a check that passed on several columns.
PASSED_MSG = "no problem found"
PASSED_TOTAL_MSG = "no problem found on any of them (count: their total)"
MANY_MISSING_LINE = "columns with {share:.0%} or more missing: {columns}"


def quality_table(report: data.DataQualityReport, *, title: str) -> Table:
    """Render a report as a Rich table: failures and warnings first, passes summarised.

    A check that passed on several columns gets one row; its count is the sum of
    the columns' counts (the missing values of the columns below the warning
    level, for example), so nothing counted disappears from the table.
    """
    from rich.table import Table

    table = Table(title=title)
    for column in ("check", "column", "status", "count", "message"):
        table.add_column(column, overflow="fold")
    passed: dict[str, list[data.QualityCheck]] = {}
    for check in report.checks:
        if check.status == "pass":
            passed.setdefault(check.name, []).append(check)
    rows = [c for c in report.checks if c.status != "pass"]
    for name, checks in passed.items():
        if len(checks) == 1:
            rows.append(checks[0])
        else:  # one line for a check that passed on many columns
            total = sum(int(c.count) for c in checks)
            noun = "files" if name == "fhir_lines" else "columns"
            message = PASSED_TOTAL_MSG if total else PASSED_MSG
            rows.append(data.QualityCheck(name, "pass", total, f"{len(checks)} {noun}", message))
    for check in sorted(rows, key=lambda c: -("pass", "warn", "fail").index(c.status)):
        style = _STYLE[check.status]
        table.add_row(
            check.name,
            check.column or "",
            f"[{style}]{check.status}[/{style}]",
            str(check.count),
            check.message,
        )
    return table


@fill_doc
def check_data(
    config_path: str | Path,
    *,
    overrides: Iterable[str] = (),
    out: str | Path | None = None,
    show: bool = True,
) -> data.DataQualityReport:
    """Load a config's data and pipeline as the prepare stage does and check the cohort.

    Prints a Rich table, writes the report as JSON to ``out`` when given, and
    raises when a check failed.

    {parameters_config}
    out : path-like, optional
        Where to write ``data_quality.json``.
    show : bool, default=True
        Print the table.

    Returns
    -------
    DataQualityReport
        The report (only when no check failed).

    Raises
    ------
    DataError
        When a check failed (after printing and writing the report), naming
        the first failing check's column; or when the cohort cannot be built.
    """
    config = load_config(config_path, overrides=overrides)
    cohort = load_cohort(config)
    train_idx, test_idx, _ = _split(config, cohort)
    report = cohort_quality(config, cohort, train_idx, test_idx)
    if show:
        from rich.console import Console

        title = TITLE.format(
            experiment=config.experiment,
            n=len(cohort.X),
            missing=report.n_missing_cells,
            status=report.status,
        )
        console = Console(width=max(Console().width, 120))
        console.print(quality_table(report, title=title))
        if report.many_missing:
            columns = ", ".join(
                f"{c.column} ({c.count / max(report.n_rows, 1):.0%})" for c in report.many_missing
            )
            line = MANY_MISSING_LINE.format(share=data.MISSING_WARN_SHARE, columns=columns)
            console.print(line, markup=False, highlight=False)
    if out is not None:
        payload = {"experiment": config.experiment, **report.to_dict()}
        atomic_write_text(Path(out), json.dumps(payload, indent=2) + "\n")
    report.raise_for_failures()
    return report

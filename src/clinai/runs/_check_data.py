"""``clinai check-data``: the data checks of a use case's cohort, without training anything."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from clinai import data
from clinai._utils import atomic_write_text
from clinai.config import load_config
from clinai.runs._docstrings import fill_doc
from clinai.runs._prepare import QUALITY_FILE, Cohort, _split, cohort_quality, load_cohort
from clinai.runs._survival_outcome import COMPETING_CODE

if TYPE_CHECKING:
    from rich.table import Table

    from clinai.config import ExperimentConfig

__all__ = ["QUALITY_FILE", "check_data", "cohort_quality", "follow_up_rows", "quality_table"]

logger = logging.getLogger(__name__)

_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red"}
TITLE = "Data checks of {experiment}: {n:,} rows, {missing:,} missing feature values, {status}"
#: The message of one table row for a check that passed on several columns.
PASSED_MSG = "no problem found"
PASSED_TOTAL_MSG = "no problem found on any of them (count: their total)"
MANY_MISSING_LINE = "columns with {share:.0%} or more missing: {columns}"
FOLLOW_UP_TITLE = "Follow-up at each horizon ({unit})"
#: Printed when half or more of the rows were censored before a horizon (the share from
#: which the survival documents warn too).
CENSORED_LINE = (
    "horizon {horizon:g}: {censored:,} of {n:,} rows ({share:.0%}) were censored before it, "
    "so the observed risk there rests on the {followed:,} followed to it: consider a "
    "shorter horizon"
)
#: Collins GS, Ogundimu EO, Altman DG. Sample size considerations for the external
#: validation of a multivariable prognostic model. Stat Med 2016;35:214-26.
VALIDATION_EVENTS = 100
FEW_TEST_EVENTS_LINE = (
    "horizon {horizon:g}: the test split holds {events:,} events by it and {followed:,} rows "
    "followed to it without one; a validation wants at least {minimum} of each (Collins, "
    "Ogundimu and Altman, Stat Med 2016;35:214-26), so its intervals will be wide"
)


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


def follow_up_rows(
    config: ExperimentConfig, cohort: Cohort, splits: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Count, per horizon and split, what a survival outcome's follow-up allows.

    Per row: ``events`` had the event by the horizon, ``competing`` a competing
    event by it, ``censored`` were censored before it, and ``followed`` are the
    rest, followed to it without either. Counts only (no patient-level value).
    """
    time = np.asarray(cohort.time, dtype=float)
    code = np.asarray(cohort.event_code if cohort.event_code is not None else cohort.y)
    rows = []
    for horizon in config.outcome.horizons:  # type: ignore[union-attr]
        for split, index in splits.items():
            t, c = time[index], code[index]
            counts = {
                "events": int(((c == 1) & (t <= horizon)).sum()),
                "competing": int(((c == COMPETING_CODE) & (t <= horizon)).sum()),
                "censored": int(((c == 0) & (t < horizon)).sum()),
            }
            followed = len(t) - sum(counts.values())
            rows.append({"horizon": horizon, "split": split, "n": len(t), **counts,
                         "followed": followed})  # fmt: skip
    return rows


def _print_follow_up(console: Any, title: str, rows: list[dict[str, Any]]) -> None:
    """Print the follow-up table and a line for each horizon that needs care."""
    from rich.table import Table

    from clinai.reporting._survival_report import CAUTION_SHARE

    columns = ["horizon", "split", "n", "events", "competing", "censored", "followed"]
    if not any(row["competing"] for row in rows):
        columns.remove("competing")
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="left" if column == "split" else "right")
    for row in rows:
        table.add_row(f"{row['horizon']:g}", row["split"], *(f"{row[c]:,}" for c in columns[2:]))
    console.print(table)
    for row in rows:
        if row["split"] == "all" and row["n"] and row["censored"] / row["n"] >= CAUTION_SHARE:
            line = CENSORED_LINE.format(share=row["censored"] / row["n"], **row)
            console.print(line, markup=False, highlight=False)
        if row["split"] == "test" and min(row["events"], row["followed"]) < VALIDATION_EVENTS:
            line = FEW_TEST_EVENTS_LINE.format(minimum=VALIDATION_EVENTS, **row)
            console.print(line, markup=False, highlight=False)


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
    raises when a check failed. For a survival outcome it also counts, at each
    horizon, the events, censorings and patients followed to it (all rows and
    each split; ``follow_up`` in the JSON), and says when half or more were
    censored before a horizon or the test split has too few events to validate.

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
    splits = {"all": np.arange(len(cohort.X)), "train": train_idx, "test": test_idx}
    follow_up = follow_up_rows(config, cohort, splits) if cohort.time is not None else None
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
        if follow_up is not None:
            unit = cohort.metadata.get("time_unit") or "the time unit of the data"
            title = FOLLOW_UP_TITLE.format(unit=unit)
            _print_follow_up(console, title, follow_up)
    if out is not None:
        payload = {"experiment": config.experiment, **report.to_dict()}
        if follow_up is not None:
            payload["follow_up"] = follow_up
        atomic_write_text(Path(out), json.dumps(payload, indent=2) + "\n")
    report.raise_for_failures()
    return report

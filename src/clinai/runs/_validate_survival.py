"""``clinai validate --time COL --event COL --horizon H``: validate survival predictions.

The file holds one row per prediction: follow-up time, event code and the
predicted risk of the event by the horizon (``--score``), optionally the linear
predictor, a patient id and subgroup columns. Every column is checked first
(one line per problem, exit code 2); the output folder is built under a
temporary name and renamed into place only when complete.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clinai import data, evaluation
from clinai._utils import sha256_file
from clinai.exceptions import ConfigError, DataError
from clinai.runs._lineage import code_version, environment
from clinai.runs._progress import progress_bar
from clinai.runs._rundir import RunDir
from clinai.runs._staging import staged_folder
from clinai.runs._validate import (
    _TOO_FEW_REPLICATES,
    _check_out_dir,
    check_named_columns,
    groups_and_patients,
)

__all__ = ["validate_survival_file"]

SURVIVAL_METRICS_FILE = "survival_metrics.json"

NOT_NUMERIC = "column {column!r} ({option}) must hold numbers; got {values}"
MISSING = (
    "column {column!r} ({option}) has {count} missing value(s): every patient needs one "
    "(drop or complete those rows)"
)
TIME_NEGATIVE = (
    "column {column!r} (--time) has {count} negative follow-up time(s) (smallest {low:g}): "
    "follow-up is measured from time zero; check the time origin"
)
SWAPPED = (
    "--time {time!r} holds only 0/1 and --event {event!r} has {distinct} distinct values: the "
    "columns look swapped; pass --time {event} --event {time}"
)
EVENT_CODES_ARG = (
    "--event-codes must be two different whole numbers CENSORED,EVENT (e.g. 0,1 or 1,2); "
    "got {value!r}"
)
EVENT_CODES = (
    "column {column!r} (--event) must hold only {censored} (censored) and {event} (event); "
    "got {values}: recode the column or pass --event-codes CENSORED,EVENT"
)
ALL_AT_ZERO = (
    "every patient in column {column!r} (--time) has follow-up 0: nobody was followed after "
    "time zero; check the time unit and origin"
)
HORIZON_NOT_POSITIVE = "--horizon must be a positive time; got {value!r}"
HORIZON_BEYOND = (
    "--horizon {horizon:g} is not before the last follow-up ({last:g} in column {column!r}): "
    "choose a horizon within follow-up"
)
NO_EVENTS = (
    "no events up to --horizon {horizon:g} in column {column!r}: choose a later horizon or "
    "check the event coding"
)
RISK_RANGE = (
    "column {column!r} (--score) must hold predicted risks by the horizon in [0, 1]; got values "
    "from {low:g} to {high:g}"
)


def _numbers(frame: pd.DataFrame, column: str, option: str) -> np.ndarray:
    """Return a column as float64; one line naming the column when not numeric or missing."""
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() & frame[column].notna()
    if bad.any():
        shown = ", ".join(repr(v) for v in frame[column][bad].astype(str).unique()[:3])
        raise DataError(NOT_NUMERIC.format(column=column, option=option, values=shown))
    array = values.to_numpy(dtype=float)
    missing = ~np.isfinite(array)
    if missing.any():
        raise DataError(MISSING.format(column=column, option=option, count=int(missing.sum())))
    return array


def _event_codes(value: str | None) -> tuple[int, int]:
    if value is None:
        return 0, 1
    try:
        censored, event = (int(part) for part in value.split(","))
    except ValueError as exc:
        raise ConfigError(EVENT_CODES_ARG.format(value=value)) from exc
    if censored == event:
        raise ConfigError(EVENT_CODES_ARG.format(value=value))
    return censored, event


def _outcome(
    frame: pd.DataFrame, time: str, event: str, horizon: float, codes: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Check follow-up and events against the horizon; return time and event (0/1)."""
    time_values = _numbers(frame, time, "--time")
    event_values = _numbers(frame, event, "--event")
    distinct = int(np.unique(event_values).shape[0])
    if np.isin(time_values, (0.0, 1.0)).all() and distinct > 2:
        raise DataError(SWAPPED.format(time=time, event=event, distinct=distinct))
    if (time_values < 0).any():
        raise DataError(
            TIME_NEGATIVE.format(
                column=time, count=int((time_values < 0).sum()), low=time_values.min()
            )
        )
    censored, coded = codes
    wrong = ~np.isin(event_values, codes)
    if wrong.any():
        shown = ", ".join(f"{v:g}" for v in np.unique(event_values[wrong])[:5])
        raise DataError(
            EVENT_CODES.format(column=event, censored=censored, event=coded, values=shown)
        )
    if (time_values == 0).all():
        raise DataError(ALL_AT_ZERO.format(column=time))
    if horizon >= time_values.max():
        raise DataError(HORIZON_BEYOND.format(horizon=horizon, last=time_values.max(), column=time))
    hit = event_values == coded
    if not (hit & (time_values <= horizon)).any():
        raise DataError(NO_EVENTS.format(horizon=horizon, column=event))
    return time_values, hit.astype(np.int64)


def validate_survival_file(
    predictions: str | Path,
    *,
    time: str,
    event: str,
    horizon: float,
    score: str,
    out_dir: str | Path,
    lp: str | None = None,
    patient: str | None = None,
    groups: Sequence[str] = (),
    n_boot: int | None = None,
    seed: int = 0,
    event_codes: str | None = None,
    show_progress: bool = True,
    pdf: bool = True,
) -> dict[str, Any]:
    """Validate survival predictions in a CSV or Parquet file; write metrics, plots, reports.

    Parameters
    ----------
    predictions : path-like
        CSV or Parquet with one row per prediction.
    time, event : str
        Columns of the follow-up time and the event code (0 censored, 1 event, or
        the codes of ``event_codes``).
    horizon : float
        The horizon the predicted risks speak of (time unit of ``time``).
    score : str
        Column of the predicted risk of the event by the horizon, in [0, 1].
    out_dir : path-like
        Output folder (must not exist or be empty): ``survival_metrics.json``,
        ``validation_report.{html,md}`` (and ``.da.``), ``plots/*.png``, ``audit.json``.
    lp : str, optional
        Column of the model's linear predictor (C and calibration slope use it).
    patient : str, optional
        Patient id column: patients are resampled; ids are pseudonymised on reading
        with an ephemeral key and written nowhere.
    groups : sequence of str
        Subgroup columns (small cells suppressed).
    n_boot : int, optional
        Bootstrap replicates (default 200).
    seed : int
        Bootstrap seed.
    event_codes : str, optional
        ``"CENSORED,EVENT"``, e.g. ``"1,2"``; default ``"0,1"``.
    show_progress : bool
        Show a Rich progress bar on stderr.
    pdf : bool
        Also print each report as PDF (skipped with one warning line where
        WeasyPrint's libraries are missing).

    Returns
    -------
    dict
        survival_metrics.json.
    """
    if n_boot is not None and n_boot < 1:
        raise ConfigError(_TOO_FEW_REPLICATES.format(n=n_boot))
    codes = _event_codes(event_codes)
    if not (isinstance(horizon, int | float) and np.isfinite(horizon) and horizon > 0):
        raise ConfigError(HORIZON_NOT_POSITIVE.format(value=horizon))
    target = Path(out_dir)
    _check_out_dir(target)
    frame = data.read_table(predictions)
    named = {"time": time, "event": event, "score": score, "lp": lp, "patient": patient}
    check_named_columns(frame, named, groups, where=f"predictions file {Path(predictions).name!r}")
    time_values, event_values = _outcome(frame, time, event, float(horizon), codes)
    risk = _numbers(frame, score, "--score")
    if risk.min() < 0 or risk.max() > 1:
        raise DataError(RISK_RANGE.format(column=score, low=risk.min(), high=risk.max()))
    lp_values = None if lp is None else _numbers(frame, lp, "--lp")
    sensitive, patient_ids = groups_and_patients(frame, groups, patient)
    boots = 200 if n_boot is None else n_boot
    with progress_bar("bootstrap", boots, enabled=show_progress) as advance:
        result = evaluation.evaluate_survival(
            time_values,
            event_values,
            risk,
            horizon=float(horizon),
            lp=lp_values,
            patient_ids=patient_ids,
            groups=sensitive,
            n_boot=boots,
            random_state=seed,
            score_name=score,
            progress=advance,
        )
    metrics = result.to_dict()
    created = datetime.now(UTC).isoformat(timespec="seconds")
    with staged_folder(target) as staging:
        run_dir = RunDir(staging)
        run_dir.write_json(SURVIVAL_METRICS_FILE, metrics)
        from clinai.reporting._survival_report import render_survival_report

        report = render_survival_report(
            metrics,
            staging,
            context={
                "title": f"{score} by {horizon:g}",
                "source": Path(predictions).name,
                "created": created,
            },
            pdf=pdf,
        )
        outputs = [run_dir.file(SURVIVAL_METRICS_FILE), *report.files]
        run_dir.write_json(
            "audit.json",
            {
                "created_at": created,
                "predictions_sha256": sha256_file(predictions),
                "columns": {k: v for k, v in named.items() if k != "patient"},
                "patient_clustered": patient is not None,
                "horizon": float(horizon),
                "code_version": code_version(),
                "environment": environment(),
                "skipped": report.skipped,
                "outputs": {str(Path(p).relative_to(staging)): sha256_file(p) for p in outputs},
            },
        )
    return json.loads(json.dumps(metrics))

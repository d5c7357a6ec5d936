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
from clinai.exceptions import ConfigError, DataError
from clinai.runs._docstrings import fill_doc
from clinai.runs._prediction_columns import (
    check_named_columns,
    groups_and_patients,
    numeric_column,
    risk_column,
)
from clinai.runs._progress import progress_bar
from clinai.runs._rundir import RunDir
from clinai.runs._staging import staged_folder
from clinai.runs._validate import _TOO_FEW_REPLICATES, _check_out_dir
from clinai.runs._validate_competing import validate_competing_rows, write_validation_audit

__all__ = ["validate_survival_file"]

SURVIVAL_METRICS_FILE = "survival_metrics.json"

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
COMPETING_CODE_CLASH = (
    "--competing-code {code} is also the censored or event code (--event-codes {censored},{event}) "
    "or given twice: give each competing event's code once, different from both"
)
COMPETING_CODE_ABSENT = (
    "--competing-code {code} does not occur in column {column!r} (--event; codes there: {codes}): "
    "check the code, or leave the option out"
)
COMPETING_LP = (
    "--lp is not used with --competing-code: Wolbers' C ranks the --score (the cumulative "
    "incidence by the horizon); leave --lp out"
)
EVENT_CODES_COMPETING = (
    "column {column!r} (--event) must hold only {censored} (censored), {event} (event) and "
    "{competing} (competing); got {values}: recode the column or pass the codes with "
    "--event-codes CENSORED,EVENT and --competing-code"
)

SCORE_HORIZON = (
    "column {column!r} (--score) holds risks by {scored:g} ({why}), not by --horizon "
    "{horizon:g}: pass --horizon {scored:g}, or a column of risks by {horizon:g} (clinai score "
    "writes one per configured horizon, risk_<horizon>)"
)


def _check_score_horizon(frame: pd.DataFrame, score: str, horizon: float) -> None:
    """Refuse risks by another horizon than ``--horizon`` (as clinai score labels them).

    A ``risk_<h>`` column is the risk by h; ``risk`` beside a ``horizon`` column holding
    one value (clinai score's file) is the risk by that value. Validated at another
    horizon, their O/E, calibration and Brier score would be silently wrong.
    """
    scored, why = None, ""
    if score.startswith("risk_"):
        try:
            scored, why = float(score.removeprefix("risk_")), "its name"
        except ValueError:
            return
    elif score == "risk" and "horizon" in frame.columns:
        values = pd.to_numeric(frame["horizon"], errors="coerce").dropna().unique()
        if values.shape[0] != 1:
            return
        scored, why = float(values[0]), "column 'horizon'"
    if scored is not None and not np.isclose(scored, horizon):
        raise DataError(SCORE_HORIZON.format(column=score, scored=scored, why=why, horizon=horizon))


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


def _competing_codes(codes: tuple[int, int], competing: Sequence[int]) -> tuple[int, ...]:
    """Check ``--competing-code`` against the censored and event codes (one line each)."""
    seen: set[int] = set(codes)
    for code in competing:
        if code in seen:
            raise ConfigError(
                COMPETING_CODE_CLASH.format(code=code, censored=codes[0], event=codes[1])
            )
        seen.add(code)
    return tuple(int(code) for code in competing)


def _outcome(
    frame: pd.DataFrame,
    time: str,
    event: str,
    horizon: float,
    codes: tuple[int, int],
    competing: tuple[int, ...] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Check follow-up and events against the horizon; return time and the event.

    The event is 0/1 without competing codes, else 0 censored, 1 the event, 2 a
    competing event (as a competing run's prepared splits hold them).
    """
    time_values = numeric_column(frame, time, "--time")
    event_values = numeric_column(frame, event, "--event")
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
    for code in competing:
        if not (event_values == code).any():
            found = ", ".join(f"{v:g}" for v in np.unique(event_values))
            raise DataError(COMPETING_CODE_ABSENT.format(code=code, column=event, codes=found))
    wrong = ~np.isin(event_values, (*codes, *competing))
    if wrong.any():
        shown = ", ".join(f"{v:g}" for v in np.unique(event_values[wrong])[:5])
        message = EVENT_CODES_COMPETING if competing else EVENT_CODES
        raise DataError(
            message.format(
                column=event,
                censored=censored,
                event=coded,
                competing=", ".join(map(str, competing)),
                values=shown,
            )
        )
    if (time_values == 0).all():
        raise DataError(ALL_AT_ZERO.format(column=time))
    if horizon >= time_values.max():
        raise DataError(HORIZON_BEYOND.format(horizon=horizon, last=time_values.max(), column=time))
    hit = event_values == coded
    if not (hit & (time_values <= horizon)).any():
        raise DataError(NO_EVENTS.format(horizon=horizon, column=event))
    outcome = hit.astype(np.int64)
    outcome[np.isin(event_values, competing)] = 2
    return time_values, outcome


@fill_doc
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
    competing_codes: Sequence[int] = (),
    show_progress: bool = True,
    pdf: bool = True,
) -> dict[str, Any]:
    """Validate survival predictions in a CSV or Parquet file; write metrics, plots, reports.

    {parameters_predictions_file}
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
    competing_codes : sequence of int
        Codes of competing events in the event column (``--competing-code``, as the
        config's ``outcome.event_codes.competing``): the score is then the cumulative
        incidence of the event by the horizon, validated with
        :func:`clinai.evaluation.evaluate_competing` (:mod:`clinai.runs._validate_competing`;
        Markdown reports, fairness tables for ``groups``).
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
    competing = _competing_codes(codes, competing_codes)
    if competing and lp is not None:
        raise ConfigError(COMPETING_LP)
    if not (isinstance(horizon, int | float) and np.isfinite(horizon) and horizon > 0):
        raise ConfigError(HORIZON_NOT_POSITIVE.format(value=horizon))
    target = Path(out_dir)
    _check_out_dir(target)
    frame = data.read_table(predictions, text_columns=[patient] if patient else [])
    named = {"time": time, "event": event, "score": score, "lp": lp, "patient": patient}
    check_named_columns(frame, named, groups, where=f"predictions file {Path(predictions).name!r}")
    _check_score_horizon(frame, score, float(horizon))
    time_values, event_values = _outcome(frame, time, event, float(horizon), codes, competing)
    risk = risk_column(frame, score)
    lp_values = None if lp is None else numeric_column(frame, lp, "--lp")
    sensitive, patient_ids = groups_and_patients(frame, groups, patient)
    boots = 200 if n_boot is None else n_boot
    if competing:
        rows: dict[str, Any] = {"time": time_values, "event": event_values, "risk": risk}
        rows |= {"sensitive": sensitive, "patients": patient_ids}
        return validate_competing_rows(
            predictions,
            target,
            rows,
            options={
                **{"horizon": horizon, "score": score, "n_boot": boots, "seed": seed},
                **{"codes": codes, "competing": competing, "columns": named},
            },
            show_progress=show_progress,
            pdf=pdf,
        )
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
        write_validation_audit(
            run_dir,
            predictions=predictions,
            created=created,
            columns=named,
            horizon=float(horizon),
            skipped=report.skipped,
            outputs=[run_dir.file(SURVIVAL_METRICS_FILE), *report.files],
        )
    return json.loads(json.dumps(metrics))

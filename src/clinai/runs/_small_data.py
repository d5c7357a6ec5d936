"""Small development data: Riley's criteria before tuning, uniform shrinkage when they fail.

``training.small_data: auto`` (default): before tuning, Riley et al.'s minimum
sample size is computed from the candidate predictor parameters (the
preprocessed columns), the training prevalence and an anticipated Cox-Snell R².
The R² comes from ``evaluation.sample_size`` when the config gives one (its
``r2_cs`` or ``c_statistic``); otherwise it is 15% of the largest Cox-Snell R²
possible at that prevalence, Riley et al.'s (BMJ 2020;368:m441) suggestion when
nothing better is known. When the training data meet the criteria nothing
changes. When they do not:

- a model with cross-validated post-hoc calibration (``calibration.method``
  ``sigmoid``, the default, or ``isotonic``) is kept as it is: its calibration map,
  learnt on out-of-fold predictions, already multiplies its logit by a
  cross-validated shrinkage factor and re-estimates the intercept; that factor
  is recorded (:func:`clinai.models.effective_shrinkage`). Shrinking such a model
  again by the bootstrap factor of the whole procedure over-shrank it: on
  ``icu_mortality`` (200 patients, 37 parameters) the out-of-fold calibration
  slope went from 1.15 to 1.67, and on ``postop_sore_throat`` from 0.90 to 1.07
  (benchmarks/README.md);
- a model without post-hoc calibration (``calibration.method: none``) is shrunk:
  its logit is multiplied by the bootstrap shrinkage factor of the procedure (the
  calibration slope it is expected to show on new patients, at most 1) and the
  intercept is re-estimated (:mod:`clinai.models._shrinkage`).
The heuristic factor of van Houwelingen & le Cessie for an unpenalised logistic
model with the same candidate parameters is recorded beside it, as the
overfitting a standard model would show. ``off`` records the criteria only.

The record is ``training.json``'s ``small_data`` block.

Survival runs (:func:`assess_small_data_survival`) compute Riley et al.'s
time-to-event criteria (:func:`clinai.evaluation.riley_sample_size_survival`) from
the training event rate, mean follow-up and first horizon. When they are not met
nothing new is fitted: the run's out-of-fold Cox recalibration (training.json's
``recalibration``) is the shrinkage, and its slope is recorded
(:func:`note_survival_shrinkage`). A survival record carries ``outcome: "survival"``
(binary records have no ``outcome`` key, as before), so that the card speaks of the
log relative hazard and Riley et al.'s time-to-event criteria (Stat Med 2019, Part II)
instead of the log-odds.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clinai import evaluation
from clinai import models as _shrinkage

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from clinai.config import SampleSizeConfig

__all__ = [
    "CALIBRATED_METHOD",
    "DEFAULT_R2_FRACTION",
    "METHOD",
    "SURVIVAL_METHOD",
    "SURVIVAL_NONE_METHOD",
    "SURVIVAL_OUTCOME",
    "assess_small_data",
    "assess_small_data_survival",
    "binary_plan",
    "note_survival_shrinkage",
    "shrink_if_small",
]

logger = logging.getLogger(__name__)

#: Anticipated Cox-Snell R² when the config gives none: this fraction of the largest possible.
DEFAULT_R2_FRACTION = 0.15
#: What ``auto`` does when the criteria are not met (training.json's ``method``).
METHOD = "bootstrap uniform shrinkage of the logit, intercept re-estimated"
#: ... and for a model with cross-validated post-hoc calibration.
CALIBRATED_METHOD = (
    "cross-validated post-hoc calibration (uniform shrinkage of the logit learnt on "
    "out-of-fold predictions, intercept re-estimated); no further shrinkage"
)
#: ... and for a survival model (its cross-validated recalibration, nothing refitted).
SURVIVAL_METHOD = (
    "out-of-fold Cox recalibration of the risk (its slope, learnt on out-of-fold risks, "
    "shrinks the log relative hazard; baseline re-estimated); no further shrinkage"
)
#: ... when the survival model was not recalibrated (calibration.method: none or failed).
SURVIVAL_NONE_METHOD = "none: the survival model was not recalibrated ({reason})"
#: ``small_data.outcome`` of a survival run's record (the documents' survival wording).
SURVIVAL_OUTCOME = "survival"
#: The config's ``evaluation.sample_size`` fields passed on to Riley's binary criteria
#: (``prevalence`` defaults to the data's, so it is passed on its own).
_BINARY_PLAN_KEYS = ("r2_cs", "c_statistic", "shrinkage", "delta_r2", "margin", "mape")
#: The config's ``evaluation.sample_size`` fields that apply to a survival outcome.
_SURVIVAL_PLAN_KEYS = ("r2_cs", "shrinkage", "delta_r2", "margin")
SHRINK_LOG = (
    "training data (%d patients, %d events) are below Riley's minimum (%d patients, %d events) "
    "for %d candidate parameters: logit shrinkage factor %.3f"
)
SURVIVAL_SHRINK_LOG = (
    "training data (%d patients, %d events) are below Riley's time-to-event minimum (%d "
    "patients, %d events) for %d candidate parameters: the out-of-fold recalibration "
    "multiplies the log relative hazard by %.3f"
)


def binary_plan(plan: SampleSizeConfig) -> dict[str, Any]:
    """Return the plan's anticipated fit and targets as keywords of ``riley_sample_size``."""
    return {key: getattr(plan, key) for key in _BINARY_PLAN_KEYS}


def assess_small_data(
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    numeric: Sequence[str],
    categorical: Sequence[str],
    plan: SampleSizeConfig | None,
    mode: str,
    patients: Any = None,
) -> dict[str, Any]:
    """Riley's criteria for the training data, computed before tuning.

    With ``patients`` and several rows per patient (hourly prediction times), the
    patients are counted, not the rows: ``n_available`` is the number of patients and
    ``events_available`` the number with an event in any of their rows (rows of one
    patient are not independent observations).

    Returns
    -------
    dict
        ``mode``, ``criteria_met``, ``n_required``, ``events_required``,
        ``n_available``, ``events_available``, ``n_parameters``, ``r2_cs``,
        ``r2_cs_source``, ``unmet`` and ``shrinkage`` / ``method`` (``None`` until
        :func:`shrink_if_small` applies one).
    """
    y_arr = np.asarray(y).astype(int)
    n, events = len(y_arr), int(y_arr.sum())
    if patients is not None:
        codes, _ = pd.factorize(pd.Series(np.asarray(patients, dtype=object)))
        if codes.max(initial=-1) + 1 < n:  # several rows per patient: count the patients
            with_event = np.zeros(int(codes.max()) + 1, dtype=bool)
            with_event[codes[y_arr == 1]] = True
            n, events = int(codes.max()) + 1, int(with_event.sum())
    n_parameters = _shrinkage.candidate_parameters(X, numeric=numeric, categorical=categorical)
    prevalence = (plan.prevalence if plan else None) or events / n
    anticipated: dict[str, Any] = {}
    if plan is not None:
        anticipated = binary_plan(plan)
    else:
        anticipated = {"r2_cs": DEFAULT_R2_FRACTION * evaluation.max_cox_snell_r2(prevalence)}
    result = evaluation.riley_sample_size(
        prevalence=prevalence, n_parameters=n_parameters, **anticipated
    )
    source = result.r2_cs_source if plan is not None else "default: 15% of the largest possible"
    return _record(result, mode=mode, n=n, events=events, source=source)


def _record(
    result: evaluation.SampleSizeResult, *, mode: str, n: int, events: int, source: str
) -> dict[str, Any]:
    """training.json's ``small_data`` block for a Riley result and the available data."""
    check = evaluation.assess_sample_size(result, n_available=n, events_available=events)
    return {
        "mode": mode,
        "criteria_met": bool(check.adequate),
        "n_required": int(result.n),
        "events_required": int(result.events),
        "n_available": n,
        "events_available": events,
        "n_parameters": int(result.n_parameters),
        "r2_cs": float(result.r2_cs),
        "r2_cs_source": source,
        "unmet": list(check.unmet),
        "shrinkage": None,
        "heuristic_shrinkage": None,
        "n_bootstrap": None,
        "method": None,
    }


def assess_small_data_survival(
    X: pd.DataFrame,
    time: np.ndarray,
    event: np.ndarray,
    *,
    horizon: float,
    numeric: Sequence[str],
    categorical: Sequence[str],
    plan: SampleSizeConfig | None,
    mode: str,
) -> dict[str, Any]:
    """Riley's time-to-event criteria for the training data, computed before tuning.

    The overall event rate is the events (code 1; a competing event counts as
    censored) per unit of follow-up time, the mean follow-up that of the training
    rows, the timepoint the first ``horizon``. The anticipated Cox-Snell R² is the
    config's ``evaluation.sample_size.r2_cs`` when given, else 15% of the largest
    possible (a ``c_statistic`` there is for binary outcomes and is not used).

    Returns
    -------
    dict
        The keys of :func:`assess_small_data`'s record and ``outcome``
        (:data:`SURVIVAL_OUTCOME`); ``shrinkage`` and ``method`` stay ``None``
        until :func:`note_survival_shrinkage`.
    """
    time_arr = np.asarray(time, dtype=float)
    events_arr = np.asarray(event) == 1
    n, events = len(time_arr), int(events_arr.sum())
    n_parameters = _shrinkage.candidate_parameters(X, numeric=numeric, categorical=categorical)
    anticipated: dict[str, Any] = {}
    if plan is not None:  # c_statistic, prevalence and mape are binary-only
        anticipated = {key: getattr(plan, key) for key in _SURVIVAL_PLAN_KEYS}
    result = evaluation.riley_sample_size_survival(
        rate=events / float(time_arr.sum()),
        mean_follow_up=float(time_arr.mean()),
        timepoint=float(horizon),
        n_parameters=n_parameters,
        **anticipated,
    )
    record = _record(result, mode=mode, n=n, events=events, source=result.r2_cs_source)
    return {**record, "outcome": SURVIVAL_OUTCOME}


def note_survival_shrinkage(record: dict[str, Any], recalibration: dict[str, Any]) -> None:
    """Record the survival recalibration as the shrinkage when the criteria are not met.

    ``recalibration`` is training.json's ``recalibration`` record; its ``slope``
    (``None`` when not recalibrated) becomes ``shrinkage``. Nothing is refitted.
    """
    if record["criteria_met"] or record["mode"] != "auto":
        return
    slope = recalibration.get("slope")
    if slope is None:
        reason = recalibration.get("reason") or "no slope"
        record.update(method=SURVIVAL_NONE_METHOD.format(reason=reason))
        return
    record.update(shrinkage=float(slope), method=SURVIVAL_METHOD)
    _log(record)


def shrink_if_small(
    record: dict[str, Any],
    fitted: Any,
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    build: Callable[[Any, np.ndarray, np.ndarray], Any],
    numeric: Sequence[str],
    categorical: Sequence[str],
    seed: int,
    groups: Any = None,
    n_boot: int = _shrinkage.SHRINKAGE_BOOTSTRAP,
    calibrated: bool = False,
) -> Any:
    """Return ``fitted`` unchanged, or shrunk when ``auto`` and the criteria are not met.

    ``build(X_b, y_b, units_b)`` refits the selected model (its tuned parameters,
    its calibration) on a bootstrap sample. Fills ``record``'s ``shrinkage``,
    ``heuristic_shrinkage``, ``n_bootstrap`` and ``method``. ``calibrated``: the
    model has cross-validated post-hoc calibration, whose factor is recorded and kept.
    """
    if record["criteria_met"] or record["mode"] != "auto":
        return fitted
    heuristic, _, _ = _shrinkage.unpenalised_heuristic_shrinkage(
        X, y, numeric=numeric, categorical=categorical
    )
    if calibrated:
        factor = _shrinkage.effective_shrinkage(fitted, X)
        record.update(shrinkage=factor, heuristic_shrinkage=heuristic, method=CALIBRATED_METHOD)
        _log(record)
        return fitted
    factor, n_used = _shrinkage.bootstrap_shrinkage(
        build, X, np.asarray(y), fitted=fitted, n_boot=n_boot, random_state=seed, groups=groups
    )
    record.update(
        shrinkage=factor, heuristic_shrinkage=heuristic, n_bootstrap=n_used, method=METHOD
    )
    _log(record)
    return _shrinkage.shrink_predictions(fitted, X, y, shrinkage=factor)


def _log(record: dict[str, Any]) -> None:
    survival = record.get("outcome") == SURVIVAL_OUTCOME
    logger.warning(
        SURVIVAL_SHRINK_LOG if survival else SHRINK_LOG,
        record["n_available"],
        record["events_available"],
        record["n_required"],
        record["events_required"],
        record["n_parameters"],
        record["shrinkage"],
    )

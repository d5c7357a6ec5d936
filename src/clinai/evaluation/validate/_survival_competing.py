"""Validate a predicted cumulative incidence with competing events at one horizon.

:func:`evaluate_competing` composes :mod:`clinai.evaluation.survival._competing`:
Wolbers' C, Blanche's time-dependent AUC, O/E against the Aalen-Johansen observed
risk, the IPCW Brier score of the CIF and its scaled version, and the observed
against predicted risk by risk group. Intervals are patient-clustered percentile
bootstrap intervals from the resampling engine's counts (the resamples of
:func:`~clinai.evaluation.bootstrap_indices`, each interval extended to contain its
estimate, as every interval of clinai): a replicate passes its counts as row weights
to :func:`~clinai.evaluation.survival._competing.competing_metrics_weighted`, which
re-estimates G and the Aalen-Johansen CIF under them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from clinai.evaluation._docstrings import fill_doc
from clinai.evaluation._estimate import Estimate, _num
from clinai.evaluation._inputs import check_ci_level, check_min_cell, check_n_boot
from clinai.evaluation.resampling import engine
from clinai.evaluation.resampling.engine import CI_METHOD, RandomState
from clinai.evaluation.survival import (
    survival_calibration_groups,
    survival_calibration_slope,
    survival_oe_ratio,
)
from clinai.evaluation.survival._competing import (
    COMPETING_METRICS,
    CompetingInputs,
    competing_metrics_weighted,
    prepare_competing,
)
from clinai.evaluation.validate._survival import risk_group_count
from clinai.evaluation.validate._survival_results import SURVIVAL_SCHEMA
from clinai.exceptions import DataError

__all__ = [
    "COMPETING_HEADLINE",
    "CompetingValidationResult",
    "evaluate_competing",
    "weighted_replicates",
]

#: The metrics of survival_metrics.json's ``metrics`` block for a competing-risk run.
COMPETING_HEADLINE = ("wolbers_c", "time_auc", "oe_ratio", "brier", "null_brier", "scaled_brier")
#: What each metric is, for a reader of survival_metrics.json (and the report).
DEFINITIONS = {
    "wolbers_c": (
        "Wolbers' C truncated at the horizon (IPCW; Wolbers et al. 2014): pairs of an event "
        "of the cause by the horizon against a longer follow-up or an earlier competing event"
    ),
    "time_auc": (
        "cumulative/dynamic AUC at the horizon (Blanche et al. 2013, definition 2): cases the "
        "events of the cause by the horizon, controls everyone else not censored before it"
    ),
    "oe_ratio": "Aalen-Johansen cumulative incidence by the horizon / mean predicted risk",
    "brier": "IPCW Brier score of the predicted cumulative incidence (Schoop et al. 2011)",
    "null_brier": "the same for the Aalen-Johansen cumulative incidence given to everyone",
    "scaled_brier": "1 - brier / null_brier (index of prediction accuracy)",
    "calibration_slope": (
        "Fine-Gray subdistribution hazards coefficient of cloglog(predicted risk), follow-up "
        "censored at the horizon (Austin et al. 2022); 1 ideal, below 1 risks too extreme"
    ),
}
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class CompetingValidationResult:
    """Everything :func:`evaluate_competing` measures; ``to_dict()`` is survival_metrics.json.

    Attributes
    ----------
    horizon, cause : float, int
        The horizon and the event code of interest.
    competing_codes : tuple of int
        The competing event codes (as in the data given).
    metrics : mapping of str to Estimate
        :data:`COMPETING_METRICS` with bootstrap intervals.
    n_skipped : mapping of str to int
        Replicates where a metric was undefined.
    oe_analytic : dict
        O/E with the Dinse-Larson (delta method) log-scale interval.
    calibration_slope : dict
        Fine-Gray calibration slope on cloglog of the predicted CIF, follow-up censored at
        the horizon, with its model-based Wald interval (None where the model did not fit).
    follow_up : dict
        Counts: patients, events of the cause and competing events by the horizon,
        censored before it, the last follow-up.
    risk_groups : tuple of dict
        Aalen-Johansen observed against mean predicted risk per risk group (small cells
        suppressed).
    """

    horizon: float
    cause: int
    competing_codes: tuple[int, ...]
    n: int
    n_patients: int
    score: str
    n_boot: int
    ci_level: float
    min_cell: int
    metrics: dict[str, Estimate]
    n_skipped: dict[str, int]
    oe_analytic: dict[str, Any]
    calibration_slope: dict[str, Any]
    follow_up: dict[str, Any]
    risk_groups: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        """Return survival_metrics.json of a competing-risk run (NaN -> None)."""
        observed = self.metrics["observed_risk"].estimate
        expected = self.metrics["expected_risk"].estimate
        return {
            "schema": SURVIVAL_SCHEMA,
            "horizon": float(self.horizon),
            "n": self.n,
            "n_patients": self.n_patients,
            "event_of_interest": self.cause,
            "score": self.score,
            "n_boot": self.n_boot,
            "ci_level": float(self.ci_level),
            "ci_method": CI_METHOD + ", patient-clustered",
            "min_cell": self.min_cell,
            "metrics": {name: self.metrics[name].to_dict() for name in COMPETING_HEADLINE},
            "n_skipped": {name: int(self.n_skipped[name]) for name in COMPETING_HEADLINE},
            "natural_frequency": {
                "per": 100,
                "horizon": float(self.horizon),
                "observed": round(100 * observed) if math.isfinite(observed) else None,
                "predicted": round(100 * expected),
                "observed_risk": _num(observed),
                "predicted_risk": _num(expected),
            },
            "competing": {
                "cause": self.cause,
                "competing_codes": list(self.competing_codes),
                "observed_risk": self.metrics["observed_risk"].to_dict(),
                "expected_risk": self.metrics["expected_risk"].to_dict(),
                "oe_ratio_analytic": dict(self.oe_analytic),
                "calibration_slope": dict(self.calibration_slope),
                "follow_up": dict(self.follow_up),
                "risk_groups": [dict(g) for g in self.risk_groups],
                "definitions": dict(DEFINITIONS),
            },
        }


def _risk_groups(inputs: CompetingInputs, min_cell: int) -> tuple[dict[str, Any], ...]:
    """Aalen-Johansen observed against predicted risk per risk group, small cells hidden.

    Tenths of predicted risk, or fewer so that a group holds ``max(min_cell, 20)``
    patients and ``min_cell`` events of the cause (and patients without one) on
    average: tenths of 17 events left nine of ten groups suppressed. A group with
    fewer than ``min_cell`` patients, events of the cause or patients without one by
    the horizon shows no counts and no observed risk.
    """
    data = inputs.data
    k = risk_group_count(data.n, int(np.count_nonzero(inputs.case)), min_cell)
    if k < 2:
        return ()
    table = survival_calibration_groups(
        data.time, data.event, inputs.risk, t=inputs.t, n_groups=k, cause=inputs.cause
    )
    rows = []
    for number, group in enumerate(table, start=1):
        hidden = min(group.n, group.events, group.n - group.events) < min_cell
        row = {"group": number, **group.to_dict(), "suppressed": hidden}
        if hidden:  # the observed risk of a group of known size would reveal its events
            row |= dict.fromkeys(("n", "events", "observed", "ci_low", "ci_high"))
        rows.append(row)
    return tuple(rows)


def _slope(inputs: CompetingInputs, level: float) -> dict[str, Any]:
    """Fine-Gray calibration slope at the horizon with its Wald interval; None if it fails."""
    data = inputs.data
    try:
        fit = survival_calibration_slope(
            data.time, data.event, risk=inputs.risk, t=inputs.t, cause=inputs.cause, ci_level=level
        )
    except DataError:  # e.g. a model that does not converge: said, not fatal
        return dict.fromkeys(("estimate", "ci_low", "ci_high"))
    return {"estimate": _num(fit.slope), "ci_low": _num(fit.ci_low), "ci_high": _num(fit.ci_high)}


def weighted_replicates(
    compute: Callable[[np.ndarray], Any],
    n: int,
    *,
    patient_ids: Any,
    n_boot: int,
    random_state: RandomState,
    progress: Progress | None = None,
) -> tuple[np.ndarray, int]:
    """Return ``compute(counts)`` of every replicate (rows) and the number of patients.

    ``counts`` are one replicate's resampling counts per row, in the rows' given order
    (the resampling engine's patient-clustered draws: a patient drawn k times counts k
    times on each of its rows). Every caller with the same ``random_state`` and
    patients sees the same draws, so two models (or groups) scored by one ``compute``
    are paired.
    """
    clusters = engine.clusters_of(patient_ids, n)
    rng = np.random.default_rng(random_state)
    out: list[Any] = []
    for chunk in engine.weight_chunks(clusters, n_boot, rng) if n_boot else ():
        out.extend(compute(weights) for weights in chunk)
        if progress is not None:
            progress(len(out), n_boot)
    return np.asarray(out, dtype=np.float64), clusters.n


@fill_doc
def evaluate_competing(
    time: Any,
    event_code: Any,
    risk: Any,
    *,
    horizon: float,
    cause: int = 1,
    patient_ids: Any = None,
    n_boot: int = 200,
    ci_level: float = 0.95,
    random_state: RandomState = 0,
    min_cell: int = 5,
    score_name: str = "risk",
    progress: Progress | None = None,
) -> CompetingValidationResult:
    """Validate a predicted cumulative incidence by a horizon with competing events.

    Parameters
    ----------
    {time}
    event_code : array-like of shape (n,)
        0 censored, ``cause`` the event of interest, any other positive code a
        competing event.
    risk : array-like of shape (n,)
        Predicted cumulative incidence of ``cause`` by ``horizon``, in [0, 1].
    horizon : float
        Within follow-up, with an event of ``cause`` by it.
    cause : int, default 1
        The event code of interest.
    patient_ids : array-like of shape (n,), optional
        Patient of each row: patients are resampled, not rows.
    n_boot : int, default 200
        Bootstrap replicates (0: no intervals).
    ci_level : float, default 0.95
    random_state : int or numpy.random.Generator, default 0
        The same seed gives the same numbers.
    min_cell : int, default 5
        Risk groups with fewer patients, events or non-events show no counts.
    score_name : str, default "risk"
        The score's name for the record.
    progress : callable, optional
        ``progress(done, total)`` after each chunk of replicates.

    Returns
    -------
    CompetingValidationResult

    Raises
    ------
    DataError
        Bad inputs (one line each; see
        :func:`~clinai.evaluation.survival._competing.prepare_competing`), bad
        ``n_boot``, ``ci_level`` or ``min_cell``.
    """
    level = check_ci_level(ci_level)
    boots = check_n_boot(n_boot)
    cell = check_min_cell(min_cell)
    inputs = prepare_competing(time, event_code, risk, horizon, cause=cause)
    point = competing_metrics_weighted(inputs)
    order = inputs.data.order
    replicates, n_patients = weighted_replicates(
        lambda counts: competing_metrics_weighted(inputs, counts[order]),  # in time order
        inputs.n,
        patient_ids=patient_ids,
        n_boot=boots,
        random_state=random_state,
        progress=progress,
    )
    replicates = replicates.reshape(boots, len(COMPETING_METRICS))
    metrics, skipped = {}, {}
    for k, name in enumerate(COMPETING_METRICS):
        finite = np.isfinite(replicates[:, k])
        skipped[name] = int((~finite).sum())
        if boots and math.isfinite(point[k]) and finite.any():
            low, high, _ = engine.contained_interval(replicates[:, k], float(point[k]), level)
            metrics[name] = Estimate(float(point[k]), float(low), float(high))
        else:
            metrics[name] = Estimate(float(point[k]))
    data = inputs.data
    analytic = survival_oe_ratio(
        data.time, data.event, inputs.risk, t=inputs.t, cause=inputs.cause, ci_level=level
    )
    codes = sorted(int(c) for c in np.unique(data.event) if c > 0 and c != inputs.cause)
    slope = _slope(inputs, level)
    return CompetingValidationResult(
        horizon=inputs.t,
        cause=inputs.cause,
        competing_codes=tuple(codes),
        n=data.n,
        n_patients=n_patients,
        oe_analytic={
            "estimate": _num(analytic.oe_ratio),
            "ci_low": _num(analytic.ci_low),
            "ci_high": _num(analytic.ci_high),
            "method": "Wald on the log scale, Dinse-Larson variance of the Aalen-Johansen",
        },
        score=score_name,
        n_boot=boots,
        ci_level=level,
        risk_groups=_risk_groups(inputs, cell),
        calibration_slope=slope,
        min_cell=cell,
        metrics=metrics,
        n_skipped=skipped,
        follow_up={
            "n": data.n,
            "events_by_horizon": int(inputs.case.sum()),
            "competing_by_horizon": int(inputs.competing.sum()),
            "censored_before_horizon": int(((data.event == 0) & (data.time < inputs.t)).sum()),
            "max_follow_up": float(data.time[-1]),
        },
    )

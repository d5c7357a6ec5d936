"""Performance estimated from calibrated risks alone, before outcomes arrive (CBPE).

Confidence-based performance estimation as NannyML describes it (NannyML
documentation, "Estimating performance for binary classification"): when the
model is calibrated, a row with predicted risk ``p_i`` is an event with
probability ``p_i``, so the expected confusion matrix at threshold ``t``
(a row is flagged when ``p_i >= t``, as in :func:`threshold_metrics`) is

- expected TP ``= sum_{p_i >= t} p_i``, FP ``= sum_{p_i >= t} (1 - p_i)``,
- expected FN ``= sum_{p_i < t} p_i``, TN ``= sum_{p_i < t} (1 - p_i)``,

and the estimates are ratios of these expected counts: sensitivity
``TP / (TP + FN)``, specificity ``TN / (TN + FP)``, PPV ``TP / (TP + FP)``;
the alert rate is the share flagged and the expected number of events is
``sum_i p_i``.

Expected AUROC: the expected ROC curve (expected TPR and FPR at every
threshold) has the area ``sum_{i != j} p_i (1 - p_j) ([p_i > p_j] + [p_i = p_j] / 2)
/ sum_{i != j} p_i (1 - p_j)``: the expected number of concordant event/non-event
pairs over the expected number of such pairs (the Mann-Whitney form of the
AUROC, both expectations exact). Pairs of a row with itself are left out, as a
row cannot be its own event and non-event; NannyML's trapezoid over the
expected ROC keeps them, which differs by ``O(1/n)``. The tests check it
against an exact enumeration of all outcomes and against the average AUROC of
outcomes simulated from ``y ~ Bernoulli(p)``.

Every number is an *estimate under the assumption that the model is still
calibrated*: it cannot detect a change in the outcome given the features
(concept drift), only the effect of a changed case mix. ``to_dict()`` marks it
``"estimated": true``.

Intervals: patient-clustered percentile bootstrap through
:func:`clinai.evaluation.resampling.bootstrap` (the one engine). The engine
resamples pairs ``(y, p)``; these quantities use ``p`` only, so ``y`` is a fixed
placeholder they ignore. The rows are sorted by risk once; the engine's
resamples keep row order, so each replicate is computed in ``O(n)`` without
sorting again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from clinai.evaluation._estimate import Estimate
from clinai.evaluation._inputs import (
    PROBABILITY_NON_FINITE_MSG,
    PROBABILITY_RANGE_MSG,
    check_ci_level,
    check_n_boot,
    check_patient_ids,
    check_threshold,
    deprecated_seed,
    to_float_array,
)
from clinai.evaluation.resampling import bootstrap
from clinai.exceptions import DataError

__all__ = ["EstimatedPerformance", "estimated_performance"]

#: The estimated quantities, in the order of ``to_dict()``.
_NAMES = ("auroc", "sensitivity", "specificity", "ppv", "alert_rate", "expected_events")


@dataclass(frozen=True)
class EstimatedPerformance:
    """Performance estimated from the risks alone (CBPE), each with a bootstrap interval.

    Attributes
    ----------
    auroc, sensitivity, specificity, ppv : Estimate
        Expected AUROC and expected threshold metrics at ``threshold``.
    alert_rate : Estimate
        Share of rows with ``p >= threshold``.
    expected_events : Estimate
        ``sum(p)``.
    n : int
        Rows.
    threshold : float
        The operating threshold.
    n_boot : int
        Bootstrap replicates behind the intervals (0: none).
    """

    auroc: Estimate
    sensitivity: Estimate
    specificity: Estimate
    ppv: Estimate
    alert_rate: Estimate
    expected_events: Estimate
    n: int = 0
    threshold: float = math.nan
    n_boot: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return each quantity as ``{estimate, ci_low, ci_high}``, and ``"estimated": true``.

        Keys: ``auroc, sensitivity, specificity, ppv, alert_rate, expected_events, estimated``.
        """
        out: dict[str, Any] = {name: getattr(self, name).to_dict() for name in _NAMES}
        out["estimated"] = True
        return out


def _expected(p: np.ndarray, threshold: float) -> dict[str, float]:
    """Return the CBPE quantities of risks sorted ascending (module docstring)."""
    n = p.shape[0]
    if n == 0:
        return dict.fromkeys(_NAMES, math.nan)
    events = float(p.sum())
    non_events = n - events
    cut = int(np.searchsorted(p, threshold, side="left"))
    flagged = n - cut
    tp = float(p[cut:].sum())
    tn = cut - float(p[:cut].sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "auroc": _expected_auroc(p, events, non_events),
            "sensitivity": tp / events if events > 0 else math.nan,
            "specificity": tn / non_events if non_events > 0 else math.nan,
            "ppv": tp / flagged if flagged else math.nan,
            "alert_rate": flagged / n,
            "expected_events": events,
        }


def _expected_auroc(p: np.ndarray, events: float, non_events: float) -> float:
    """Return expected concordant pairs over expected event/non-event pairs (no self-pairs).

    With the distinct risks ascending, ``a_k`` and ``b_k`` the expected events and
    non-events at the k-th and ``B_k = b_1 + ... + b_k``, the concordant pairs
    (ties one half, self-pairs included) are ``sum_k a_k (B_k - b_k / 2)``; the
    self-pairs add ``sum_i p_i (1 - p_i) / 2`` to them and ``sum_i p_i (1 - p_i)``
    to all pairs, and are taken out of both.
    """
    n = p.shape[0]
    first = np.empty(n, dtype=bool)
    first[0] = True
    np.not_equal(p[1:], p[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    if starts.size == n:  # no ties
        a, b = p, 1.0 - p
    else:
        a = np.add.reduceat(p, starts)
        b = np.diff(np.append(starts, n)) - a
    self_pairs = events - float(np.square(p).sum())
    pairs = events * non_events - self_pairs
    if pairs <= 0:
        return math.nan
    concordant = float((a * (np.cumsum(b) - 0.5 * b)).sum()) - 0.5 * self_pairs
    return concordant / pairs


class _Replicate:
    """Compute every quantity once per replicate, whichever metric the engine asks first."""

    def __init__(self, threshold: float) -> None:
        self._threshold = threshold
        self._risks: np.ndarray | None = None
        self._values: dict[str, float] = {}

    def __call__(self, p: np.ndarray) -> dict[str, float]:
        if p is not self._risks:
            # A replicate's rows keep the sorted order; sort only if an engine ever changes that.
            ordered = p if p.shape[0] < 2 or bool(np.all(p[1:] >= p[:-1])) else np.sort(p)
            self._risks, self._values = p, _expected(ordered, self._threshold)
        return self._values

    def metric(self, name: str) -> Any:
        def value(_y: np.ndarray, p: np.ndarray) -> float:
            return self(p)[name]

        value.__name__ = name
        return value


def check_risks(y_prob: Any) -> np.ndarray:
    """Return predicted risks as float64, each finite and in [0, 1] (empty allowed)."""
    p = to_float_array(y_prob, name="y_prob")
    finite = np.isfinite(p)
    if not finite.all():
        raise DataError(PROBABILITY_NON_FINITE_MSG.format(count=int((~finite).sum())))
    if p.shape[0] and (p.min() < 0.0 or p.max() > 1.0):
        raise DataError(PROBABILITY_RANGE_MSG.format(low=float(p.min()), high=float(p.max())))
    return p


@deprecated_seed
def estimated_performance(
    y_prob: Any,
    *,
    threshold: float,
    patient_ids: Any = None,
    n_boot: int = 0,
    random_state: int = 0,
    ci_level: float = 0.95,
) -> EstimatedPerformance:
    """Estimate AUROC and the operating point's metrics from calibrated risks (CBPE).

    Parameters
    ----------
    y_prob : array-like of shape (n,)
        Predicted risks of a period (calibrated probabilities of the event).
    threshold : float
        Operating threshold in (0, 1); a row is flagged when ``y_prob >= threshold``.
    patient_ids : array-like of shape (n,), optional
        Patient of each row; the bootstrap then resamples patients.
    n_boot : int, default=0
        Bootstrap replicates (0: point estimates only).
    random_state : int, default=0
        Seed of the bootstrap; the same seed gives the same numbers.
    seed : int, optional
        Deprecated alias of ``random_state``; removed in clinai 0.3.
    ci_level : float, default=0.95
        Confidence level of the intervals.

    Returns
    -------
    EstimatedPerformance
        Each quantity an :class:`Estimate` (all missing for an empty period).

    Raises
    ------
    DataError
        On risks that are missing, non-finite or outside [0, 1], a threshold
        outside (0, 1), or invalid ``patient_ids``, ``n_boot`` or ``ci_level``.

    Examples
    --------
    >>> est = estimated_performance([0.1, 0.2, 0.6, 0.9], threshold=0.5)
    >>> round(est.expected_events.estimate, 2), est.alert_rate.estimate
    (1.8, 0.5)
    """
    p = check_risks(y_prob)
    t = check_threshold(threshold, name="threshold")
    n_boot = check_n_boot(n_boot)
    level = check_ci_level(ci_level)
    order = np.argsort(p, kind="stable")
    p = p[order]
    ids = None if patient_ids is None else check_patient_ids(patient_ids, p.shape[0])[order]
    replicate = _Replicate(t)
    if n_boot == 0 or p.shape[0] < 2:
        point = replicate(p)
        estimates = {name: Estimate(point[name]) for name in _NAMES}
        n_boot = 0
    else:
        placeholder = np.zeros(p.shape[0])
        placeholder[0] = 1.0  # the engine checks y for two classes; nothing here reads it
        result = bootstrap(
            placeholder,
            p,
            metric={name: replicate.metric(name) for name in _NAMES},
            patient_ids=ids,
            n_boot=n_boot,
            ci_level=level,
            random_state=random_state,
        )
        estimates = dict(result.estimates)
    return EstimatedPerformance(
        **{name: estimates[name] for name in _NAMES},
        n=int(p.shape[0]),
        threshold=t,
        n_boot=n_boot,
    )

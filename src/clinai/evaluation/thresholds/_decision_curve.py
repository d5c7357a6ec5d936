"""Decision curve analysis: net benefit of the model and of treating everybody.

At a risk threshold ``t`` (flag when ``p >= t``), with TP and FP the numbers
of flagged events and non-events among ``n`` rows (Vickers & Elkin 2006):

- net benefit = TP/n - FP/n * t / (1 - t)
- net benefit of treating all = prev - (1 - prev) * t / (1 - t)

Treating nobody has net benefit 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from clinai.evaluation._docstrings import fill_doc
from clinai.evaluation._estimate import _numbers
from clinai.evaluation._inputs import check_threshold, check_thresholds, check_y, check_y_true

__all__ = ["DEFAULT_DCA_THRESHOLDS", "decision_curve", "net_benefit", "net_benefit_treat_all"]

#: Thresholds of the decision curve unless the caller gives others: 0.01, 0.02, ..., 0.50.
DEFAULT_DCA_THRESHOLDS = np.round(np.arange(0.01, 0.51, 0.01), 10)


@dataclass(frozen=True)
class DecisionCurvePoint:
    """Net benefit of the model and of treating everybody at one threshold."""

    threshold: float
    net_benefit: float
    net_benefit_treat_all: float

    def to_dict(self) -> dict[str, float | None]:
        """Return ``{"threshold", "net_benefit", "net_benefit_treat_all"}``."""
        return _numbers(self)


@fill_doc
def net_benefit(y_true: Any, y_prob: Any, *, threshold: float) -> float:
    """Net benefit of acting on the model at one threshold.

    ``NB(t) = TP/n - FP/n * t / (1 - t)``, where a row is flagged (treated)
    when ``y_prob >= t``. The odds ``t / (1 - t)`` are the harm of treating a
    non-event relative to the benefit of treating an event, as implied by
    choosing the threshold ``t``.

    Parameters
    ----------
    {y_true}
    {y_prob}
    threshold : float
        Risk threshold, strictly between 0 and 1.

    Returns
    -------
    float
        Net benefit (true positives per patient, net of weighted false positives).

    Raises
    ------
    {invalid_threshold_input}

    Examples
    --------
    >>> net_benefit([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], threshold=0.5)
    0.25
    """
    y, p = check_y(y_true, y_prob)
    t = check_threshold(threshold)
    return float(_net_benefit_curve(y, p, np.array([t]))[0])


@fill_doc
def net_benefit_treat_all(y_true: Any, *, threshold: float) -> float:
    """Net benefit of treating everybody at one threshold.

    ``NB_all(t) = prev - (1 - prev) * t / (1 - t)``, where ``prev`` is the
    observed prevalence of ``y_true``.

    Parameters
    ----------
    {y_true}
    threshold : float
        Risk threshold, strictly between 0 and 1.

    Returns
    -------
    float
        Net benefit of treating all.

    Raises
    ------
    {invalid_threshold_input}

    Examples
    --------
    >>> net_benefit_treat_all([0, 0, 1, 1], threshold=0.2)
    0.375
    """
    y = check_y_true(y_true)
    t = check_threshold(threshold)
    prevalence = float(y.mean())
    return prevalence - (1.0 - prevalence) * t / (1.0 - t)


@fill_doc
def decision_curve(
    y_true: Any, y_prob: Any, *, thresholds: Sequence[float] | np.ndarray | None = None
) -> tuple[DecisionCurvePoint, ...]:
    """Net benefit of the model and of treating all across thresholds.

    See :func:`net_benefit` and :func:`net_benefit_treat_all` for the definitions.

    Parameters
    ----------
    {y_true}
    {y_prob}
    thresholds : sequence of float, optional
        Thresholds strictly between 0 and 1; default 0.01, 0.02, ..., 0.50.

    Returns
    -------
    tuple of DecisionCurvePoint
        One point per threshold, in the order given.

    Raises
    ------
    {invalid_threshold_input}
    """
    y, p = check_y(y_true, y_prob)
    grid = (
        DEFAULT_DCA_THRESHOLDS
        if thresholds is None
        else check_thresholds(thresholds, name="dca_thresholds")
    )
    model = _net_benefit_curve(y, p, grid)
    prevalence = float(y.mean())
    treat_all = prevalence - (1.0 - prevalence) * grid / (1.0 - grid)
    return tuple(
        DecisionCurvePoint(float(t), float(nb), float(nb_all))
        for t, nb, nb_all in zip(grid, model, treat_all, strict=True)
    )


def _flag_counts(
    y: np.ndarray, score: np.ndarray, thresholds: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """TP and FP (flagged events and non-events, flag when ``score >= t``) at each threshold.

    Counted with a sort instead of an n x t matrix; ``score`` may be a probability or any
    score where higher means higher risk (e.g. NEWS2 points). Two int arrays of shape (t,).
    """
    event_scores = np.sort(score[y == 1])
    non_event_scores = np.sort(score[y == 0])
    tp = event_scores.shape[0] - np.searchsorted(event_scores, thresholds, side="left")
    fp = non_event_scores.shape[0] - np.searchsorted(non_event_scores, thresholds, side="left")
    return tp, fp


def _net_benefit_curve(y: np.ndarray, p: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Net benefit at each threshold (flags counted by :func:`_flag_counts`)."""
    n = float(y.shape[0])
    tp, fp = _flag_counts(y, p, thresholds)
    return np.asarray(tp / n - fp / n * thresholds / (1.0 - thresholds), dtype="float64")


def _net_benefit_weighted(
    y: np.ndarray, p: np.ndarray, w: np.ndarray, thresholds: np.ndarray
) -> np.ndarray:
    """Net benefit ``TP/n - FP/n * t/(1-t)`` of each resample (rows of ``w``) at each threshold.

    An array of shape (b, t); NaN for a resample without rows (an empty group).
    """
    flagged = (p[:, None] >= thresholds[None, :]).astype("float64")
    tp = w @ (y[:, None] * flagged)
    fp = w @ ((1.0 - y)[:, None] * flagged)
    total = w.sum(axis=1)[:, None]
    odds = thresholds / (1.0 - thresholds)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = tp / total - fp / total * odds[None, :]
    value[total[:, 0] == 0] = np.nan
    return np.asarray(value, dtype="float64")

"""Discrimination and overall accuracy: AUROC, AUPRC, Brier and scaled Brier scores.

Each public function takes ``y_true`` (0/1 outcome) and ``y_prob`` (predicted
probability of the event), validates them (see :mod:`clinai.evaluation._inputs`)
and returns a float. The private ``_*_weighted`` functions compute the same
metric for many bootstrap replicates at once from a matrix of resampling
counts ``w`` (shape ``(n_replicates, n)``); a replicate with counts ``w[b]``
gives exactly the metric of the sample that repeats row ``i`` ``w[b, i]`` times.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import average_precision_score as _sk_average_precision_score
from sklearn.metrics import roc_curve as _sk_roc_curve

from clinai.evaluation._docstrings import fill_doc
from clinai.evaluation._estimate import _numbers
from clinai.evaluation._inputs import check_y

__all__ = [
    "auroc_score",
    "average_precision_score",
    "brier_score",
    "roc_curve_points",
    "scaled_brier_score",
]


@dataclass(frozen=True)
class RocPoint:
    """One point of the ROC curve."""

    fpr: float
    tpr: float

    def to_dict(self) -> dict[str, float | None]:
        """Return ``{"fpr", "tpr"}``."""
        return _numbers(self)


@fill_doc
def auroc_score(y_true: Any, y_prob: Any) -> float:
    """Area under the ROC curve (the c-statistic).

    The AUROC is the probability that a randomly chosen event has a higher
    predicted probability than a randomly chosen non-event, ties counting one
    half: ``(R1 - n1 (n1 + 1) / 2) / (n1 n0)``, where ``R1`` is the sum of the
    (mid-)ranks of the events' probabilities among all rows, ``n1`` the number
    of events and ``n0`` the number of non-events (Mann-Whitney U statistic).

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed outcome, 0 (non-event) or 1 (event).
    {y_prob}

    Returns
    -------
    float
        AUROC in [0, 1]; 0.5 is no discrimination.

    Raises
    ------
    DataError
        If ``y_true`` is not binary or has one class, or ``y_prob`` is not a
        finite probability.

    See Also
    --------
    sklearn.metrics.roc_auc_score : The reference it is tested against.

    Examples
    --------
    >>> auroc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    y, p = check_y(y_true, y_prob)
    events = y == 1
    n1 = float(events.sum())
    n0 = float(y.shape[0]) - n1
    ranks = rankdata(p, method="average")
    return float((ranks[events].sum() - n1 * (n1 + 1.0) / 2.0) / (n1 * n0))


@fill_doc
def average_precision_score(y_true: Any, y_prob: Any) -> float:
    """Average precision: the area under the precision-recall curve (AUPRC).

    ``AP = sum_k (R_k - R_{k-1}) P_k``, where ``P_k`` and ``R_k`` are the
    precision and recall when flagging rows with ``y_prob`` at or above the
    k-th highest distinct probability, and ``R_0 = 0`` (scikit-learn's
    definition; no interpolation). A model without discrimination scores the
    prevalence.

    {binary_metric_parameters}

    Returns
    -------
    float
        Average precision in [0, 1].

    Raises
    ------
    {invalid_input}

    See Also
    --------
    sklearn.metrics.average_precision_score : Computes the value returned here.

    Examples
    --------
    >>> round(average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 4)
    0.8333
    """
    y, p = check_y(y_true, y_prob)
    return float(_sk_average_precision_score(y, p))


@fill_doc
def brier_score(y_true: Any, y_prob: Any) -> float:
    """Brier score: the mean squared difference between probability and outcome.

    ``Brier = (1/n) sum_i (p_i - y_i)^2``. Lower is better; a model that
    predicts the prevalence for everybody scores ``prev (1 - prev)``.

    {binary_metric_parameters}

    Returns
    -------
    float
        Brier score in [0, 1].

    Raises
    ------
    DataError
        On invalid or one-class input (an evaluation sample needs events and
        non-events).

    See Also
    --------
    sklearn.metrics.brier_score_loss : The reference it is tested against.

    Examples
    --------
    >>> round(brier_score([0, 1], [0.2, 0.6]), 6)
    0.1
    """
    y, p = check_y(y_true, y_prob)
    return float(np.mean((p - y) ** 2))


@fill_doc
def scaled_brier_score(y_true: Any, y_prob: Any) -> float:
    """Scaled Brier score: ``1 - Brier / (prev (1 - prev))``.

    ``prev`` is the observed prevalence of ``y_true``; the denominator is the
    Brier score of a non-informative model that predicts ``prev`` for
    everybody. 1 is perfect, 0 is no better than the prevalence, negative is
    worse.

    {binary_metric_parameters}

    Returns
    -------
    float
        Scaled Brier score, at most 1.

    Raises
    ------
    {invalid_input}

    Examples
    --------
    >>> round(scaled_brier_score([0, 1], [0.2, 0.6]), 6)
    0.6
    """
    y, p = check_y(y_true, y_prob)
    prevalence = float(y.mean())
    brier = float(np.mean((p - y) ** 2))
    return 1.0 - brier / (prevalence * (1.0 - prevalence))


@fill_doc
def roc_curve_points(y_true: Any, y_prob: Any, *, max_points: int = 200) -> tuple[RocPoint, ...]:
    """ROC curve as (false positive rate, true positive rate) points.

    Points come from :func:`sklearn.metrics.roc_curve` (with suboptimal
    intermediate points dropped) and, when there are more than ``max_points``,
    are thinned to ``max_points`` evenly spaced points that keep both ends.

    Parameters
    ----------
    {y_true}
    {y_prob}
    max_points : int, default=200
        Largest number of points returned (at least 2).

    Returns
    -------
    tuple of RocPoint
        From ``(0, 0)`` to ``(1, 1)``.

    Raises
    ------
    {invalid_input}
    """
    y, p = check_y(y_true, y_prob)
    fpr, tpr, _ = _sk_roc_curve(y, p, drop_intermediate=True)
    keep = np.arange(fpr.shape[0])
    limit = max(int(max_points), 2)
    if keep.shape[0] > limit:
        keep = np.unique(np.round(np.linspace(0, keep.shape[0] - 1, limit)).astype(np.intp))
    return tuple(RocPoint(float(fpr[i]), float(tpr[i])) for i in keep)


# --- vectorised versions for the bootstrap ---------------------------------------------


def _tie_blocks(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the ascending sort order of ``p`` and the start of each block of tied values."""
    order = np.argsort(p, kind="mergesort")
    sorted_p = p[order]
    starts = np.flatnonzero(np.r_[True, sorted_p[1:] != sorted_p[:-1]])
    return order, starts


def _class_weights_by_block(
    y: np.ndarray, p: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sum resampling counts of events and non-events per distinct ``p`` (ascending)."""
    order, starts = _tie_blocks(p)
    ws = w[:, order]
    ys = y[order]
    events = np.add.reduceat(ws * ys, starts, axis=1)
    non_events = np.add.reduceat(ws * (1.0 - ys), starts, axis=1)
    return events, non_events


def _auroc_weighted(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
    """AUROC of each resample; NaN where a resample has one class."""
    events, non_events = _class_weights_by_block(y, p, w)
    below = np.cumsum(non_events, axis=1) - non_events
    pairs = (events * (below + 0.5 * non_events)).sum(axis=1)
    n1 = events.sum(axis=1)
    n0 = non_events.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = pairs / (n1 * n0)
    auc[(n1 == 0) | (n0 == 0)] = np.nan
    return auc


def _average_precision_weighted(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Average precision of each resample; NaN where a resample has one class."""
    events, non_events = _class_weights_by_block(y, p, w)
    tps = np.cumsum(events[:, ::-1], axis=1)
    fps = np.cumsum(non_events[:, ::-1], axis=1)
    flagged = tps + fps
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(flagged > 0, tps / flagged, 0.0)
        recall = tps / tps[:, -1:]
    gain = np.diff(recall, axis=1, prepend=0.0)
    ap = (gain * precision).sum(axis=1)
    n1 = tps[:, -1]
    n0 = fps[:, -1]
    ap[(n1 == 0) | (n0 == 0)] = np.nan
    return ap


def _brier_weighted(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Brier score of each resample; NaN where a resample has one class."""
    total = w.sum(axis=1)
    events = w @ y
    brier = (w @ ((p - y) ** 2)) / total
    brier[(events == 0) | (events == total)] = np.nan
    return brier


def _scaled_brier_weighted(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Scaled Brier score of each resample; NaN where a resample has one class."""
    total = w.sum(axis=1)
    prevalence = (w @ y) / total
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = 1.0 - _brier_weighted(y, p, w) / (prevalence * (1.0 - prevalence))
    return scaled

"""Classification metrics at a risk threshold.

A patient is *flagged* when the predicted probability is at or above the
threshold (``p >= t``). With TP, FP, TN and FN the counts of flagged events,
flagged non-events, unflagged non-events and unflagged events among ``n``
rows:

- sensitivity = TP / (TP + FN)
- specificity = TN / (TN + FP)
- PPV = TP / (TP + FP) (undefined, NaN, when nobody is flagged)
- NPV = TN / (TN + FN) (undefined, NaN, when everybody is flagged)
- flag rate = (TP + FP) / n
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from clinai.evaluation._docstrings import fill_doc
from clinai.evaluation._estimate import Estimate, _num, _numbers
from clinai.evaluation._inputs import check_threshold, check_y

__all__ = ["THRESHOLD_METRIC_NAMES", "threshold_metrics"]

#: Order of the metrics in the last axis of :func:`_threshold_weighted`.
THRESHOLD_METRIC_NAMES = ("sensitivity", "specificity", "ppv", "npv", "flag_rate")


@dataclass(frozen=True)
class ThresholdMetrics:
    """Classification metrics at one threshold (a patient is flagged when ``p >= threshold``).

    Attributes
    ----------
    threshold : float
    sensitivity : float
        TP / (TP + FN).
    specificity : float
        TN / (TN + FP).
    ppv : float
        TP / (TP + FP); NaN when nobody is flagged.
    npv : float
        TN / (TN + FN); NaN when everybody is flagged.
    flag_rate : float
        (TP + FP) / n.
    """

    threshold: float
    sensitivity: float
    specificity: float
    ppv: float
    npv: float
    flag_rate: float

    def to_dict(self) -> dict[str, float | None]:
        """Return the six numbers as a dict."""
        return _numbers(self)


@dataclass(frozen=True)
class ThresholdEstimates:
    """Threshold metrics (see :class:`ThresholdMetrics`) with bootstrap intervals.

    ``target_sensitivity`` is set on the rows that :func:`evaluate_predictions`
    adds for its ``target_sensitivities``: ``threshold`` is then the highest
    threshold whose sensitivity on the same data is at least the target.
    """

    threshold: float
    sensitivity: Estimate
    specificity: Estimate
    ppv: Estimate
    npv: Estimate
    flag_rate: Estimate
    target_sensitivity: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return one entry of ``thresholds`` in ``metrics.json``.

        The key ``target_sensitivity`` is present only on target-sensitivity rows.
        """
        out: dict[str, Any] = {
            "threshold": _num(self.threshold),
            "sensitivity": self.sensitivity.to_dict(),
            "specificity": self.specificity.to_dict(),
            "ppv": self.ppv.to_dict(),
            "npv": self.npv.to_dict(),
            "flag_rate": self.flag_rate.to_dict(),
        }
        if self.target_sensitivity is not None:
            out["target_sensitivity"] = _num(self.target_sensitivity)
        return out


@fill_doc
def threshold_metrics(y_true: Any, y_prob: Any, *, threshold: float) -> ThresholdMetrics:
    """Sensitivity, specificity, PPV, NPV and flag rate at one threshold.

    A row is flagged when ``y_prob >= threshold``. Sensitivity is
    TP / (TP + FN), specificity TN / (TN + FP), PPV TP / (TP + FP), NPV
    TN / (TN + FN) and the flag rate (TP + FP) / n.

    Parameters
    ----------
    {y_true}
    {y_prob}
    threshold : float
        Risk threshold in [0, 1].

    Returns
    -------
    ThresholdMetrics
        The five metrics; PPV is NaN when nobody is flagged and NPV is NaN when
        everybody is.

    Raises
    ------
    DataError
        On invalid or one-class input, or a threshold outside [0, 1].

    Examples
    --------
    >>> m = threshold_metrics([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], threshold=0.3)
    >>> m.sensitivity, m.specificity, m.ppv, m.flag_rate
    (1.0, 0.5, 0.6666666666666666, 0.75)
    """
    y, p = check_y(y_true, y_prob)
    t = check_threshold(threshold, closed=True)
    values = _threshold_weighted(y, p, np.ones((1, y.shape[0])), np.array([t]))[0, 0]
    return ThresholdMetrics(t, *(float(v) for v in values))


def _threshold_weighted(
    y: np.ndarray, p: np.ndarray, w: np.ndarray, thresholds: np.ndarray
) -> np.ndarray:
    """Threshold metrics of each resample at each threshold.

    Parameters
    ----------
    y, p : numpy.ndarray of shape (n,)
        Outcome and predicted probability.
    w : numpy.ndarray of shape (b, n)
        Resampling counts (frequency weights), one row per resample.
    thresholds : numpy.ndarray of shape (t,)

    Returns
    -------
    numpy.ndarray of shape (b, t, 5)
        Metrics in the order of :data:`THRESHOLD_METRIC_NAMES`; all NaN for a
        resample with one class.
    """
    flagged = (p[:, None] >= thresholds[None, :]).astype("float64")
    tp = w @ (y[:, None] * flagged)
    fp = w @ ((1.0 - y)[:, None] * flagged)
    total = w.sum(axis=1)[:, None]
    events = (w @ y)[:, None]
    non_events = total - events
    fn = events - tp
    tn = non_events - fp
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.stack(
            [
                tp / events,
                tn / non_events,
                np.where(tp + fp > 0, tp / (tp + fp), np.nan),
                np.where(tn + fn > 0, tn / (tn + fn), np.nan),
                (tp + fp) / total,
            ],
            axis=-1,
        )
    one_class = ((events == 0) | (non_events == 0))[:, 0]
    out[one_class] = np.nan
    return out

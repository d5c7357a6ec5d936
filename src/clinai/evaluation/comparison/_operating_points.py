"""The model beside an existing score's alert thresholds (e.g. NEWS2 >= 5 and >= 7).

A ward already acts on an early-warning score at fixed cut-offs. The fair
question for a new model is: *with the same number of alerts, does it find
more of the patients who deteriorate?* For each of the score's thresholds
``k`` this module flags the rows with ``score >= k``, then sets the model's
probability threshold so that it flags the same share of rows (matched flag
rate), and reports both rules' sensitivity, specificity and positive
predictive value, and the model's gain in sensitivity, with paired percentile
bootstrap intervals (the same resamples for both rules; patients resampled
when rows share a patient). The thresholds are fixed from the full data and
held fixed in every resample.

Definitions (rows flagged ``F``, outcome ``y``): sensitivity ``= sum(F*y) /
sum(y)``, specificity ``= sum((1-F)*(1-y)) / sum(1-y)``, PPV ``= sum(F*y) /
sum(F)``, flag rate ``= mean(F)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from clinai.evaluation._docstrings import fill_doc
from clinai.evaluation._estimate import Estimate
from clinai.evaluation._inputs import check_ci_level, check_n_boot, check_y
from clinai.evaluation.comparison._comparison import _check_name, check_baseline
from clinai.evaluation.resampling import engine
from clinai.evaluation.resampling.engine import Progress, RandomState
from clinai.exceptions import DataError

__all__ = ["OperatingPoint", "OperatingPointComparison", "compare_operating_points"]

NO_THRESHOLDS_MSG = "baseline thresholds for {name} are empty: name at least one cut-off"
NOTHING_FLAGGED_MSG = (
    "{name} >= {threshold:g} flags no row of these data: choose a cut-off within the score's "
    "observed range ({low:g} to {high:g})"
)

_RATES = ("sensitivity", "specificity", "ppv", "flag_rate")


@dataclass(frozen=True)
class OperatingPoint:
    """One alert threshold of the baseline score and the model at the same flag rate.

    Attributes
    ----------
    baseline_threshold : float
        The score's cut-off ``k`` (a row is flagged when ``score >= k``).
    model_threshold : float
        The model's probability threshold flagging the same share of rows.
    baseline, model : dict of str to Estimate
        ``sensitivity``, ``specificity``, ``ppv`` and ``flag_rate`` of each rule.
    sensitivity_gain : Estimate
        Model minus baseline sensitivity (paired bootstrap interval).
    """

    baseline_threshold: float
    model_threshold: float
    baseline: dict[str, Estimate]
    model: dict[str, Estimate]
    sensitivity_gain: Estimate

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "baseline_threshold": self.baseline_threshold,
            "model_threshold": self.model_threshold,
            "baseline": {k: v.to_dict() for k, v in self.baseline.items()},
            "model": {k: v.to_dict() for k, v in self.model.items()},
            "sensitivity_gain": self.sensitivity_gain.to_dict(),
        }


@dataclass(frozen=True)
class OperatingPointComparison:
    """The model beside each alert threshold of a baseline score."""

    name: str
    points: tuple[OperatingPoint, ...]
    n_boot: int
    ci_level: float

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "name": self.name,
            "points": [p.to_dict() for p in self.points],
            "n_boot": self.n_boot,
            "ci_level": self.ci_level,
        }


def _matched_threshold(p: np.ndarray, n_flagged: int) -> float:
    """Return the threshold ``t`` whose rule ``p >= t`` flags ``n_flagged`` rows (ties: more)."""
    return float(np.sort(p)[::-1][n_flagged - 1])


def _rates(y: np.ndarray, flags: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Return (chunk, 4) weighted sensitivity, specificity, PPV and flag rate."""
    with np.errstate(invalid="ignore", divide="ignore"):
        tp = weights @ (flags * y)
        fp = weights @ (flags * (1 - y))
        events = weights @ y
        total = weights.sum(axis=1)
        non_events = total - events
        tn = non_events - fp
        return np.stack([tp / events, tn / non_events, tp / (tp + fp), (tp + fp) / total], axis=1)


def _matched_rules(
    score: np.ndarray, p: np.ndarray, baseline_thresholds: Sequence[float], name: str
) -> list[tuple[float, float, np.ndarray, np.ndarray]]:
    """Each baseline threshold, the model threshold flagging as many rows, and both rules' flags."""
    rules: list[tuple[float, float, np.ndarray, np.ndarray]] = []
    for k in baseline_thresholds:
        base_flags = (score >= float(k)).astype("float64")
        n_flagged = int(base_flags.sum())
        if n_flagged == 0:
            raise DataError(
                NOTHING_FLAGGED_MSG.format(
                    name=name, threshold=float(k), low=float(score.min()), high=float(score.max())
                )
            )
        t = _matched_threshold(p, n_flagged)
        rules.append((float(k), t, base_flags, (p >= t).astype("float64")))
    return rules


def _operating_points(
    rules: list[tuple[float, float, np.ndarray, np.ndarray]],
    point: np.ndarray,
    interval: tuple[np.ndarray, np.ndarray],
    gain_interval: tuple[np.ndarray, np.ndarray],
) -> tuple[OperatingPoint, ...]:
    """One operating point per rule: both rules' rates and the sensitivity gain, with intervals."""
    low, high = interval
    gain_low, gain_high = gain_interval

    def estimates(j: int, offset: int) -> dict[str, Estimate]:
        return {
            rate: Estimate(
                float(point[j, offset + i]),
                float(low[j, offset + i]),
                float(high[j, offset + i]),
            )
            for i, rate in enumerate(_RATES)
        }

    return tuple(
        OperatingPoint(
            baseline_threshold=k,
            model_threshold=t,
            baseline=estimates(j, 0),
            model=estimates(j, len(_RATES)),
            sensitivity_gain=Estimate(
                float(point[j, len(_RATES)] - point[j, 0]),
                float(gain_low[j]),
                float(gain_high[j]),
            ),
        )
        for j, (k, t, _, _) in enumerate(rules)
    )


@fill_doc
def compare_operating_points(
    y_true: Any,
    y_prob: Any,
    y_baseline: Any,
    *,
    baseline_thresholds: Sequence[float],
    baseline_name: str = "baseline",
    patient_ids: Any = None,
    n_boot: int = 200,
    ci_level: float = 0.95,
    random_state: RandomState = 0,
    progress: Progress | None = None,
) -> OperatingPointComparison:
    """Compare the model with a score's alert rules at matched flag rates.

    Parameters
    ----------
    {y_true}
    y_prob : array-like of shape (n,)
        The model's predicted probability.
    y_baseline : array-like of shape (n,)
        The existing score (any scale; higher means higher risk), e.g. NEWS2.
    baseline_thresholds : sequence of float
        The score's alert cut-offs ``k`` (flag when ``score >= k``).
    baseline_name : str, default="baseline"
        Name used in the result and in messages.
    {patient_ids}
    {n_boot}
    ci_level : float, default=0.95
        Confidence level.
    {random_state}
    {progress}

    Returns
    -------
    OperatingPointComparison

    Raises
    ------
    DataError
        On invalid input, no threshold, or a threshold that flags no row.

    Examples
    --------
    >>> y = np.array([0, 0, 0, 0, 1, 0, 1, 1])
    >>> p = np.array([0.1, 0.2, 0.15, 0.3, 0.6, 0.25, 0.7, 0.8])
    >>> score = np.array([1, 6, 2, 3, 5, 1, 4, 7])
    >>> result = compare_operating_points(y, p, score, baseline_thresholds=[5], n_boot=0)
    >>> point = result.points[0]
    >>> point.baseline["sensitivity"].estimate, point.model["sensitivity"].estimate
    (0.6666666666666666, 1.0)
    """
    y, p = check_y(y_true, y_prob)
    name = _check_name(baseline_name)
    score = check_baseline(y_baseline, y.shape[0], name=name)
    if not len(baseline_thresholds):
        raise DataError(NO_THRESHOLDS_MSG.format(name=name))
    n_boot = check_n_boot(n_boot)
    level = check_ci_level(ci_level)
    clusters = engine.clusters_of(patient_ids, y.shape[0])
    yf = y.astype("float64")

    rules = _matched_rules(score, p, baseline_thresholds, name)

    def all_rates(y_: np.ndarray, p_: np.ndarray, weights: np.ndarray) -> np.ndarray:
        del p_
        out = [
            np.concatenate([_rates(y_, b, weights), _rates(y_, m, weights)], axis=1)
            for _, _, b, m in rules
        ]
        return np.stack(out, axis=1)  # (chunk, rules, 8)

    ones = np.ones((1, y.shape[0]))
    point = all_rates(yf, p, ones)[0]
    reps = engine.run_replicates(
        yf,
        p,
        weighted={"rates": all_rates},
        resampled={},
        shapes={"rates": (len(rules), 2 * len(_RATES))},
        clusters=clusters,
        n_boot=n_boot,
        rng=np.random.default_rng(random_state),
        progress=progress,
    )["rates"]
    gain_reps = reps[:, :, len(_RATES)] - reps[:, :, 0]
    low, high, _ = engine.contained_interval(reps, point, level)
    gain_low, gain_high, _ = engine.contained_interval(
        gain_reps, point[:, len(_RATES)] - point[:, 0], level
    )

    points = _operating_points(rules, point, (low, high), (gain_low, gain_high))
    return OperatingPointComparison(name=name, points=points, n_boot=n_boot, ci_level=level)

"""Comparison of the model with a baseline score on the same patients.

A baseline is current practice: an existing clinical score (NEWS2 points, ASA
class, a published risk score) or the model in use. For every patient we have
the model's predicted probability ``p`` and the baseline score ``b``, where a
higher ``b`` means higher risk.

- AUROC difference ``AUROC(p) - AUROC(b)``: both AUROCs depend only on the
  ranking, so any baseline scale works. Tested with DeLong et al.'s (1988)
  test for two correlated AUROCs (:func:`delong_test`) and given a paired
  percentile bootstrap interval.
- Brier score difference ``Brier(p) - Brier(b)`` and net benefit difference
  ``NB_p(t) - NB_b(t)`` at each threshold ``t`` (a row is flagged when its
  score is at least ``t``; Vickers & Elkin 2006): these need the baseline to
  be a probability, so they are reported only when every ``b`` lies in
  [0, 1], and are ``None`` with a note otherwise.

*Paired* bootstrap: each resample draws patients (or rows) once and computes
both scores' metrics on the same resampled patients, so the interval of a
difference accounts for the correlation between the two scores. Every
difference is model minus baseline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clinai.evaluation._docstrings import fill_doc
from clinai.evaluation._estimate import Estimate, _num
from clinai.evaluation._inputs import (
    check_ci_level,
    check_n_boot,
    check_score,
    check_thresholds,
    check_y,
)
from clinai.evaluation.discrimination._delong import _delong_test_arrays
from clinai.evaluation.discrimination._metrics import _auroc_weighted, _brier_weighted
from clinai.evaluation.resampling import engine
from clinai.evaluation.resampling.engine import Progress, RandomState
from clinai.evaluation.thresholds._decision_curve import _net_benefit_curve, _net_benefit_weighted
from clinai.exceptions import DataError

__all__ = [
    "BASELINE_NAME_MSG",
    "NOT_PROBABILITY_NOTE",
    "PATIENT_ROWS_NOTE",
    "REVERSED_NOTE",
    "compare_with_baseline",
]

BASELINE_NAME_MSG = "baseline_name must be a non-empty string naming the baseline; got {value!r}"
NOT_PROBABILITY_NOTE = (
    "baseline {name!r} is not a probability (values from {low:g} to {high:g}): the Brier "
    "score and net benefit need predicted probabilities, so brier_diff and "
    "net_benefit_diff are not reported; the AUROC compares rankings and works on any "
    "score where higher means higher risk"
)
REVERSED_NOTE = (
    "baseline {name!r} has an AUROC below 0.5 ({auroc:.3f}): check that higher values of "
    "the baseline mean higher risk"
)
PATIENT_ROWS_NOTE = (
    "patients have several rows: the DeLong test uses Obuchowski's (1997) clustered "
    "variance and the bootstrap intervals resample patients"
)

WeightedMetric = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class ThresholdDifference:
    """A difference in a threshold metric (e.g. net benefit) with a bootstrap interval."""

    threshold: float
    difference: Estimate

    def to_dict(self) -> dict[str, float | None]:
        """Return ``{"threshold", "estimate", "ci_low", "ci_high"}``."""
        return {"threshold": _num(self.threshold), **self.difference.to_dict()}


@dataclass(frozen=True)
class BaselineComparison:
    """The model against a baseline score on the same patients (:func:`compare_with_baseline`).

    Every difference is *model minus baseline*: a positive ``auroc_diff`` and
    net benefit difference, and a negative ``brier_diff``, favour the model.

    Attributes
    ----------
    name : str
        Name of the baseline (e.g. ``"NEWS2"``).
    baseline_auroc : Estimate
        AUROC of the baseline with its bootstrap interval.
    auroc_diff : Estimate
        AUROC difference with its paired bootstrap interval.
    brier_diff : Estimate or None
        Brier score difference; ``None`` when the baseline is not a probability.
    net_benefit_diff : tuple of ThresholdDifference or None
        Net benefit difference at each threshold; ``None`` when the baseline is
        not a probability.
    p_value : float
        Two-sided p-value of DeLong's test for two correlated AUROCs.
    delong_z : float
        The z statistic of that test (positive when the model's AUROC is higher).
    notes : tuple of str
        Plain-language notes on what was not computed and why.
    n_boot, ci_level, n_skipped :
        How the intervals were computed (not part of ``to_dict()``).
    """

    name: str
    baseline_auroc: Estimate
    auroc_diff: Estimate
    brier_diff: Estimate | None
    net_benefit_diff: tuple[ThresholdDifference, ...] | None
    p_value: float
    delong_z: float
    notes: tuple[str, ...] = ()
    n_boot: int = 0
    ci_level: float = 0.95
    n_skipped: Mapping[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the ``baseline_comparison`` block of ``metrics.json``.

        Keys: ``name``, ``baseline_auroc``, ``auroc_diff``, ``brier_diff``,
        ``net_benefit_diff`` (a list of ``{"threshold", "estimate", "ci_low",
        "ci_high"}`` or ``None``), ``p_value``, ``delong_z``, ``notes``.
        """
        return {
            "name": self.name,
            "baseline_auroc": self.baseline_auroc.to_dict(),
            "auroc_diff": self.auroc_diff.to_dict(),
            "brier_diff": None if self.brier_diff is None else self.brier_diff.to_dict(),
            "net_benefit_diff": (
                None
                if self.net_benefit_diff is None
                else [d.to_dict() for d in self.net_benefit_diff]
            ),
            "p_value": _num(self.p_value),
            "delong_z": _num(self.delong_z),
            "notes": list(self.notes),
        }


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise DataError(BASELINE_NAME_MSG.format(value=name))
    return name


def check_baseline(y_baseline: Any, n: int, *, name: str) -> np.ndarray:
    """Validate a baseline score; errors name the baseline (e.g. ``baseline 'NEWS2'``)."""
    return check_score(y_baseline, n, name=f"baseline {name!r}")


def _rank_auroc(y: np.ndarray, score: np.ndarray) -> float:
    """AUROC of any score by the Mann-Whitney rank formula of :func:`auroc_score`."""
    from scipy.stats import rankdata

    events = y == 1
    n1 = float(events.sum())
    n0 = float(y.shape[0]) - n1
    ranks = rankdata(score, method="average")
    return float((ranks[events].sum() - n1 * (n1 + 1.0) / 2.0) / (n1 * n0))


def _comparison_weighted(
    baseline: np.ndarray, thresholds: np.ndarray, *, probability: bool
) -> dict[str, WeightedMetric]:
    """Vectorised replicate metrics of the comparison, for :func:`engine.run_replicates`.

    The model's AUROC and Brier score are the caller's (``"auroc"``, ``"brier"``).
    """
    weighted: dict[str, WeightedMetric] = {
        "baseline_auroc": lambda y, p, w: _auroc_weighted(y, baseline, w),
    }
    if probability:
        weighted["baseline_brier"] = lambda y, p, w: _brier_weighted(y, baseline, w)
        weighted["model_nb"] = lambda y, p, w: _net_benefit_weighted(y, p, w, thresholds)
        weighted["baseline_nb"] = lambda y, p, w: _net_benefit_weighted(y, baseline, w, thresholds)
    return weighted


def _comparison_shapes(n_thresholds: int, *, probability: bool) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {"baseline_auroc": ()}
    if probability:
        shapes.update(baseline_brier=(), model_nb=(n_thresholds,), baseline_nb=(n_thresholds,))
    return shapes


def _is_probability(baseline: np.ndarray) -> bool:
    return bool(baseline.min() >= 0.0 and baseline.max() <= 1.0)


def _assemble(
    y: np.ndarray,
    p: np.ndarray,
    baseline: np.ndarray,
    *,
    name: str,
    thresholds: np.ndarray,
    replicates: Mapping[str, np.ndarray],
    n_boot: int,
    ci_level: float,
    codes: np.ndarray | None,
) -> BaselineComparison:
    """Build the comparison from the point estimates and the paired replicates.

    ``replicates`` holds ``"auroc"`` and ``"brier"`` of the model and the keys
    of :func:`_comparison_weighted`, each with ``n_boot`` rows computed on the
    same resamples. ``codes``: patient codes when patients have several rows.
    """
    probability = _is_probability(baseline)
    notes: list[str] = []
    model_auroc = _rank_auroc(y, p)
    baseline_auroc = _rank_auroc(y, baseline)
    test = _delong_test_arrays(y, p, baseline, codes=codes)
    n_skipped: dict[str, int] = {}

    def estimate(point: float, reps: np.ndarray, key: str) -> Estimate:
        low, high, _ = engine.contained_interval(reps, point, ci_level)
        n_skipped[key] = engine.n_undefined(reps)
        return Estimate(point, float(low), float(high))

    auroc_diff = estimate(
        model_auroc - baseline_auroc,
        replicates["auroc"] - replicates["baseline_auroc"],
        "auroc_diff",
    )
    baseline_est = estimate(baseline_auroc, replicates["baseline_auroc"], "baseline_auroc")
    brier_diff: Estimate | None = None
    nb_diff: tuple[ThresholdDifference, ...] | None = None
    if probability:
        brier_point = float(np.mean((p - y) ** 2) - np.mean((baseline - y) ** 2))
        brier_diff = estimate(
            brier_point, replicates["brier"] - replicates["baseline_brier"], "brier_diff"
        )
        nb_point = _net_benefit_curve(y, p, thresholds) - _net_benefit_curve(
            y, baseline, thresholds
        )
        nb_reps = replicates["model_nb"] - replicates["baseline_nb"]
        low, high, _ = engine.contained_interval(nb_reps, nb_point, ci_level)
        n_skipped["net_benefit_diff"] = engine.n_undefined(nb_reps)
        nb_diff = tuple(
            ThresholdDifference(float(t), Estimate(float(d), float(lo), float(hi)))
            for t, d, lo, hi in zip(thresholds, nb_point, low, high, strict=True)
        )
    else:
        notes.append(
            NOT_PROBABILITY_NOTE.format(
                name=name, low=float(baseline.min()), high=float(baseline.max())
            )
        )
    if baseline_auroc < 0.5:
        notes.append(REVERSED_NOTE.format(name=name, auroc=baseline_auroc))
    if codes is not None:
        notes.append(PATIENT_ROWS_NOTE)
    return BaselineComparison(
        name=name,
        baseline_auroc=baseline_est,
        auroc_diff=auroc_diff,
        brier_diff=brier_diff,
        net_benefit_diff=nb_diff,
        p_value=test.p_value,
        delong_z=test.z,
        notes=tuple(notes),
        n_boot=n_boot,
        ci_level=ci_level,
        n_skipped=n_skipped,
    )


@fill_doc
def compare_with_baseline(
    y_true: Any,
    y_prob: Any,
    y_baseline: Any,
    *,
    baseline_name: str = "baseline",
    patient_ids: Any = None,
    thresholds: Sequence[float] = (0.1, 0.2, 0.3),
    n_boot: int = 200,
    ci_level: float = 0.95,
    random_state: RandomState = 0,
    progress: Progress | None = None,
) -> BaselineComparison:
    """Compare the model with a baseline score on the same patients.

    Reports the baseline's AUROC; the AUROC difference (model minus baseline)
    with DeLong et al.'s (1988) test for two correlated AUROCs
    (:func:`delong_test`: ``p_value`` and ``delong_z``); and, when the
    baseline is a probability (every value in [0, 1]), the Brier score
    difference and the net benefit difference at each of ``thresholds``
    (:func:`net_benefit`). Intervals are paired percentile bootstrap
    intervals: each resample takes the same patients (the same rows, or all
    rows of the same patients when ``patient_ids`` is given) for both scores.
    With the same ``n``, ``patient_ids``, ``n_boot`` and ``random_state`` the
    resamples are those of :func:`bootstrap` (and of
    :func:`evaluate_predictions` below its fast-path size).

    Parameters
    ----------
    {y_true}
    y_prob : array-like of shape (n,)
        The model's predicted probability of the event.
    y_baseline : array-like of shape (n,)
        The baseline score of the same rows; higher means higher risk. Any
        scale for the AUROC (e.g. NEWS2 points); a probability for the Brier
        score and net benefit.
    baseline_name : str, default="baseline"
        Name of the baseline, used in the result and in error messages.
    {patient_ids}
    thresholds : sequence of float, default=(0.1, 0.2, 0.3)
        Thresholds (strictly between 0 and 1) of the net benefit difference.
    {n_boot}
    {ci_level}
    {random_state_bootstrap}
    progress : callable, optional
        Called as ``progress(done, n_boot)`` as replicates complete.

    Returns
    -------
    BaselineComparison
        Its ``to_dict()`` is the ``baseline_comparison`` block of ``metrics.json``.

    Raises
    ------
    DataError
        On invalid or one-class input; a baseline that is not numeric, has
        missing values or the wrong length (the message names the baseline);
        an invalid threshold, ``n_boot``, ``ci_level`` or ``baseline_name``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> risk = rng.uniform(0.02, 0.6, size=400)
    >>> y = rng.binomial(1, risk)
    >>> news2 = np.round(risk * 15 + rng.normal(0, 3, size=400)).clip(0, 20)
    >>> result = compare_with_baseline(y, risk, news2, baseline_name="NEWS2", n_boot=50)
    >>> result.auroc_diff.estimate > 0, result.brier_diff is None
    (True, True)
    """
    y, p = check_y(y_true, y_prob)
    name = _check_name(baseline_name)
    baseline = check_baseline(y_baseline, y.shape[0], name=name)
    grid = check_thresholds(list(thresholds), name="thresholds")
    n_boot = check_n_boot(n_boot)
    level = check_ci_level(ci_level)
    clusters = engine.clusters_of(patient_ids, y.shape[0])
    probability = _is_probability(baseline)
    weighted: dict[str, WeightedMetric] = {"auroc": _auroc_weighted, "brier": _brier_weighted}
    weighted.update(_comparison_weighted(baseline, grid, probability=probability))
    shapes: dict[str, tuple[int, ...]] = {"auroc": (), "brier": ()}
    shapes.update(_comparison_shapes(grid.shape[0], probability=probability))
    replicates = engine.run_replicates(
        y,
        p,
        weighted=weighted,
        resampled={},
        shapes=shapes,
        clusters=clusters,
        n_boot=n_boot,
        rng=np.random.default_rng(random_state),
        progress=progress,
    )
    return _assemble(
        y,
        p,
        baseline,
        name=name,
        thresholds=grid,
        replicates=replicates,
        n_boot=n_boot,
        ci_level=level,
        codes=clusters.patient_codes,
    )

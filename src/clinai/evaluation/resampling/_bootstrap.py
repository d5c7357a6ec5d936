"""Bootstrap intervals of any metric, resampling patients when they have several rows.

The procedure (resampling units, skipped replicates, percentile intervals that
contain their estimates, and why not BC or BCa) is that of the engine,
:mod:`clinai.evaluation.resampling.engine`; every interval of ``metrics.json``
comes from it.

``random_state`` seeds a :class:`numpy.random.Generator`; the same seed gives
the same numbers. A resample is represented by its counts ``w[i]``, the
number of times row ``i`` was drawn; the metrics of this package have
vectorised versions that compute many resamples at once from these counts,
exactly equal to computing them on the resampled rows (tested). Any other
metric is called on the resampled rows one resample at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from clinai.evaluation._docstrings import fill_doc
from clinai.evaluation._estimate import Estimate
from clinai.evaluation._inputs import check_ci_level, check_n_boot, check_y
from clinai.evaluation.calibration._calibration import (
    _intercept_weighted,
    _oe_weighted,
    _slope_weighted,
    calibration_intercept,
    calibration_slope,
    oe_ratio,
)
from clinai.evaluation.discrimination._metrics import (
    _auroc_weighted,
    _average_precision_weighted,
    _brier_weighted,
    _scaled_brier_weighted,
    auroc_score,
    average_precision_score,
    brier_score,
    scaled_brier_score,
)
from clinai.evaluation.resampling.engine import (
    CI_METHOD,
    Progress,
    RandomState,
    ResampledMetric,
    WeightedMetric,
    clusters_of,
    contained_interval,
    n_undefined,
    run_replicates,
    weight_chunks,
)
from clinai.exceptions import DataError

__all__ = ["CI_METHOD", "NOT_SCALAR_MSG", "bootstrap", "bootstrap_indices"]

NOT_SCALAR_MSG = "metric {name!r} must return one number; got an array of shape {shape}"

#: The scalar metrics of ``metrics.json`` by name, in its order: each metric and its
#: vectorised version, which the engine uses instead of a per-replicate loop.
_SCALAR_METRICS: dict[str, tuple[Callable[..., float], WeightedMetric]] = {
    "auroc": (auroc_score, _auroc_weighted),
    "auprc": (average_precision_score, _average_precision_weighted),
    "brier": (brier_score, _brier_weighted),
    "scaled_brier": (scaled_brier_score, _scaled_brier_weighted),
    "intercept": (calibration_intercept, _intercept_weighted),
    "slope": (calibration_slope, _slope_weighted),
    "oe_ratio": (oe_ratio, _oe_weighted),
}
#: Vectorised versions of this package's metrics, by metric.
_WEIGHTED: dict[Callable[..., Any], WeightedMetric] = dict(_SCALAR_METRICS.values())


@dataclass(frozen=True, eq=False)
class BootstrapResult:
    """Bootstrap percentile intervals of one or more metrics.

    Attributes
    ----------
    estimates : Mapping[str, Estimate]
        Point estimate and interval of each metric, by name.
    replicates : Mapping[str, numpy.ndarray]
        The ``n_boot`` replicate values of each metric (NaN where undefined).
    n_boot : int
        Number of replicates drawn.
    n_skipped : Mapping[str, int]
        Replicates in which the metric was undefined (e.g. a resample with one
        class); they are left out of the interval.
    ci_level : float
        Confidence level of the intervals.
    """

    estimates: Mapping[str, Estimate]
    replicates: Mapping[str, np.ndarray]
    n_boot: int
    n_skipped: Mapping[str, int]
    ci_level: float

    def __getitem__(self, name: str) -> Estimate:
        return self.estimates[name]

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"n_boot", "ci_level", "n_skipped", "estimates"}`` (no replicates)."""
        return {
            "n_boot": int(self.n_boot),
            "ci_level": float(self.ci_level),
            "n_skipped": {k: int(v) for k, v in self.n_skipped.items()},
            "estimates": {k: v.to_dict() for k, v in self.estimates.items()},
        }


def _vectorised(metric: Callable[..., Any]) -> WeightedMetric | None:
    """Return the vectorised version of one of this package's metrics, if it has one."""
    for known, weighted in _WEIGHTED.items():
        if metric is known:
            return weighted
    return None


def bootstrap_indices(
    n: int,
    *,
    patient_ids: Any = None,
    n_boot: int = 200,
    random_state: RandomState = 0,
) -> Iterator[np.ndarray]:
    """Yield the row indices of each bootstrap resample.

    These are the resamples :func:`bootstrap` and :func:`evaluate_predictions`
    use for the same ``n``, ``patient_ids``, ``n_boot`` and ``random_state``.

    Parameters
    ----------
    n : int
        Number of rows.
    patient_ids : array-like of shape (n,), optional
        Patient of each row. When given, whole patients are resampled: a drawn
        patient contributes all of its rows, once per draw.
    n_boot : int, default=200
        Number of resamples.
    random_state : int, numpy.random.Generator or None, default=0
        Seed of the :class:`numpy.random.Generator`.

    Yields
    ------
    numpy.ndarray
        Sorted row indices of one resample (rows drawn k times appear k times).

    Raises
    ------
    DataError
        If ``patient_ids`` has the wrong length or missing values.

    Examples
    --------
    >>> [idx.shape[0] for idx in bootstrap_indices(5, n_boot=3)]
    [5, 5, 5]
    """
    clusters = clusters_of(patient_ids, int(n))
    rng = np.random.default_rng(random_state)
    rows = np.arange(int(n))
    for weights in weight_chunks(clusters, check_n_boot(n_boot), rng):
        for row in weights:
            yield np.repeat(rows, row.astype(np.intp))


@fill_doc
def bootstrap(
    y_true: Any,
    y_prob: Any,
    *,
    metric: Callable[[np.ndarray, np.ndarray], float] | Mapping[str, Callable[..., float]],
    patient_ids: Any = None,
    n_boot: int = 200,
    ci_level: float = 0.95,
    random_state: RandomState = 0,
    progress: Progress | None = None,
) -> BootstrapResult:
    """Percentile bootstrap confidence intervals of one or more metrics.

    Draws ``n_boot`` resamples (of patients when ``patient_ids`` is given,
    otherwise of rows), computes each metric on each resample and reports the
    ``(1 - ci_level)/2`` and ``(1 + ci_level)/2`` percentiles of the
    replicates; where the estimate lies outside them, the bound on its side is
    moved to the estimate, so every interval contains its estimate
    (:data:`CI_METHOD`, module docstring). Replicates where a metric is undefined (it returns NaN or
    raises :class:`~clinai.exceptions.DataError`, e.g. a resample with one
    class) are skipped and counted. This package's metrics
    (:func:`auroc_score`, :func:`average_precision_score`, :func:`brier_score`,
    :func:`scaled_brier_score`, :func:`calibration_intercept`,
    :func:`calibration_slope`, :func:`oe_ratio`) are computed for all
    resamples at once; any other callable ``metric(y_true, y_prob) -> float``
    is called once per resample.

    Parameters
    ----------
    {y_true}
    {y_prob}
    metric : callable or mapping of str to callable
        ``metric(y_true, y_prob) -> float``, or several by name. A single
        callable is reported under its ``__name__``.
    patient_ids : array-like of shape (n,), optional
        Patient of each row; when given, patients are resampled, not rows.
    n_boot : int, default=200
        Number of resamples (0: no intervals).
    {ci_level}
    random_state : int, numpy.random.Generator or None, default=0
        Seed of the :class:`numpy.random.Generator`; the same seed gives the
        same numbers.
    progress : callable, optional
        Called as ``progress(done, total)`` as replicates complete (e.g. to
        advance a progress bar).

    Returns
    -------
    BootstrapResult
        Estimates with intervals, the replicates and the skipped counts.

    Raises
    ------
    DataError
        On invalid or one-class input, invalid ``patient_ids``, ``n_boot`` or
        ``ci_level``, or a metric that does not return one number.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(size=200)
    >>> y = rng.binomial(1, p)
    >>> result = bootstrap(y, p, metric=auroc_score, n_boot=50, random_state=1)
    >>> est = result["auroc_score"]
    >>> bool(est.ci_low <= est.estimate <= est.ci_high)
    True
    """
    y, p = check_y(y_true, y_prob)
    n_boot = check_n_boot(n_boot)
    level = check_ci_level(ci_level)
    clusters = clusters_of(patient_ids, y.shape[0])
    metrics: dict[str, Callable[..., Any]]
    if callable(metric) and not isinstance(metric, Mapping):
        metrics = {str(getattr(metric, "__name__", "metric")): metric}
    else:
        metrics = dict(metric)
    estimates_raw: dict[str, float] = {}
    for name, fn in metrics.items():
        value = np.asarray(fn(y, p), dtype="float64")
        if value.size != 1:
            raise DataError(NOT_SCALAR_MSG.format(name=name, shape=value.shape))
        estimates_raw[name] = float(value.reshape(()))
    weighted: dict[str, WeightedMetric] = {}
    resampled: dict[str, ResampledMetric] = {}
    for name, fn in metrics.items():
        fast = _vectorised(fn)
        if fast is None:
            resampled[name] = fn
        else:
            weighted[name] = fast
    replicates = run_replicates(
        y,
        p,
        weighted=weighted,
        resampled=resampled,
        shapes={name: () for name in metrics},
        clusters=clusters,
        n_boot=n_boot,
        rng=np.random.default_rng(random_state),
        progress=progress,
    )
    estimates: dict[str, Estimate] = {}
    n_skipped: dict[str, int] = {}
    for name in metrics:
        low, high, _ = contained_interval(replicates[name], estimates_raw[name], level)
        estimates[name] = Estimate(estimates_raw[name], float(low), float(high))
        n_skipped[name] = n_undefined(replicates[name])
    return BootstrapResult(
        estimates=estimates,
        replicates={name: replicates[name] for name in metrics},
        n_boot=n_boot,
        n_skipped=n_skipped,
        ci_level=level,
    )

"""The resampling engine that every concern of :mod:`clinai.evaluation` shares.

Its names are the interface between the concerns (validation, comparison,
fairness, survival, monitoring) and the resampling: the units drawn
(:class:`Clusters`), the draws (:func:`weight_chunks`, :func:`run_replicates`)
and the intervals (:func:`contained_interval`). The concerns import this module
and call ``engine.<name>``, so every use of the engine reads as one. Users call
:func:`clinai.evaluation.bootstrap`; this module is not part of the user API.

Procedure (DESIGN.md, "Definitions"):

1. Draw ``n_boot`` resamples. Without ``patient_ids`` each resample draws
   ``n`` rows with replacement. With ``patient_ids`` it draws as many patients
   as there are with replacement and takes *every* row of each drawn patient
   (cluster bootstrap), so the rows of one patient never count as independent.
2. Compute the metric on each resample. A resample where the metric is
   undefined (typically one with a single outcome class) is skipped and
   counted in ``n_skipped``.
3. The interval at level ``ci_level`` is the ``(1 - ci_level)/2`` and
   ``(1 + ci_level)/2`` percentiles of the remaining replicates (numpy's
   linear interpolation): the percentile bootstrap interval (Efron &
   Tibshirani 1993, ch. 13).
4. The interval always contains its estimate (:data:`CI_METHOD`). When the
   estimate lies outside the percentile interval, that is in the outer
   ``(1 - ci_level)/2`` of its own replicates, the bound on the estimate's
   side is moved to the estimate, or, for a metric with a natural lower bound
   whose estimate lies below its replicates (0 for ICI, E50 and E90), to that
   bound; such intervals are listed in ``metrics.json``'s ``ci_extended``.
   Every interval of ``metrics.json`` follows this rule through
   :func:`contained_interval`: :func:`bootstrap`, :func:`evaluate_predictions`
   (scalars, ICI/E50/E90, curve band, threshold metrics), subgroups, fairness
   tables and disparities, the baseline comparison, operating points and
   mitigation; ``ci_extended`` lists the moved bounds of the first two.

Why not BC or BCa (Efron 1987; Efron & Tibshirani 1993, ch. 14; DiCiccio &
Efron 1996). With ``z0 = Phi^-1(share of replicates below the estimate)``, the
BCa bounds are the replicates' quantiles at
``Phi(z0 + (z0 + z) / (1 - a (z0 + z)))`` for ``z = z_{alpha/2}, z_{1-alpha/2}``;
the estimate lies at quantile ``Phi(z0)``, so it is inside the BCa interval
exactly when ``|z0| <= z_{1-alpha/2}``, whatever the acceleration ``a``: the
same condition as for the percentile interval. Where the percentile interval
excludes its estimate, BC and BCa exclude it too, from the other side, and
rest on the most extreme replicates: for ``|mean(u) - 0.5|`` of 60 uniform
draws (true value 0, on the boundary) with the estimate 0.0004,
``scipy.stats.bootstrap`` gives the percentile interval 0.0012-0.0850 and the
BCa interval 0.00006-0.00019 (tested, with the identity over 30 samples). The
same on a perfectly calibrated model's E90 of 0.0124 (300 rows): percentile
0.0207-0.1230, here 0-0.1230. This happens for ICI, E50 and E90 of a
well-calibrated model: nonnegative statistics whose estimates sit on a
positive noise floor, and whose true value (0 for a perfectly calibrated
model) lies on the boundary of the parameter space, where the bootstrap is not
consistent (Andrews, Econometrica 2000;68:399-405). An estimate below nearly
all of its replicates is within that noise floor, so the interval reaches
down to 0; its upper bound stays the percentile bound, conservative there
because the replicates are biased upwards. For every other metric the rule
changes nothing unless its estimate is in the tail of its replicates (a
small sample, a discrete statistic), and then only the one bound.
Limitation: where the estimate of ICI, E50 or E90 is inside its percentile
interval, the lower bound stays above 0 even for a perfectly calibrated
model; deciding when it should reach 0 needs a test of perfect calibration
(e.g. a bootstrap of ``y ~ Bernoulli(p)``), not done here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from clinai.evaluation._inputs import check_patient_ids
from clinai.exceptions import DataError

__all__ = [
    "CI_METHOD",
    "Clusters",
    "Progress",
    "RandomState",
    "ResampledMetric",
    "WeightedMetric",
    "clusters_of",
    "contained_interval",
    "n_undefined",
    "percentile_interval",
    "run_replicates",
    "seed_sequence",
    "weight_chunks",
]

RandomState = int | np.random.Generator | np.random.SeedSequence | None
WeightedMetric = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
ResampledMetric = Callable[[np.ndarray, np.ndarray], Any]
Progress = Callable[[int, int], None]

#: The interval method, as ``metrics.json`` records it (``ci_method``): percentile
#: intervals, a bound moved to the estimate (or to the metric's lower bound) where the
#: estimate lies outside its percentile interval.
CI_METHOD = "percentile, extended to contain the estimate"

#: Largest number of matrix cells (replicates x rows) held at once.
_MAX_CELLS = 2_000_000


@dataclass(frozen=True, eq=False)
class Clusters:
    """The units a bootstrap draws: patients when they have several rows, else rows.

    Attributes
    ----------
    codes : numpy.ndarray of shape (n_rows,)
        Each row's unit, ``0 .. n - 1`` (the row itself when rows are the units).
    n : int
        Number of units.
    by_patient : bool
        Whether the units are patients (``patient_ids`` were given).
    """

    codes: np.ndarray
    n: int
    by_patient: bool

    @property
    def patient_codes(self) -> np.ndarray | None:
        """Each row's patient code; None when rows are the units."""
        return self.codes if self.by_patient else None

    def take(self, rows: np.ndarray) -> Clusters:
        """Return the units of ``rows`` (a reordering: the number of units stays)."""
        return Clusters(self.codes[rows], self.n, self.by_patient)


def clusters_of(patient_ids: Any, n: int) -> Clusters:
    """Return the resampling units of ``n`` rows (each row its own unit without ids)."""
    if patient_ids is None:
        return Clusters(np.arange(n, dtype=np.intp), n, by_patient=False)
    codes = check_patient_ids(patient_ids, n)
    return Clusters(codes, int(codes.max()) + 1 if n else 0, by_patient=True)


def _chunk_size(n: int, n_clusters: int, n_boot: int) -> int:
    return max(1, min(n_boot, _MAX_CELLS // max(n, n_clusters, 1)))


def weight_chunks(
    clusters: Clusters, n_boot: int, rng: np.random.Generator
) -> Iterator[np.ndarray]:
    """Yield resampling counts per row, as float64 arrays of shape (chunk, n).

    Each replicate draws ``clusters.n`` units uniformly with replacement; a row's
    count is the number of times its unit was drawn.
    """
    codes, n_clusters = clusters.codes, clusters.n
    chunk = _chunk_size(codes.shape[0], n_clusters, n_boot)
    done = 0
    while done < n_boot:
        size = min(chunk, n_boot - done)
        draws = rng.integers(0, n_clusters, size=(size, n_clusters))
        offsets = (np.arange(size) * n_clusters)[:, None]
        counts = np.bincount((draws + offsets).ravel(), minlength=size * n_clusters)
        counts = counts.reshape(size, n_clusters)
        yield counts[:, codes].astype("float64")
        done += size


def seed_sequence(random_state: RandomState) -> np.random.SeedSequence:
    """Return ``random_state`` as a seed sequence (a generator draws one seed)."""
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(int(random_state.integers(2**63)))
    return np.random.SeedSequence(random_state)


def run_replicates(
    y: np.ndarray,
    p: np.ndarray,
    *,
    weighted: Mapping[str, WeightedMetric],
    resampled: Mapping[str, ResampledMetric],
    shapes: Mapping[str, tuple[int, ...]],
    clusters: Clusters,
    n_boot: int,
    rng: np.random.Generator,
    progress: Progress | None,
) -> dict[str, np.ndarray]:
    """Compute every metric on every resample.

    Returns
    -------
    dict of numpy.ndarray
        Per metric an array of shape ``(n_boot, *shape)``; NaN where undefined
        (the metric returned NaN or raised :class:`DataError`).
    """
    parts: dict[str, list[np.ndarray]] = {name: [] for name in [*weighted, *resampled]}
    rows = np.arange(y.shape[0])
    done = 0
    if progress is not None:
        progress(0, n_boot)
    for weights in weight_chunks(clusters, n_boot, rng):
        for name, weighted_metric in weighted.items():
            values = np.asarray(weighted_metric(y, p, weights), dtype="float64")
            parts[name].append(values.reshape(weights.shape[0], *shapes[name]))
        if not resampled:
            done += weights.shape[0]
            if progress is not None:
                progress(done, n_boot)
            continue
        for row in weights:
            index = np.repeat(rows, row.astype(np.intp))
            y_b, p_b = y[index], p[index]
            for name, metric in resampled.items():
                try:
                    value = np.asarray(metric(y_b, p_b), dtype="float64")
                except DataError:
                    value = np.full(shapes[name], np.nan)
                parts[name].append(value.reshape(1, *shapes[name]))
            done += 1
            if progress is not None:
                progress(done, n_boot)
    return {
        name: (np.concatenate(chunks, axis=0) if chunks else np.empty((0, *shapes[name])))
        for name, chunks in parts.items()
    }


def percentile_interval(replicates: np.ndarray, ci_level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of each column, ignoring non-finite replicates (NaN if none)."""
    tail = 100.0 * (1.0 - ci_level) / 2.0
    shape = replicates.shape[1:]
    flat = replicates.reshape(replicates.shape[0], math.prod(shape))
    low = np.full(flat.shape[1], np.nan)
    high = np.full(flat.shape[1], np.nan)
    for j in range(flat.shape[1]):
        column = flat[:, j]
        column = column[np.isfinite(column)]
        if column.shape[0]:
            low[j], high[j] = np.percentile(column, [tail, 100.0 - tail])
    return low.reshape(shape), high.reshape(shape)


def contained_interval(
    replicates: np.ndarray,
    estimate: Any,
    ci_level: float,
    *,
    lower_bound: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Percentile interval of each column, extended where it excludes the estimate.

    Parameters
    ----------
    replicates : numpy.ndarray of shape (n_boot, *shape)
        Bootstrap replicates; non-finite values are ignored.
    estimate : array-like of shape ``shape``
        Full-sample estimates.
    ci_level : float
        Confidence level.
    lower_bound : float, optional
        Smallest value the metric can take (0 for ICI, E50 and E90). An
        estimate below its percentile interval then gets this lower end
        instead of the estimate itself (see the module docstring).

    Returns
    -------
    low, high : numpy.ndarray of shape ``shape``
        The bounds; NaN where there are no finite replicates.
    extended : numpy.ndarray of bool, shape ``shape``
        Where a bound was moved; never where the estimate or a bound is NaN.
    """
    low, high = percentile_interval(replicates, ci_level)
    point = np.broadcast_to(np.asarray(estimate, dtype="float64"), low.shape)
    known = np.isfinite(point) & np.isfinite(low) & np.isfinite(high)
    below = known & (point < low)
    above = known & (point > high)
    floor = point if lower_bound is None else np.minimum(point, float(lower_bound))
    low = np.where(below, floor, low)
    high = np.where(above, point, high)
    return low, high, below | above


def n_undefined(replicates: np.ndarray) -> int:
    """Replicates in which every value of the metric is undefined."""
    flat = replicates.reshape(replicates.shape[0], math.prod(replicates.shape[1:]))
    if flat.shape[1] == 0:
        return 0
    return int((~np.isfinite(flat)).all(axis=1).sum())

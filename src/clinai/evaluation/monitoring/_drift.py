"""Data drift against the development data: PSI, KS, Wasserstein-1 and missingness from fixed bins.

The development (reference) data are summarised once, at training, into aggregated
bins (:func:`drift_reference`); no row is kept. A monitoring period is counted into
the same bins (:func:`count_bins`, additive, so a period can be counted in chunks
and the counts summed) and compared with the reference (:func:`feature_drift`).

Definitions, per feature (non-missing values; missingness is reported on its own):

- **Bins.** A numeric feature's inner edges are the reference's percentiles
  ``100 k / n_bins`` (``k = 1 .. n_bins - 1``; the 1st to 99th percentile by
  default) together with its deciles, made unique; a value ``x`` lies in bin
  ``k`` when ``edge[k-1] <= x < edge[k]``, the first bin being everything below
  the first edge and the last everything from the last edge on.
- **PSI** (population stability index; Yurdakul, 2018, "Statistical properties of
  population stability index"; Siddiqi, *Credit Risk Scorecards*, 2006):
  ``PSI = sum_i (c_i - r_i) ln(c_i / r_i)`` over the reference's deciles (the
  percentile bins aggregated), with ``c_i`` and ``r_i`` the current and
  reference shares. A categorical feature uses its levels instead. Empty bins
  get the share :data:`PSI_FLOOR`. Rules of thumb: below 0.1 stable, 0.1-0.25
  moderate shift, above 0.25 major shift.
- **KS** (two-sample Kolmogorov-Smirnov statistic): ``max |F_cur - F_ref|``,
  here evaluated at the reference's edges, ``F(e) = share of values below e``.
  It is the exact statistic restricted to those points, so at most the
  statistic of :func:`scipy.stats.ks_2samp` (tested: within 0.01 of it on
  large continuous samples).
- **Wasserstein-1** (earth mover's distance): ``integral |F_cur(x) - F_ref(x)| dx``,
  here a binned approximation. Between the first and the last edge both CDFs
  are known at the edges and taken as linear in between. Below the first and
  beyond the last edge, ``integral F`` over a tail is ``share x (edge - tail mean)``,
  so each tail's signed integral is exact from the tail's share and mean (the
  current data's tail sums are counted alongside the bins); its absolute value
  is the tail's contribution, exact when the two CDFs do not cross there. Where
  the reference's tail has fewer than ``min_cell`` rows its mean is not stored
  and the tail adds nothing. Against :func:`scipy.stats.wasserstein_distance`
  on 200,000 rows each (normal and log-normal, shifted and rescaled): within
  0.5% of the exact value, and within sampling noise without a shift (tested
  with a tolerance of 1% of the exact value plus 0.005 reference standard
  deviations).
- **Missingness:** the share of missing values in reference and current data,
  and ``missing_change = missing_current - missing_reference`` (a rise is positive).

Categorical features: the level shares of the reference, levels with fewer than
``min_cell`` rows merged into :data:`OTHER_LEVEL`; levels not seen in the
reference are counted as :data:`OTHER_LEVEL` in current data. KS and
Wasserstein are not defined for them (``None``).

The counting is vectorised (a lookup grid or :func:`numpy.searchsorted`, then
:func:`numpy.bincount`, per feature; a categorical column is factorised first, so
its levels are matched once per distinct value), with no per-row Python.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from clinai.evaluation._estimate import _num
from clinai.evaluation.monitoring._drift_reference import (
    _CATEGORICAL,
    RISK_KEY,
    DriftReference,
    FeatureReference,
    count_bins,
)
from clinai.exceptions import DataError

__all__ = [
    "PSI_FLOOR",
    "DriftResult",
    "FeatureDrift",
    "feature_drift",
    "feature_drift_frame",
]

#: Share given to an empty bin in PSI. ``ln(c / r)`` is infinite when a bin is
#: empty in either sample; 1e-4 (one row in 10,000) keeps one empty decile's term
#: finite and of the size of a major shift (``0.1 ln(0.1 / 1e-4)`` = 0.69), and is
#: the floor commonly used in credit scoring and by monitoring tools.
PSI_FLOOR = 1e-4
FEATURES_MISSING_MSG = (
    "the current data lack {count} feature(s) of the drift reference: {names}: "
    "pass every input column the model was trained on"
)
COUNTS_LENGTH_MSG = (
    "counts of feature {feature!r} have {got} entries but the reference needs {expected}: "
    "count them with count_bins() against the same reference"
)


@dataclass(frozen=True)
class FeatureDrift:
    """Drift of one feature (or of the predicted risk) in one period.

    Attributes
    ----------
    feature, kind : str
        Feature name and ``"numeric"`` or ``"categorical"``.
    psi : float
        Population stability index over the reference deciles (levels); NaN
        when either sample has no non-missing value.
    ks, wasserstein : float
        Binned KS statistic and Wasserstein-1 distance (NaN for categorical).
    missing_reference, missing_current, missing_change : float
        Missing shares and their difference (current minus reference).
    mean_reference, mean_current : float
        Means of the non-missing values (NaN for categorical).
    n : int
        Rows counted in the period.
    """

    feature: str
    kind: str
    psi: float
    ks: float
    wasserstein: float
    missing_reference: float
    missing_current: float
    missing_change: float
    mean_reference: float = math.nan
    mean_current: float = math.nan
    n: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return the feature's drift as plain JSON values (``None`` where undefined).

        Keys: ``feature, kind, psi, ks, wasserstein, missing_reference,
        missing_current, missing_change``.
        """
        return {
            "feature": self.feature,
            "kind": self.kind,
            **{
                name: _num(getattr(self, name))
                for name in (
                    "psi",
                    "ks",
                    "wasserstein",
                    "missing_reference",
                    "missing_current",
                    "missing_change",
                )
            },
        }

    def risk_dict(self) -> dict[str, float | None]:
        """Return ``{psi, ks, wasserstein, mean_reference, mean_current}`` (the risk's drift)."""
        names = ("psi", "ks", "wasserstein", "mean_reference", "mean_current")
        return {name: _num(getattr(self, name)) for name in names}


@dataclass(frozen=True)
class DriftResult:
    """Drift of every feature, and of the predicted risk, in one period.

    Attributes
    ----------
    features : tuple of FeatureDrift
        In the reference's feature order.
    risk : FeatureDrift or None
        Drift of the predicted risk (when both the reference and the period have it).
    """

    features: tuple[FeatureDrift, ...]
    risk: FeatureDrift | None = None

    def measurements(self) -> dict[str, float | None]:
        """Return the plan's drift metrics for :func:`period_verdict`.

        ``psi`` (the largest feature PSI), ``missing_change`` (the largest rise in a
        missing share), ``risk_psi`` and ``psi.<feature>`` for every feature.
        """
        psi = [f.psi for f in self.features if math.isfinite(f.psi)]
        change = [f.missing_change for f in self.features if math.isfinite(f.missing_change)]
        out: dict[str, float | None] = {
            "psi": max(psi) if psi else None,
            "missing_change": max(change) if change else None,
            "risk_psi": None if self.risk is None else _num(self.risk.psi),
        }
        out.update({f"psi.{f.feature}": _num(f.psi) for f in self.features})
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"features": [...], "risk": ... | None}``.

        ``risk`` holds ``psi, ks, wasserstein, mean_reference, mean_current``.
        """
        return {
            "features": [f.to_dict() for f in self.features],
            "risk": None if self.risk is None else self.risk.risk_dict(),
        }


def _psi(current: np.ndarray, reference: np.ndarray) -> float:
    c = np.maximum(current, PSI_FLOOR)
    r = np.maximum(reference, PSI_FLOOR)
    return float(np.sum((c - r) * np.log(c / r)))


def _decile_groups(ref: FeatureReference) -> np.ndarray:
    """Decile of each bin: bin 0 is below every edge, bin k starts at ``edges[k - 1]``."""
    return np.concatenate([[0], np.searchsorted(ref.decile_edges, ref.edges, side="right")])


def _abs_integral(d: np.ndarray, widths: np.ndarray) -> float:
    """Integral of ``|d(x)|`` with ``d`` linear between the edges (exact where it changes sign)."""
    a, b = d[:-1], d[1:]
    same = a * b >= 0
    total = np.abs(a) + np.abs(b)
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = np.where(total > 0, (a * a + b * b) / (2 * total), 0.0)
    return float(np.sum(np.where(same, total / 2, crossing) * widths))


def _tails(ref: FeatureReference, bins: np.ndarray, tail_sums: np.ndarray) -> float:
    """``|integral (F_cur - F_ref)|`` below the first and beyond the last edge.

    ``integral_{-inf}^{e} F(x) dx = s (e - m)`` for a tail below ``e`` with share ``s``
    and mean ``m`` (and likewise above), so each tail's signed integral is exact;
    its absolute value is the tail's Wasserstein contribution when the CDFs do not
    cross there. A tail whose reference mean is withheld (fewer than ``min_cell``
    rows) adds nothing.
    """
    if ref.edges.size == 0:
        return 0.0
    observed = bins.sum()
    current_share = bins[[0, -1]] / observed
    reference_share = ref.shares[[0, -1]]
    total = 0.0
    for side, edge in ((0, ref.edges[0]), (1, ref.edges[-1])):
        ref_mean = ref.tail_means[side]
        if not math.isfinite(ref_mean):
            continue
        count = bins[0] if side == 0 else bins[-1]
        cur_mean = tail_sums[side] / count if count else edge
        total += abs(
            current_share[side] * (edge - cur_mean) - reference_share[side] * (edge - ref_mean)
        )
    return total


def _numeric_statistics(ref: FeatureReference, counts: np.ndarray) -> tuple[float, ...]:
    """PSI, KS, Wasserstein-1 and the current mean of a numeric feature's counts."""
    k = ref.edges.shape[0] + 1
    bins, total, tail_sums = counts[:k], counts[k + 1], counts[k + 2 : k + 4]
    observed = bins.sum()
    if observed == 0 or ref.shares.sum() == 0:
        return math.nan, math.nan, math.nan, math.nan
    current = bins / observed
    groups = _decile_groups(ref)
    size = int(groups.max()) + 1
    psi = _psi(
        np.bincount(groups, current, minlength=size),
        np.bincount(groups, ref.shares, minlength=size),
    )
    # F(e_j): share below edge j = cumulative share of the bins before it.
    diff = np.cumsum(current - ref.shares)[:-1]
    ks = float(np.max(np.abs(diff))) if diff.size else 0.0
    wasserstein = _abs_integral(diff, np.diff(ref.edges)) if diff.size > 1 else 0.0
    wasserstein += _tails(ref, bins, tail_sums)
    return psi, ks, wasserstein, total / observed


def _categorical_statistics(ref: FeatureReference, counts: np.ndarray) -> tuple[float, ...]:
    """PSI over the levels (KS, Wasserstein and the mean are undefined)."""
    cells = counts[:-1]
    observed = cells.sum()
    psi = _psi(cells / observed, ref.shares) if observed > 0 and ref.shares.sum() > 0 else math.nan
    return psi, math.nan, math.nan, math.nan


def _drift_one(ref: FeatureReference, counts: Any) -> FeatureDrift:
    array = np.asarray(counts, dtype="float64")
    if array.shape != (ref.n_cells,):
        raise DataError(
            COUNTS_LENGTH_MSG.format(feature=ref.feature, got=array.size, expected=ref.n_cells)
        )
    categorical = ref.kind == _CATEGORICAL
    n_missing_at = len(ref.levels) if categorical else ref.edges.shape[0] + 1
    n_missing = array[n_missing_at]
    n = array[:n_missing_at].sum() + n_missing
    missing = n_missing / n if n else math.nan
    statistics = _categorical_statistics if categorical else _numeric_statistics
    psi, ks, wasserstein, mean_current = statistics(ref, array)
    shares = (ref.missing_share, missing, missing - ref.missing_share)
    return FeatureDrift(
        ref.feature, ref.kind, psi, ks, wasserstein, *shares, ref.mean, mean_current, int(n)
    )


def feature_drift(reference: DriftReference, counts: Mapping[str, Any]) -> DriftResult:
    """Compare a period's counts with the reference: PSI, KS, Wasserstein-1 and missingness.

    Parameters
    ----------
    reference : DriftReference
        From :func:`drift_reference`.
    counts : mapping of str to numpy.ndarray
        :func:`count_bins` of every reference feature over the period (summed over
        chunks); the predicted risk's counts under :data:`RISK_KEY`, if any.

    Returns
    -------
    DriftResult
        Per feature, and for the risk when counted.

    Raises
    ------
    DataError
        When a reference feature has no counts, a counted feature is not in the
        reference, or a count array does not fit its feature's bins.
    """
    missing = [name for name in reference.names if name not in counts]
    if missing:
        raise DataError(
            FEATURES_MISSING_MSG.format(count=len(missing), names=", ".join(missing[:10]))
        )
    for name in counts:
        if name != RISK_KEY:
            reference.get(name)
    features = tuple(_drift_one(ref, counts[ref.feature]) for ref in reference.features)
    risk = None
    if reference.risk is not None and RISK_KEY in counts:
        risk = _drift_one(reference.risk, counts[RISK_KEY])
    return DriftResult(features, risk)


def feature_drift_frame(
    reference: DriftReference, frame: pd.DataFrame, *, risk: Any = None
) -> DriftResult:
    """Drift of a whole period held in memory: :func:`count_bins` then :func:`feature_drift`.

    Parameters
    ----------
    reference : DriftReference
        From :func:`drift_reference`.
    frame : pandas.DataFrame
        The period's rows with (at least) every reference feature as a column.
    risk : array-like of shape (n,), optional
        The period's predicted risks.

    Returns
    -------
    DriftResult

    Raises
    ------
    DataError
        When ``frame`` lacks a reference feature.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from clinai.evaluation.monitoring import drift_reference
    >>> rng = np.random.default_rng(0)
    >>> ref = drift_reference(pd.DataFrame({"x": rng.normal(size=5000)}))
    >>> same = feature_drift_frame(ref, pd.DataFrame({"x": rng.normal(size=5000)}))
    >>> bool(same.features[0].psi < 0.01)
    True
    """
    missing = [name for name in reference.names if name not in frame.columns]
    if missing:
        raise DataError(
            FEATURES_MISSING_MSG.format(count=len(missing), names=", ".join(missing[:10]))
        )
    counts = {name: count_bins(reference, name, frame[name]) for name in reference.names}
    if risk is not None and reference.risk is not None:
        counts[RISK_KEY] = count_bins(reference, RISK_KEY, risk)
    return feature_drift(reference, counts)

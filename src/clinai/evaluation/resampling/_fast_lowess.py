"""The binned LOWESS of the fast bootstrap: ICI, E50, E90 and the curve of each replicate.

Step 3 of :mod:`clinai.evaluation.resampling._fast_bootstrap` (a documented approximation):
the rows are grouped in bins of equal size along ``p``, and each replicate's smooth is
computed at the LOWESS fit points from the bins' resampled counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from clinai.evaluation.calibration._calibration import LOWESS_DELTA_FRACTION

__all__ = ["LOWESS_BINS"]

#: Largest number of bins (per class) of the binned LOWESS of the replicates.
LOWESS_BINS = 2_000
#: Smallest number of rows per bin of the binned LOWESS.
_MIN_ROWS_PER_BIN = 10


@dataclass
class _Lowess:
    """Fixed quantities of the binned LOWESS of the replicates."""

    constant: bool
    fit_points: np.ndarray
    curve_index: np.ndarray
    edges1: np.ndarray
    edges0: np.ndarray
    mean_p: np.ndarray
    kernel_t: np.ndarray
    moments: np.ndarray
    interp_index: np.ndarray
    interp_weight: np.ndarray


def _prepare_lowess(p1: np.ndarray, p0: np.ndarray, curve_grid: np.ndarray, frac: float) -> _Lowess:
    """Bins, fit points, neighbourhood radii and kernel weights of the binned LOWESS."""
    ps = np.sort(np.concatenate([p1, p0]))
    n = ps.shape[0]
    low, high = float(ps[0]), float(ps[-1])
    empty = np.zeros(0)
    if high == low:
        return _Lowess(True, np.array([low]), np.zeros(1, np.intp), *(empty,) * 7)
    n_delta = round(1.0 / LOWESS_DELTA_FRACTION) + 1
    fit_points = np.unique(np.concatenate([np.linspace(low, high, n_delta), curve_grid]))
    curve_index = np.searchsorted(fit_points, curve_grid)
    # neighbourhood of each fit point: the k nearest rows, found like statsmodels'
    # lowess (slide the window right while the point is past the window's midpoint)
    k = min(max(int(frac * n + 1e-10), 2), n)
    if k < n:
        mids = (ps[: n - k] + ps[k:]) / 2.0
        left = np.searchsorted(mids, fit_points, side="left")
    else:
        left = np.zeros(fit_points.shape[0], dtype=np.intp)
    radius = np.maximum(fit_points - ps[left], ps[left + k - 1] - fit_points)
    # bins of equal size along p, shared by both classes (each class cut at the same p)
    n_bins = max(1, min(LOWESS_BINS, n // _MIN_ROWS_PER_BIN))
    cuts = ps[(np.arange(1, n_bins) * n) // n_bins]
    edges1 = np.concatenate([[0], np.searchsorted(p1, cuts, side="left"), [p1.shape[0]]])
    edges0 = np.concatenate([[0], np.searchsorted(p0, cuts, side="left"), [p0.shape[0]]])
    bounds = np.concatenate([[low], cuts, [high]])
    means = []
    squares = []
    for sorted_p, edges in ((p1, edges1), (p0, edges0)):
        counts = np.diff(edges).astype("float64")
        cum = np.concatenate([[0.0], np.cumsum(sorted_p)])
        cum2 = np.concatenate([[0.0], np.cumsum(sorted_p * sorted_p)])
        centre = (bounds[:-1] + bounds[1:]) / 2.0
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.where(counts > 0, np.diff(cum[edges]) / counts, centre)
            square = np.where(counts > 0, np.diff(cum2[edges]) / counts, centre * centre)
        means.append(mean)
        squares.append(square)
    mean_p = np.concatenate(means)
    mean_p2 = np.concatenate(squares)
    is_event = np.concatenate([np.ones(n_bins), np.zeros(n_bins)])
    u = np.abs(mean_p[None, :] - fit_points[:, None]) / radius[:, None]
    kernel = np.where(u < 1.0, (1.0 - u**3) ** 3, 0.0)
    moments = np.stack([np.ones_like(mean_p), mean_p, mean_p2, is_event, is_event * mean_p])
    j = np.clip(np.searchsorted(fit_points, mean_p, side="right") - 1, 0, fit_points.shape[0] - 2)
    span = fit_points[j + 1] - fit_points[j]
    weight = np.clip((mean_p - fit_points[j]) / span, 0.0, 1.0)
    return _Lowess(
        False,
        fit_points,
        curve_index,
        edges1,
        edges0,
        mean_p,
        np.ascontiguousarray(kernel.T),
        moments,
        j,
        weight,
    )


def _weighted_quantiles(
    values: np.ndarray, weights: np.ndarray, total: np.ndarray, qs: Sequence[float]
) -> list[np.ndarray]:
    """Numpy's linear quantiles of rows repeated ``weights`` times (one row per replicate)."""
    order = np.argsort(values, axis=1, kind="stable")
    sorted_values = np.take_along_axis(values, order, axis=1)
    cum = np.cumsum(np.take_along_axis(weights, order, axis=1), axis=1)
    out = []
    for q in qs:
        position = q * (total - 1.0)
        below = np.floor(position)
        fraction = position - below
        # the value of order statistic j (0-based) is the first bin whose cumulative count > j
        first = np.minimum((cum <= below[:, None]).sum(axis=1), values.shape[1] - 1)
        second = np.minimum((cum <= below[:, None] + 1.0).sum(axis=1), values.shape[1] - 1)
        v1 = np.take_along_axis(sorted_values, first[:, None], axis=1)[:, 0]
        v2 = np.take_along_axis(sorted_values, second[:, None], axis=1)[:, 0]
        out.append(v1 + fraction * (v2 - v1))
    return out


def _lowess_replicates(
    lowess: _Lowess,
    at1: np.ndarray,
    at0: np.ndarray,
    total: np.ndarray,
    events: np.ndarray,
    p_const: float,
) -> np.ndarray:
    """ICI, E50, E90 and the curve of each replicate from its cumulative class counts.

    ``at1`` and ``at0``: each class's running counts at the bins' edges
    (``lowess.edges1`` and ``edges0``), one row per replicate.
    """
    size = at1.shape[0]
    n_curve = lowess.curve_index.shape[0]
    if lowess.constant:
        rate = events / total
        error = np.abs(p_const - rate)
        curve = np.clip(rate, 0.0, 1.0)[:, None] * np.ones((1, n_curve))
        return np.column_stack([error, error, error, curve])
    # column-major, as numpy's gathers c1[:, edges] gave them: the row sums below (the
    # ICI's) then add in the same order, so the same bits whichever path drew the chunk
    at1, at0 = np.asfortranarray(at1), np.asfortranarray(at0)
    w1 = (at1[:, 1:] - at1[:, :-1]).astype("float64")
    w0 = (at0[:, 1:] - at0[:, :-1]).astype("float64")
    weights = np.concatenate([w1, w0], axis=1)
    stacked = (weights[None, :, :] * lowess.moments[:, None, :]).reshape(-1, weights.shape[1])
    sums = (stacked @ lowess.kernel_t).reshape(5, size, -1)
    a0, a1, a2, b0, b1 = sums
    with np.errstate(divide="ignore", invalid="ignore"):
        xbar = a1 / a0
        ybar = b0 / a0
        spread = np.maximum(a2 / a0 - xbar * xbar, 1e-12)
        smooth = ybar + (lowess.fit_points[None, :] - xbar) * (b1 / a0 - xbar * ybar) / spread
    curve = np.clip(smooth[:, lowess.curve_index], 0.0, 1.0)
    j, a = lowess.interp_index, lowess.interp_weight
    at_bins = (1.0 - a) * smooth[:, j] + a * smooth[:, j + 1]
    error = np.abs(lowess.mean_p[None, :] - at_bins)
    ici = (weights * error).sum(axis=1) / total
    e50, e90 = _weighted_quantiles(error, weights, total, (0.5, 0.9))
    return np.column_stack([ici, e50, e90, curve])


def binned_errors(
    y: np.ndarray, p: np.ndarray, curve_grid: np.ndarray, frac: float
) -> tuple[float, float, float]:
    """ICI, E50 and E90 of the full sample by the replicates' binned LOWESS (every row once).

    The smooth of :func:`_lowess_replicates` with unit counts: the same bins, fit
    points (``curve_grid`` among them) and neighbourhoods as the replicates of the
    same sample, so a point estimate from it sits among its replicates as the exact
    one does among theirs. An approximation of the exact (statsmodels) LOWESS: its
    measured difference is documented where it is used
    (:mod:`clinai.evaluation.validate._period`). About 0.1 s at 850,000 rows (two sorts),
    against 0.7 s for the exact smooth.
    """
    p1 = np.sort(p[y == 1])
    p0 = np.sort(p[y == 0])
    lowess = _prepare_lowess(p1, p0, curve_grid, frac)
    at1 = lowess.edges1.astype(np.int64)[None, :]  # every row once: the sums are the edges
    at0 = lowess.edges0.astype(np.int64)[None, :]
    total = np.array([float(p.shape[0])])
    events = np.array([float(p1.shape[0])])
    found = _lowess_replicates(lowess, at1, at0, total, events, float(lowess.fit_points[0]))
    return float(found[0, 0]), float(found[0, 1]), float(found[0, 2])

"""Calibration intercept and slope of each replicate by a Taylor expansion of the fits.

Step 2 of :mod:`clinai.evaluation.resampling._fast_bootstrap`: the score equations are
expanded around the full-sample fit, their coefficients are columns of the one matrix
product, and a few Newton steps on the polynomial give each replicate's estimate; a
replicate whose linear predictor changes too much is refitted exactly.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from clinai.evaluation.calibration._calibration import _fit_intercept, _fit_slope

if TYPE_CHECKING:
    from clinai.evaluation.resampling._fast_layout import _Layout

#: Taylor order of the calibration fits, and the largest change of the linear
#: predictor each order handles (the neglected term is of order ``d^(K+1) / (K+1)!``:
#: at most ``2.6e-4`` for order 4 and ``4e-6`` for order 3; larger changes are refitted).
_TAYLOR_MAX_CHANGE = {4: 0.5, 3: 0.1}
_NEWTON_STEPS = 12


def _sigmoid_derivatives(eta: np.ndarray) -> list[np.ndarray]:
    """``[sigma, sigma', sigma'', sigma''', sigma'''']`` of the logistic function at ``eta``."""
    from scipy.special import expit

    s = np.asarray(expit(eta), dtype="float64")
    v = s * (1.0 - s)
    return [
        s,
        v,
        v * (1.0 - 2.0 * s),
        v * (1.0 - 6.0 * s + 6.0 * s * s),
        v * (1.0 - 2.0 * s) * (1.0 - 12.0 * s + 12.0 * s * s),
    ]


def _slope_columns(order: int) -> list[tuple[int, int]]:
    return [(k, j) for k in range(1, order + 1) for j in range(k + 2)]


def _solve_intercept(layout: _Layout, sums: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Calibration intercept of each replicate (Taylor-expanded score equation)."""
    cols = layout.columns
    if "int_r" not in cols:
        return _fit_intercept(layout.y, layout.x, weights)
    order = layout.order
    r = sums[:, cols["int_r"]]
    d = [sums[:, cols[f"int_{k}"]] for k in range(1, order + 1)]
    factorial = [math.factorial(k) for k in range(order + 1)]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        delta = r / d[0]
        for _ in range(_NEWTON_STEPS):
            value = r - sum(d[k - 1] * delta**k / factorial[k] for k in range(1, order + 1))
            slope = -sum(
                d[k - 1] * delta ** (k - 1) / factorial[k - 1] for k in range(1, order + 1)
            )
            delta = delta - value / slope
    estimate = layout.a0 + delta
    redo = np.flatnonzero(~np.isfinite(delta) | (np.abs(delta) > _TAYLOR_MAX_CHANGE[order]))
    if redo.shape[0]:
        estimate[redo] = _fit_intercept(layout.y, layout.x, weights[redo])
    return estimate


def _solve_slope(layout: _Layout, sums: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Calibration slope of each replicate (Taylor-expanded score equations, Newton in 2-D)."""
    cols = layout.columns
    if "slope_r" not in cols:
        return _fit_slope(layout.y, layout.x, weights)[1]
    rc = sums[:, cols["slope_r"]]
    rb = sums[:, cols["slope_rx"]]
    order = layout.order
    m = {(k, j): sums[:, cols[f"slope_{k}_{j}"]] for k, j in _slope_columns(order)}
    binom = math.comb
    fact = math.factorial
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        det = m[1, 0] * m[1, 2] - m[1, 1] ** 2
        dc = (m[1, 2] * rc - m[1, 1] * rb) / det
        db = (m[1, 0] * rb - m[1, 1] * rc) / det
        for _ in range(_NEWTON_STEPS):
            uc, ub = rc.copy(), rb.copy()
            jcc = np.zeros_like(rc)
            jcb = np.zeros_like(rc)
            jbb = np.zeros_like(rc)
            for k in range(1, order + 1):
                for j in range(k + 1):
                    coef = binom(k, j) / fact(k)
                    term = coef * dc ** (k - j) * db**j
                    uc -= term * m[k, j]
                    ub -= term * m[k, j + 1]
                    if k - j >= 1:
                        dterm = coef * (k - j) * dc ** (k - j - 1) * db**j
                        jcc -= dterm * m[k, j]
                        jcb -= dterm * m[k, j + 1]
                    if j >= 1:
                        jbb -= coef * j * dc ** (k - j) * db ** (j - 1) * m[k, j + 1]
            det = jcc * jbb - jcb * jcb
            dc = dc - (jbb * uc - jcb * ub) / det
            db = db - (jcc * ub - jcb * uc) / det
    change = np.abs(dc) + np.abs(db) * layout.x_max
    estimate = layout.b0 + db
    redo = np.flatnonzero(~np.isfinite(change) | (change > _TAYLOR_MAX_CHANGE[order]))
    if redo.shape[0]:
        estimate[redo] = _fit_slope(layout.y, layout.x, weights[redo])[1]
    return estimate

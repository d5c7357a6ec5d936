"""A site summary: what one hospital shares for a meta-analysis, without any row-level data.

Each metric is stored as an estimate with its standard error on the scale on which
it is pooled (:data:`~clinai.evaluation.meta.POOLING_SCALES`), so that
:func:`~clinai.evaluation.meta.pool_metric` can combine the sites' summaries
without ever seeing a patient (Debray et al., BMJ 2017;356:i6460, the framework
for the meta-analysis of prediction model performance; Riley et al., BMJ
2016;353:i3140). Definitions:

- **AUROC** on the logit scale: ``logit(A)`` with the standard error
  ``SE(A) / (A (1 - A))`` by the delta method, ``SE(A)`` being DeLong's
  (DeLong et al., Biometrics 1988) or, with ``patient_ids``, Obuchowski's
  clustered one (Biometrics 1997) from :mod:`clinai.evaluation.discrimination`.
- **O/E ratio** on the log scale: ``log(O / E)`` with ``O = sum(y)``,
  ``E = sum(p)`` and ``SE = sqrt((1 - O/N) / O)`` (Debray et al. 2017,
  supplement: ``O`` binomial, ``E`` fixed). With ``patient_ids`` the variance of
  ``O`` is clustered by patient, ``G/(G-1) sum_k (O_k - N_k O/N)^2`` over the
  ``G`` patients (``O_k`` events and ``N_k`` rows of patient ``k``), divided by ``O^2``.
- **Calibration intercept**: ``a`` in ``logit P(y=1) = a + logit(p)`` (offset),
  and **calibration slope**: ``b`` in ``logit P(y=1) = c + b logit(p)``, the
  maximum-likelihood fits of :mod:`clinai.evaluation.calibration`, with the
  model-based standard errors from the inverse Fisher information (those of
  statsmodels' ``GLM(..., family=Binomial()).fit().bse``). With ``patient_ids``
  the cluster-robust sandwich ``H^-1 (sum_k U_k U_k^T) H^-1`` with the small-sample
  factor ``G/(G-1) (N-1)/(N-K)`` (statsmodels' ``cov_type="cluster"``).
- **Counts**: ``n`` and ``events``; below ``min_cell`` rows, events or non-events
  they are withheld (``None``, ``suppressed: true``), and so is every metric, since
  a standard error such as the O/E's would give the event count back.
- **Calibration curve** at fixed risk points: the LOWESS smooth of ``y`` on ``p``
  of :func:`~clinai.evaluation.calibration.lowess_calibration_curve` read at each
  point; ``None`` at a point with fewer than ``min_cell`` predictions on either
  side of it, where the smooth would rest on a handful of patients.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from clinai.evaluation._estimate import FieldsRecord, _num
from clinai.evaluation._inputs import check_min_cell, check_patient_ids, check_y
from clinai.evaluation.calibration._calibration import (
    LOWESS_FRAC,
    _curve_from_fit,
    _fit_intercept,
    _fit_slope,
    _logit_clipped,
    _lowess_fit,
)
from clinai.evaluation.discrimination._delong import auroc_variance
from clinai.evaluation.meta._pooling import POOLING_SCALES
from clinai.exceptions import DataError

__all__ = [
    "CALIBRATION_POINTS",
    "CALIBRATION_POINTS_MSG",
    "SITE_MIN_CELL",
    "SiteMetric",
    "SiteSummary",
    "site_summary",
]

#: The risks at which a site summary reads its calibration curve.
CALIBRATION_POINTS: tuple[float, ...] = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8)
#: Default smallest count a site summary shows (rows, events, non-events).
SITE_MIN_CELL = 10
CALIBRATION_POINTS_MSG = (
    "calibration_points must be increasing risks strictly between 0 and 1; got {value!r}"
)


@dataclass(frozen=True)
class SiteMetric(FieldsRecord):
    """One metric of a site summary, on its pooling scale.

    Attributes
    ----------
    estimate : float
        The estimate on the pooling scale (``logit(AUROC)``, ``log(O/E)``, or the
        calibration intercept or slope as they are); NaN when undefined.
    se : float
        Its standard error on the same scale; NaN when undefined.
    scale : str
        ``"logit"``, ``"log"`` or ``"identity"``.
    suppressed : bool
        True when withheld because a count is below ``min_cell``.
    """

    estimate: float
    se: float
    scale: str
    suppressed: bool = False


@dataclass(frozen=True)
class SiteSummary:
    """What one site shares for a meta-analysis: :func:`site_summary`'s result.

    Attributes
    ----------
    metrics : mapping of str to SiteMetric
        ``auroc``, ``oe_ratio``, ``calibration_intercept``, ``calibration_slope``.
    n, events : int or None
        Rows and events; ``None`` when suppressed.
    suppressed : bool
        True when the counts (and therefore every metric) are withheld.
    min_cell : int
        The smallest count shown.
    points, observed : tuple of float
        The calibration curve: the observed event rate (LOWESS) at each risk
        point; NaN where not estimable.
    patients : int or None
        Distinct patients when ``patient_ids`` were given (``None`` otherwise or
        when suppressed).
    """

    metrics: Mapping[str, SiteMetric]
    n: int | None
    events: int | None
    suppressed: bool
    min_cell: int
    points: tuple[float, ...]
    observed: tuple[float, ...]
    patients: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"metrics", "counts", "calibration_curve"}`` as plain JSON values."""
        return {
            "metrics": {name: metric.to_dict() for name, metric in self.metrics.items()},
            "counts": {
                "n": self.n,
                "events": self.events,
                "n_patients": self.patients,
                "suppressed": self.suppressed,
                "min_cell": self.min_cell,
            },
            "calibration_curve": {
                "method": "lowess",
                "frac": LOWESS_FRAC,
                "points": [
                    {"p": float(p), "observed": _num(o)}
                    for p, o in zip(self.points, self.observed, strict=True)
                ],
            },
        }


def _check_points(points: Any) -> np.ndarray:
    try:
        grid = np.asarray(points, dtype="float64")
    except (TypeError, ValueError) as exc:
        raise DataError(CALIBRATION_POINTS_MSG.format(value=points)) from exc
    if (
        grid.ndim != 1
        or grid.shape[0] == 0
        or not np.all(np.isfinite(grid))
        or np.any(grid <= 0.0)
        or np.any(grid >= 1.0)
        or np.any(np.diff(grid) <= 0.0)
    ):
        raise DataError(CALIBRATION_POINTS_MSG.format(value=points))
    return grid


def _auroc_logit(y: np.ndarray, p: np.ndarray, codes: np.ndarray | None) -> tuple[float, float]:
    """``logit(A)`` and its delta-method SE ``SE(A) / (A (1 - A))``; NaN when undefined."""
    auc, variance = auroc_variance(y, p, codes)
    if not (0.0 < auc < 1.0) or not math.isfinite(variance) or variance <= 0.0:
        return math.nan, math.nan
    return math.log(auc / (1.0 - auc)), math.sqrt(variance) / (auc * (1.0 - auc))


def _log_oe(y: np.ndarray, p: np.ndarray, codes: np.ndarray | None) -> tuple[float, float]:
    """``log(O/E)`` and its SE (Debray et al. 2017; clustered by patient with ``codes``)."""
    observed, expected, n = float(y.sum()), float(p.sum()), y.shape[0]
    if observed == 0.0 or expected == 0.0:
        return math.nan, math.nan
    if codes is None:
        variance = (1.0 - observed / n) / observed
    else:
        o_k = np.bincount(codes, weights=y)
        n_k = np.bincount(codes)
        groups = n_k.shape[0]
        if groups < 2:
            return math.log(observed / expected), math.nan
        spread = float(np.sum((o_k - n_k * observed / n) ** 2))
        variance = groups / (groups - 1) * spread / observed**2
    return math.log(observed / expected), math.sqrt(variance)


def _glm_se(
    y: np.ndarray, design: np.ndarray, eta: np.ndarray, codes: np.ndarray | None
) -> np.ndarray:
    """Return the SEs of a logistic GLM's coefficients at its fitted linear predictor ``eta``.

    Model-based (inverse Fisher information ``(X' W X)^-1``) without ``codes``;
    the cluster-robust sandwich with statsmodels' small-sample factor with them.
    """
    mu = 1.0 / (1.0 + np.exp(-eta))
    information = design.T @ (design * (mu * (1.0 - mu))[:, None])
    try:
        bread = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        return np.full(design.shape[1], np.nan)
    if codes is None:
        covariance = bread
    else:
        scores = design * (y - mu)[:, None]
        groups = int(codes.max()) + 1
        per_cluster = np.vstack(
            [
                np.bincount(codes, weights=scores[:, j], minlength=groups)
                for j in range(design.shape[1])
            ]
        ).T
        if groups < 2:
            return np.full(design.shape[1], np.nan)
        n, k = design.shape
        factor = groups / (groups - 1) * (n - 1) / (n - k)
        covariance = factor * bread @ (per_cluster.T @ per_cluster) @ bread
    diagonal = np.diag(covariance)
    return np.sqrt(np.where(diagonal >= 0.0, diagonal, np.nan))


def _calibration(
    y: np.ndarray, p: np.ndarray, codes: np.ndarray | None
) -> tuple[tuple[float, float], tuple[float, float]]:
    """``((intercept, se), (slope, se))`` of the two calibration fits; NaN when undefined."""
    x = _logit_clipped(p)
    ones = np.ones((1, y.shape[0]))
    a = float(_fit_intercept(y, x, ones)[0])
    intercept = (a, math.nan)
    if math.isfinite(a):
        intercept = (a, float(_glm_se(y, np.ones((y.shape[0], 1)), a + x, codes)[0]))
    c_fit, b_fit = _fit_slope(y, x, ones)
    c, b = float(c_fit[0]), float(b_fit[0])
    slope = (b, math.nan)
    if math.isfinite(b):
        design = np.column_stack([np.ones(y.shape[0]), x])
        slope = (b, float(_glm_se(y, design, c + b * x, codes)[1]))
    return intercept, slope


def _curve(y: np.ndarray, p: np.ndarray, grid: np.ndarray, min_cell: int) -> np.ndarray:
    """Read the LOWESS curve at ``grid``; NaN with under ``min_cell`` predictions on a side."""
    observed = _curve_from_fit(p, _lowess_fit(y, p, LOWESS_FRAC), grid)
    ordered = np.sort(p)
    below = np.searchsorted(ordered, grid, side="right")
    above = ordered.shape[0] - np.searchsorted(ordered, grid, side="left")
    observed[(below < min_cell) | (above < min_cell)] = np.nan
    return observed


def site_summary(
    y_true: Any,
    y_prob: Any,
    *,
    patient_ids: Any = None,
    min_cell: int = SITE_MIN_CELL,
    calibration_points: Sequence[float] = CALIBRATION_POINTS,
) -> SiteSummary:
    """Summarise one site's validation for a meta-analysis, without row-level data.

    The definitions (logit AUROC with DeLong's SE by the delta method, log O/E
    with Debray et al.'s SE, the calibration intercept and slope with their
    model-based SEs, suppressed counts, the calibration curve at fixed risks)
    are in the module docstring.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed outcome, 0 or 1.
    y_prob : array-like of shape (n,)
        Predicted probability of the event.
    patient_ids : array-like of shape (n,), optional
        Patient of each row, when a patient has several rows: every standard
        error is then clustered by patient. Never stored.
    min_cell : int, default=10
        Smallest number of rows, events and non-events shown; below it the
        counts and every metric are withheld.
    calibration_points : sequence of float, default=CALIBRATION_POINTS
        Increasing risks in (0, 1) at which the calibration curve is read.

    Returns
    -------
    SiteSummary
        Metrics on their pooling scales with standard errors, counts and the
        calibration curve.

    Raises
    ------
    DataError
        On invalid or one-class input, invalid patient ids, a negative
        ``min_cell`` or invalid ``calibration_points``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.05, 0.6, 400)
    >>> y = rng.binomial(1, p)
    >>> s = site_summary(y, p)
    >>> s.metrics["auroc"].scale, s.n, s.suppressed
    ('logit', 400, False)
    """
    y, p = check_y(y_true, y_prob)
    cell = check_min_cell(min_cell)
    grid = _check_points(calibration_points)
    codes = None if patient_ids is None else check_patient_ids(patient_ids, y.shape[0])
    n, events = y.shape[0], int(y.sum())
    patients = None if codes is None else int(codes.max()) + 1
    if min(n, events, n - events) < cell or (patients is not None and patients < cell):
        missing = {
            name: SiteMetric(math.nan, math.nan, scale, suppressed=True)
            for name, scale in POOLING_SCALES.items()
        }
        nan_curve = tuple(math.nan for _ in grid)
        return SiteSummary(
            MappingProxyType(missing), None, None, True, cell, tuple(map(float, grid)), nan_curve
        )
    (a, a_se), (b, b_se) = _calibration(y, p, codes)
    values = {
        "auroc": _auroc_logit(y, p, codes),
        "oe_ratio": _log_oe(y, p, codes),
        "calibration_intercept": (a, a_se),
        "calibration_slope": (b, b_se),
    }
    metrics = {
        name: SiteMetric(float(est), float(se), POOLING_SCALES[name])
        for name, (est, se) in values.items()
    }
    observed = _curve(y, p, grid, cell)
    return SiteSummary(
        metrics=MappingProxyType(metrics),
        n=n,
        events=events,
        suppressed=False,
        min_cell=cell,
        points=tuple(float(v) for v in grid),
        observed=tuple(float(v) for v in observed),
        patients=patients,
    )

"""Flexible calibration curve at a horizon (Austin, Harrell & van Klaveren 2020).

A Cox model of the outcome on a restricted cubic spline of cloglog(predicted
risk by t) [Austin, Harrell & van Klaveren 2020, Stat Med 39:2714]; each
patient's observed risk is 1 - S0(t)^exp(f(x_i)) (Breslow baseline S0), and
ICI, E50, E90 and Emax are the mean, median, 90th percentile and maximum of
|observed - predicted|. Follow-up is censored at t first unless
``censor_at_horizon=False`` (Austin et al. used the whole follow-up); see
:mod:`._calibration` for why. The Cox model is :func:`~._cox.fit_cox`, checked
against statsmodels' ``PHReg`` in the tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from clinai.evaluation._estimate import _num
from clinai.evaluation.survival._calibration import check_at_horizon, cloglog, cox_outcome
from clinai.evaluation.survival._cox import fit_cox
from clinai.exceptions import DataError

__all__ = [
    "KNOT_PERCENTILES",
    "NO_FINITE_FIT_MSG",
    "N_KNOTS_MSG",
    "N_POINTS_MSG",
    "FlexibleSurvivalCalibration",
    "flexible_survival_calibration",
    "rcs_basis",
    "rcs_knots",
]

#: Harrell's default knot percentiles of a restricted cubic spline (Regression Modeling
#: Strategies, 2nd ed., table 2.3), by number of knots.
KNOT_PERCENTILES = {
    3: (10.0, 50.0, 90.0),
    4: (5.0, 35.0, 65.0, 95.0),
    5: (5.0, 27.5, 50.0, 72.5, 95.0),
}
N_KNOTS_MSG = "n_knots must be 3, 4 or 5 (restricted cubic spline knots); got {value!r}"
N_POINTS_MSG = "n_points must be an integer of at least 2; got {value!r}"
NO_FINITE_FIT_MSG = (
    "the flexible calibration at the horizon {t:g} has no finite fit: the predicted risks "
    "separate the {events} event(s) by the horizon from the other patients ({n} in all); too "
    "few events to judge calibration: validate on more patients or events"
)


def rcs_knots(x: np.ndarray, n_knots: int) -> np.ndarray:
    """Knots of a restricted cubic spline at Harrell's percentiles of ``x``, distinct values only.

    Parameters
    ----------
    x : numpy.ndarray
        The covariate.
    n_knots : int
        3, 4 or 5 (percentiles in :data:`KNOT_PERCENTILES`).

    Returns
    -------
    numpy.ndarray
        The distinct knots, ascending (fewer than ``n_knots`` when ``x`` has ties there).
    """
    if isinstance(n_knots, bool) or n_knots not in KNOT_PERCENTILES:
        raise DataError(N_KNOTS_MSG.format(value=n_knots))
    return np.unique(np.percentile(x, KNOT_PERCENTILES[n_knots]))


def rcs_basis(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Restricted cubic spline basis (Harrell's ``rcspline.eval``, ``inclx=TRUE``, ``norm=2``).

    Columns: ``x`` and, for each knot ``k_j``, j = 1..K-2,
    ``[(x-k_j)+^3 - (x-k_{K-1})+^3 (k_K-k_j)/(k_K-k_{K-1})
    + (x-k_K)+^3 (k_{K-1}-k_j)/(k_K-k_{K-1})] / (k_K-k_1)^2``: cubic between the
    knots, linear beyond the outer ones [Stone & Koo 1985; Harrell 2015, sect. 2.4.5].

    Parameters
    ----------
    x : numpy.ndarray of shape (n,)
        Values to evaluate at.
    knots : numpy.ndarray of shape (K,)
        Ascending knots; with fewer than 3 the basis is ``x`` alone.

    Returns
    -------
    numpy.ndarray of shape (n, K - 1)
        The basis (one column when K < 3).
    """
    x = np.asarray(x, dtype=float)
    if knots.shape[0] < 3:
        return x[:, None]
    last, before_last = knots[-1], knots[-2]
    scale = (last - knots[0]) ** 2
    tail_last = np.maximum(x - last, 0.0) ** 3
    tail_before = np.maximum(x - before_last, 0.0) ** 3
    columns = [x]
    for knot in knots[:-2]:
        term = (
            np.maximum(x - knot, 0.0) ** 3
            - tail_before * (last - knot) / (last - before_last)
            + tail_last * (before_last - knot) / (last - before_last)
        )
        columns.append(term / scale)
    return np.column_stack(columns)


def _check_n_points(n_points: Any) -> int:
    if isinstance(n_points, bool) or not isinstance(n_points, int | np.integer) or n_points < 2:
        raise DataError(N_POINTS_MSG.format(value=n_points))
    return int(n_points)


@dataclass(frozen=True, eq=False)
class FlexibleSurvivalCalibration:
    """Flexible calibration at a horizon (Austin, Harrell & van Klaveren 2020).

    Attributes
    ----------
    horizon : float
        The horizon t.
    ici, e50, e90, emax : float
        Mean, median, 90th percentile and maximum of |observed - predicted| over
        the patients.
    knots : tuple of float
        Spline knots on the cloglog(risk) scale.
    coef : tuple of float
        Cox coefficients of the spline basis.
    baseline_survival : float
        Breslow S0(t) of the calibration model.
    predicted, observed : numpy.ndarray
        The curve: a grid of predicted risks and the observed risk at each.
    cause : int or None
        With competing events, the cause (the model is then Fine-Gray's).
    """

    horizon: float
    # summaries of |observed - predicted| over the patients
    ici: float
    e50: float
    e90: float
    emax: float
    # the calibration model
    knots: tuple[float, ...]
    coef: tuple[float, ...]
    baseline_survival: float
    predicted: np.ndarray
    observed: np.ndarray
    cause: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the measures, the model and the curve as plain JSON values."""
        return {
            "horizon": _num(self.horizon),
            "ici": _num(self.ici),
            "e50": _num(self.e50),
            "e90": _num(self.e90),
            "emax": _num(self.emax),
            "knots": [_num(k) for k in self.knots],
            "coef": [_num(c) for c in self.coef],
            "baseline_survival": _num(self.baseline_survival),
            "cause": self.cause,
            "curve": [
                {"predicted": _num(p), "observed": _num(o)}
                for p, o in zip(self.predicted, self.observed, strict=True)
            ],
        }


#: A fitted log hazard ratio spanning more than this across the data (a ratio of e^150
#: between two patients) is a fit run off towards separation, not a calibration curve:
#: measured 423 on a separated 18-patient split, at most 69 on 300-patient cohorts whose
#: baseline survival underflows (tests/evaluation/survival).
_SEPARATED_SPREAD = 150.0


def flexible_survival_calibration(
    time: Any,
    event: Any,
    risk: Any,
    *,
    t: float,
    n_knots: int = 3,
    n_points: int = 50,
    cause: int | None = None,
    censor_at_horizon: bool = True,
) -> FlexibleSurvivalCalibration:
    """Flexible calibration curve at ``t`` with ICI, E50, E90 and Emax.

    Following Austin, Harrell & van Klaveren (2020, Stat Med 39:2714): fit the Cox
    model ``h(s | x) = h0(s) exp(f(x))`` with ``x = cloglog(risk)`` and ``f`` a
    restricted cubic spline (knots at Harrell's percentiles of x: 10/50/90 for
    3 knots, 5/35/65/95 for 4, 5/27.5/50/72.5/95 for 5; Austin et al. used 3);
    each patient's observed risk is ``1 - S0(t)^exp(f(x_i))`` with the Breslow
    baseline; the errors are ``|observed - risk|``. The curve is evaluated at
    ``n_points`` predicted risks evenly spaced between the 1st and 99th
    percentiles of ``risk``.

    Parameters
    ----------
    time, event : array-like of shape (n,)
        Follow-up time and event (0/1).
    risk : array-like of shape (n,)
        Predicted risk by ``t`` in [0, 1].
    t : float
        Horizon, within follow-up.
    n_knots : {3, 4, 5}, default 3
        Spline knots; tied percentiles are merged, and with fewer than 3
        distinct knots ``f`` is linear.
    n_points : int, default 50
        Points of the curve.
    cause : int, optional
        With competing events (``event`` holds codes): the cause whose predicted
        cumulative incidence ``risk`` is; the model is then Fine-Gray's and the
        observed risk a cumulative incidence [Austin, Putter, Giardiello & van
        Klaveren 2022, Diagn Progn Res 6:2].
    censor_at_horizon : bool, default True
        Censor follow-up at ``t`` before fitting.

    Returns
    -------
    FlexibleSurvivalCalibration
        ICI, E50, E90, Emax, the spline model and the curve.

    Raises
    ------
    DataError
        Bad inputs as :func:`survival_oe_ratio`, a bad ``n_knots`` or ``n_points``,
        a Cox model that does not converge, or one without a finite fit (the risks
        separate the few events by ``t`` from the rest).
    """
    points = _check_n_points(n_points)
    time_array, event_array, risk_array, horizon = check_at_horizon(time, event, risk, t, cause)
    x = cloglog(risk_array)
    knots = rcs_knots(x, n_knots)
    censor = horizon if censor_at_horizon else None
    outcome_time, hit, competing = cox_outcome(time_array, event_array, censor, cause)
    basis = rcs_basis(x, knots)
    # Newton starts at the ideal f(x) = x (slope 1, no curvature): fewer steps when near it
    ideal = np.r_[1.0, np.zeros(basis.shape[1] - 1)]
    fit = fit_cox(
        outcome_time,
        hit,
        basis,
        what="flexible calibration",
        start=ideal,
        competing=competing,
    )
    h0 = float(fit.baseline_cumulative_hazard(horizon))
    lp = basis @ fit.coef
    if (
        not (math.isfinite(h0) and h0 >= 0.0)
        or not np.isfinite(lp).all()
        or float(lp.max() - lp.min()) > _SEPARATED_SPREAD
    ):
        # separation: the spline's coefficients grow without bound
        raise DataError(
            NO_FINITE_FIT_MSG.format(t=horizon, events=int(hit.sum()), n=time_array.shape[0])
        )
    s0 = math.exp(-h0)

    def observed_from(spline_basis: np.ndarray) -> np.ndarray:
        # 1 - S0(t) ** exp(f(x))
        if s0 > 0.0:
            return -np.expm1(np.exp(spline_basis @ fit.coef) * math.log(s0))
        # S0(t) underflows where f(x) = 0 lies far outside the data (risks near 0.632,
        # cloglog 0, when every risk is small): 1 - exp(-exp(f(x) + log H0(t)))
        return -np.expm1(-np.exp(spline_basis @ fit.coef + math.log(h0)))

    error = np.abs(observed_from(basis) - risk_array)
    low, high = np.percentile(risk_array, [1.0, 99.0])
    grid = np.linspace(low, high, points)
    return FlexibleSurvivalCalibration(
        horizon=horizon,
        ici=float(error.mean()),
        e50=float(np.median(error)),
        e90=float(np.percentile(error, 90.0)),
        emax=float(error.max()),
        knots=tuple(float(k) for k in knots),
        coef=tuple(float(c) for c in fit.coef),
        baseline_survival=s0,
        cause=None if cause is None else int(cause),
        predicted=grid,
        observed=observed_from(rcs_basis(cloglog(grid), knots)),
    )

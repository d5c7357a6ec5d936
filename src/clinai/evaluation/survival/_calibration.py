"""Calibration of predicted risks at a horizon: O/E and the calibration slope.

Inputs: ``time`` and ``event`` (0/1; or event codes 0, 1, 2, ... with ``cause``
where there are competing events), ``risk`` = the model's predicted absolute
risk of the event by the horizon ``t``, and for the slope optionally ``lp``, the
model's linear predictor.

- **O/E at t** = observed risk / mean predicted risk, the observed risk being
  1 - KM(t) (Kaplan-Meier), or with competing events the Aalen-Johansen
  cumulative incidence of ``cause`` at t [Riley et al. 2024, BMJ 384:e074819;
  McLernon et al. 2023, Ann Intern Med 176:105]. Its confidence interval is
  Wald on the log scale, ``exp(log(O/E) +- z SE)``, with SE = SE(O) / O and the
  mean predicted risk treated as fixed: SE(O) from Greenwood's variance of the
  Kaplan-Meier [Greenwood 1926], or with competing events from the delta-method
  variance of the Aalen-Johansen estimator [Dinse & Larson 1986, Biometrika
  73:379, eq. 6; scikit-survival's ``var_type="Dinse_Approx"``].
- **Calibration slope** = the coefficient of the linear predictor in a Cox model
  fitted on the validation data [van Houwelingen 2000, Stat Med 19:3401]; with
  only the risk at t, the covariate is ``cloglog(risk) = log(-log(1 - risk))``,
  the linear predictor of a proportional hazards model up to a constant. With
  competing events (``cause``) the model is Fine & Gray's subdistribution
  hazards model and ``risk`` the predicted cumulative incidence [Austin et al.
  2022, Diagn Progn Res 6:2].

- **Observed against predicted by risk group**: Kaplan-Meier (or Aalen-Johansen)
  risk by t against mean predicted risk in groups of predicted risk, the points
  of a grouped calibration plot.

The flexible calibration curve is in :mod:`._flexible_calibration`.

When ``t`` is given to the Cox models, follow-up is censored at t first (an
event after t counts as censored at t), because the predicted risk speaks of
[0, t] only; ``censor_at_horizon=False`` uses the whole follow-up, as Austin et
al. (2020) did. The Cox models are fitted by :func:`~._cox.fit_cox` (Breslow
ties), checked against statsmodels' ``PHReg`` in the tests; PHReg itself is too
slow at a million rows (see :mod:`._cox`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm

from clinai.evaluation._estimate import FieldsRecord
from clinai.evaluation._inputs import check_ci_level
from clinai.evaluation.survival._cox import fit_cox
from clinai.evaluation.survival._inputs import (
    CAUSE_MSG,
    check_event_codes,
    check_has_events,
    check_horizon,
    check_risk,
    check_score,
    check_survival,
)
from clinai.evaluation.survival._kaplan_meier import (
    _aalen_johansen_sorted,
    _value_at,
    sort_survival,
)
from clinai.exceptions import DataError

__all__ = [
    "N_GROUPS_MSG",
    "RISK_CLIP",
    "SCORE_CHOICE_MSG",
    "SurvivalCalibrationSlope",
    "SurvivalOERatio",
    "SurvivalRiskGroup",
    "check_at_horizon",
    "cloglog",
    "observed_risk",
    "survival_calibration_groups",
    "survival_calibration_slope",
    "survival_oe_ratio",
]

#: Risks are clipped to ``[RISK_CLIP, 1 - RISK_CLIP]`` before cloglog, so that 0 and 1 stay finite.
RISK_CLIP = 1e-6
SCORE_CHOICE_MSG = (
    "pass exactly one of lp (the model's linear predictor) or risk (predicted risk by t, "
    "which also needs t); got {given}"
)
NO_EVENTS_WHERE = " of cause {cause} up to t = {t:g}"
N_GROUPS_MSG = "n_groups must be an integer from 2 to 100 and at most n = {n}; got {value!r}"


def cloglog(risk: np.ndarray) -> np.ndarray:
    """Return ``log(-log(1 - risk))`` with ``risk`` clipped to ``[RISK_CLIP, 1 - RISK_CLIP]``.

    Examples
    --------
    >>> float(cloglog(np.array([1 - np.exp(-1.0)]))[0])
    0.0
    """
    clipped = np.clip(np.asarray(risk, dtype=float), RISK_CLIP, 1.0 - RISK_CLIP)
    return np.log(-np.log1p(-clipped))


def _check_event(time: Any, event: Any, cause: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Check ``time`` and ``event`` (0/1, or codes when ``cause`` is given)."""
    if cause is None:
        return check_survival(time, event)
    time_array, codes = check_event_codes(time, event)
    present = sorted(int(c) for c in np.unique(codes) if c > 0)
    if isinstance(cause, bool) or not isinstance(cause, int | np.integer) or cause not in present:
        raise DataError(CAUSE_MSG.format(codes=present, cause=cause))
    return time_array, codes


def check_at_horizon(
    time: Any, event: Any, risk: Any, t: Any, cause: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Check the inputs of a metric at horizon ``t``; returns time, event, risk and t.

    ``event`` comes back as bool (no ``cause``) or as int codes (with ``cause``).
    Raises DataError for bad survival data, risks outside [0, 1], a horizon
    outside follow-up, and no event (of ``cause``) up to ``t``.
    """
    time_array, event_array = _check_event(time, event, cause)
    risk_array = check_risk(risk, time_array.shape[0], name="risk")
    horizon = check_horizon(t, time_array)
    hit = event_array if cause is None else event_array == cause
    check_has_events(
        hit & (time_array <= horizon),
        where=NO_EVENTS_WHERE.format(cause=1 if cause is None else cause, t=horizon),
    )
    return time_array, event_array, risk_array, horizon


def observed_risk(
    time: np.ndarray, event: np.ndarray, t: float, cause: int | None = None
) -> tuple[float, float]:
    """Observed risk by ``t`` and its variance, from checked data.

    Without ``cause``: 1 - KM(t) with Greenwood's variance
    ``S(t)^2 sum_{s <= t} d / (Y (Y - d))``. With ``cause`` (``event`` holds codes):
    the Aalen-Johansen cumulative incidence F(t) with the delta-method variance of
    Dinse & Larson (1986, eq. 6):
    ``sum_{s <= t} [(F(t) - F(s))^2 d/(Y(Y-d)) + S(s-)^2 d_k (Y-d_k)/Y^3
    - 2 (F(t) - F(s)) S(s-) d_k / Y^2]``.

    Returns
    -------
    tuple of float
        ``(risk, variance)``; the variance is NaN where undefined (everyone had
        the event).
    """
    data = sort_survival(time, event if cause is not None else event.astype(np.int64))
    k = 1 if cause is None else int(cause)
    _, incidence = _aalen_johansen_sorted(data, k)
    risk = _value_at(data.unique, incidence, t) if t >= data.unique[0] else 0.0
    keep = data.unique <= t
    at_risk, d_any, _ = (counts[keep] for counts in data.counts())
    d_k = np.add.reduceat((data.event == k).astype(float), data.starts)[keep]
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood = d_any / (at_risk * (at_risk - d_any))
        if cause is None:
            variance = (1.0 - risk) ** 2 * float(greenwood.sum())
        else:
            survival_before = np.r_[1.0, np.cumprod(1.0 - d_any / at_risk)[:-1]]
            gap = risk - incidence[keep]
            variance = float(
                (
                    gap**2 * greenwood
                    + survival_before**2 * d_k * (at_risk - d_k) / at_risk**3
                    - 2.0 * gap * survival_before * d_k / at_risk**2
                ).sum()
            )
    return float(risk), variance if math.isfinite(variance) else math.nan


@dataclass(frozen=True)
class SurvivalOERatio(FieldsRecord):
    """Observed over expected risk at a horizon, with a log-scale Wald interval.

    Attributes
    ----------
    horizon : float
        The horizon t.
    observed : float
        1 - KM(t), or the Aalen-Johansen cumulative incidence of ``cause``.
    observed_se : float
        Its standard error (Greenwood, or Dinse & Larson with competing events).
    expected : float
        Mean predicted risk by t.
    oe_ratio, ci_low, ci_high : float
        O/E and its interval ``exp(log(O/E) +- z SE(O)/O)``.
    n, events : int
        Patients, and events (of ``cause``) up to t.
    cause : int or None
        The cause with competing events, else None.
    """

    horizon: float
    # the two risks compared
    observed: float
    observed_se: float
    expected: float
    # their ratio
    oe_ratio: float
    ci_low: float
    ci_high: float
    # who was counted
    n: int
    events: int
    cause: int | None = None


def survival_oe_ratio(
    time: Any, event: Any, risk: Any, *, t: float, cause: int | None = None, ci_level: float = 0.95
) -> SurvivalOERatio:
    """Observed/expected ratio of risk by horizon ``t``.

    ``O/E = observed / mean(risk)``, the observed risk being 1 - KM(t), or with
    competing events the Aalen-Johansen cumulative incidence of ``cause`` by t.
    Without censoring before t it equals the binary O/E of the outcome
    ``time <= t and event`` (:func:`clinai.evaluation.oe_ratio`).

    Parameters
    ----------
    time : array-like of shape (n,)
        Follow-up time, finite and >= 0.
    event : array-like of shape (n,)
        1 event, 0 censored; with ``cause``: 0 censored, 1, 2, ... the cause.
    risk : array-like of shape (n,)
        Predicted absolute risk by t, in [0, 1].
    t : float
        Horizon, within follow-up.
    cause : int, optional
        The event code of interest when ``event`` holds competing events.
    ci_level : float, default 0.95
        Level of the interval.

    Returns
    -------
    SurvivalOERatio
        O/E, its interval and the parts.

    Raises
    ------
    DataError
        Bad survival data, risk outside [0, 1], a horizon outside follow-up, or no
        event before the horizon (one line each).

    Examples
    --------
    >>> result = survival_oe_ratio([1, 2, 3, 4], [1, 0, 1, 0], [0.3, 0.3, 0.5, 0.5], t=3)
    >>> result.observed, result.expected, round(result.oe_ratio, 4)
    (0.625, 0.4, 1.5625)
    """
    level = check_ci_level(ci_level)
    time_array, event_array, risk_array, horizon = check_at_horizon(time, event, risk, t, cause)
    observed, variance = observed_risk(time_array, event_array, horizon, cause)
    expected = float(risk_array.mean())
    hit = event_array if cause is None else event_array == cause
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = observed / expected if expected > 0 else math.nan
        log_se = math.sqrt(variance) / observed if observed > 0 else math.nan
    z = float(norm.ppf(0.5 + level / 2.0))
    low = ratio * math.exp(-z * log_se) if math.isfinite(log_se) else math.nan
    high = ratio * math.exp(z * log_se) if math.isfinite(log_se) else math.nan
    return SurvivalOERatio(
        horizon=horizon,
        observed=observed,
        observed_se=math.sqrt(variance) if math.isfinite(variance) else math.nan,
        expected=expected,
        oe_ratio=ratio,
        ci_low=low,
        ci_high=high,
        n=int(time_array.shape[0]),
        events=int((hit & (time_array <= horizon)).sum()),
        cause=None if cause is None else int(cause),
    )


def cox_outcome(
    time: np.ndarray, event: np.ndarray, horizon: float | None, cause: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Outcome of a calibration Cox (or Fine-Gray) model, censored at ``horizon`` if given.

    Returns the times, the events of interest (bool) and, with ``cause``, the
    competing events (bool; None without ``cause``). Censoring at t: an event
    after t counts as censored at t.
    """
    within = np.ones(time.shape[0], dtype=bool) if horizon is None else time <= horizon
    times = time if horizon is None else np.minimum(time, horizon)
    if cause is None:
        return times, event & within, None
    return times, (event == cause) & within, (event > 0) & (event != cause) & within


@dataclass(frozen=True)
class SurvivalCalibrationSlope(FieldsRecord):
    """Calibration slope: the Cox coefficient of the linear predictor.

    Attributes
    ----------
    slope, se, ci_low, ci_high : float
        The coefficient, its model-based standard error and Wald interval.
    covariate : str
        ``"lp"`` or ``"cloglog_risk"``.
    horizon : float or None
        The horizon follow-up was censored at, if any.
    n, events : int
        Patients and events (of the cause) used by the model.
    cause : int or None
        With competing events, the cause (the model is then Fine-Gray's).
    """

    slope: float
    se: float
    ci_low: float
    ci_high: float
    covariate: str
    horizon: float | None
    n: int
    events: int
    cause: int | None = None


def survival_calibration_slope(
    time: Any,
    event: Any,
    *,
    lp: Any = None,
    risk: Any = None,
    t: float | None = None,
    cause: int | None = None,
    censor_at_horizon: bool = True,
    ci_level: float = 0.95,
) -> SurvivalCalibrationSlope:
    """Calibration slope: Cox regression of the outcome on the model's linear predictor.

    The slope is ``b`` in ``h(s | x) = h0(s) exp(b lp)``, fitted on the
    validation data (Breslow ties); 1 is ideal, below 1 means predictions too
    extreme (overfitting). With ``risk`` (the predicted risk by ``t``) the
    covariate is ``cloglog(risk)``, which differs from a proportional hazards
    model's linear predictor by a constant only. With ``t`` and
    ``censor_at_horizon`` follow-up is censored at t first.

    Parameters
    ----------
    time, event : array-like of shape (n,)
        Follow-up time and event (0/1).
    lp : array-like of shape (n,), optional
        The model's linear predictor (higher = higher risk).
    risk : array-like of shape (n,), optional
        Predicted risk by ``t`` in [0, 1] (instead of ``lp``; needs ``t``).
    t : float, optional
        Horizon; needed with ``risk``.
    cause : int, optional
        With competing events (``event`` holds codes 0, 1, 2, ...): the cause
        whose predicted cumulative incidence ``risk`` (or ``lp``) is. The model is
        then the Fine-Gray subdistribution hazards model [Fine & Gray 1999, JASA
        94:496; for calibration Austin et al. 2022, Diagn Progn Res 6:2]; its
        standard error ignores the estimation of the censoring weights.
    censor_at_horizon : bool, default True
        Censor follow-up at ``t`` (when ``t`` is given).
    ci_level : float, default 0.95
        Level of the Wald interval.

    Returns
    -------
    SurvivalCalibrationSlope
        The slope with its standard error and interval.

    Raises
    ------
    DataError
        Neither or both of ``lp`` and ``risk``; ``risk`` without ``t``; bad inputs
        as :func:`survival_oe_ratio`; a Cox model that does not converge.
    """
    level = check_ci_level(ci_level)
    if (lp is None) == (risk is None) or (risk is not None and t is None):
        given = "lp and risk" if lp is not None and risk is not None else "neither"
        if risk is not None and lp is None:
            given = "risk without t"
        raise DataError(SCORE_CHOICE_MSG.format(given=given))
    horizon: float | None
    if risk is not None:
        time_array, event_array, risk_array, horizon = check_at_horizon(time, event, risk, t, cause)
        covariate, name = cloglog(risk_array), "cloglog_risk"
    else:
        time_array, event_array = _check_event(time, event, cause)
        covariate, name = check_score(lp, time_array.shape[0], name="lp"), "lp"
        horizon = None if t is None else check_horizon(t, time_array)
    censor = horizon if censor_at_horizon else None
    outcome_time, hit, competing = cox_outcome(time_array, event_array, censor, cause)
    check_has_events(hit, where="" if censor is None else f" up to t = {censor:g}")
    # Newton starts at the ideal slope 1: a near-calibrated model converges in fewer steps
    fit = fit_cox(
        outcome_time,
        hit,
        covariate,
        what="calibration slope",
        start=np.ones(1),
        competing=competing,
    )
    slope, se = float(fit.coef[0]), float(fit.se[0])
    z = float(norm.ppf(0.5 + level / 2.0))
    return SurvivalCalibrationSlope(
        slope=slope,
        se=se,
        ci_low=slope - z * se,
        ci_high=slope + z * se,
        covariate=name,
        horizon=censor,
        n=int(time_array.shape[0]),
        events=int(hit.sum()),
        cause=None if cause is None else int(cause),
    )


@dataclass(frozen=True)
class SurvivalRiskGroup(FieldsRecord):
    """Observed against predicted risk by t in one group of patients of similar predicted risk.

    Attributes
    ----------
    risk_low, risk_high : float
        Smallest and largest predicted risk in the group.
    predicted : float
        Mean predicted risk by t.
    observed, ci_low, ci_high : float
        Kaplan-Meier (or Aalen-Johansen) risk by t and its log-log interval
        (NaN when the group's follow-up ends before t).
    n, events : int
        Patients, and events (of the cause) up to t.
    """

    risk_low: float
    risk_high: float
    predicted: float
    observed: float
    ci_low: float
    ci_high: float
    n: int
    events: int


def survival_calibration_groups(
    time: Any,
    event: Any,
    risk: Any,
    *,
    t: float,
    n_groups: int = 10,
    cause: int | None = None,
    ci_level: float = 0.95,
) -> tuple[SurvivalRiskGroup, ...]:
    """Observed (Kaplan-Meier) against mean predicted risk by t in groups of predicted risk.

    The patients are ranked by predicted risk and cut into ``n_groups`` groups of
    (nearly) equal size; in each, the observed risk is 1 - KM(t) (or the
    Aalen-Johansen cumulative incidence of ``cause``) with its variance as in
    :func:`survival_oe_ratio`, and the interval is on the log-log scale,
    ``F ** exp(+-z SE / (F |log F|))``, which stays inside (0, 1). The points of
    the grouped calibration plot of survival models [Royston & Altman 2013, BMC
    Med Res Methodol 13:33]; small-cell suppression is for the caller (counts are
    given).

    Parameters
    ----------
    time, event, risk, t, cause, ci_level
        As :func:`survival_oe_ratio`.
    n_groups : int, default 10
        Number of groups (2 to 100, at most the number of patients).

    Returns
    -------
    tuple of SurvivalRiskGroup
        From the lowest predicted risk to the highest.

    Raises
    ------
    DataError
        Bad inputs as :func:`survival_oe_ratio`, or a bad ``n_groups``.
    """
    level = check_ci_level(ci_level)
    time_array, event_array, risk_array, horizon = check_at_horizon(time, event, risk, t, cause)
    whole = isinstance(n_groups, int | np.integer) and not isinstance(n_groups, bool)
    if not (whole and 2 <= n_groups <= min(100, time_array.shape[0])):
        raise DataError(N_GROUPS_MSG.format(value=n_groups, n=time_array.shape[0]))
    z = float(norm.ppf(0.5 + level / 2.0))
    hit = event_array if cause is None else event_array == cause
    groups = []
    for rows in np.array_split(np.argsort(risk_array, kind="stable"), int(n_groups)):
        observed, variance = observed_risk(time_array[rows], event_array[rows], horizon, cause)
        if time_array[rows].max() < horizon and observed < 1.0:
            observed = variance = math.nan  # nobody in the group followed to t
        bounded = 0.0 < observed < 1.0 and math.isfinite(variance)
        spread = z * math.sqrt(variance) / (observed * -math.log(observed)) if bounded else 0.0
        groups.append(
            SurvivalRiskGroup(
                risk_low=float(risk_array[rows].min()),
                risk_high=float(risk_array[rows].max()),
                predicted=float(risk_array[rows].mean()),
                observed=observed,
                ci_low=observed ** math.exp(spread) if bounded else math.nan,
                ci_high=observed ** math.exp(-spread) if bounded else math.nan,
                n=int(rows.shape[0]),
                events=int((hit[rows] & (time_array[rows] <= horizon)).sum()),
            )
        )
    return tuple(groups)

"""What every clinai survival model does the same way.

The target checks (one clear line per kind of bad input), the Breslow estimate of the
baseline cumulative hazard, the absolute risk of a proportional hazards model
(``1 - S(t | x)``, ``S(t | x) = exp(-H0(t) exp(lp))``), the cumulative incidence of
cause-specific hazards (Aalen-Johansen-style product integration) and the pipeline that
passes ``predict_risk`` and ``predict_survival`` through the preprocessing.

The target ``y`` is scikit-survival's: a structured array whose first field is the
event (bool or 0/1; integer cause codes 0, 1, ..., K with competing events, 0 =
censored) and whose second field is the follow-up time (:func:`survival_target` builds
one). scikit-survival is not imported here.
"""

from __future__ import annotations

import logging
from typing import Any, Self

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted, validate_data

from clinai.exceptions import DataError

__all__ = [
    "SurvivalModel",
    "SurvivalPipeline",
    "breslow",
    "check_survival_target",
    "cumulative_incidence",
    "survival_target",
]

logger = logging.getLogger(__name__)

TARGET_FORM_MSG = (
    "y must be a structured array with two fields (event, time) as scikit-survival uses; "
    "got {got}: build it with clinai.models.survival_target(time, event)"
)
TIME_BAD_MSG = "time has {n} missing, infinite or negative value(s): follow-up must be >= 0"
TIME_SWAPPED_MSG = (
    "time holds only the values 0 and 1: time and event look swapped; pass the follow-up "
    "time as time and the event indicator as event"
)
EVENT_BAD_MSG = (
    "event must be {rule}; got the value(s) {values}: code censored rows 0 and events {codes}"
)
NO_EVENTS_MSG = "event has no events (every row censored): a survival model needs events"
HORIZON_BAD_MSG = "horizons must be finite numbers >= 0; got {value!r}"
HORIZON_BEYOND_MSG = (
    "horizon {horizon:g} is beyond the last follow-up time of the training data "
    "({last:g}): the model cannot predict past it; choose a horizon within follow-up"
)


def survival_target(time: Any, event: Any) -> np.ndarray:
    """Return the structured target ``y`` of clinai's survival models.

    Parameters
    ----------
    time : array-like of shape (n,)
        Follow-up time (>= 0).
    event : array-like of shape (n,)
        1 (or True) for an event, 0 for censored; integer cause codes 1..K for
        competing events.

    Returns
    -------
    ndarray
        Structured, fields ``event`` (int) and ``time`` (float), checked with
        :func:`check_survival_target`.

    Examples
    --------
    >>> survival_target([5.0, 2.0], [1, 0])["time"]
    array([5., 2.])
    """
    event_arr = np.asarray(event)
    time_arr = np.asarray(time, dtype=np.float64)
    if event_arr.shape != time_arr.shape or event_arr.ndim != 1:
        raise DataError(TARGET_FORM_MSG.format(got="time and event of different shapes"))
    y = np.empty(len(time_arr), dtype=[("event", np.int64), ("time", np.float64)])
    y["time"] = time_arr
    try:
        y["event"] = event_arr
    except (TypeError, ValueError) as exc:
        raise DataError(TARGET_FORM_MSG.format(got=f"event of dtype {event_arr.dtype}")) from exc
    check_survival_target(y, competing=True)
    return y


def check_survival_target(y: Any, *, competing: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Check a survival target and return ``(time, event)`` as float and int arrays.

    Parameters
    ----------
    y : structured ndarray
        First field the event, second the time (see the module docstring).
    competing : bool, default=False
        Allow integer cause codes 0..K; otherwise the event must be 0/1.

    Returns
    -------
    time : ndarray of float
    event : ndarray of int

    Raises
    ------
    DataError
        If ``y`` is not a two-field structured array, a time is missing, infinite
        or negative, the times are all 0 or 1 (time and event swapped), an event
        code is not allowed, or there is no event.
    """
    names = getattr(getattr(y, "dtype", None), "names", None)
    if names is None or len(names) != 2:
        raise DataError(TARGET_FORM_MSG.format(got=type(y).__name__))
    event_raw = np.asarray(y[names[0]])
    time = np.asarray(y[names[1]], dtype=np.float64)
    bad = ~np.isfinite(time) | (time < 0)
    if bad.any():
        raise DataError(TIME_BAD_MSG.format(n=int(bad.sum())))
    if len(time) > 2 and np.isin(time, (0.0, 1.0)).all():
        raise DataError(TIME_SWAPPED_MSG)
    as_float = event_raw.astype(np.float64)
    integer = np.isfinite(as_float) & (as_float == np.round(as_float))
    allowed = integer & (as_float >= 0) & (competing or np.isin(as_float, (0.0, 1.0)))
    if not allowed.all():
        shown = ", ".join(str(v) for v in np.unique(event_raw[~allowed])[:5])
        rule, codes = ("0 or 1", "1") if not competing else ("an integer code >= 0", "1, 2, ...")
        raise DataError(EVENT_BAD_MSG.format(rule=rule, values=shown, codes=codes))
    event = as_float.astype(np.int64)
    if not event.any():
        raise DataError(NO_EVENTS_MSG)
    return time, event


def check_horizons(horizons: Any, last: float = np.inf) -> np.ndarray:
    """Return ``horizons`` as a 1-d float array, or raise :class:`DataError`.

    ``last`` is the longest follow-up in the training data: beyond it the baseline
    hazard is unknown, so a later horizon is refused rather than extrapolated flat.
    """
    try:
        arr = np.atleast_1d(np.asarray(horizons, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise DataError(HORIZON_BAD_MSG.format(value=horizons)) from exc
    if arr.ndim != 1 or not np.isfinite(arr).all() or (arr < 0).any():
        raise DataError(HORIZON_BAD_MSG.format(value=horizons))
    if (arr > last).any():
        raise DataError(HORIZON_BEYOND_MSG.format(horizon=arr.max(), last=last))
    return arr


def breslow(lp: np.ndarray, time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Breslow's estimate of the baseline hazard increments at the distinct event times.

    dH0(t_j) = d_j / sum_{i: T_i >= t_j} exp(lp_i) [Breslow 1972, JRSS B 34:216], the
    estimator scikit-survival's ``BreslowEstimator`` and lifelines use. O(n log n).

    Returns
    -------
    times : ndarray
        Distinct event times, ascending.
    increments : ndarray
        dH0 at each of them (for ``exp(lp)`` as given: centre ``lp`` first).
    """
    order = np.argsort(time, kind="stable")
    t_sorted, risk_sorted = time[order], np.exp(lp[order])
    # risk-set sum at each row: everyone followed at least as long (ties all included)
    at_risk = np.cumsum(risk_sorted[::-1])[::-1]
    uniq, first = np.unique(t_sorted, return_index=True)
    deaths = np.bincount(np.searchsorted(uniq, time[event.astype(bool)]), minlength=len(uniq))
    keep = deaths > 0
    return uniq[keep], deaths[keep] / at_risk[first][keep]


def step_at(times: np.ndarray, cumulative: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Right-continuous step function with jumps ``cumulative`` at ``times``, 0 before."""
    idx = np.searchsorted(times, t, side="right")
    return np.concatenate([[0.0], cumulative])[idx]


def cumulative_incidence(
    increments: np.ndarray, grid: np.ndarray, horizons: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Absolute risks of competing causes from their hazard increments.

    With cause-specific increments dH_k(t_j | x) on a common grid of times, the
    event-free probability is the product integral S(t) = prod_{t_j <= t}
    (1 - sum_k dH_k(t_j)) and the cumulative incidence of cause k is
    F_k(t) = sum_{t_j <= t} S(t_{j-1}) dH_k(t_j): the Aalen-Johansen estimator
    with model-based hazards [Aalen & Johansen 1978, Scand J Stat 5:141;
    Andersen et al. 1993, ch. IV.4]. Where the increments of a time sum above 1
    they are scaled down to 1, so S + sum_k F_k = 1 at every time by construction.

    Parameters
    ----------
    increments : ndarray of shape (n, K, m)
        dH_k(t_j | x) per patient, cause and grid time.
    grid : ndarray of shape (m,)
        The grid times, ascending.
    horizons : ndarray of shape (h,)

    Returns
    -------
    incidence : ndarray of shape (n, K, h)
    event_free : ndarray of shape (n, h)
    """
    total = increments.sum(axis=1, keepdims=True)
    increments = increments / np.maximum(total, 1.0)
    step_survival = np.cumprod(1.0 - increments.sum(axis=1), axis=1)  # S(t_j)
    before = np.concatenate([np.ones((len(step_survival), 1)), step_survival[:, :-1]], axis=1)
    incidence_grid = np.cumsum(before[:, None, :] * increments, axis=2)
    idx = np.searchsorted(grid, horizons, side="right")  # 0: before the first event time
    pad_f = np.concatenate([np.zeros((*incidence_grid.shape[:2], 1)), incidence_grid], axis=2)
    pad_s = np.concatenate([np.ones((len(step_survival), 1)), step_survival], axis=1)
    return pad_f[:, :, idx], pad_s[:, idx]


class SurvivalModel(BaseEstimator):
    """Base of the proportional hazards models: fit a linear predictor, then Breslow.

    A subclass implements ``_fit_lp(X, time, event)`` (fit the model on checked,
    numeric ``X``) and ``_lp(X) -> ndarray`` (the linear predictor / log hazard
    ratio, higher = higher risk). ``fit`` then stores Breslow's baseline cumulative
    hazard of the training data, so every model predicts absolute risks.

    Attributes (fitted)
    -------------------
    baseline_times_ : ndarray
        Distinct event times of the training data.
    baseline_cumhaz_ : ndarray
        Baseline cumulative hazard H0 at those times, for ``lp - lp_offset_``.
    lp_offset_ : float
        Mean training linear predictor (centring keeps ``exp`` finite).
    max_time_ : float
        Longest training follow-up; later horizons raise :class:`DataError`.
    """

    def fit(self, X: Any, y: Any) -> Self:
        """Fit the model and its baseline hazard.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric features (the pipeline's ``preprocess`` step makes them so).
        y : structured ndarray
            ``(event, time)``, see :func:`survival_target`.

        Returns
        -------
        Self

        Raises
        ------
        DataError
            On a bad target (see :func:`check_survival_target`).
        """
        time, event = check_survival_target(y)
        X = validate_data(self, X, dtype=np.float64)
        self._fit_lp(X, time, event)
        lp = self._lp(X)
        self.lp_offset_ = float(np.mean(lp))
        self.max_time_ = float(time.max())
        self.baseline_times_, increments = breslow(lp - self.lp_offset_, time, event)
        self.baseline_cumhaz_ = np.cumsum(increments)
        return self

    def _fit_lp(self, X: np.ndarray, time: np.ndarray, event: np.ndarray) -> None:
        raise NotImplementedError

    def _lp(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def predict(self, X: Any) -> np.ndarray:
        """Return the linear predictor (log relative hazard; higher = higher risk)."""
        check_is_fitted(self, "baseline_cumhaz_")
        return self._lp(validate_data(self, X, reset=False, dtype=np.float64))

    def predict_survival(self, X: Any, times: Any) -> np.ndarray:
        """Return S(t | x) = exp(-H0(t) exp(lp(x))), shape (n_samples, len(times))."""
        check_is_fitted(self, "baseline_cumhaz_")
        times = check_horizons(times, self.max_time_)
        cumhaz = step_at(self.baseline_times_, self.baseline_cumhaz_, times)
        relative = np.exp(self.predict(X) - self.lp_offset_)
        out: np.ndarray = np.exp(-np.outer(relative, cumhaz))
        return out

    def predict_risk(self, X: Any, horizons: Any) -> np.ndarray:
        """Return the absolute risk by each horizon, 1 - S(t | x), shape (n, len(horizons))."""
        out: np.ndarray = 1.0 - self.predict_survival(X, horizons)
        return out

    def score(self, X: Any, y: Any) -> float:
        """Harrell's C of :meth:`predict` (scikit-survival's convention for ``score``)."""
        from sksurv.metrics import concordance_index_censored

        time, event = check_survival_target(y)
        return float(concordance_index_censored(event.astype(bool), time, self.predict(X))[0])


class SurvivalPipeline(Pipeline):
    """A :class:`~sklearn.pipeline.Pipeline` that also passes the survival predictions through.

    ``predict_risk``, ``predict_survival`` and ``predict_cumulative_incidence``
    transform ``X`` with every step but the last and call the model's method.
    """

    def _features(self, X: Any) -> Any:
        check_is_fitted(self.steps[-1][1])
        return self[:-1].transform(X)

    def predict_risk(self, X: Any, horizons: Any) -> np.ndarray:
        """Absolute risk by each horizon, shape (n_samples, len(horizons))."""
        out: np.ndarray = self.steps[-1][1].predict_risk(self._features(X), horizons)
        return out

    def predict_survival(self, X: Any, times: Any) -> np.ndarray:
        """Survival (event-free) probability at each time, shape (n_samples, len(times))."""
        out: np.ndarray = self.steps[-1][1].predict_survival(self._features(X), times)
        return out

    def predict_cumulative_incidence(self, X: Any, horizons: Any) -> np.ndarray:
        """Competing risks: risk of each cause by each horizon, shape (n, K, len(horizons))."""
        out: np.ndarray = self.steps[-1][1].predict_cumulative_incidence(
            self._features(X), horizons
        )
        return out

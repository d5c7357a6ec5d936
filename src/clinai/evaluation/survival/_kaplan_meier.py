"""Kaplan-Meier, the censoring distribution and Aalen-Johansen cumulative incidence.

The estimators work on data sorted once by time (:class:`SortedSurvival`) and on
optional case weights, so that a bootstrap sorts once and passes each replicate's
counts of every row as ``weights`` (a patient drawn twice weighs 2, one not drawn
weighs 0): no replicate sorts again.

Conventions (the same as scikit-survival 0.28's ``kaplan_meier_estimator`` and
``CensoringDistributionEstimator``):

- Kaplan-Meier: S(t) = prod over event times s <= t of (1 - d(s) / Y(s)), Y(s)
  the number at risk just before s (time >= s), d(s) the events at s; a step
  function, right-continuous.
- Censoring distribution G (for inverse probability of censoring weights,
  IPCW): the Kaplan-Meier of the censoring times, where at a tie an event comes
  before a censoring: G(t) = prod over s <= t of (1 - c(s) / (Y(s) - d(s))), c(s)
  the censorings at s. IPCW weights of an event at T_i use G(T_i), the
  right-continuous value, as scikit-survival does; :meth:`KaplanMeier.before`
  gives the left limit G(T_i-) (riskRegression's choice). The two differ only
  where a censoring shares its time with an event, by one censoring's step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from clinai.evaluation._docstrings import fill_doc
from clinai.evaluation.survival._inputs import CAUSE_MSG, check_event_codes, check_survival
from clinai.exceptions import DataError

__all__ = [
    "KaplanMeier",
    "SortedSurvival",
    "aalen_johansen",
    "censoring_survival",
    "kaplan_meier",
    "sort_survival",
]


def _read_only(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class SortedSurvival:
    """Survival data sorted once by time, for kernels that run many times (bootstrap).

    Parameters
    ----------
    order : numpy.ndarray of int
        ``np.argsort(time)``: row ``order[k]`` of the input is the
        ``k``-th in time order.
    time, event : numpy.ndarray
        Time (float64) and event (bool) in time order.
    unique : numpy.ndarray
        The distinct times, ascending.
    group : numpy.ndarray of int
        For each sorted row, the index of its time in ``unique``.
    starts : numpy.ndarray of int
        Index (in the sorted rows) of the first row of each distinct time.
    """

    order: np.ndarray
    time: np.ndarray
    event: np.ndarray
    unique: np.ndarray
    group: np.ndarray
    starts: np.ndarray

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self.time.shape[0])

    def counts(self, weights: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        """Return ``(at_risk, events, censored)`` at each distinct time.

        ``weights`` (in time order, e.g. bootstrap counts) weigh each row;
        ``None`` counts every row once. ``at_risk`` is the weight with time >= s.
        """
        w = np.ones(self.n) if weights is None else np.asarray(weights, dtype=float)
        total = np.add.reduceat(w, self.starts)
        events = np.add.reduceat(np.where(self.event, w, 0.0), self.starts)
        # at risk at s: the weight of every row from s on (a reverse cumulative sum)
        at_risk = total[::-1].cumsum()[::-1]
        return at_risk, events, total - events


def sort_survival(time: np.ndarray, event: np.ndarray) -> SortedSurvival:
    """Sort checked survival data by time once and index its distinct times.

    ``time`` and ``event`` must already be checked (:func:`check_survival`);
    ``event`` may be bool or integer event codes (kept as given).
    """
    order = np.argsort(time)  # order within tied times does not matter to any estimator
    sorted_time = time[order]
    new = np.empty(sorted_time.shape[0], dtype=bool)
    new[:1] = True
    np.not_equal(sorted_time[1:], sorted_time[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    return SortedSurvival(
        order=_read_only(order),
        time=_read_only(sorted_time),
        event=_read_only(event[order]),
        unique=_read_only(sorted_time[starts]),
        group=_read_only(np.cumsum(new) - 1),
        starts=_read_only(starts),
    )


@dataclass(frozen=True, eq=False)
class KaplanMeier:
    """A Kaplan-Meier step function (of survival, or of censoring).

    Parameters
    ----------
    times : numpy.ndarray
        The distinct times where the function steps (events, or censorings for
        the censoring distribution), ascending.
    survival : numpy.ndarray
        Its value from each of ``times`` on (right-continuous).
    n_at_risk, n_events : numpy.ndarray
        At risk just before, and events (or censorings) at, each of ``times``
        (weighted counts when the estimator was given weights).
    max_time : float
        The last follow-up time; beyond it the estimate is undefined (NaN) unless
        it reached 0.
    """

    times: np.ndarray
    survival: np.ndarray
    n_at_risk: np.ndarray
    n_events: np.ndarray
    max_time: float

    def _lookup(self, t: Any, side: Literal["left", "right"]) -> np.ndarray | float:
        points = np.asarray(t, dtype=float)
        index = np.searchsorted(self.times, points, side=side) - 1
        steps = np.r_[1.0, self.survival]  # index -1 (before the first step) reads 1
        values = steps[index + 1]
        if self.survival.size == 0 or self.survival[-1] > 0:
            values = np.where(points > self.max_time, np.nan, values)
        return float(values) if values.ndim == 0 else values

    def at(self, t: Any) -> np.ndarray | float:
        """Return S(t) (right-continuous: includes a step at ``t``), vectorised over ``t``.

        1 before the first step; NaN beyond ``max_time`` while S > 0 there.
        """
        return self._lookup(t, "right")

    def before(self, t: Any) -> np.ndarray | float:
        """Return the left limit S(t-) (excludes a step at ``t``), vectorised over ``t``."""
        return self._lookup(t, "left")

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"times", "survival", "n_at_risk", "n_events", "max_time"}`` as lists."""
        return {
            "times": self.times.tolist(),
            "survival": self.survival.tolist(),
            "n_at_risk": self.n_at_risk.tolist(),
            "n_events": self.n_events.tolist(),
            "max_time": float(self.max_time),
        }


def _step_function(
    unique: np.ndarray, at_risk: np.ndarray, jumps: np.ndarray, max_time: float
) -> KaplanMeier:
    """Product-limit estimate from counts at each distinct time; keeps the times with jumps."""
    keep = jumps > 0
    at_risk, jumps = at_risk[keep], jumps[keep]
    survival = np.cumprod(1.0 - jumps / at_risk)
    return KaplanMeier(
        times=_read_only(unique[keep]),
        survival=_read_only(survival),
        n_at_risk=_read_only(at_risk),
        n_events=_read_only(jumps),
        max_time=float(max_time),
    )


def _kaplan_meier_sorted(data: SortedSurvival, weights: np.ndarray | None = None) -> KaplanMeier:
    """Kaplan-Meier of sorted data with optional weights (in time order)."""
    at_risk, events, _ = data.counts(weights)
    return _step_function(data.unique, at_risk, events, data.unique[-1])


def _censoring_sorted(data: SortedSurvival, weights: np.ndarray | None = None) -> KaplanMeier:
    """Censoring distribution G of sorted data: events at a tie leave the risk set first."""
    at_risk, events, censored = data.counts(weights)
    return _step_function(data.unique, at_risk - events, censored, data.unique[-1])


@fill_doc
def kaplan_meier(time: Any, event: Any) -> KaplanMeier:
    """Kaplan-Meier estimate of the survival function.

    S(t) = prod_{s <= t} (1 - d(s) / Y(s)) over the distinct event times s, with
    Y(s) the number still followed just before s and d(s) the events at s
    [Kaplan & Meier 1958, JASA 53:457]. Equals scikit-survival's
    ``kaplan_meier_estimator`` at every time.

    {kaplan_meier_parameters}

    Returns
    -------
    KaplanMeier
        The step function; ``.at(t)`` evaluates it.

    Raises
    ------
    DataError
        Missing or negative times, event not 0/1, different lengths.

    Examples
    --------
    >>> time = [2, 3, 3, 5, 6, 8, 9, 12]
    >>> event = [1, 1, 0, 1, 0, 1, 0, 0]
    >>> km = kaplan_meier(time, event)
    >>> km.at([2.5, 5, 10]).round(3).tolist()
    [0.875, 0.6, 0.4]
    """
    time_array, event_array = check_survival(time, event)
    return _kaplan_meier_sorted(sort_survival(time_array, event_array))


@fill_doc
def censoring_survival(time: Any, event: Any) -> KaplanMeier:
    """Kaplan-Meier estimate of the censoring distribution G(t) = P(C > t).

    Censorings are the "events"; at a time shared with events the events leave
    the risk set first, so G(t) = prod_{s <= t} (1 - c(s) / (Y(s) - d(s))) (as
    scikit-survival's ``CensoringDistributionEstimator``). With no censoring G
    is 1 everywhere. The IPCW metrics of this package weigh an event at T_i by
    1 / G(T_i) (``.at``, scikit-survival's convention); ``.before`` gives G(T_i-).

    {kaplan_meier_parameters}

    Returns
    -------
    KaplanMeier
        Steps at the censoring times; ``n_events`` holds the censorings.

    Examples
    --------
    >>> time = [2, 3, 3, 5, 6, 8, 9, 12]
    >>> event = [1, 1, 0, 1, 0, 1, 0, 0]
    >>> g = censoring_survival(time, event)
    >>> g.at([3, 9]).round(4).tolist(), float(g.before(9))
    ([0.8333, 0.3125], 0.625)
    """
    time_array, event_array = check_survival(time, event)
    return _censoring_sorted(sort_survival(time_array, event_array))


def _aalen_johansen_sorted(
    data: SortedSurvival, cause: int, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative incidence of ``cause`` at each distinct time (``data.event`` holds codes)."""
    w = np.ones(data.n) if weights is None else np.asarray(weights, dtype=float)
    total = np.add.reduceat(w, data.starts)
    any_event = np.add.reduceat(np.where(data.event > 0, w, 0.0), data.starts)
    cause_events = np.add.reduceat(np.where(data.event == cause, w, 0.0), data.starts)
    at_risk = total[::-1].cumsum()[::-1]
    ratio = np.divide(any_event, at_risk, out=np.zeros_like(at_risk), where=at_risk > 0)
    survival_before = np.r_[1.0, np.cumprod(1.0 - ratio)[:-1]]
    hazard = np.divide(cause_events, at_risk, out=np.zeros_like(at_risk), where=at_risk > 0)
    return data.unique, np.cumsum(survival_before * hazard)


@fill_doc
def aalen_johansen(time: Any, event_code: Any, cause: int, t: Any) -> np.ndarray | float:
    """Aalen-Johansen cumulative incidence of one cause with competing events.

    F_k(t) = sum_{s <= t} S(s-) d_k(s) / Y(s), where S is the Kaplan-Meier of
    any event, d_k(s) the events of cause k at s and Y(s) the number at risk
    [Aalen & Johansen 1978, Scand J Stat 5:141; Putter et al. 2007, Stat Med
    26:2389]. With one cause it equals 1 - Kaplan-Meier. Equals
    scikit-survival's ``cumulative_incidence_competing_risks``.

    Parameters
    ----------
    {time}
    event_code : array-like of shape (n,)
        0 censored, 1, 2, ... the cause of the event.
    cause : int
        The cause whose cumulative incidence is wanted (a positive code).
    t : float or array-like
        Time(s) to evaluate at (right-continuous); NaN beyond the last follow-up.

    Returns
    -------
    float or numpy.ndarray
        F_cause(t), shaped as ``t``.

    Examples
    --------
    >>> time = [2, 3, 3, 5, 6, 8]
    >>> cause = [1, 2, 0, 1, 0, 2]
    >>> aalen_johansen(time, cause, 1, [4, 6]).round(4).tolist()
    [0.1667, 0.3889]
    """
    time_array, codes = check_event_codes(time, event_code)
    present = sorted(int(c) for c in np.unique(codes) if c > 0)
    if isinstance(cause, bool) or not isinstance(cause, int | np.integer) or cause not in present:
        raise DataError(CAUSE_MSG.format(codes=present, cause=cause))
    times, incidence = _aalen_johansen_sorted(sort_survival(time_array, codes), int(cause))
    points = np.asarray(t, dtype=float)
    index = np.searchsorted(times, points, side="right") - 1
    values = np.where(index >= 0, incidence[np.maximum(index, 0)], 0.0)
    values = np.where(points > times[-1], np.nan, values)
    return float(values) if values.ndim == 0 else values


def _product_limit(at_risk: np.ndarray, jumps: np.ndarray) -> np.ndarray:
    """Cumulative product of (1 - jumps / at_risk); a time with nothing at risk keeps the value."""
    ratio = np.divide(jumps, at_risk, out=np.zeros_like(at_risk), where=at_risk > 0)
    return np.cumprod(1.0 - ratio)


def _survival_at_unique(data: SortedSurvival, weights: np.ndarray | None = None) -> np.ndarray:
    """Kaplan-Meier S at each distinct time of ``data`` (O(n), no search)."""
    at_risk, events, _ = data.counts(weights)
    return _product_limit(at_risk, events)


def _censoring_at_unique(data: SortedSurvival, weights: np.ndarray | None = None) -> np.ndarray:
    """Censoring distribution G at each distinct time of ``data`` (O(n), no search).

    ``_censoring_at_unique(data, w)[data.group]`` is G(T_i) of every sorted row:
    what the IPCW kernels need, recomputed per bootstrap replicate from its weights.
    """
    at_risk, events, censored = data.counts(weights)
    return _product_limit(at_risk - events, censored)


def _value_at(unique: np.ndarray, values: np.ndarray, t: float) -> float:
    """Right-continuous step function given by ``values`` at ``unique`` times, at ``t``."""
    index = int(np.searchsorted(unique, t, side="right")) - 1
    return 1.0 if index < 0 else float(values[index])


CENSORING_RANGE_MSG = (
    "censoring ends at time {end:g} but these data need it up to {needed:g}: pass a "
    "censoring distribution estimated on a follow-up at least as long (or none, to "
    "estimate it from these data)"
)


def _censoring_for(
    data: SortedSurvival, censoring: KaplanMeier | None, needed: float
) -> np.ndarray:
    """G at each distinct time of ``data``: from these data, or from a given G.

    A given G must come from a follow-up reaching ``needed`` (the last time a
    metric evaluates it); beyond that its values are not used (NaN reads 0).
    """
    if censoring is None:
        return _censoring_at_unique(data)
    if censoring.max_time < needed:
        raise DataError(CENSORING_RANGE_MSG.format(end=censoring.max_time, needed=needed))
    return np.nan_to_num(np.asarray(censoring.at(data.unique), dtype=float), nan=0.0)

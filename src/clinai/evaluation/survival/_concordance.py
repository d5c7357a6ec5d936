"""Concordance indices for survival predictions: Harrell's C and Uno's C.

Both run in O(n log n): rows sorted by time once, scores ranked once, and one
pass from the last time down with a Fenwick tree of the scores of later rows
(:mod:`clinai.evaluation.survival._kernels`). The prepared arrays
(:class:`_ConcordanceInputs`) do not change between bootstrap replicates; a
replicate passes its row counts as weights to :func:`_concordance_from_sorted`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from clinai.evaluation._docstrings import fill_doc
from clinai.evaluation._estimate import FieldsRecord
from clinai.evaluation.survival._inputs import (
    check_has_events,
    check_score,
    check_survival,
    check_tied_tol,
)
from clinai.evaluation.survival._kaplan_meier import (
    KaplanMeier,
    SortedSurvival,
    _censoring_for,
    sort_survival,
)
from clinai.exceptions import DataError

__all__ = ["Concordance", "harrell_c", "uno_c"]

NO_PAIRS_MSG = (
    "no comparable pairs{where}: a concordance index needs an event followed by a longer follow-up"
)
TAU_MSG = "tau must be a finite time after the first follow-up time ({low:g}); got {value!r}"
CENSORING_ZERO_MSG = (
    "the censoring distribution is 0 at {count} event time(s){where}: inverse probability of "
    "censoring weights are undefined there (choose a smaller tau or horizon)"
)


@dataclass(frozen=True)
class Concordance(FieldsRecord):
    """A concordance index with its pair counts.

    Parameters
    ----------
    estimate : float
        The C index (NaN when no pair is comparable).
    method : str
        ``"harrell"`` or ``"uno"``.
    tau : float or None
        Uno's truncation time (events at or after it are not scored); None: none.
    concordant, discordant, tied_risk : float
        Comparable pairs where the earlier event has the higher score, the lower
        score, or a score within ``tied_tol`` (unweighted by IPCW; as
        scikit-survival's counts).
    tied_time : float
        Pairs of an event and a censoring at the same time (comparable).
    """

    estimate: float
    method: str
    tau: float | None
    concordant: float
    discordant: float
    tied_risk: float
    tied_time: float

    _json_counts = ("concordant", "discordant", "tied_risk", "tied_time")


@dataclass(frozen=True, eq=False)
class _ConcordanceInputs:
    """What a concordance index needs, prepared once: sorted rows and score ranks."""

    data: SortedSurvival
    rank: np.ndarray
    below: np.ndarray
    upto: np.ndarray
    n_ranks: int


def _prepare(data: SortedSurvival, score: np.ndarray, tied_tol: float) -> _ConcordanceInputs:
    """Rank the scores (in time order) and find each one's tie window, once.

    One argsort of the scores; the tie windows are searched with sorted needles
    (fast), then scattered back to time order.
    """
    sorted_score = score[data.order]
    by_score = np.argsort(sorted_score)  # order within equal scores does not matter
    values = sorted_score[by_score]
    new = np.empty(values.shape[0], dtype=bool)
    new[:1] = True
    np.not_equal(values[1:], values[:-1], out=new[1:])
    distinct = values[new]
    rank, below, upto = (np.empty(values.shape[0], dtype=np.int64) for _ in range(3))
    rank[by_score] = np.cumsum(new) - 1
    below[by_score] = np.searchsorted(distinct, values - tied_tol, side="left")
    upto[by_score] = np.searchsorted(distinct, values + tied_tol, side="right")
    return _ConcordanceInputs(
        data=data, rank=rank, below=below, upto=upto, n_ranks=int(distinct.shape[0])
    )


def _concordance_from_sorted(
    inputs: _ConcordanceInputs,
    weights: np.ndarray | None = None,
    ipcw: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the concordance kernel's sums; ``weights`` and ``ipcw`` per sorted row.

    Parameters
    ----------
    inputs : _ConcordanceInputs
        From :func:`_prepare` (once; reused by every bootstrap replicate).
    weights : numpy.ndarray of shape (n,) or (n, B), optional
        Row counts of one replicate, or of B replicates computed in one pass
        (several times faster per replicate than one at a time); default 1 each.
        float32 only for integer counts whose total stays below 2**24 (the
        kernel's sums then stay exact in float32).
    ipcw : numpy.ndarray of shape (n,), (n, m) or (n, m, B), optional
        Factors of each event for m IPCW indices (1 / G(T_i)^2 for Uno's C, 0
        from tau on), computed in the same pass as Harrell's C; (n, m, B) when
        they differ between the replicates (G re-estimated in each).

    Returns
    -------
    tuple of numpy.ndarray
        ``(numerators, denominators, counts)``, each with a leading axis of B
        when ``weights`` is 2-D: index 0 Harrell's C, 1..m the IPCW indices
        (C = numerator / denominator); counts ``[concordant, discordant,
        tied_risk, tied_time]``.
    """
    from clinai.evaluation.survival._kernels import concordance_sums  # numba, compiled once

    n = inputs.data.n
    weight: np.ndarray = np.ones(n) if weights is None else np.asarray(weights)
    if weight.dtype != np.float32:  # float32: integer counts summing below 2**24 (exact)
        weight = weight.astype(float, copy=False)
    batch = weight.ndim == 2
    weight = np.ascontiguousarray(weight.reshape(n, -1))
    factors: np.ndarray = np.zeros((n, 0)) if ipcw is None else np.asarray(ipcw, dtype=float)
    if factors.ndim < 3:
        factors = factors.reshape(n, -1, 1)
    factors = np.ascontiguousarray(np.broadcast_to(factors, (n, factors.shape[1], weight.shape[1])))
    sums = concordance_sums(
        inputs.data.starts,
        inputs.data.event,
        inputs.rank,
        inputs.below,
        inputs.upto,
        weight,
        factors,
        inputs.n_ranks,
    )
    m = factors.shape[1] + 1
    if not batch:
        sums = sums[0]
    return sums[..., :m], sums[..., m : 2 * m], sums[..., 2 * m :]


def _uno_rows(data: SortedSurvival, tau: float | None) -> np.ndarray:
    """Sorted rows whose event Uno's C scores (events before tau): once per data set."""
    scored = data.event if tau is None else data.event & (data.time < tau)
    return np.flatnonzero(scored)


def _uno_weights(
    data: SortedSurvival, censoring_unique: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, int]:
    """Return 1 / G(T_i)^2 per sorted row (0 off ``rows``) and how many ``rows`` have G = 0.

    ``censoring_unique`` holds G at each distinct time (a bootstrap replicate's
    own G); ``rows`` from :func:`_uno_rows`. O(events), not O(n), per replicate.
    """
    g = censoring_unique[data.group[rows]]
    positive = g > 0
    weights = np.zeros(data.n)
    weights[rows[positive]] = 1.0 / np.square(g[positive])
    return weights, int((~positive).sum())


def _result(
    sums: tuple[np.ndarray, np.ndarray, np.ndarray],
    index: int,
    method: str,
    tau: float | None,
    where: str,
) -> Concordance:
    numerators, denominators, counts = sums
    if denominators[index] <= 0:
        raise DataError(NO_PAIRS_MSG.format(where=where))
    return Concordance(
        estimate=float(numerators[index] / denominators[index]),
        method=method,
        tau=tau,
        concordant=float(counts[0]),
        discordant=float(counts[1]),
        tied_risk=float(counts[2]),
        tied_time=float(counts[3]),
    )


def _checked(time: Any, event: Any, score: Any, tied_tol: Any) -> tuple[Any, ...]:
    time_array, event_array = check_survival(time, event)
    score_array = check_score(score, time_array.shape[0], name="score")
    check_has_events(event_array)
    return time_array, event_array, score_array, check_tied_tol(tied_tol)


@fill_doc
def harrell_c(time: Any, event: Any, score: Any, *, tied_tol: float = 1e-8) -> Concordance:
    """Harrell's concordance index.

    Among comparable pairs - patient i has an event and patient j is followed
    longer (T_j > T_i, or T_j = T_i and j censored) - the share where i has the
    higher score; scores within ``tied_tol`` count 1/2. Pairs of two events at
    the same time are not comparable [Harrell et al. 1982, JAMA 247:2543;
    Harrell et al. 1996, Stat Med 15:361]. Equals scikit-survival's
    ``concordance_index_censored``. O(n log n).

    Parameters
    ----------
    {time}
    {event}
    score : array-like of shape (n,)
        Higher means higher risk (a linear predictor or the risk by a horizon).
    {tied_tol}

    {concordance_returns}

    Raises
    ------
    DataError
        Bad time, event or score (see :func:`check_survival`), no events, no
        comparable pair.

    Examples
    --------
    >>> time = [2, 3, 3, 5, 6, 8, 9, 12]
    >>> event = [1, 1, 0, 1, 0, 1, 0, 0]
    >>> score = [2.1, 0.4, 1.5, 1.2, -0.4, 0.8, 1.0, 0.1]
    >>> result = harrell_c(time, event, score)
    >>> round(result.estimate, 4), result.concordant, result.discordant
    (0.7368, 14.0, 5.0)
    """
    time_array, event_array, score_array, tol = _checked(time, event, score, tied_tol)
    inputs = _prepare(sort_survival(time_array, event_array), score_array, tol)
    return _result(_concordance_from_sorted(inputs), 0, "harrell", None, "")


@fill_doc
def uno_c(
    time: Any,
    event: Any,
    score: Any,
    *,
    tau: float | None = None,
    censoring: KaplanMeier | None = None,
    tied_tol: float = 1e-8,
) -> Concordance:
    """Uno's concordance index with inverse probability of censoring weights.

    C_tau = sum_ij D_i G(T_i)^-2 1(T_i < T_j, T_i < tau) [1(M_i > M_j) + 1(M_i = M_j)/2]
    / sum_ij D_i G(T_i)^-2 1(T_i < T_j, T_i < tau), with D_i the event
    indicator, M the score and G the censoring distribution; unlike Harrell's C
    its limit does not depend on the censoring [Uno et al. 2011, Stat Med
    30:1105]. Comparable pairs and ties as :func:`harrell_c`; G(T_i) is the
    right-continuous value (see :func:`censoring_survival`). Equals
    scikit-survival's ``concordance_index_ipcw``. O(n log n).

    Parameters
    ----------
    {time}
    {event}
    score : array-like of shape (n,)
        Higher means higher risk.
    tau : float, optional
        Truncation time: only events before ``tau`` are scored. Choose it where
        some patients are still followed (G(tau) > 0). None: no truncation.
    {censoring}
    {tied_tol}

    {concordance_returns}

    Raises
    ------
    DataError
        As :func:`harrell_c`; G = 0 at a scored event time; a bad ``tau``.

    Examples
    --------
    >>> time = [2, 3, 3, 5, 6, 8, 9, 12]
    >>> event = [1, 1, 0, 1, 0, 1, 0, 0]
    >>> score = [2.1, 0.4, 1.5, 1.2, -0.4, 0.8, 1.0, 0.1]
    >>> round(uno_c(time, event, score, tau=8).estimate, 4)
    0.7308
    """
    time_array, event_array, score_array, tol = _checked(time, event, score, tied_tol)
    if tau is not None:
        try:
            tau = float(tau)
        except (TypeError, ValueError) as exc:
            raise DataError(TAU_MSG.format(low=time_array.min(), value=tau)) from exc
        if not math.isfinite(tau) or tau <= time_array.min():
            raise DataError(TAU_MSG.format(low=time_array.min(), value=tau))
    data = sort_survival(time_array, event_array)
    rows = _uno_rows(data, tau)
    needed = float(data.time[rows].max()) if rows.size else 0.0
    ipcw, n_zero = _uno_weights(data, _censoring_for(data, censoring, needed), rows)
    where = "" if tau is None else f" before tau = {tau:g}"
    if n_zero:
        raise DataError(CENSORING_ZERO_MSG.format(count=n_zero, where=where))
    sums = _concordance_from_sorted(_prepare(data, score_array, tol), ipcw=ipcw)
    return _result(sums, 1, "uno", tau, where)

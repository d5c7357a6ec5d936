"""Compiled loops (numba): the concordance indices (Fenwick tree) and the Cox risk-set sums.

Imported inside the functions that use it, so that ``import clinai.evaluation``
does not load numba. Compiled on first use after installation (a few seconds),
then loaded from numba's disk cache.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def concordance_sums(
    starts: np.ndarray,
    event: np.ndarray,
    rank: np.ndarray,
    below: np.ndarray,
    upto: np.ndarray,
    weight: np.ndarray,
    ipcw: np.ndarray,
    n_ranks: int,
) -> np.ndarray:
    """Weighted sums over comparable pairs for B weightings at once, rows in time order.

    A pair (i, j) is comparable when i has an event and T_j > T_i, or T_j = T_i
    and j is censored (scikit-survival's rule). Times are visited from the last
    down: at each distinct time the censored rows join a Fenwick tree of the
    scores of later rows, the events are scored against it, then the events
    join. One pass gives Harrell's C and any number of IPCW-weighted indices
    (Uno's C), for B weightings (bootstrap replicates) together: the tree holds
    B sums per node, so every memory access serves all B (cache lines, not
    arithmetic, bound this loop).

    Parameters
    ----------
    starts : int array
        First sorted row of each distinct time.
    event : bool array
        Event indicator per sorted row.
    rank : int array
        Rank of the row's score among the distinct scores (0-based).
    below, upto : int array
        Number of distinct scores below ``score - tol`` and up to ``score + tol``:
        a later row with rank < below is concordant, below <= rank < upto tied.
    weight : float array of shape (n, B)
        Weight of each row in each weighting (bootstrap count; 1 without one).
    ipcw : float array of shape (n, m, B)
        Extra factor of each row as the event i in each of m weighted indices
        (1 / G(T_i)^2 for Uno's C, 0 from tau on); m may be 0.
    n_ranks : int
        Number of distinct scores.

    Returns
    -------
    numpy.ndarray of shape (B, 2 m + 6)
        Per weighting ``[numerator_0..m, denominator_0..m, concordant,
        discordant, tied_risk, tied_time]``, index 0 Harrell's (weights only),
        1..m the IPCW ones: C_k = numerator_k / denominator_k with ties in score
        counted 1/2. The counts weigh pairs by ``weight`` only; an event with
        factor 0 still counts there, as in scikit-survival.
    """
    n, n_sets = weight.shape
    m = ipcw.shape[1]
    # the tree sums weights in their own dtype: float32 halves its memory traffic and is
    # exact for integer counts while every sum stays below 2**24 (the caller checks)
    tree = np.zeros((n_ranks + 1, n_sets), dtype=weight.dtype)
    result = np.zeros((n_sets, 2 * m + 6))
    total = np.zeros(n_sets)
    censored_here = np.zeros(n_sets)
    lower = np.zeros(n_sets)
    upper = np.zeros(n_sets)
    for g in range(starts.shape[0] - 1, -1, -1):
        first = starts[g]
        last = starts[g + 1] if g + 1 < starts.shape[0] else n
        censored_here[:] = 0.0
        for k in range(first, last):
            if not event[k]:
                for b in range(n_sets):
                    censored_here[b] += weight[k, b]
                    total[b] += weight[k, b]
                _add(tree, rank[k], weight[k])
        for k in range(first, last):
            if event[k]:
                _prefix(tree, below[k], lower)
                _prefix(tree, upto[k], upper)
                for b in range(n_sets):
                    w = float(weight[k, b])
                    credit = w * (lower[b] + 0.5 * (upper[b] - lower[b]))
                    pairs = w * total[b]
                    result[b, 0] += credit
                    result[b, m + 1] += pairs
                    for c in range(m):
                        result[b, c + 1] += ipcw[k, c, b] * credit
                        result[b, m + 2 + c] += ipcw[k, c, b] * pairs
                    result[b, 2 * m + 2] += w * lower[b]
                    result[b, 2 * m + 3] += w * (total[b] - upper[b])
                    result[b, 2 * m + 4] += w * (upper[b] - lower[b])
                    result[b, 2 * m + 5] += w * censored_here[b]
        for k in range(first, last):
            if event[k]:
                for b in range(n_sets):
                    total[b] += weight[k, b]
                _add(tree, rank[k], weight[k])
    return result


@njit(cache=True, nogil=True)
def _add(tree: np.ndarray, rank: int, values: np.ndarray) -> None:
    """Add ``values`` (one per weighting) at ``rank``."""
    position = rank + 1
    while position < tree.shape[0]:
        for b in range(values.shape[0]):
            tree[position, b] += values[b]
        position += position & -position


@njit(cache=True, nogil=True)
def _prefix(tree: np.ndarray, count: int, out: np.ndarray) -> None:
    """Write into ``out`` the summed weights of the ``count`` lowest ranks, per weighting."""
    out[:] = 0.0
    position = count
    while position > 0:
        for b in range(out.shape[0]):
            out[b] += tree[position, b]
        position -= position & -position


@njit(cache=True, nogil=True)
def auc_sums(
    run_starts: np.ndarray,
    case: np.ndarray,
    control: np.ndarray,
    time_group: np.ndarray,
    censoring_unique: np.ndarray,
    weight: np.ndarray,
) -> np.ndarray:
    """Return the sums of the cumulative/dynamic AUC: one pass over rows in risk order.

    Parameters
    ----------
    run_starts : int array
        First row of each run of tied risks.
    case, control : bool arrays
        Event by t; followed beyond t.
    time_group : int array
        Index of each row's time among the distinct times (for G(T_i)).
    censoring_unique : float array
        G at each distinct time; a case with G = 0 weighs 0.
    weight : float array
        Row weights (bootstrap counts), in this risk order.

    Returns
    -------
    numpy.ndarray
        ``[numerator, case_total, control_total]``: AUC = numerator /
        (case_total * control_total), case weights w_i / G(T_i), ties 1/2.
    """
    n = case.shape[0]
    numerator = 0.0
    case_total = 0.0
    control_below = 0.0
    for r in range(run_starts.shape[0]):
        first = run_starts[r]
        last = run_starts[r + 1] if r + 1 < run_starts.shape[0] else n
        run_case = 0.0
        run_control = 0.0
        for k in range(first, last):
            if case[k]:
                g = censoring_unique[time_group[k]]
                if g > 0.0:
                    run_case += weight[k] / g
            elif control[k]:
                run_control += weight[k]
        numerator += run_case * (control_below + 0.5 * run_control)
        case_total += run_case
        control_below += run_control
    result = np.empty(3)
    result[0] = numerator
    result[1] = case_total
    result[2] = control_below
    return result


@njit(cache=True, nogil=True)
def cox_sums(
    rows: np.ndarray,
    group: np.ndarray,
    event: np.ndarray,
    weight: np.ndarray,
    x: np.ndarray,
    beta: np.ndarray,
) -> tuple[float, np.ndarray, np.ndarray, float, float]:
    """Breslow log partial likelihood, score and information: one pass, rows in time order.

    The weighted risk-set sums S0, S1, S2 grow from the last time down; once all
    rows of a distinct time are in, its events enter the sums over event times
    (the formulas of :func:`clinai.evaluation.survival._cox.fit_cox`). Only
    ``rows`` are visited: a bootstrap replicate passes the rows it drew and its
    counts as ``weight``, on data sorted once. exp(x'b) is taken relative to the
    largest x'b seen so far (the sums are rescaled when it grows), so nothing
    overflows and no separate pass finds the maximum.

    Parameters
    ----------
    rows : int array
        The sorted rows to visit, ascending (those of weight > 0).
    group : int array
        Index of each sorted row's distinct time.
    event : bool array
        Event indicator per sorted row.
    weight : float array
        Case weight of each sorted row (a replicate's count).
    x : float array of shape (n, p)
        Covariates per sorted row (centred, so that x'b stays moderate).
    beta : float array of shape (p,)
        Coefficients.

    Returns
    -------
    tuple
        ``(loglik, score, information, hazard_sum, reference)``: Breslow's H0
        summed over every event time (its value from the last one on), for the
        covariates as passed, is ``hazard_sum * exp(-reference)`` (NaN
        reference without events).
    """
    p = x.shape[1]
    s0 = 0.0
    s1 = np.zeros(p)
    s2 = np.zeros((p, p))
    loglik = 0.0
    score = np.zeros(p)
    info = np.zeros((p, p))
    hazard_sum = 0.0
    reference = np.nan  # the top at the last event time: H0's terms are relative to it
    top = -np.inf
    d = 0.0
    xk = np.empty(p)
    m = rows.shape[0]
    following = group[rows[m - 1]] if m else 0
    for j in range(m - 1, -1, -1):
        k = rows[j]
        w = weight[k]
        here = following
        # the distinct time is complete when the next row down has an earlier time
        following = group[rows[j - 1]] if j > 0 else -1
        eta = 0.0
        for a in range(p):
            xk[a] = x[k, a]
            eta += xk[a] * beta[a]
        if eta > top:
            # S0..S2 are kept relative to exp(top): rescale them to the new top
            scale = np.exp(top - eta)
            s0 *= scale
            for a in range(p):
                s1[a] *= scale
                for c in range(a, p):
                    s2[a, c] *= scale
            top = eta
        r = w * np.exp(eta - top)
        s0 += r
        # the event's own terms by multiplication, not a branch (events are half the rows)
        at_event = w * event[k]
        d += at_event
        loglik += at_event * eta
        for a in range(p):
            ra = r * xk[a]
            s1[a] += ra
            score[a] += at_event * xk[a]
            for c in range(a, p):
                s2[a, c] += ra * xk[c]
        if d > 0.0 and following != here:
            loglik -= d * (np.log(s0) + top)
            if reference != reference:
                reference = top
            # a term relative to exp(reference): top only grows, so the factor is <= 1 (a term
            # it sends to 0 is below 1e-300 of the first one)
            hazard_sum += d / s0 * np.exp(reference - top)
            for a in range(p):
                score[a] -= d * s1[a] / s0
                for c in range(a, p):
                    info[a, c] += d * (s2[a, c] / s0 - s1[a] * s1[c] / (s0 * s0))
            d = 0.0
    for a in range(p):
        for c in range(a):
            info[a, c] = info[c, a]
    return loglik, score, info, hazard_sum, reference


@njit(cache=True, nogil=True)
def calibration_errors(
    rows: np.ndarray,
    x: np.ndarray,
    coef: np.ndarray,
    hazard: float,
    risk: np.ndarray,
    weight: np.ndarray,
    n_bins: int,
) -> tuple[float, float, np.ndarray]:
    """Weighted mean and maximum of |observed - predicted| risk, and their histogram.

    The observed risk of row k is the flexible calibration model's
    1 - exp(-exp(x_k'coef) H0); only ``rows`` (ascending) are visited, each
    weighing ``weight[k]``. The histogram has ``n_bins`` equal bins from 0 to
    the maximum (the last bin closed), for weighted quantiles.

    Returns
    -------
    tuple
        ``(mean_error, max_error, histogram)``.
    """
    p = x.shape[1]
    error = np.empty(rows.shape[0])
    total = 0.0
    weighted = 0.0
    top = 0.0
    for j in range(rows.shape[0]):
        k = rows[j]
        eta = 0.0
        for a in range(p):
            eta += x[k, a] * coef[a]
        value = abs(-np.expm1(-np.exp(eta) * hazard) - risk[k])
        error[j] = value
        total += weight[k]
        weighted += weight[k] * value
        top = max(top, value)
    histogram = np.zeros(n_bins)
    if top > 0.0:
        scale = n_bins / top
        for j in range(rows.shape[0]):
            histogram[min(int(error[j] * scale), n_bins - 1)] += weight[rows[j]]
    return weighted / total, top, histogram

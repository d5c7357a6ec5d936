"""Compiled loop of the concordance indices (numba), O(n log n) with a Fenwick tree.

Imported inside the functions that use it, so that ``import clinai.evaluation``
does not load numba. Compiled on first use after installation (a few seconds),
then loaded from numba's disk cache.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _add(tree: np.ndarray, rank: int, value: float) -> None:
    position = rank + 1
    while position < tree.shape[0]:
        tree[position] += value
        position += position & -position


@njit(cache=True, nogil=True)
def _prefix(tree: np.ndarray, count: int) -> float:
    """Sum of the weights of the ``count`` lowest ranks."""
    total = 0.0
    position = count
    while position > 0:
        total += tree[position]
        position -= position & -position
    return total


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
    """Weighted sums over comparable pairs, rows in ascending time order.

    A pair (i, j) is comparable when i has an event and T_j > T_i, or T_j = T_i
    and j is censored (scikit-survival's rule). Times are visited from the last
    down: at each distinct time the censored rows join the tree of later rows,
    the events are scored against it, then the events join. One pass gives
    Harrell's C and any number of IPCW-weighted indices (Uno's C, one per tau).

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
    weight : float array
        Weight of each row (bootstrap count; 1 without a bootstrap).
    ipcw : float array of shape (n, m)
        Extra factor of each row as the event i in each of m weighted indices
        (1 / G(T_i)^2 for Uno's C, 0 from tau on); m may be 0.
    n_ranks : int
        Number of distinct scores.

    Returns
    -------
    numpy.ndarray
        ``[numerator_0..m, denominator_0..m, concordant, discordant, tied_risk,
        tied_time]``, index 0 Harrell's (weights only), 1..m the IPCW ones:
        C_k = numerator_k / denominator_k with ties in score counted 1/2. The
        counts weigh pairs by ``weight`` only; an event with factor 0 still
        counts there, as in scikit-survival.
    """
    m = ipcw.shape[1]
    tree = np.zeros(n_ranks + 1)
    numerator = np.zeros(m + 1)
    denominator = np.zeros(m + 1)
    counts = np.zeros(4)  # concordant, discordant, tied in score, tied in time
    total = 0.0
    n = event.shape[0]
    for g in range(starts.shape[0] - 1, -1, -1):
        first = starts[g]
        last = starts[g + 1] if g + 1 < starts.shape[0] else n
        censored_here = 0.0
        for k in range(first, last):
            if not event[k] and weight[k] != 0.0:
                censored_here += weight[k]
                total += weight[k]
                _add(tree, rank[k], weight[k])
        for k in range(first, last):
            if event[k] and weight[k] != 0.0:
                lower = _prefix(tree, below[k])
                upper = _prefix(tree, upto[k])
                credit = weight[k] * (lower + 0.5 * (upper - lower))
                pairs = weight[k] * total
                numerator[0] += credit
                denominator[0] += pairs
                for c in range(m):
                    numerator[c + 1] += ipcw[k, c] * credit
                    denominator[c + 1] += ipcw[k, c] * pairs
                counts[0] += weight[k] * lower
                counts[1] += weight[k] * (total - upper)
                counts[2] += weight[k] * (upper - lower)
                counts[3] += weight[k] * censored_here
        for k in range(first, last):
            if event[k] and weight[k] != 0.0:
                total += weight[k]
                _add(tree, rank[k], weight[k])
    result = np.empty(2 * m + 6)
    result[: m + 1] = numerator
    result[m + 1 : 2 * m + 2] = denominator
    result[2 * m + 2 :] = counts
    return result

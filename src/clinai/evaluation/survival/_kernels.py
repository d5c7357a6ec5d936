"""Compiled loop of the concordance indices (numba), O(n log n) with a Fenwick tree.

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
    event_weight: np.ndarray,
    n_ranks: int,
) -> np.ndarray:
    """Weighted sums over comparable pairs, rows in ascending time order.

    A pair (i, j) is comparable when i has an event and T_j > T_i, or T_j = T_i
    and j is censored (scikit-survival's rule). Times are visited from the last
    down: at each distinct time the censored rows join the tree of later rows,
    the events are scored against it, then the events join.

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
        Weight of each row as the later member j of a pair (bootstrap count).
    event_weight : float array
        Weight of each row as the event i in C (count times IPCW; 0 leaves it out of C
        but not out of the counts, as scikit-survival).
    n_ranks : int
        Number of distinct scores.

    Returns
    -------
    numpy.ndarray
        ``[numerator, denominator, concordant, discordant, tied_risk, tied_time]``:
        C = numerator / denominator with ties in score counted 1/2; the counts
        weigh pairs by ``weight`` only (no IPCW).
    """
    tree = np.zeros(n_ranks + 1)
    total = 0.0
    numerator = 0.0
    denominator = 0.0
    concordant = 0.0
    discordant = 0.0
    tied_risk = 0.0
    tied_time = 0.0
    n = event.shape[0]
    for g in range(starts.shape[0] - 1, -1, -1):
        first = starts[g]
        last = starts[g + 1] if g + 1 < starts.shape[0] else n
        censored_here = 0.0
        for k in range(first, last):
            if not event[k]:
                censored_here += weight[k]
                total += weight[k]
                position = rank[k] + 1
                while position <= n_ranks:
                    tree[position] += weight[k]
                    position += position & -position
        for k in range(first, last):
            if event[k]:
                lower = 0.0
                position = below[k]
                while position > 0:
                    lower += tree[position]
                    position -= position & -position
                upper = 0.0
                position = upto[k]
                while position > 0:
                    upper += tree[position]
                    position -= position & -position
                numerator += event_weight[k] * (lower + 0.5 * (upper - lower))
                denominator += event_weight[k] * total
                concordant += weight[k] * lower
                tied_risk += weight[k] * (upper - lower)
                discordant += weight[k] * (total - upper)
                tied_time += weight[k] * censored_here
        for k in range(first, last):
            if event[k]:
                total += weight[k]
                position = rank[k] + 1
                while position <= n_ranks:
                    tree[position] += weight[k]
                    position += position & -position
    result = np.empty(6)
    result[0] = numerator
    result[1] = denominator
    result[2] = concordant
    result[3] = discordant
    result[4] = tied_risk
    result[5] = tied_time
    return result

"""Compiled loop of Wolbers' concordance index for competing risks (numba), O(n log n).

Imported inside the function that uses it, so that ``import clinai.evaluation`` does
not load numba. Compiled on first use after installation, then loaded from numba's
disk cache.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _tree_add(tree: np.ndarray, rank: int, value: float) -> None:
    """Add ``value`` at ``rank`` of a Fenwick tree."""
    position = rank + 1
    while position < tree.shape[0]:
        tree[position] += value
        position += position & -position


@njit(cache=True, nogil=True)
def _tree_sum(tree: np.ndarray, count: int) -> float:
    """Return the summed values of the ``count`` lowest ranks."""
    total = 0.0
    position = count
    while position > 0:
        total += tree[position]
        position -= position & -position
    return total


@njit(cache=True, nogil=True)
def _score(
    tree: np.ndarray, below: int, upto: int, factor: float, total: float, out: np.ndarray, at: int
) -> None:
    """Add one case's credit (lower scores 1, ties 1/2) and pairs to ``out[at]``, ``out[at+1]``."""
    lower = _tree_sum(tree, below)
    upper = _tree_sum(tree, upto)
    out[at] += factor * (lower + 0.5 * (upper - lower))
    out[at + 1] += factor * total


@njit(cache=True, nogil=True)
def wolbers_sums(
    starts: np.ndarray,
    is_cause: np.ndarray,
    rank: np.ndarray,
    below: np.ndarray,
    upto: np.ndarray,
    n_ranks: int,
    row_weight: np.ndarray,
    case_a: np.ndarray,
    case_b: np.ndarray,
    competing_weight: np.ndarray,
) -> np.ndarray:
    """Weighted sums over the two kinds of comparable pairs of Wolbers' C, rows in time order.

    Pairs of kind A: i has an event of the cause (weight ``case_a[i]``, 0 when not
    scored) and j is followed longer (T_j > T_i, or T_j = T_i and j has no event of
    the cause), weighing ``case_a[i] * row_weight[j]``. Pairs of kind B: j had a
    competing event strictly before T_i, weighing ``case_b[i] * competing_weight[j]``
    (0 for rows without a competing event). A pair counts 1 when i's score is the
    higher, 1/2 when the two are tied (rank windows ``below``/``upto`` as in
    :func:`clinai.evaluation.survival._kernels.concordance_sums`).

    Returns
    -------
    numpy.ndarray
        ``[numerator_a, pairs_a, numerator_b, pairs_b]``.
    """
    n = is_cause.shape[0]
    n_groups = starts.shape[0]
    out = np.zeros(4)
    tree = np.zeros(n_ranks + 1)
    total = 0.0
    for g in range(n_groups - 1, -1, -1):  # kind A: from the last time down
        first = starts[g]
        last = starts[g + 1] if g + 1 < n_groups else n
        for k in range(first, last):
            if not is_cause[k]:
                _tree_add(tree, rank[k], row_weight[k])
                total += row_weight[k]
        for k in range(first, last):
            if is_cause[k] and case_a[k] != 0.0:
                _score(tree, below[k], upto[k], case_a[k], total, out, 0)
        for k in range(first, last):
            if is_cause[k]:
                _tree_add(tree, rank[k], row_weight[k])
                total += row_weight[k]
    tree[:] = 0.0
    total = 0.0
    for g in range(n_groups):  # kind B: from the first time up
        first = starts[g]
        last = starts[g + 1] if g + 1 < n_groups else n
        for k in range(first, last):
            if is_cause[k] and case_b[k] != 0.0:
                _score(tree, below[k], upto[k], case_b[k], total, out, 2)
        for k in range(first, last):
            if competing_weight[k] != 0.0:
                _tree_add(tree, rank[k], competing_weight[k])
                total += competing_weight[k]
    return out

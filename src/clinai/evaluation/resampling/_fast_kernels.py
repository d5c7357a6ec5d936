"""Compiled loops of the fast bootstrap (:mod:`._fast_bootstrap`), with numba.

The engine is limited by memory traffic, not arithmetic: on this project's 2-core VM two
threads ran no faster than one. Turning the patients' counts of a replicate into its row
counts took three numpy passes over the rows (the gather, the float copy for the matrix
product, the running sums of each class), each reading and writing arrays of ``n`` values.
:func:`gather_running_sums` does all three in one pass. Measured on 833,000 rows (700,000
patients), one thread, per replicate: 2.9 ms for the three numpy passes against 1.0 ms
(``benchmarks/README.md``, issue 15). :func:`count_draws` counts a block's uniform draws
without numpy's intermediate index array (``astype(intp)`` then ``bincount``).
Compiled on first use and cached on disk by numba.
The results are the same integers and floats as numpy's, so every replicate is unchanged
(``tests/evaluation/resampling/test_fast_bootstrap_pinned.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["count_draws", "gather_running_sums", "running_sums"]


@njit(cache=True, nogil=True)
def gather_running_sums(
    clusters: np.ndarray,
    codes: np.ndarray,
    n1: int,
    counts: np.ndarray,
    weights: np.ndarray,
    c1: np.ndarray,
    c0: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """Row counts from the patients' counts, as integers and floats, and each class's running sums.

    ``codes`` is unsigned (a ``uint64`` view of the layout's codes), so numba adds no
    negative-index checks to the gather. For each replicate ``r`` and row ``i``
    (canonical order: the ``n1`` events first):
    ``counts[r, i] = weights[r, i] = clusters[r, codes[i]]``; ``c1[r, k]`` is the sum of
    the first ``k`` events' counts and ``c0[r, k]`` that of the first ``k`` non-events'
    (``c1[r, 0] = c0[r, 0] = 0``).
    """
    n = codes.shape[0]
    for r in range(clusters.shape[0]):
        source, row, weight, sums1, sums0 = clusters[r], counts[r], weights[r], c1[r], c0[r]
        running = 0
        sums1[0] = 0
        for i in range(n1):
            value = source[codes[i]]
            row[i] = value
            weight[i] = value
            running += value
            sums1[i + 1] = running
        running = 0
        sums0[0] = 0
        for i in range(n1, n):
            value = source[codes[i]]
            row[i] = value
            weight[i] = value
            running += value
            sums0[i - n1 + 1] = running


@njit(cache=True, nogil=True)
def running_sums(
    counts: np.ndarray, n1: int, c1: np.ndarray, c0: np.ndarray
) -> None:  # pragma: no cover - compiled
    """Each class's running sums of the row counts (rows resampled: no gather)."""
    n = counts.shape[1]
    for r in range(counts.shape[0]):
        running = 0
        c1[r, 0] = 0
        for i in range(n1):
            running += counts[r, i]
            c1[r, i + 1] = running
        running = 0
        c0[r, 0] = 0
        for i in range(n1, n):
            running += counts[r, i]
            c0[r, i - n1 + 1] = running


@njit(cache=True, nogil=True)
def count_draws(draws: np.ndarray, mask: int, counts: np.ndarray) -> None:  # pragma: no cover
    """Set ``counts[u]`` to how many of ``draws`` equal ``u`` after masking with ``mask``.

    ``draws & mask`` must be below ``counts.shape[0]``: the raw 16-bit draws of a full
    block masked to its 15 bits, or a partial block's draws (already below its size).
    """
    counts[:] = 0
    for value in draws:
        counts[value & mask] += 1

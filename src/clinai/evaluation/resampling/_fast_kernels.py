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

__all__ = ["count_draws", "gather_rank_sums", "gather_running_sums", "running_sums"]


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


@njit(cache=True, nogil=True)
def gather_rank_sums(
    clusters: np.ndarray,
    codes: np.ndarray,
    n1: int,
    lo0: np.ndarray,
    hi0: np.ndarray,
    positions1: np.ndarray,
    positions0: np.ndarray,
    weights: np.ndarray,
    scratch1: np.ndarray,
    scratch0: np.ndarray,
    pairs2: np.ndarray,
    at1: np.ndarray,
    at0: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """Row counts as floats, twice the AUROC's pair count, and running sums at some positions.

    What :func:`gather_running_sums` and the AUROC's gathers and product then did over
    whole rows, for a replicate whose average precision is not wanted: the running sums
    of each class go into one reused row (``scratch1``, ``scratch0``: a thread's, so it
    stays in cache) instead of a chunk-sized array, and only the sums at
    ``positions1`` and ``positions0`` (the LOWESS bins' edges, the thresholds, the
    totals) are kept in ``at1[r]`` and ``at0[r]``. For each event ``i`` (canonical
    order), ``pairs2[r]`` adds its count times ``c0[lo0[i]] + c0[hi0[i]]`` (``hi0 = lo0``
    without tied non-events): the same integers as before, so the same AUROC.
    """
    n = codes.shape[0]
    n0 = n - n1
    for r in range(clusters.shape[0]):
        source, weight = clusters[r], weights[r]
        running = 0
        for k in range(n0):
            value = source[codes[n1 + k]]
            weight[n1 + k] = value
            scratch0[k] = running
            running += value
        scratch0[n0] = running
        running = 0
        pairs = 0
        for i in range(n1):
            value = source[codes[i]]
            weight[i] = value
            scratch1[i] = running
            running += value
            pairs += np.int64(value) * (scratch0[lo0[i]] + scratch0[hi0[i]])
        scratch1[n1] = running
        pairs2[r] = pairs
        for j in range(positions1.shape[0]):
            at1[r, j] = scratch1[positions1[j]]
        for j in range(positions0.shape[0]):
            at0[r, j] = scratch0[positions0[j]]

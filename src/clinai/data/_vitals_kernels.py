"""Compiled loops of the grid engine (:mod:`clinai.data._vitals_grid`), with numba.

Why compiled loops and not numpy (measured on this project's 2-vCPU machine: 96 million
minute-level rows, 1 million prediction times, 8 parameters, 15-minute buckets, windows
of 1 h, 6 h and 24 h): the numpy formulation made about a dozen passes over every row
(five ``bincount``, three ``ufunc.at`` scatters, the cell arithmetic) and some forty
temporary arrays per window, 7.9 s of CPU; these loops make one pass over the rows,
two over the grid and one over the predictions, about 3.3 s. Alternating runs of the two
versions: median 9.8 s against 6.0 s for the whole pipeline (10 -> 16 million rows/s).

All loops take their output arrays from the caller, who reuses them from unit to unit:
on this machine a first touch of fresh memory costs about 2 microseconds per 4 KiB page,
which was a third of the time of these loops. Grid arrays are row-major, shape
``(grid rows, parameters, ...)``: what one prediction reads lies together.

Each function is compiled on its first use after installation (about 10 s for all four)
and cached on disk by numba; later processes load it from there (well under a second).
"""

from __future__ import annotations

import numpy as np
from numba import njit

US_PER_HOUR = 3_600_000_000
NEVER = np.iinfo(np.int64).min


@njit(cache=True, nogil=True)
def reduce_rows(
    time_us: np.ndarray,
    pidx: np.ndarray,
    value: np.ndarray,
    run_lengths: np.ndarray,
    run_base: np.ndarray,
    run_first: np.ndarray,
    run_rows: np.ndarray,
    width_us: int,
    count: np.ndarray,
    sums: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    last_t: np.ndarray,
    last_v: np.ndarray,
) -> None:  # pragma: no cover - compiled; tested through GridReducer
    """Add the rows of whole stays to their grid cells ``(grid row, parameter)``.

    A row of parameter ``p`` at time ``t`` (microseconds) lies in bucket
    ``b = floor(t / width_us)``, grid row ``b - run_first`` of its stay (rows before
    the grid go to its row 0, rows at or after ``run_rows`` are dropped), and adds to
    its cell: ``count`` +1, ``sums[..., 0]`` += value, ``[..., 1]`` += dt, ``[..., 2]``
    += dt**2, ``[..., 3]`` += dt * value with ``dt`` the hours from the bucket's start;
    ``low``/``high`` keep the minimum/maximum value and ``last_t``/``last_v`` the
    latest time and its value (of rows at the same time, the later in input order).

    Rows of a run (one stay, ``run_lengths`` rows in input order) whose ``run_base``
    is negative, and rows with ``pidx`` equal to the number of parameters, are ignored.
    ``pidx`` is unsigned, so numba adds no negative-index checks (measured: 30% faster).

    The rows of one bucket are summed in a small table of per-parameter accumulators
    and moved onto the grid when the bucket changes, so rows that ascend in time (as
    monitors write them) touch the grid once per bucket; any order gives the same sums.
    """
    n_par = count.shape[1]
    to_hours = 1.0 / US_PER_HOUR
    acc = np.empty((n_par + 1, 8))  # count, 4 sums, low, high, last value
    acc_t = np.empty(n_par + 1, np.int64)
    a = 0
    for r in range(len(run_lengths)):
        n = run_lengths[r]
        base = run_base[r]
        if base < 0:
            a += n
            continue
        first = run_first[r]
        rows = run_rows[r]
        cell = -1
        b_lo = 1  # the current bucket is [b_lo, b_hi): empty at the start
        b_hi = 0
        for i in range(a, a + n + 1):
            t = time_us[i] if i < a + n else b_lo - 1
            if t < b_lo or t >= b_hi:
                if cell >= 0:
                    for p in range(n_par):
                        k = acc[p, 0]
                        if k == 0:
                            continue
                        count[cell, p] += np.int64(k)
                        for j in range(4):
                            sums[cell, p, j] += acc[p, j + 1]
                        low[cell, p] = min(low[cell, p], acc[p, 5])
                        high[cell, p] = max(high[cell, p], acc[p, 6])
                        if acc_t[p] >= last_t[cell, p]:
                            last_t[cell, p] = acc_t[p]
                            last_v[cell, p] = acc[p, 7]
                if i == a + n:
                    break
                bucket = t // width_us
                b_lo = bucket * width_us
                b_hi = b_lo + width_us
                row = bucket - first
                cell = -1 if row >= rows else base + max(row, 0)
                for p in range(n_par + 1):
                    for j in range(5):
                        acc[p, j] = 0.0
                    acc[p, 5] = np.inf
                    acc[p, 6] = -np.inf
                    acc_t[p] = NEVER
            p = pidx[i]
            v = value[i]
            dt = (t - b_lo) * to_hours
            acc[p, 0] += 1.0
            acc[p, 1] += v
            acc[p, 2] += dt
            acc[p, 3] += dt * dt
            acc[p, 4] += dt * v
            if v < acc[p, 5]:
                acc[p, 5] = v
            if v > acc[p, 6]:
                acc[p, 6] = v
            if t >= acc_t[p]:
                acc_t[p] = t
                acc[p, 7] = v
        a += n


@njit(cache=True, nogil=True)
def stay_prefixes(
    count: np.ndarray,
    sums: np.ndarray,
    stay_base: np.ndarray,
    stay_rows: np.ndarray,
    integers: np.ndarray,
    floats: np.ndarray,
    filled: np.ndarray,
) -> None:  # pragma: no cover - compiled; tested through GridReducer
    """Cumulative sums over each stay's grid rows, for window sums by differences.

    For grid row ``i = base + r`` of a stay (``r`` its row within the stay),
    ``integers[i, p]`` and ``floats[i, p]`` hold sums over the stay's rows ``0 .. r - 1``
    (restarted at every stay, so a window's difference involves only its own stay's
    magnitudes): ``integers`` = count, count * r, count * r**2 (exact); ``floats`` =
    the four ``sums``, r * sums[1], r * sums[0]. ``filled[i, p]`` is the last row
    ``<= i`` of the stay with a measurement of ``p``, or -1.
    """
    n_par = count.shape[1]
    ints = np.empty((n_par, 3), np.int64)
    reals = np.empty((n_par, 6))
    last = np.empty(n_par, np.int64)
    for s in range(len(stay_base)):
        ints[:] = 0
        reals[:] = 0.0
        last[:] = -1
        for r in range(stay_rows[s]):
            i = stay_base[s] + r
            for p in range(n_par):
                for j in range(3):
                    integers[i, p, j] = ints[p, j]
                for j in range(6):
                    floats[i, p, j] = reals[p, j]
                k = count[i, p]
                if k > 0:
                    last[p] = i
                filled[i, p] = last[p]
                ints[p, 0] += k
                ints[p, 1] += k * r
                ints[p, 2] += k * r * r
                for j in range(4):
                    reals[p, j] += sums[i, p, j]
                reals[p, 4] += r * sums[i, p, 1]
                reals[p, 5] += r * sums[i, p, 0]


@njit(cache=True, nogil=True)
def sparse_levels(
    low: np.ndarray, high: np.ndarray, extremes: np.ndarray
) -> None:  # pragma: no cover - compiled; tested through GridReducer
    """Sparse tables: ``extremes[j, i, p]`` holds the (min, max) over rows ``[i, i + 2**j)``.

    Rows past the end count as empty; a query must keep both blocks inside its stay.
    """
    total, n_par = low.shape
    for i in range(total):
        for p in range(n_par):
            extremes[0, i, p, 0] = low[i, p]
            extremes[0, i, p, 1] = high[i, p]
    width = 1
    for j in range(1, extremes.shape[0]):
        for i in range(total):
            ahead = i + width if i + width < total else i
            for p in range(n_par):
                extremes[j, i, p, 0] = min(extremes[j - 1, i, p, 0], extremes[j - 1, ahead, p, 0])
                extremes[j, i, p, 1] = max(extremes[j - 1, i, p, 1], extremes[j - 1, ahead, p, 1])
        width *= 2


@njit(cache=True, nogil=True)
def window_statistics(
    integers: np.ndarray,
    floats: np.ndarray,
    filled: np.ndarray,
    last_t: np.ndarray,
    last_v: np.ndarray,
    extremes: np.ndarray,
    spans: np.ndarray,
    levels: np.ndarray,
    end: np.ndarray,
    end_row: np.ndarray,
    pred_t_us: np.ndarray,
    hours: float,
    min_time_variance: float,
    out: np.ndarray,
) -> None:  # pragma: no cover - compiled; tested through GridReducer
    """Each prediction's statistics per parameter, from the prefixes and sparse tables.

    Window ``w`` (``spans[w]`` rows) reads sparse-table level ``levels[w]``, the largest
    ``j`` with ``2**j <= spans[w]``: two blocks of ``2**j`` rows cover it.

    A prediction whose windows end at grid row ``end`` (its bucket; ``end_row`` is the
    same row within its stay) gets, per parameter ``p`` (columns ``p * n_stat ...``):
    the last value and the hours from its time to the prediction time, then per window
    of ``span`` buckets (rows ``end - span .. end - 1``): count, mean, min, max and the
    least-squares slope of value on time per hour (missing with fewer than two
    measurements or a time variance at or below ``min_time_variance`` hours squared).

    Time moments are taken about the prediction's bucket start: a row ``r`` of the stay
    and ``dt`` hours into its bucket is ``tau = (r - end_row) * hours + dt`` hours away,
    so the moments combine exact integer sums of ``r`` with the small ``dt`` sums.
    """
    n_par = integers.shape[1]
    n_windows = len(spans)
    n_stat = 2 + 5 * n_windows
    for q in range(len(end)):
        e = end[q]
        er = end_row[q]
        ef = float(er)
        for p in range(n_par):
            column = p * n_stat
            last = filled[e - 1, p]
            if last >= 0:
                out[column, q] = last_v[last, p]
                out[column + 1, q] = (pred_t_us[q] - last_t[last, p]) / US_PER_HOUR
            else:
                out[column, q] = np.nan
                out[column + 1, q] = np.nan
            for w in range(n_windows):
                s = e - spans[w]
                c = column + 2 + 5 * w
                n = integers[e, p, 0] - integers[s, p, 0]
                out[c, q] = n
                if n == 0:
                    for j in range(1, 5):
                        out[c + j, q] = np.nan
                    continue
                nk = integers[e, p, 1] - integers[s, p, 1]
                nkk = integers[e, p, 2] - integers[s, p, 2]
                sum_v = floats[e, p, 0] - floats[s, p, 0]
                sum_1 = floats[e, p, 1] - floats[s, p, 1]
                sum_2 = floats[e, p, 2] - floats[s, p, 2]
                sum_1v = floats[e, p, 3] - floats[s, p, 3]
                k_s1 = floats[e, p, 4] - floats[s, p, 4]
                k_sv = floats[e, p, 5] - floats[s, p, 5]
                # sums of (r - end_row) and its square over the window's rows: integers
                n_kappa = nk - er * n
                n_kappa2 = nkk - 2 * er * nk + er * er * n
                sum_tau = hours * n_kappa + sum_1
                sum_tau2 = hours * hours * n_kappa2 + 2 * hours * (k_s1 - ef * sum_1) + sum_2
                sum_tau_v = hours * (k_sv - ef * sum_v) + sum_1v
                out[c + 1, q] = sum_v / n
                j = levels[w]
                b = e - (1 << j)  # the blocks [s, s + 2**j) and [b, e) cover [s, e)
                out[c + 2, q] = min(extremes[j, s, p, 0], extremes[j, b, p, 0])
                out[c + 3, q] = max(extremes[j, s, p, 1], extremes[j, b, p, 1])
                mean_tau = sum_tau / n
                variance = sum_tau2 / n - mean_tau * mean_tau
                if n >= 2 and variance > min_time_variance:
                    slope = (n * sum_tau_v - sum_tau * sum_v) / (n * sum_tau2 - sum_tau * sum_tau)
                    out[c + 4, q] = slope
                else:
                    out[c + 4, q] = np.nan

"""Fast bootstrap of every metric of :func:`evaluate_predictions` for large samples.

Used automatically by :func:`evaluate_predictions` from
:data:`FAST_BOOTSTRAP_MIN_ROWS` rows on. The resampling scheme is the one of
:mod:`clinai.evaluation.resampling._bootstrap` (``n`` rows, or as many patients as there
are, drawn uniformly with replacement; a row's *count* is how often it, or its
patient, was drawn), and so are the metrics' definitions. What changes is how
the work is organised:

1. **One sort.** Rows are put in a *canonical order*: events sorted by
   predicted probability, then non-events sorted by predicted probability.
   Every quantity that depends on the ranking (AUROC, average precision,
   threshold counts) then follows from cumulative sums of the counts in this
   fixed order, ``O(n)`` per replicate with no further sorting:

   - AUROC ``= sum_i w_i (W0(< p_i) + W0(= p_i) / 2) / (E N0)`` over events
     ``i``, with ``W0(< p)`` the count of non-events below ``p`` (ties count
     one half, as in :func:`auroc_score`);
   - average precision ``= sum_i w_i P(p_i) / E`` with
     ``P(p) = W1(>= p) / (W1(>= p) + W0(>= p))`` (scikit-learn's step-wise
     definition, as in :func:`average_precision_score`);
   - TP and FP at a threshold ``t``: the counts of events and non-events with
     ``p >= t``.

   The counts are integers, so these equal the per-resample computations to
   floating-point rounding (tested to ``10^-12``).

2. **One matrix product for every weighted sum.** Brier score, O/E ratio and
   the calibration intercept and slope need sums ``sum_i w_i f(p_i, y_i)``.
   Their per-row functions are fixed, so all of them, for a chunk of
   replicates, are one matrix product ``W @ F`` (``W``: chunk x n counts,
   ``F``: n x 27 columns, 28 with a probability baseline; 20 and 21 from
   250,000 rows on). The two logistic regressions are solved by a Taylor
   expansion of their score equations around the full-sample fit,
   ``sigma(eta0 + d) = sum_k sigma^(k)(eta0) d^k / k!`` with ``d`` the
   replicate's change of the linear predictor (of the order of its bootstrap
   standard error), whose coefficients are columns of ``F``; a few scalar
   Newton steps on the polynomial then give each replicate's estimate. The
   order is 4 (neglected term of order ``d^5 / 120``), or 3 from 250,000 rows
   on, where ``d`` is about 0.01 (neglected term ``d^4 / 24``, about
   ``10^-9``). Measured against the exact weighted Newton-Raphson fits
   (:func:`calibration_intercept`, :func:`calibration_slope`) on the same
   resamples: within ``10^-8`` at ``n = 2 x 10^4`` (tested) and printed by
   ``benchmarks/bench_validation.py`` at ``n = 10^6``. A replicate whose linear
   predictor changes by more than 0.5 (order 4) or 0.1 (order 3) anywhere is
   refitted exactly.

3. **LOWESS calibration (ICI, E50, E90, curve) on bins** (a documented
   approximation). An exact LOWESS of each resample costs ``O(n k)`` (about
   2 s per replicate at ``n = 10^6``). Instead, the rows are grouped in bins
   of equal size along ``p`` (2,000 bins, or ``n / 10`` if fewer; the same cut
   points split events and non-events into class-bins), and for each resample the
   smooth is computed at the LOWESS fit points from the bins' resampled
   counts: local linear fits with tricube weights evaluated at each bin's
   mean ``p``, the neighbourhood radius of each fit point fixed at its
   full-sample value, and the bin's mean ``p`` and ``p^2`` fixed at their
   full-sample values. The fit points are 101 evenly spaced points (the
   ``delta = 0.01 * range`` of :func:`calibration_errors`) plus the
   calibration curve's grid; between them the smooth is interpolated
   linearly. ICI is the count-weighted mean of ``|p - s(p)|`` over the bins,
   and E50 and E90 are count-weighted quantiles (numpy's linear rule on the
   resampled rows). Point estimates are *not* approximated: they are computed
   exactly (statsmodels) as below the fast-path size. Measured error of the
   binned smooth against the exact one on the full sample (unit counts):
   ICI, E50, E90 and curve within ``2 x 10^-4`` at ``n = 2 x 10^4`` and within
   ``2 x 10^-5`` at ``n = 10^6`` (``benchmarks/bench_validation.py`` prints
   it), a few percent of the bootstrap standard error.

Where the pieces live: the Taylor-expanded calibration fits (step 2) in
:mod:`._fast_calibration`, the binned LOWESS (step 3) in :mod:`._fast_lowess`, the
blocked multinomial draw of the counts in :mod:`._fast_draws`, and the metrics of one
chunk of replicates from its counts in :mod:`._fast_chunk`.

Random numbers: each replicate has its own generator, spawned from the
evaluation's seed, so results do not depend on the number of threads or the
chunking; the same seed gives the same numbers. The draws differ from those
of :func:`bootstrap` (which uses one stream for all replicates and assigns
draws to rows in input order): the resamples have the same distribution, not
the same values. Chunks of replicates run on a thread pool (numpy releases the
GIL in the heavy operations).
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable

import numpy as np

from clinai.evaluation.calibration._calibration import (
    LOWESS_FRAC,
    _logit_clipped,
)
from clinai.evaluation.resampling._fast_calibration import (
    _sigmoid_derivatives,
    _slope_columns,
)
from clinai.evaluation.resampling._fast_chunk import _fused_chunk, _replicate_chunk
from clinai.evaluation.resampling._fast_draws import (
    CountOverflowError,
    _buffer,
    _counts,
    _fused_counts,
    _Workspace,
    current_pool,
)
from clinai.evaluation.resampling._fast_layout import _Baseline, _Layout
from clinai.evaluation.resampling._fast_lowess import (
    LOWESS_BINS,
    _prepare_lowess,
)
from clinai.evaluation.resampling.engine import Clusters

__all__ = ["FAST_BOOTSTRAP_MIN_ROWS", "LOWESS_BINS", "fast_replicates"]

#: :func:`evaluate_predictions` uses this module from this many rows on.
FAST_BOOTSTRAP_MIN_ROWS = 20_000
#: From this many rows on, order 3 (20 columns instead of 27 in the matrix product,
#: the largest cost per replicate): the replicates' changes are then of the order of
#: 0.01 and the neglected term of the order of 1e-9.
_ORDER_3_MIN_ROWS = 250_000
#: Largest number of count cells (replicates x rows) of one chunk.
_CHUNK_CELLS = 16_000_000

Progress = Callable[[int, int], None]


def _taylor_order(n: int) -> int:
    return 3 if n >= _ORDER_3_MIN_ROWS else 4


def _feature_matrix(
    pc: np.ndarray,
    yc: np.ndarray,
    x: np.ndarray,
    fits: tuple[float, float, float],
    taylor: int,
    probability_baseline: np.ndarray | None,
) -> tuple[dict[str, int], np.ndarray]:
    """Return the per-row columns of the matrix product: ``p``, Brier terms, Taylor terms.

    ``fits``: the full-sample intercept ``a0`` and slope model ``(c0, b0)``; a fit
    that failed (NaN) gets no columns. Returns the column index of each name and the
    (columns x rows) matrix, each column written in place as a contiguous row and
    used transposed in the matrix product.
    """
    a0, c0, b0 = fits
    names = ["p", "brier"]
    if math.isfinite(a0):
        names += ["int_r", *(f"int_{k}" for k in range(1, taylor + 1))]
    fit_slope = math.isfinite(c0) and math.isfinite(b0)
    if fit_slope:
        names += ["slope_r", "slope_rx", *(f"slope_{k}_{j}" for k, j in _slope_columns(taylor))]
    if probability_baseline is not None:
        names.append("baseline_brier")
    columns = {name: index for index, name in enumerate(names)}
    # ordinary pages, as the workspaces: a huge-page first touch waits for compaction;
    # inside reused_workspaces the buffer is the pool's (every row below is written)
    pool = current_pool()
    shape = (len(names), pc.shape[0])
    features = _buffer(shape) if pool is None else pool.features(shape)

    def row(name: str) -> np.ndarray:
        return features[columns[name]]

    row("p")[:] = pc
    np.subtract(pc, yc, out=row("brier"))
    np.square(row("brier"), out=row("brier"))
    if math.isfinite(a0):
        derivatives = _sigmoid_derivatives(a0 + x)
        np.subtract(yc, derivatives[0], out=row("int_r"))
        for order_k in range(1, taylor + 1):
            row(f"int_{order_k}")[:] = derivatives[order_k]
    if fit_slope:
        derivatives = _sigmoid_derivatives(c0 + b0 * x)
        np.subtract(yc, derivatives[0], out=row("slope_r"))
        np.multiply(row("slope_r"), x, out=row("slope_rx"))
        for order_k in range(1, taylor + 1):
            target = row(f"slope_{order_k}_0")
            target[:] = derivatives[order_k]
            for power in range(1, order_k + 2):
                previous = target
                target = row(f"slope_{order_k}_{power}")
                np.multiply(previous, x, out=target)
    if probability_baseline is not None:
        np.subtract(probability_baseline, yc, out=row("baseline_brier"))
        np.square(row("baseline_brier"), out=row("baseline_brier"))
    return columns, features


def _prepare_baseline(
    ordered: np.ndarray, n1: int, nb_thresholds: np.ndarray, probability: bool
) -> _Baseline:
    """Return a baseline score in canonical order as dense codes of its distinct values."""
    values, dense = np.unique(ordered, return_inverse=True)
    dense = dense.astype(np.intp)
    return _Baseline(
        codes1=dense[:n1],
        codes0=dense[n1:],
        values=values,
        probability=probability,
        nb_index=np.searchsorted(values, nb_thresholds, side="left"),
    )


def _prepare(
    y: np.ndarray,
    p: np.ndarray,
    *,
    clusters: Clusters,
    thresholds: np.ndarray,
    nb_thresholds: np.ndarray,
    curve_grid: np.ndarray,
    intercept: float,
    slope_fit: tuple[float, float],
    baseline: np.ndarray | None,
    baseline_probability: bool,
) -> _Layout:
    """Put the rows in canonical order and compute every fixed quantity."""
    events = np.flatnonzero(y == 1)
    non_events = np.flatnonzero(y == 0)
    order1 = events[np.argsort(p[events], kind="stable")]
    order0 = non_events[np.argsort(p[non_events], kind="stable")]
    order = np.concatenate([order1, order0])
    p1, p0 = p[order1], p[order0]
    lo0 = np.searchsorted(p0, p1, side="left")
    hi0 = np.searchsorted(p0, p1, side="right")
    lo1 = np.searchsorted(p1, p1, side="left")
    yc, pc = y[order], p[order]
    x = _logit_clipped(pc)
    a0 = float(intercept)
    c0, b0 = (float(v) for v in slope_fit)
    taylor = _taylor_order(pc.shape[0])
    probability_baseline = (
        baseline[order] if baseline is not None and baseline_probability else None
    )
    columns, features = _feature_matrix(pc, yc, x, (a0, c0, b0), taylor, probability_baseline)
    base = (
        None
        if baseline is None
        else _prepare_baseline(
            baseline[order], order1.shape[0], nb_thresholds, baseline_probability
        )
    )
    lowess = _prepare_lowess(p1, p0, curve_grid, LOWESS_FRAC)
    thr_lo1 = np.searchsorted(p1, thresholds, side="left")
    thr_lo0 = np.searchsorted(p0, thresholds, side="left")
    ordered_codes = None if clusters.patient_codes is None else clusters.patient_codes[order]
    return _Layout(
        n1=order1.shape[0],
        n0=order0.shape[0],
        codes=ordered_codes,
        n_clusters=clusters.n,
        lo0=lo0,
        hi0=hi0 if bool(np.any(hi0 != lo0)) else None,
        lo1=None if bool(np.all(lo1 == np.arange(lo1.shape[0]))) else lo1,
        thr_lo1=thr_lo1,
        thr_lo0=thr_lo0,
        n_edges=lowess.edges1.shape[0],
        positions1=np.concatenate([lowess.edges1, thr_lo1, [order1.shape[0]]]).astype(np.int64),
        positions0=np.concatenate([lowess.edges0, thr_lo0, [order0.shape[0]]]).astype(np.int64),
        # unsigned, so the compiled gathers add no negative-index checks; rows resampled:
        # each row is its own unit
        unit_codes=(
            np.arange(order.shape[0], dtype=np.uint64)
            if ordered_codes is None
            else ordered_codes.astype(np.uint64)
        ),
        thresholds=thresholds,
        nb_thresholds=nb_thresholds,
        columns=columns,
        features=features.T,
        y=yc,
        x=x,
        a0=a0,
        c0=c0,
        b0=b0,
        x_max=float(np.abs(x).max()),
        order=taylor,
        lowess=lowess,
        baseline=base,
    )


def _chunk_size(n: int) -> int:
    return max(1, min(16, _CHUNK_CELLS // max(n, 1)))


def _chunk_stops(n_boot: int, size: int, *, paired: bool) -> list[int]:
    """Return where each chunk of replicates ends: every ``size``, or every two such chunks.

    ``paired`` (the fused chunks, whose buffers are a third as large): two chunks in
    one, so the matrix product reads the feature columns once for twice as many
    replicates (16% less time per replicate at 850,000 rows). BLAS gives each row of a
    product of two or more rows the same bits however many rows it has (tested); a
    last chunk of one replicate (a matrix-vector product, other bits) stays alone.
    """
    stops = [min(start + size, n_boot) for start in range(0, n_boot, size)]
    if not paired:
        return stops
    alone = stops[-1:] if len(stops) > 1 and stops[-1] - stops[-2] == 1 else []
    body = stops[: len(stops) - len(alone)]
    merged = body[1::2]
    if len(body) % 2:  # an odd chunk out at the end
        merged.append(body[-1])
    return merged + alone


class _Chunks:
    """The chunks of replicates, each computed on a worker thread with that thread's buffers.

    Parameters
    ----------
    layout : _Layout
        The prepared data.
    children : list of numpy.random.SeedSequence
        One seed per replicate.
    n_rows : int
        Rows validated (the chunk size keeps a chunk's buffers near ``_CHUNK_CELLS``).
    fused : bool
        Whether the chunks are the fused kind (no average precision), two in one.
    """

    def __init__(
        self,
        layout: _Layout,
        children: list[np.random.SeedSequence],
        *,
        n_rows: int,
        fused: bool,
    ) -> None:
        self.layout, self.children, self.fused = layout, children, fused
        size = _chunk_size(n_rows)
        self.stops = _chunk_stops(len(children), size, paired=fused)
        self.size = size * 2 if fused else size
        self.starts = [0, *self.stops[:-1]] if self.stops else []
        self.results: dict[int, dict[str, np.ndarray]] = {}
        self._local = threading.local()
        self._pool = current_pool()  # buffers kept across calls (reused_workspaces), or None
        self._taken: list[dict[str, np.ndarray]] = []

    def _draw(self, start: int, stop: int) -> np.ndarray | None:
        if self.fused:
            _fused_counts(self.layout, self.children[start:stop], self._local.workspace)
            return None
        return _counts(self.layout, self.children[start:stop], self._local.workspace)

    def run(self, start: int) -> int:
        """Compute the chunk that begins at replicate ``start``; return its replicates."""
        stop, local = self.stops[self.starts.index(start)], self._local
        if not hasattr(local, "workspace"):
            storage = None if self._pool is None else self._pool.take()
            if storage is not None:
                self._taken.append(storage)
            local.workspace = _Workspace(self.layout, self.size, storage=storage, fused=self.fused)
        try:
            counts = self._draw(start, stop)
        except CountOverflowError:  # the same draws again, into int64 buffers
            local.workspace = _Workspace(
                self.layout,
                self.size,
                compact=False,
                storage=local.workspace.storage,
                fused=self.fused,
            )
            counts = self._draw(start, stop)
        if counts is None:
            self.results[start] = _fused_chunk(self.layout, local.workspace, stop - start)
        else:
            self.results[start] = _replicate_chunk(
                self.layout, counts, local.workspace, prepared=True, average_precision=True
            )
        return stop - start

    def release(self) -> None:
        """Give the buffers taken from the pool back to it."""
        if self._pool is not None:
            for storage in self._taken:
                self._pool.give(storage)

    def joined(self) -> dict[str, np.ndarray]:
        """Return every metric's replicates, in replicate order."""
        if not self.starts:
            return {}
        keys = self.results[self.starts[0]].keys()
        return {k: np.concatenate([self.results[s][k] for s in self.starts]) for k in keys}


def fast_replicates(
    y: np.ndarray,
    p: np.ndarray,
    *,
    clusters: Clusters,
    thresholds: np.ndarray,
    curve_grid: np.ndarray,
    intercept: float,
    slope_fit: tuple[float, float],
    n_boot: int,
    seed: np.random.SeedSequence,
    baseline: np.ndarray | None = None,
    baseline_probability: bool = False,
    nb_thresholds: np.ndarray | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    average_precision: bool = True,
) -> dict[str, np.ndarray]:
    """Bootstrap replicates of every metric of :func:`evaluate_predictions`.

    Parameters
    ----------
    y, p : numpy.ndarray of shape (n,)
        Validated outcome (0/1 floats) and predicted probabilities.
    clusters : Clusters
        The resampling units: patients, or rows (then each row's count is drawn
        from a multinomial, not through its code).
    thresholds : numpy.ndarray
        Thresholds of the threshold metrics.
    curve_grid : numpy.ndarray
        Grid of the calibration curve.
    intercept : float
        Full-sample calibration intercept (centre of the Taylor expansion).
    slope_fit : tuple of float
        Full-sample ``(c, b)`` of the calibration slope model.
    n_boot : int
        Number of replicates.
    seed : numpy.random.SeedSequence
        Root seed; replicate ``b`` uses the ``b``-th spawned child.
    baseline : numpy.ndarray of shape (n,), optional
        A baseline score to compare with (paired on the same counts).
    baseline_probability : bool, default=False
        Whether the baseline is a probability (Brier and net benefit computed).
    nb_thresholds : numpy.ndarray, optional
        Thresholds of the net benefit difference: the first entries of
        ``thresholds``.
    progress : callable, optional
        Called as ``progress(done, n_boot)`` as chunks complete.
    workers : int, optional
        Threads; default ``min(4, os.cpu_count())``.
    average_precision : bool, default=True
        Whether to compute the average precision (``False``: no ``auprc`` key;
        the monitor does not report it). The draws, and so every other
        replicate, are the same either way.

    Returns
    -------
    dict of numpy.ndarray
        ``auroc``, ``auprc``, ``brier``, ``scaled_brier``, ``intercept``,
        ``slope``, ``oe_ratio`` of shape ``(n_boot,)``; ``thresholds`` of
        shape ``(n_boot, len(thresholds), 5)``; ``lowess`` of shape
        ``(n_boot, 3 + len(curve_grid))`` (ICI, E50, E90, curve); with a
        baseline ``baseline_auroc`` and, for a probability, ``baseline_brier``,
        ``model_nb`` and ``baseline_nb``. NaN where a replicate has one class.
    """
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from threadpoolctl import threadpool_limits

    nb_grid = np.zeros(0) if nb_thresholds is None else nb_thresholds
    layout = _prepare(
        y,
        p,
        clusters=clusters,
        thresholds=thresholds,
        nb_thresholds=nb_grid,
        curve_grid=curve_grid,
        intercept=intercept,
        slope_fit=slope_fit,
        baseline=baseline,
        baseline_probability=baseline_probability,
    )
    # without the average precision, no chunk-sized running sums: gather_rank_sums
    chunks = _Chunks(layout, seed.spawn(n_boot), n_rows=y.shape[0], fused=not average_precision)
    n_workers = workers if workers is not None else min(4, os.cpu_count() or 1)
    done = 0
    if progress is not None:
        progress(0, n_boot)
    try:
        with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(n_workers) as threads:
            futures = [threads.submit(chunks.run, start) for start in chunks.starts]
            for future in as_completed(futures):
                done += future.result()
                if progress is not None:
                    progress(done, n_boot)
    finally:
        chunks.release()
    return chunks.joined()

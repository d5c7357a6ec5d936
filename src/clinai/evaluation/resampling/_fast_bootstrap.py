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
:mod:`._fast_calibration`, the binned LOWESS (step 3) in :mod:`._fast_lowess`, and the
blocked multinomial draw of the counts in :mod:`._fast_draws`.

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
    _solve_intercept,
    _solve_slope,
)
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
    _lowess_replicates,
    _prepare_lowess,
)

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
    # ordinary pages, as the workspaces: a huge-page first touch waits for compaction
    features = _buffer((len(names), pc.shape[0]))

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
    codes: np.ndarray | None,
    n_clusters: int,
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
    ordered_codes = None if codes is None else codes[order]
    return _Layout(
        n1=order1.shape[0],
        n0=order0.shape[0],
        codes=ordered_codes,
        n_clusters=n_clusters,
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


def _rank_metrics(
    layout: _Layout,
    w1: np.ndarray,
    c1: np.ndarray,
    c0: np.ndarray,
    ev: np.ndarray,
    ne: np.ndarray,
    workspace: _Workspace,
    *,
    average_precision: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Return the AUROC and average precision of each replicate from the running class counts.

    Without ``average_precision`` its ``None`` is returned instead (about half the
    work). Called under ``np.errstate(divide="ignore", invalid="ignore")``.
    """
    size = w1.shape[0]
    events = c1[:, -1]
    non_events = c0[:, -1]
    below0 = workspace.below0[:size]
    # mode="clip": the positions are in range by construction, and numpy's default mode
    # ("raise") writes into a fresh temporary the size of ``out`` and then copies it
    np.take(c0, layout.lo0, axis=1, out=below0, mode="clip")
    below1 = workspace.below1[:size]
    if layout.hi0 is None:
        pairs2 = 2 * np.einsum("ij,ij->i", w1, below0)
    else:
        np.take(c0, layout.hi0, axis=1, out=below1, mode="clip")
        below1 += below0
        pairs2 = np.einsum("ij,ij->i", w1, below1)
    auroc = pairs2 / (2.0 * ev * ne)
    if not average_precision:
        return auroc, None
    # precision when flagging p >= p_i: TP / (TP + FP), with TP = E - W1(< p_i) and
    # FP = N0 - W0(< p_i); a flagged count of 0 only happens where w1 is 0 too, so
    # the denominator is floored at 1 to avoid 0/0
    # without tied events, W1(< p_i) is the running count itself
    if layout.lo1 is None:
        np.copyto(below1, c1[:, :-1])
    else:
        np.take(c1, layout.lo1, axis=1, out=below1, mode="clip")
    np.subtract(events[:, None], below1, out=below1)
    np.subtract(non_events[:, None], below0, out=below0)
    below0 += below1
    np.maximum(below0, 1, out=below0)
    precision = workspace.precision[:size]
    np.divide(below1, below0, out=precision)
    return auroc, np.einsum("ij,ij->i", w1, precision) / ev


def _threshold_chunk(
    layout: _Layout,
    at1: np.ndarray,
    at0: np.ndarray,
    ev: np.ndarray,
    ne: np.ndarray,
    total: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the threshold metrics of each replicate (``p >= t`` flagged), with TP and FP.

    ``at1`` and ``at0``: each class's running counts at ``layout.positions1`` and
    ``positions0``. Called under ``np.errstate(divide="ignore", invalid="ignore")``.
    """
    thresholds = slice(layout.n_edges, layout.n_edges + layout.thresholds.shape[0])
    tp = (at1[:, -1:] - at1[:, thresholds]).astype("float64")
    fp = (at0[:, -1:] - at0[:, thresholds]).astype("float64")
    fn = ev[:, None] - tp
    tn = ne[:, None] - fp
    metrics = np.stack(
        [
            tp / ev[:, None],
            tn / ne[:, None],
            np.where(tp + fp > 0, tp / (tp + fp), np.nan),
            np.where(tn + fn > 0, tn / (tn + fn), np.nan),
            (tp + fp) / total[:, None],
        ],
        axis=-1,
    )
    return metrics, tp, fp


def _replicate_chunk(
    layout: _Layout,
    counts: np.ndarray,
    workspace: _Workspace | None = None,
    *,
    prepared: bool = False,
    average_precision: bool = True,
) -> dict[str, np.ndarray]:
    """Every metric of each replicate of a chunk, from its counts in canonical order.

    ``prepared``: :func:`_counts` already wrote the counts as float64 into
    ``workspace.weights`` and the running sums into ``workspace.c1`` and ``c0``.
    Without ``average_precision`` there is no ``auprc`` key.
    """
    n1 = layout.n1
    size = counts.shape[0]
    if workspace is None:
        workspace = _Workspace(layout, size)
    w1 = counts[:, :n1]
    c1 = workspace.c1[:size]
    c0 = workspace.c0[:size]
    if not prepared:
        c1[:, 0] = c0[:, 0] = 0
        np.cumsum(w1, axis=1, out=c1[:, 1:])
        np.cumsum(counts[:, n1:], axis=1, out=c0[:, 1:])
    ev = c1[:, -1].astype("float64")
    ne = c0[:, -1].astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        auroc, auprc = _rank_metrics(
            layout, w1, c1, c0, ev, ne, workspace, average_precision=average_precision
        )
    ranks = {"auroc": auroc} if auprc is None else {"auroc": auroc, "auprc": auprc}
    weights = workspace.weights[:size]
    if not prepared:
        np.copyto(weights, counts, casting="unsafe")
    return _chunk_metrics(
        layout, weights, c1[:, layout.positions1], c0[:, layout.positions0], ranks
    )


def _fused_chunk(layout: _Layout, workspace: _Workspace, size: int) -> dict[str, np.ndarray]:
    """Every metric but the average precision of a chunk that :func:`_fused_counts` drew."""
    at1, at0 = workspace.at1[:size], workspace.at0[:size]
    ev = at1[:, -1].astype("float64")
    ne = at0[:, -1].astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        auroc = workspace.pairs2[0, :size] / (2.0 * ev * ne)  # as _rank_metrics divides
    return _chunk_metrics(layout, workspace.weights[:size], at1, at0, {"auroc": auroc})


def _chunk_metrics(
    layout: _Layout,
    weights: np.ndarray,
    at1: np.ndarray,
    at0: np.ndarray,
    ranks: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Return a chunk's metrics from its float counts, sums at positions and rank metrics.

    ``at1`` and ``at0``: each class's running counts at ``layout.positions1`` and
    ``positions0``; ``ranks``: the AUROC (and average precision) of each replicate.
    """
    events = at1[:, -1]
    non_events = at0[:, -1]
    total = (events + non_events).astype("float64")
    one_class = (events == 0) | (non_events == 0)
    ev = events.astype("float64")
    ne = non_events.astype("float64")
    out: dict[str, np.ndarray] = dict(ranks)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["thresholds"], tp, fp = _threshold_chunk(layout, at1, at0, ev, ne, total)
        sums = weights @ layout.features
        cols = layout.columns
        brier = sums[:, cols["brier"]] / total
        prevalence = ev / total
        out["brier"] = brier
        out["scaled_brier"] = 1.0 - brier / (prevalence * (1.0 - prevalence))
        expected = sums[:, cols["p"]]
        out["oe_ratio"] = np.where(expected > 0, ev / expected, np.nan)
        out["intercept"] = _solve_intercept(layout, sums, weights)
        out["slope"] = _solve_slope(layout, sums, weights)
        p_const = float(layout.lowess.fit_points[0])
        edges = layout.n_edges
        out["lowess"] = _lowess_replicates(
            layout.lowess, at1[:, :edges], at0[:, :edges], total, ev, p_const
        )
        if layout.baseline is not None:
            out.update(_baseline_chunk(layout, layout.baseline, weights, sums, ev, ne, total))
            nb_tp = tp[:, : layout.nb_thresholds.shape[0]]
            nb_fp = fp[:, : layout.nb_thresholds.shape[0]]
            odds = layout.nb_thresholds / (1.0 - layout.nb_thresholds)
            out["model_nb"] = nb_tp / total[:, None] - nb_fp / total[:, None] * odds[None, :]
    for name, values in out.items():
        if name in ("model_nb", "baseline_nb"):
            continue
        values[one_class] = np.nan
    return out


def _baseline_chunk(
    layout: _Layout,
    base: _Baseline,
    weights: np.ndarray,
    sums: np.ndarray,
    events: np.ndarray,
    non_events: np.ndarray,
    total: np.ndarray,
) -> dict[str, np.ndarray]:
    """Compute the baseline's AUROC, Brier score and net benefit for each replicate of a chunk."""
    size = weights.shape[0]
    d = base.values.shape[0]
    n1 = layout.n1
    by_value1 = np.empty((size, d))
    by_value0 = np.empty((size, d))
    for row in range(size):  # row by row: no chunk-sized temporaries
        by_value1[row] = np.bincount(base.codes1, weights=weights[row, :n1], minlength=d)
        by_value0[row] = np.bincount(base.codes0, weights=weights[row, n1:], minlength=d)
    below0 = np.cumsum(by_value0, axis=1) - by_value0
    pairs = (by_value1 * (below0 + 0.5 * by_value0)).sum(axis=1)
    out = {"baseline_auroc": pairs / (events * non_events)}
    if base.probability:
        out["baseline_brier"] = sums[:, layout.columns["baseline_brier"]] / total
        cum1 = np.concatenate([np.zeros((size, 1)), np.cumsum(by_value1, axis=1)], axis=1)
        cum0 = np.concatenate([np.zeros((size, 1)), np.cumsum(by_value0, axis=1)], axis=1)
        tp = events[:, None] - cum1[:, base.nb_index]
        fp = non_events[:, None] - cum0[:, base.nb_index]
        odds = layout.nb_thresholds / (1.0 - layout.nb_thresholds)
        out["baseline_nb"] = tp / total[:, None] - fp / total[:, None] * odds[None, :]
    return out


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


def fast_replicates(
    y: np.ndarray,
    p: np.ndarray,
    *,
    codes: np.ndarray | None,
    n_clusters: int,
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
    codes : numpy.ndarray of shape (n,) or None
        Cluster (patient) code of each row, ``0 .. n_clusters - 1``; ``None``
        resamples rows.
    n_clusters : int
        Number of clusters (``n`` without ``codes``).
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
        codes=codes,
        n_clusters=n_clusters,
        thresholds=thresholds,
        nb_thresholds=nb_grid,
        curve_grid=curve_grid,
        intercept=intercept,
        slope_fit=slope_fit,
        baseline=baseline,
        baseline_probability=baseline_probability,
    )
    children = seed.spawn(n_boot)
    # without the average precision, no chunk-sized running sums: gather_rank_sums
    fused = not average_precision
    size = _chunk_size(y.shape[0])
    stops = _chunk_stops(n_boot, size, paired=fused)
    if fused:
        size *= 2
    starts = [0, *stops[:-1]] if stops else []
    results: dict[int, dict[str, np.ndarray]] = {}
    local = threading.local()
    pool = current_pool()  # buffers kept across calls (reused_workspaces), or None
    taken: list[dict[str, np.ndarray]] = []

    def draw(start: int, stop: int) -> np.ndarray | None:
        if fused:
            _fused_counts(layout, children[start:stop], local.workspace)
            return None
        return _counts(layout, children[start:stop], local.workspace)

    def run(start: int) -> int:
        stop = stops[starts.index(start)]
        if not hasattr(local, "workspace"):
            storage = None if pool is None else pool.take()
            if storage is not None:
                taken.append(storage)
            local.workspace = _Workspace(layout, size, storage=storage, fused=fused)
        try:
            counts = draw(start, stop)
        except CountOverflowError:  # the same draws again, into int64 buffers
            local.workspace = _Workspace(
                layout, size, compact=False, storage=local.workspace.storage, fused=fused
            )
            counts = draw(start, stop)
        if counts is None:
            results[start] = _fused_chunk(layout, local.workspace, stop - start)
        else:
            results[start] = _replicate_chunk(
                layout, counts, local.workspace, prepared=True, average_precision=True
            )
        return stop - start

    n_workers = workers if workers is not None else min(4, os.cpu_count() or 1)
    done = 0
    if progress is not None:
        progress(0, n_boot)
    try:
        with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(n_workers) as threads:
            futures = [threads.submit(run, start) for start in starts]
            for future in as_completed(futures):
                done += future.result()
                if progress is not None:
                    progress(done, n_boot)
    finally:
        if pool is not None:
            for storage in taken:
                pool.give(storage)
    if not starts:
        return {}
    keys = results[starts[0]].keys()
    return {key: np.concatenate([results[s][key] for s in starts], axis=0) for key in keys}

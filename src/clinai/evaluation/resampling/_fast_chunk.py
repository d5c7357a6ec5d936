"""Every metric of a chunk of bootstrap replicates, from their counts in canonical order.

The per-chunk half of :mod:`._fast_bootstrap` (which draws the chunks and runs them on
the thread pool): the rank metrics from running class counts, the threshold metrics,
the weighted sums of one matrix product, the calibration fits and the binned LOWESS,
and a baseline score's metrics. The definitions are in :mod:`._fast_bootstrap`'s
docstring.
"""

from __future__ import annotations

import numpy as np

from clinai.evaluation.resampling._fast_calibration import _solve_intercept, _solve_slope
from clinai.evaluation.resampling._fast_draws import _Workspace
from clinai.evaluation.resampling._fast_layout import _Baseline, _Layout
from clinai.evaluation.resampling._fast_lowess import _lowess_replicates

__all__: list[str] = []


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

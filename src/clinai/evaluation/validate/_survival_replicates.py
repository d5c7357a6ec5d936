"""Bootstrap replicates of the survival metrics from case weights, data sorted once.

:func:`prepare` sorts by time, ranks the scores, builds the spline basis and the
decision-curve buckets once; :func:`replicate_batch` takes a batch of resampling
counts (replicates x rows, the resampling engine's draws) and returns every
metric of every replicate. A row's weight is its patient's count, so each
metric equals the metric on the resampled rows (tested against the public
functions of :mod:`clinai.evaluation.survival` on ``bootstrap_indices``).

The two Cox models of a replicate (calibration slope, flexible calibration) are
fitted by :func:`~clinai.evaluation.survival._cox.newton_raphson`, the
iterations of ``fit_cox`` (same start at the full-sample coefficients, same
step halving and tolerance), with the risk-set sums of each iteration in one
compiled pass over the drawn rows of the data sorted once
(:func:`~clinai.evaluation.survival._kernels.cox_sums`): no sort, copy or
cumulative sum per fit. The concordance pass gets the counts as float32 (exact
for integers below 2**24; half the memory traffic of its Fenwick tree).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from clinai.evaluation.survival._brier import _brier_from_prepared, _BrierInputs, _prepare_brier
from clinai.evaluation.survival._calibration import cloglog
from clinai.evaluation.survival._concordance import (
    _concordance_from_sorted,
    _ConcordanceInputs,
    _prepare,
    _uno_rows,
    _uno_weights,
)
from clinai.evaluation.survival._cox import newton_raphson
from clinai.evaluation.survival._flexible_calibration import rcs_basis
from clinai.evaluation.survival._kaplan_meier import (
    SortedSurvival,
    _product_limit,
    _survival_at_unique,
    _value_at,
    sort_survival,
)
from clinai.evaluation.survival._time_auc import _auc_from_prepared, _AucInputs, _prepare_auc
from clinai.exceptions import DataError

__all__ = ["Prepared", "prepare", "replicate_batch", "replicate_sorted"]

#: Bins of the error histogram that E50 and E90 of a replicate are read from.
_ERROR_BINS = 4096
_TIED_TOL = 1e-8
#: float32 holds every integer up to 2**24 exactly.
_FLOAT32_EXACT = 2.0**24
_SLOPE = "calibration slope"
_FLEXIBLE = "flexible calibration"


@dataclass(frozen=True, eq=False)
class _Group:
    """One subgroup, prepared: its rows (input order), sorted data and ranked scores."""

    positions: np.ndarray  # of its rows (in its time order) among all rows in time order
    data: SortedSurvival
    ranks: _ConcordanceInputs
    risk: np.ndarray  # in the group's time order


@dataclass(frozen=True, eq=False)
class Prepared:
    """What every replicate reuses (all row arrays in time order)."""

    data: SortedSurvival
    horizon: float
    ranks: _ConcordanceInputs
    uno_rows: np.ndarray
    risk: np.ndarray
    auc: _AucInputs
    brier: _BrierInputs
    cox_event: np.ndarray
    slope_covariate: np.ndarray  # (n, 1), centred: only differences in x'b enter a Cox fit
    basis: np.ndarray  # (n, knots - 1), centred
    starts: tuple[np.ndarray, np.ndarray]  # full-sample coefficients: Newton starts there
    curve_basis: np.ndarray
    thresholds: np.ndarray
    threshold_order: np.ndarray
    risk_bin: np.ndarray
    at_risk_code: np.ndarray
    at_risk_rows: np.ndarray
    event_code: np.ndarray
    event_rows: np.ndarray
    n_event_times: int
    groups: tuple[_Group, ...]


def prepare(
    time: np.ndarray,
    event: np.ndarray,
    risk: np.ndarray,
    score: np.ndarray,
    horizon: float,
    *,
    covariate: np.ndarray | None,
    knots: np.ndarray,
    curve_risk: np.ndarray,
    thresholds: np.ndarray,
    starts: tuple[np.ndarray, np.ndarray] | None = None,
    groups: Sequence[np.ndarray] = (),
) -> Prepared:
    """Sort, rank and bucket once; ``groups`` are row masks of the reported subgroups.

    ``starts``: the full sample's calibration slope and flexible-calibration
    coefficients; each replicate's Newton-Raphson starts there (a replicate's
    maximum is near it: about 4 iterations instead of 7, same maximum).
    """
    data = sort_survival(time, event)
    order = data.order
    sorted_risk = risk[order]
    # the Cox models speak of [0, horizon]: later events count as censored there; a risk
    # set (time >= an event time <= horizon) is the same whether or not times are cut there
    cox_event = data.event & (data.time <= horizon)
    slope_covariate = cloglog(sorted_risk) if covariate is None else covariate[order]
    basis = rcs_basis(cloglog(sorted_risk), knots)
    centre = basis.mean(axis=0)
    position = np.empty(data.n, dtype=np.int64)
    position[order] = np.arange(data.n)
    # decision curve: each row's bucket (last event time <= its time) x (thresholds <= its risk)
    threshold_order = np.argsort(thresholds, kind="stable")
    ascending = thresholds[threshold_order]
    risk_bin = np.searchsorted(ascending, sorted_risk, side="right")
    width = ascending.shape[0] + 1
    event_times = np.unique(data.time[cox_event])
    bucket = np.searchsorted(event_times, data.time, side="right") - 1
    at_risk_rows = np.flatnonzero(bucket >= 0)
    event_rows = np.flatnonzero(cox_event)
    prepared_groups = []
    for mask in groups:
        rows = np.flatnonzero(mask)
        sub = sort_survival(time[rows], event[rows])
        prepared_groups.append(
            _Group(
                position[rows[sub.order]],
                sub,
                _prepare(sub, score[rows], _TIED_TOL),
                risk[rows][sub.order],
            )
        )
    return Prepared(
        data=data,
        horizon=float(horizon),
        ranks=_prepare(data, score, _TIED_TOL),
        uno_rows=_uno_rows(data, horizon),
        risk=sorted_risk,
        auc=_prepare_auc(data, sorted_risk, horizon, _TIED_TOL),
        brier=_prepare_brier(data, sorted_risk, horizon),
        cox_event=cox_event,
        slope_covariate=(slope_covariate - slope_covariate.mean())[:, None],
        basis=np.ascontiguousarray(basis - centre),
        starts=starts or (np.ones(1), np.r_[1.0, np.zeros(max(knots.shape[0] - 2, 0))]),
        curve_basis=rcs_basis(cloglog(curve_risk), knots) - centre,
        thresholds=thresholds,
        threshold_order=threshold_order,
        risk_bin=risk_bin,
        at_risk_code=bucket[at_risk_rows] * width + risk_bin[at_risk_rows],
        at_risk_rows=at_risk_rows,
        event_code=bucket[event_rows] * width + risk_bin[event_rows],
        event_rows=event_rows,
        n_event_times=int(event_times.shape[0]),
        groups=tuple(prepared_groups),
    )


def _ratio(numerators: np.ndarray, denominators: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominators > 0, numerators / denominators, np.nan)


def _histogram_quantiles(hist: np.ndarray, top: float, levels: Sequence[float]) -> list[float]:
    """Quantiles of a weighted histogram of equal bins on [0, top], linear within a bin."""
    if top <= 0:
        return [0.0 for _ in levels]
    cumulative = np.cumsum(hist) / hist.sum()
    values = []
    for level in levels:
        k = int(np.searchsorted(cumulative, level))
        before = cumulative[k - 1] if k else 0.0
        inside = (level - before) / (cumulative[k] - before) if cumulative[k] > before else 0.0
        values.append((k + inside) * top / hist.shape[0])
    return values


def _fit(
    prepared: Prepared,
    x: np.ndarray,
    w: np.ndarray,
    drawn: np.ndarray,
    start: np.ndarray,
    what: str,
) -> tuple[np.ndarray, float]:
    """Coefficients and Breslow H0(horizon) (for ``x`` as given) of one replicate's Cox model.

    The same Newton-Raphson as :func:`fit_cox` (same start, steps and tolerance),
    its sums in one compiled pass over the ``drawn`` rows of the data sorted once,
    weighted by the replicate's counts: equal to ``fit_cox`` on the resampled
    rows (tested).
    """
    from clinai.evaluation.survival._kernels import cox_sums  # numba, compiled once

    last: list[Any] = []

    def parts(beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        last[:] = [beta, *cox_sums(drawn, prepared.data.group, prepared.cox_event, w, x, beta)]
        return last[1], last[2], last[3]

    beta = newton_raphson(parts, start, what)[0]
    if not np.array_equal(last[0], beta):  # the last evaluation is the fit's (kept for H0)
        parts(beta)
    return beta, last[4] * math.exp(-last[5])


def _calibration(prepared: Prepared, w: np.ndarray) -> tuple[list[float], np.ndarray]:
    """Slope, ICI, E50, E90, Emax and the flexible curve of one replicate (NaN if not fitted).

    Rows not drawn (about 37% in a replicate) weigh 0 and change no sum: only the
    drawn ones are visited.
    """
    from clinai.evaluation.survival._kernels import calibration_errors  # numba, compiled once

    drawn = np.flatnonzero(w)
    try:
        slope_fit = _fit(prepared, prepared.slope_covariate, w, drawn, prepared.starts[0], _SLOPE)
        slope = float(slope_fit[0][0])
    except DataError:
        slope = math.nan
    try:
        coef, hazard = _fit(prepared, prepared.basis, w, drawn, prepared.starts[1], _FLEXIBLE)
    except DataError:
        return [slope, *([math.nan] * 4)], np.full(prepared.curve_basis.shape[0], np.nan)
    ici, emax, hist = calibration_errors(
        drawn, prepared.basis, coef, hazard, prepared.risk, w, _ERROR_BINS
    )
    e50, e90 = _histogram_quantiles(hist, emax, (0.5, 0.9))
    # A degenerate replicate's spline fit (tiny samples) can overflow exp(): the curve
    # point is then 1 or NaN, which the intervals already handle; no warning to the user.
    with np.errstate(over="ignore", invalid="ignore"):
        curve = -np.expm1(-np.exp(prepared.curve_basis @ coef) * hazard)
    return [slope, ici, e50, e90, emax], curve


def _net_benefit(prepared: Prepared, w: np.ndarray) -> np.ndarray:
    """Kaplan-Meier net benefit at every threshold (given order) of one replicate."""
    width = prepared.thresholds.shape[0] + 1
    size = prepared.n_event_times * width
    at_risk = np.bincount(prepared.at_risk_code, w[prepared.at_risk_rows], minlength=size)
    events = np.bincount(prepared.event_code, w[prepared.event_rows], minlength=size)
    at_risk = at_risk.reshape(-1, width)[::-1].cumsum(axis=0)[::-1]
    # "above threshold j" = risk bins j + 1 and up: suffix sums over the bins
    at_risk = at_risk[:, ::-1].cumsum(axis=1)[:, ::-1][:, 1:]
    events = events.reshape(-1, width)[:, ::-1].cumsum(axis=1)[:, ::-1][:, 1:]
    hazard = np.divide(events, at_risk, out=np.zeros_like(events), where=at_risk > 0)
    risk_above = 1.0 - np.prod(1.0 - hazard, axis=0)
    counts = np.bincount(prepared.risk_bin, w, minlength=width)
    share = counts[::-1].cumsum()[::-1][1:] / w.sum()
    ascending = prepared.thresholds[prepared.threshold_order]
    odds = ascending / (1.0 - ascending)
    benefit = np.where(share > 0, share * (risk_above - (1.0 - risk_above) * odds), 0.0)
    out = np.empty_like(benefit)
    out[prepared.threshold_order] = benefit
    return out


def _group_values(group: _Group, columns: np.ndarray, horizon: float) -> np.ndarray:
    """(B, 2): Harrell's C and O/E of one subgroup in each replicate.

    ``columns``: the replicates' weights as (rows in time order, B), the layout of
    the concordance pass; the group's rows are whole rows of it (no transpose).
    """
    w = columns[group.positions]
    numerators, denominators, _ = _concordance_from_sorted(group.ranks, w)
    out = np.empty((w.shape[1], 2))
    out[:, 0] = _ratio(numerators[:, 0], denominators[:, 0])
    for b, row in enumerate(np.ascontiguousarray(w.T, dtype=float)):
        survival = _survival_at_unique(group.data, row)
        observed = 1.0 - _value_at(group.data.unique, survival, horizon)
        expected = float(np.dot(row, group.risk) / row.sum())
        out[b, 1] = observed / expected if expected > 0 else math.nan
    return out


def replicate_batch(prepared: Prepared, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Every metric of each replicate in ``weights`` (replicates x rows, input order).

    Returns ``{"metrics": (B, 12), "curve": (B, points), "net_benefit": (B, thresholds),
    "groups": (B, groups, 2)}``; the metrics in the order of ``SURVIVAL_METRICS``.
    """
    return replicate_sorted(prepared, np.take(weights, prepared.data.order, axis=1))


def replicate_sorted(prepared: Prepared, sorted_weights: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`replicate_batch` of weights already in time order (``prepared.data.order``).

    The bootstrap draws them so (its row codes permuted once), with no gather per batch.
    """
    data, t = prepared.data, prepared.horizon
    size = sorted_weights.shape[0]
    metrics = np.full((size, 12), np.nan)
    curve = np.full((size, prepared.curve_basis.shape[0]), np.nan)
    net_benefit = np.empty((size, prepared.thresholds.shape[0]))
    ipcw = np.zeros((data.n, 1, size))
    uno_defined = np.ones(size, dtype=bool)
    for b, w in enumerate(sorted_weights):
        # Kaplan-Meier of the event and of censoring from one set of counts
        at_risk, events, censored = data.counts(w)
        g_unique = _product_limit(at_risk - events, censored)
        survival = _product_limit(at_risk, events)
        ipcw[:, 0, b], n_zero = _uno_weights(data, g_unique, prepared.uno_rows)
        uno_defined[b] = n_zero == 0
        auc = _auc_from_prepared(prepared.auc, g_unique, w[prepared.auc.by_risk])
        brier, null = _brier_from_prepared(prepared.brier, g_unique, survival, w)
        observed = 1.0 - _value_at(data.unique, survival, t)
        expected = float(np.dot(w, prepared.risk) / w.sum())
        calibration, curve[b] = _calibration(prepared, w)
        metrics[b, 2:] = [
            auc,
            observed / expected if expected > 0 else math.nan,
            *calibration,
            brier,
            null,
            1.0 - brier / null if null > 0 else math.nan,
        ]
        net_benefit[b] = _net_benefit(prepared, w)
    # counts as float32 for the concordance pass (half the memory traffic): exact while
    # every sum of counts, at most a replicate's total, stays below 2**24
    exact32 = sorted_weights.sum(axis=1).max() < _FLOAT32_EXACT
    columns = np.ascontiguousarray(sorted_weights.T, dtype=np.float32 if exact32 else float)
    numerators, denominators, _ = _concordance_from_sorted(prepared.ranks, columns, ipcw)
    c_index = _ratio(numerators, denominators)
    metrics[:, 0] = c_index[:, 0]
    metrics[:, 1] = np.where(uno_defined, c_index[:, 1], np.nan)
    groups = np.empty((size, len(prepared.groups), 2))
    for k, group in enumerate(prepared.groups):
        groups[:, k] = _group_values(group, columns, t)
    return {"metrics": metrics, "curve": curve, "net_benefit": net_benefit, "groups": groups}

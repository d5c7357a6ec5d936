"""Bootstrap replicates of the survival metrics from case weights, data sorted once.

:func:`prepare` sorts by time, ranks the scores, builds the spline basis and the
decision-curve buckets once; :func:`replicate_batch` takes a batch of resampling
counts (replicates x rows, the resampling engine's draws) and returns every
metric of every replicate. A row's weight is its patient's count, so each
metric equals the metric on the resampled rows (tested against the public
functions of :mod:`clinai.evaluation.survival` on ``bootstrap_indices``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

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
from clinai.evaluation.survival._cox import fit_cox
from clinai.evaluation.survival._flexible_calibration import rcs_basis
from clinai.evaluation.survival._kaplan_meier import (
    SortedSurvival,
    _censoring_at_unique,
    _survival_at_unique,
    _value_at,
    sort_survival,
)
from clinai.evaluation.survival._time_auc import _auc_from_prepared, _AucInputs, _prepare_auc
from clinai.exceptions import DataError

__all__ = ["Prepared", "prepare", "replicate_batch"]

#: Bins of the error histogram that E50 and E90 of a replicate are read from.
_ERROR_BINS = 4096
_TIED_TOL = 1e-8


@dataclass(frozen=True, eq=False)
class _Group:
    """One subgroup, prepared: its rows (input order), sorted data and ranked scores."""

    rows: np.ndarray
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
    cox_time: np.ndarray
    cox_event: np.ndarray
    slope_covariate: np.ndarray
    basis: np.ndarray
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
    # the Cox models speak of [0, horizon]: later events count as censored there
    cox_time = np.minimum(data.time, horizon)
    cox_event = data.event & (data.time <= horizon)
    slope_covariate = cloglog(sorted_risk) if covariate is None else covariate[order]
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
            _Group(rows, sub, _prepare(sub, score[rows], _TIED_TOL), risk[rows][sub.order])
        )
    return Prepared(
        data=data,
        horizon=float(horizon),
        ranks=_prepare(data, score, _TIED_TOL),
        uno_rows=_uno_rows(data, horizon),
        risk=sorted_risk,
        auc=_prepare_auc(data, sorted_risk, horizon, _TIED_TOL),
        brier=_prepare_brier(data, sorted_risk, horizon),
        cox_time=cox_time,
        cox_event=cox_event,
        slope_covariate=slope_covariate,
        basis=rcs_basis(cloglog(sorted_risk), knots),
        starts=starts or (np.ones(1), np.r_[1.0, np.zeros(max(knots.shape[0] - 2, 0))]),
        curve_basis=rcs_basis(cloglog(curve_risk), knots),
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


def _weighted_quantiles(error: np.ndarray, w: np.ndarray, levels: Sequence[float]) -> list[float]:
    """Weighted quantiles read from a histogram of ``_ERROR_BINS`` bins up to the maximum."""
    top = float(error.max())
    if top <= 0:
        return [0.0 for _ in levels]
    index = np.minimum((error * (_ERROR_BINS / top)).astype(np.int64), _ERROR_BINS - 1)
    hist = np.bincount(index, w, minlength=_ERROR_BINS)
    cumulative = np.cumsum(hist) / hist.sum()
    values = []
    for level in levels:
        k = int(np.searchsorted(cumulative, level))
        before = cumulative[k - 1] if k else 0.0
        inside = (level - before) / (cumulative[k] - before) if cumulative[k] > before else 0.0
        values.append((k + inside) * top / _ERROR_BINS)
    return values


def _calibration(prepared: Prepared, w: np.ndarray) -> tuple[list[float], np.ndarray]:
    """Slope, ICI, E50, E90, Emax and the flexible curve of one replicate (NaN if not fitted).

    The Cox models are fitted on the drawn rows only (about 37% of the rows weigh 0
    in a replicate and change no sum).
    """
    drawn = w > 0
    time, event, weight = prepared.cox_time[drawn], prepared.cox_event[drawn], w[drawn]
    basis, risk = prepared.basis[drawn], prepared.risk[drawn]
    try:
        slope = float(
            fit_cox(
                time,
                event,
                prepared.slope_covariate[drawn],
                what="calibration slope",
                weights=weight,
                start=prepared.starts[0],
            ).coef[0]
        )
    except DataError:
        slope = math.nan
    try:
        fit = fit_cox(
            time,
            event,
            basis,
            what="flexible calibration",
            weights=weight,
            start=prepared.starts[1],
        )
    except DataError:
        return [slope, *([math.nan] * 4)], np.full(prepared.curve_basis.shape[0], np.nan)
    log_s0 = -fit.baseline_cumulative_hazard(prepared.horizon)
    error = np.abs(-np.expm1(np.exp(basis @ fit.coef) * log_s0) - risk)
    e50, e90 = _weighted_quantiles(error, weight, (0.5, 0.9))
    ici = float(np.dot(error, weight) / weight.sum())
    curve = -np.expm1(np.exp(prepared.curve_basis @ fit.coef) * log_s0)
    return [slope, ici, e50, e90, float(error.max())], curve


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


def _group_values(group: _Group, weights: np.ndarray, horizon: float) -> np.ndarray:
    """(B, 2): Harrell's C and O/E of one subgroup in each replicate."""
    w = weights[:, group.rows][:, group.data.order]
    numerators, denominators, _ = _concordance_from_sorted(group.ranks, np.ascontiguousarray(w.T))
    out = np.empty((w.shape[0], 2))
    out[:, 0] = _ratio(numerators[:, 0], denominators[:, 0])
    for b, row in enumerate(w):
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
    data, t = prepared.data, prepared.horizon
    sorted_weights = np.take(weights, data.order, axis=1)
    size = sorted_weights.shape[0]
    metrics = np.full((size, 12), np.nan)
    curve = np.full((size, prepared.curve_basis.shape[0]), np.nan)
    net_benefit = np.empty((size, prepared.thresholds.shape[0]))
    ipcw = np.zeros((data.n, 1, size))
    uno_defined = np.ones(size, dtype=bool)
    for b, w in enumerate(sorted_weights):
        g_unique = _censoring_at_unique(data, w)
        survival = _survival_at_unique(data, w)
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
    numerators, denominators, _ = _concordance_from_sorted(
        prepared.ranks, np.ascontiguousarray(sorted_weights.T), ipcw
    )
    c_index = _ratio(numerators, denominators)
    metrics[:, 0] = c_index[:, 0]
    metrics[:, 1] = np.where(uno_defined, c_index[:, 1], np.nan)
    groups = np.empty((size, len(prepared.groups), 2))
    for k, group in enumerate(prepared.groups):
        groups[:, k] = _group_values(group, weights, t)
    return {"metrics": metrics, "curve": curve, "net_benefit": net_benefit, "groups": groups}

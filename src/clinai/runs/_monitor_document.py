"""The ``periods`` and ``cusum`` blocks of ``monitoring.json``, period by period.

For each period: counts, realised performance (with outcomes), confidence-based
estimates (always; with intervals when the period has no outcomes), subgroups,
drift, the period's share of the risk-adjusted CUSUM run over the whole stream in
time order, and the verdict from the plan's limits
(:func:`clinai.evaluation.monitoring.period_verdict`). Only aggregated numbers leave
this module: the CUSUM keeps one point per period, never a row-level series.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from clinai.runs._monitor_inputs import Stream
from clinai.runs._monitor_periods import (
    COLUMN_BATCH,
    count_drift,
    distinct_count,
    performance,
    period_rows,
    subgroups,
)
from clinai.runs._progress import progress_bar

__all__ = ["measurements", "period_entries"]

#: The plan's performance metric names and their keys in ``performance``.
_PERFORMANCE_METRICS = {
    "auroc": "auroc",
    "oe_ratio": "oe_ratio",
    "calibration.intercept": "calibration_intercept",
    "calibration.slope": "calibration_slope",
    "ici": "ici",
    "alert_rate": "alert_rate",
    "sensitivity": "sensitivity",
    "ppv": "ppv",
}
_ESTIMATED_METRICS = ("auroc", "sensitivity", "ppv")


def _clusters(patient: np.ndarray) -> np.ndarray | None:
    """Patient codes for the bootstrap; None (rows resampled) when no row has a patient."""
    return None if patient.size == 0 or int(patient.max()) < 0 else patient


def measurements(
    entry: dict[str, Any], drift: Any, *, alert_rate: float, development_rate: float | None
) -> dict[str, Any]:
    """Return the period's values by the plan's metric names (an estimate dict or a number each)."""
    out: dict[str, Any] = {}
    perf = entry["performance"]
    for metric, key in _PERFORMANCE_METRICS.items():
        out[metric] = None if perf is None else perf[key]
    if perf is None:  # the alert rate needs no outcome
        out["alert_rate"] = {"estimate": alert_rate, "ci_low": None, "ci_high": None}
    for metric in _ESTIMATED_METRICS:
        out[f"estimated.{metric}"] = entry["estimated"].get(metric)
    change = None
    if development_rate:
        change = abs(alert_rate / development_rate - 1.0)
    out["alert_rate_change"] = change
    out.update(drift.measurements())
    return out


def _one_row_per_patient(stream: Stream, index: np.ndarray) -> np.ndarray:
    """Return the period's rows to chart: each patient's first prediction time, in ``index`` order.

    Hourly prediction times of one stay share one event (up to 24 positive hours in a
    row), so charting every row breaks the independence the chart's simulated limit
    assumes (``first_row_per_patient``). Rows without a patient, and periods where
    every patient has one row, are charted as they are.
    """
    from clinai.evaluation.monitoring import first_row_per_patient

    patient = stream.patient[index]
    named = np.flatnonzero(patient >= 0)
    codes = patient[named]
    if named.size == distinct_count(codes):  # a bitmap, not np.unique's hash table
        return index
    keep = patient < 0
    times = stream.time[index][named]
    if bool(np.all(times[1:] >= times[:-1])):
        # rows in time order (period_rows; file order breaks ties), so a patient's first
        # row is its first in position order: one stable sort of the codes gives
        # first_row_per_patient's rows (0.1 s instead of 0.5 s per period of 830,000 rows)
        order = np.argsort(codes, kind="stable")
        first = np.ones(order.shape[0], dtype=bool)
        first[1:] = codes[order[1:]] != codes[order[:-1]]
        keep[named[order[first]]] = True
    else:
        keep[named[first_row_per_patient(codes, times)]] = True
    return index[keep]


def _cusum(stream: Stream, plan: Any, rows: Sequence[np.ndarray], seed: int) -> tuple[Any, Any]:
    """Return the per-period CUSUM summaries and the top-level block (None without a plan's).

    One chart runs over the whole stream in time order (rows with an outcome; one per
    patient and period where patients have several, :func:`_one_row_per_patient`);
    each period continues from the previous one's end (``start``), so the per-period
    charts together are the whole chart.
    """
    from clinai.evaluation.monitoring import cusum_limit, risk_adjusted_cusum

    if plan.cusum is None:
        return [None] * len(rows), None
    known = [_one_row_per_patient(stream, r[np.isfinite(stream.outcome[r])]) for r in rows]
    limit = plan.cusum.limit
    if limit is None:  # simulated under the plan's null over the monitored stream's risks
        every = np.concatenate(known) if known else np.zeros(0, dtype=np.int64)
        limit = cusum_limit(
            stream.risk[every],
            odds_ratio=plan.cusum.odds_ratio,
            false_alarm_rate=plan.cusum.false_alarm_rate,
            random_state=seed,
        )
    entries: list[dict[str, Any] | None] = []
    points, start = [], 0.0
    for info, index in zip(stream.periods, known, strict=True):
        if index.size == 0:
            entries.append({"end": None, "max": None, "limit": limit, "signalled": False})
            continue
        chart = risk_adjusted_cusum(
            stream.outcome[index],
            stream.risk[index],
            odds_ratio=plan.cusum.odds_ratio,
            limit=limit,
            start=start,
        ).to_dict()
        start = chart["end"]
        entries.append({key: chart[key] for key in ("end", "max", "limit", "signalled")})
        points.append({"period": info.label, "value": chart["end"]})
    block = {"odds_ratio": plan.cusum.odds_ratio, "limit": float(limit), "points": points}
    return entries, block


def _verdict(
    values: dict[str, Any], plan: Any, events: int | None, cusum: dict[str, Any] | None
) -> dict[str, Any]:
    """Return the period's verdict: the plan's limits, and its CUSUM when the chart signalled."""
    from clinai.evaluation.monitoring import (
        VERDICT_LEVELS,
        LimitReason,
        Verdict,
        period_verdict,
    )

    limits = [limit.model_dump(mode="json") for limit in plan.limits]
    verdict = period_verdict(values, limits, events=events, min_events=plan.min_events)
    if cusum is not None and cusum["signalled"]:
        action = plan.cusum.action
        reason = LimitReason("cusum", "max", cusum["max"], None, cusum["limit"], action, "breach")
        level = max(verdict.level, action, key=VERDICT_LEVELS.index)
        verdict = Verdict(level, (reason, *verdict.reasons))
    return dict(verdict.to_dict())


def _one_period(
    stream: Stream, index: np.ndarray, plan: Any, seed: int
) -> tuple[dict[str, Any], float]:
    """Return the counts, performance, estimates and subgroups of one period's rows."""
    from clinai.evaluation.monitoring import estimated_performance

    threshold = plan.operating_threshold
    y_all, p, patient = stream.outcome[index], stream.risk[index], stream.patient[index]
    known = np.isfinite(y_all)
    available = bool(known.any())
    y = y_all[known]
    events = int(y.sum()) if available else None
    estimated = estimated_performance(
        p,
        threshold=threshold,
        patient_ids=None if available else _clusters(patient),  # only the bootstrap reads them
        n_boot=0 if available else plan.n_boot,
        random_state=seed,
    ).to_dict()
    entry: dict[str, Any] = {
        "n": int(index.size),
        "n_patients": distinct_count(patient) or int(index.size),
        "events": events,
        "outcomes_available": available,
        "performance": None,
        "estimated": estimated,
        "subgroups": {},
    }
    if available:
        clusters = _clusters(patient[known])
        entry["performance"] = performance(
            y, p[known], clusters, threshold=threshold, n_boot=plan.n_boot, seed=seed
        )
        groups = {a: v[index][known] for a, v in stream.groups.items()}
        entry["subgroups"] = subgroups(y, p[known], clusters, groups)
    return entry, float((p >= threshold).mean())


def period_entries(
    stream: Stream,
    plan: Any,
    reference: Any,
    development: dict[str, Any],
    *,
    seed: int,
    show_progress: bool = True,
) -> tuple[list[dict[str, Any]], Any]:
    """Return the ``periods`` list and the ``cusum`` block of ``monitoring.json``."""
    from clinai.evaluation.resampling._fast_draws import reused_workspaces

    rows = period_rows(stream)
    steps = len(rows) + -(-len(reference.names) // COLUMN_BATCH)
    label = "periods and drift (feature batches)"
    # Drift (decoding the feature columns) runs beside the periods: each period has
    # single-threaded stretches (sorting, the exact point estimates) that leave a core idle.
    # The bootstrap's buffers serve every period (mapped once, not once per period).
    with (
        progress_bar(label, steps, enabled=show_progress) as advance,
        ThreadPoolExecutor(1) as background,
        reused_workspaces(),
    ):
        drift_future = background.submit(count_drift, stream, reference, rows, progress=advance)
        cusum_entries, cusum = _cusum(stream, plan, rows, seed)
        computed = []
        for k in range(len(stream.periods)):
            computed.append(_one_period(stream, rows[k], plan, seed))
            advance()
        drift = drift_future.result()
    entries = []
    for k, (info, (entry, rate)) in enumerate(zip(stream.periods, computed, strict=True)):
        values = measurements(
            entry, drift[k], alert_rate=rate, development_rate=development["alert_rate"]
        )
        entries.append(
            {
                "period": info.label,
                "start": info.start,
                "end": info.end,
                **entry,
                "drift": drift[k].to_dict(),
                "cusum": cusum_entries[k],
                "verdict": _verdict(values, plan, entry["events"], cusum_entries[k]),
            }
        )
    return entries, cusum

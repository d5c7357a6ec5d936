"""Validate survival predictions at one horizon: every metric of ``survival_metrics.json``.

:func:`evaluate_survival` composes :mod:`clinai.evaluation.survival`: the point
estimates are the public functions' (``harrell_c``, ``uno_c``,
``time_dependent_auc``, ``survival_oe_ratio``, ``survival_calibration_slope``,
``flexible_survival_calibration``, ``ipcw_brier_score``,
``survival_decision_curve``), the intervals are patient-clustered percentile
bootstrap intervals (:mod:`clinai.evaluation.resampling`: the same resamples as
:func:`~clinai.evaluation.bootstrap_indices`, extended to contain the estimate).

A replicate is not built by copying rows. The data are sorted by time and the
scores ranked once (:mod:`._survival_replicates`); each replicate passes its
resampling counts (a patient drawn twice weighs 2 on every one of its rows) as
case weights to the survival kernels, which equal the metrics on the resampled
rows (tested). The counts are drawn with the row codes in time order, so they
arrive sorted; the concordance pass scores up to ``_BATCH`` replicates at once.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from clinai.evaluation._estimate import Estimate, _num
from clinai.evaluation._groups import group_order
from clinai.evaluation._inputs import (
    check_ci_level,
    check_min_cell,
    check_n_boot,
    check_thresholds,
)
from clinai.evaluation.resampling import engine
from clinai.evaluation.resampling.engine import Clusters, RandomState
from clinai.evaluation.survival import (
    censoring_survival,
    flexible_survival_calibration,
    harrell_c,
    ipcw_brier_score,
    survival_calibration_groups,
    survival_calibration_slope,
    survival_decision_curve,
    survival_oe_ratio,
    time_dependent_auc,
    uno_c,
)
from clinai.evaluation.survival._calibration import check_at_horizon
from clinai.evaluation.survival._inputs import check_score
from clinai.evaluation.thresholds._decision_curve import DEFAULT_DCA_THRESHOLDS
from clinai.evaluation.validate._survival_replicates import Prepared, prepare, replicate_sorted
from clinai.evaluation.validate._survival_results import (
    SURVIVAL_METRICS,
    SURVIVAL_SCHEMA,
    FollowUp,
    SurvivalSubgroup,
    SurvivalValidationResult,
)
from clinai.exceptions import DataError

__all__ = [
    "SURVIVAL_METRICS",
    "SURVIVAL_SCHEMA",
    "SurvivalValidationResult",
    "evaluate_survival",
]

#: Metrics with a natural lower bound of 0 (the interval may reach down to it; see resampling).
_FLOOR_ZERO = ("ici", "e50", "e90", "emax")
#: Most risk groups of the observed-against-predicted table (deciles).
_MAX_RISK_GROUPS = 10
#: Replicates scored together by the concordance pass (one tree pass serves them all).
_BATCH = 16
#: Most replicates x rows in one batch: each batch holds a few (rows, replicates) float
#: arrays, and two run at once; at 1 M rows this gives batches of 8 (peak RSS 1.2 GB; 1.6 GB at 16).
_BATCH_CELLS = 8_000_000
#: Threads that score batches of replicates at once (the project's machines have 2 cores).
_THREADS = 2

EVENT_CODE_MSG = (
    "event must hold only 0 (censored) and {code} (the event of interest); got {values}: "
    "competing events are not validated here (code them 0/1 for one cause)"
)
GROUPS_LENGTH_MSG = "groups has {rows} rows but time has {n}: pass one row per patient"
CONSTANT_RISK_MSG = (
    "every patient has the same predicted risk by the horizon ({value:.4g}): there is nothing to "
    "rank or calibrate; a model that kept no predictor (e.g. cox_net with a strong penalty) or "
    "a constant score column predicts so"
)
Progress = Callable[[int, int], None]


def _check_event(event: Any, code: int) -> np.ndarray:
    """Map the event of interest to 1 and censoring to 0; refuse any other code."""
    values = pd.to_numeric(pd.Series(np.asarray(event).ravel()), errors="coerce").to_numpy(float)
    ok = np.isin(values, (0.0, float(code)))
    if not ok.all():
        shown = sorted({str(v) for v in pd.Series(np.asarray(event).ravel())[~ok][:5]})
        raise DataError(EVENT_CODE_MSG.format(code=code, values=", ".join(shown)))
    return (values == code).astype(np.int64)


def _follow_up(time: np.ndarray, event: np.ndarray, horizon: float) -> FollowUp:
    """Censoring before the horizon and the median follow-up by reverse Kaplan-Meier.

    The reverse Kaplan-Meier is the Kaplan-Meier of the censoring times (an event
    censors the follow-up) [Schemper & Smith 1996, Control Clin Trials 17:343].
    """
    reverse = censoring_survival(time, event)
    below = np.flatnonzero(reverse.survival <= 0.5)
    censored_early = int(((event == 0) & (time < horizon)).sum())
    return FollowUp(
        n=int(time.shape[0]),
        events=int(event.sum()),
        events_by_horizon=int(((event == 1) & (time <= horizon)).sum()),
        censored_before_horizon=censored_early,
        share_censored_before_horizon=censored_early / time.shape[0],
        median_follow_up=float(reverse.times[below[0]]) if below.size else None,
        max_follow_up=float(time.max()),
    )


def risk_group_count(n: int, cases: int, min_cell: int) -> int:
    """Return how many risk groups: tenths, or fewer so that each averages enough.

    At most :data:`_MAX_RISK_GROUPS`; on average ``max(min_cell, 20)`` of the ``n``
    patients and ``min_cell`` of the rarer of the ``cases`` (events by the horizon)
    and the others per group. Below 2, no table.
    """
    rarer = min(cases, n - cases)
    return int(min(_MAX_RISK_GROUPS, n // max(min_cell, 20), rarer // max(min_cell, 1)))


def _risk_groups(
    time: np.ndarray, event: np.ndarray, risk: np.ndarray, horizon: float, min_cell: int
) -> tuple[dict[str, Any], ...]:
    """Observed (Kaplan-Meier) against mean predicted risk by the horizon per risk group.

    Tenths of predicted risk (:func:`survival_calibration_groups`), or fewer so that
    a group holds ``max(min_cell, 20)`` patients and ``min_cell`` events (and
    non-events) by the horizon on average (tenths of 17 events left most groups
    suppressed); a group with fewer than ``min_cell`` patients, events or non-events
    by the horizon is suppressed: its counts and observed risk are hidden (its
    predicted risks stay).
    """
    cases = int(np.count_nonzero((event == 1) & (time <= horizon)))
    k = risk_group_count(time.shape[0], cases, min_cell)
    if k < 2:
        return ()
    rows = []
    for number, group in enumerate(
        survival_calibration_groups(time, event, risk, t=horizon, n_groups=k)
    ):
        row = {"group": number + 1, **group.to_dict(), "suppressed": False}
        if min(group.n, group.events, group.n - group.events) < min_cell:
            # the observed risk of a group of known size would reveal its events
            row.update(n=None, events=None, observed=None, ci_low=None, ci_high=None)
            row["suppressed"] = True
        rows.append(row)
    return tuple(rows)


def _interval(replicates: np.ndarray, estimate: float, level: float, floor: bool) -> Estimate:
    if replicates.shape[0] == 0 or not math.isfinite(estimate):
        return Estimate(estimate)
    low, high, _ = engine.contained_interval(
        replicates, estimate, level, lower_bound=0.0 if floor else None
    )
    return Estimate(estimate, float(low), float(high))


def _subgroups(
    groups: pd.DataFrame | None,
    time: np.ndarray,
    event: np.ndarray,
    risk: np.ndarray,
    score: np.ndarray,
    horizon: float,
    min_cell: int,
) -> list[tuple[str, str, np.ndarray, bool]]:
    """(attribute, group, row mask, suppressed) per group, in display order."""
    if groups is None:
        return []
    if len(groups) != time.shape[0]:
        raise DataError(GROUPS_LENGTH_MSG.format(rows=len(groups), n=time.shape[0]))
    cells = []
    for attribute in groups.columns:
        column = groups[attribute]
        labels = column.astype(str).fillna("missing").to_numpy()
        for label in group_order(labels, column):
            mask = labels == label
            hit = event[mask] & (time[mask] <= horizon)
            n, events = int(mask.sum()), int(hit.sum())
            small = min(n, events, n - events) < min_cell
            cells.append((str(attribute), label, mask, small))
    return cells


def evaluate_survival(
    time: Any,
    event: Any,
    risk: Any,
    *,
    horizon: float,
    lp: Any = None,
    patient_ids: Any = None,
    groups: pd.DataFrame | None = None,
    n_boot: int = 200,
    ci_level: float = 0.95,
    random_state: RandomState = 0,
    min_cell: int = 5,
    thresholds: Sequence[float] | np.ndarray = DEFAULT_DCA_THRESHOLDS,
    event_of_interest: int = 1,
    score_name: str = "risk",
    progress: Progress | None = None,
) -> SurvivalValidationResult:
    """Validate predicted risks by a horizon against right-censored outcomes.

    Discrimination: Harrell's C and Uno's C (tau = horizon) of ``lp`` when given,
    else of ``risk``; Uno's cumulative/dynamic AUC at the horizon. Calibration at
    the horizon: O/E (Kaplan-Meier), the calibration slope (Cox on ``lp``, or on
    cloglog(risk)), flexible calibration (Austin et al. 2020) with ICI, E50, E90,
    Emax. Overall: IPCW Brier score, its null model's and IPA. Usefulness: the
    decision curve with Kaplan-Meier net benefit (Vickers et al. 2008). Each
    metric's definition and source are in :mod:`clinai.evaluation.survival`.

    Intervals: percentile bootstrap of patients (all rows of a drawn patient),
    ``n_boot`` replicates, each bound moved to the estimate where it excludes it
    (as every interval of clinai). Within a replicate the flexible calibration
    keeps the full sample's spline knots, and E50/E90 are read from a histogram
    of the errors with 4096 bins up to Emax (their point estimates are exact).

    Parameters
    ----------
    time : array-like of shape (n,)
        Follow-up time, finite and >= 0.
    event : array-like of shape (n,)
        0 censored, ``event_of_interest`` the event.
    risk : array-like of shape (n,)
        Predicted absolute risk of the event by ``horizon``, in [0, 1].
    horizon : float
        The horizon, within follow-up, with at least one event by it.
    lp : array-like of shape (n,), optional
        The model's linear predictor (for C and the calibration slope).
    patient_ids : array-like of shape (n,), optional
        Patient of each row: patients are resampled, not rows.
    groups : pandas.DataFrame, optional
        One column per attribute for the subgroup table.
    n_boot : int, default 200
        Bootstrap replicates (0: no intervals).
    ci_level : float, default 0.95
        Level of the intervals.
    random_state : int or numpy.random.Generator, default 0
        Seed: the same seed gives the same numbers.
    min_cell : int, default 5
        Groups (subgroups, risk groups) with fewer patients, events or
        non-events by the horizon show no counts (subgroups: no numbers).
    thresholds : sequence of float
        Decision-curve thresholds, each in (0, 1).
    event_of_interest : int, default 1
        The code of the event in ``event``.
    score_name : str, default "risk"
        The score's name for the record (e.g. the column).
    progress : callable, optional
        ``progress(done, total)`` after each batch of replicates.

    Returns
    -------
    SurvivalValidationResult

    Raises
    ------
    DataError
        Bad time, event or risk (one line each), a horizon outside follow-up, no
        event by the horizon, bad ``n_boot``, ``ci_level``, ``min_cell`` or thresholds.
    """
    inputs = _check(
        time, event, risk, horizon, lp, ci_level, n_boot, min_cell, thresholds, event_of_interest
    )
    point, fits = _point_estimates(inputs)
    clusters = engine.clusters_of(patient_ids, inputs.n)
    cells = _subgroups(
        groups, inputs.time, inputs.event, inputs.risk, inputs.score, inputs.t, inputs.cell
    )
    prepared: Prepared = prepare(
        inputs.time,
        inputs.event,
        inputs.risk,
        inputs.score,
        inputs.t,
        covariate=inputs.lp,
        knots=np.asarray(fits.flexible.knots),
        curve_risk=np.asarray(fits.flexible.predicted),
        thresholds=inputs.grid,
        starts=(np.array([fits.slope.slope]), np.asarray(fits.flexible.coef)),
        groups=[mask for _, _, mask, small in cells if not small],
    )
    replicates = _bootstrap(prepared, clusters, inputs.boots, random_state, progress)
    level = inputs.level
    band = _bands(replicates["curve"], np.asarray(fits.flexible.observed), level)
    return SurvivalValidationResult(
        horizon=inputs.t,
        n=inputs.n,
        n_patients=clusters.n,
        event_of_interest=int(event_of_interest),
        score=score_name,
        metrics={
            name: _interval(
                replicates["metrics"][:, k], float(point[name]), level, name in _FLOOR_ZERO
            )
            for k, name in enumerate(SURVIVAL_METRICS)
        },
        n_boot=inputs.boots,
        ci_level=level,
        n_skipped={
            name: int((~np.isfinite(replicates["metrics"][:, k])).sum())
            for k, name in enumerate(SURVIVAL_METRICS)
        },
        calibration_covariate=fits.slope.covariate,
        calibration_curve=tuple(
            (float(p), float(o), band[k][0], band[k][1])
            for k, (p, o) in enumerate(
                zip(fits.flexible.predicted, fits.flexible.observed, strict=True)
            )
        ),
        decision_curve=_decision_rows(fits.curve, replicates["net_benefit"], level),
        natural_frequency=_natural_frequency(fits.oe.observed, fits.oe.expected, inputs.t),
        risk_groups=_risk_groups(inputs.time, inputs.event, inputs.risk, inputs.t, inputs.cell),
        subgroups=_subgroup_rows(inputs, cells, replicates["groups"], level),
        follow_up=_follow_up(inputs.time, inputs.event, inputs.t),
        min_cell=inputs.cell,
    )


@dataclass(frozen=True, eq=False)
class _Inputs:
    """The checked arguments of one survival validation (rows stay here, never in a report)."""

    time: np.ndarray
    event: np.ndarray
    risk: np.ndarray
    lp: np.ndarray | None
    #: What the concordance ranks: ``lp`` when given, else ``risk``.
    score: np.ndarray
    t: float
    n: int
    level: float
    boots: int
    cell: int
    grid: np.ndarray


@dataclass(frozen=True, eq=False)
class _Fits:
    """The point fits whose curves and coefficients the report and the bootstrap reuse."""

    slope: Any
    flexible: Any
    oe: Any
    curve: Any


def _check(
    time: Any,
    event: Any,
    risk: Any,
    horizon: float,
    lp: Any,
    ci_level: float,
    n_boot: int,
    min_cell: int,
    thresholds: Sequence[float] | np.ndarray,
    event_of_interest: int,
) -> _Inputs:
    """Check every argument (one clear line naming it) in the order of the signature."""
    level = check_ci_level(ci_level)
    boots = check_n_boot(n_boot)
    cell = check_min_cell(min_cell)
    grid = check_thresholds(thresholds, name="thresholds")
    event_codes = _check_event(event, int(event_of_interest))
    time_array, event_array, risk_array, t = check_at_horizon(time, event_codes, risk, horizon)
    n = time_array.shape[0]
    lp_array = None if lp is None else check_score(lp, n, name="lp")
    if np.ptp(risk_array) == 0.0:
        # the calibration models have no information then ("did not converge")
        raise DataError(CONSTANT_RISK_MSG.format(value=float(risk_array[0])))
    return _Inputs(
        time=time_array,
        event=event_array,
        risk=risk_array,
        lp=lp_array,
        score=risk_array if lp_array is None else lp_array,
        t=t,
        n=n,
        level=level,
        boots=boots,
        cell=cell,
        grid=grid,
    )


def _point_estimates(inputs: _Inputs) -> tuple[dict[str, float], _Fits]:
    """Return every metric's point estimate: the public functions, so the record equals them."""
    time, event, risk, t = inputs.time, inputs.event, inputs.risk, inputs.t
    slope = (
        survival_calibration_slope(time, event, lp=inputs.lp, t=t)
        if inputs.lp is not None
        else survival_calibration_slope(time, event, risk=risk, t=t)
    )
    flexible = flexible_survival_calibration(time, event, risk, t=t)
    brier = ipcw_brier_score(time, event, risk, t)
    oe = survival_oe_ratio(time, event, risk, t=t)
    point = {
        "harrell_c": harrell_c(time, event, inputs.score).estimate,
        "uno_c": uno_c(time, event, inputs.score, tau=t).estimate,
        "time_auc": time_dependent_auc(time, event, risk, t).auc[0],
        "oe_ratio": oe.oe_ratio,
        "calibration_slope": slope.slope,
        "ici": flexible.ici,
        "e50": flexible.e50,
        "e90": flexible.e90,
        "emax": flexible.emax,
        "brier": brier.brier,
        "null_brier": brier.null_brier,
        "ipa": brier.ipa,
    }
    curve = survival_decision_curve(time, event, risk, t=t, thresholds=inputs.grid)
    return point, _Fits(slope=slope, flexible=flexible, oe=oe, curve=curve)


def _decision_rows(curve: Any, replicates: np.ndarray, level: float) -> tuple[dict[str, Any], ...]:
    """Return the decision curve's points with the net benefit's pointwise interval."""
    band = _bands(replicates, np.array([p.net_benefit for p in curve.points]), level)
    return tuple(
        {
            "threshold": p.threshold,
            "net_benefit": p.net_benefit,
            "ci_low": band[k][0],
            "ci_high": band[k][1],
            "net_benefit_treat_all": p.net_benefit_treat_all,
            "net_benefit_treat_none": 0.0,
            "proportion_above": p.proportion_above,
        }
        for k, p in enumerate(curve.points)
    )


def _subgroup_rows(
    inputs: _Inputs, cells: list[Any], replicates: np.ndarray, level: float
) -> tuple[SurvivalSubgroup, ...]:
    """Return Harrell's C and O/E of each shown group with intervals; suppressed ones empty."""
    time, event, risk, score, t = inputs.time, inputs.event, inputs.risk, inputs.score, inputs.t

    def group_c(rows: np.ndarray) -> float:
        return harrell_c(time[rows], event[rows], score[rows]).estimate

    def group_oe(rows: np.ndarray) -> float:
        return survival_oe_ratio(time[rows], event[rows], risk[rows], t=t).oe_ratio

    rows = []
    shown_index = 0
    for attribute, label, mask, small in cells:
        c_estimate = o_estimate = Estimate.missing()
        if not small:
            c_estimate, o_estimate = (
                _group_estimate(partial(metric, mask), replicates[:, shown_index, k], level)
                for k, metric in enumerate((group_c, group_oe))
            )
            shown_index += 1
        hit = event[mask] & (time[mask] <= t)
        rows.append(
            SurvivalSubgroup(
                attribute=attribute,
                group=label,
                n=None if small else int(mask.sum()),
                events=None if small else int(hit.sum()),
                suppressed=small,
                harrell_c=c_estimate,
                oe_ratio=o_estimate,
            )
        )
    return tuple(rows)


def _natural_frequency(observed: float, expected: float, horizon: float) -> dict[str, Any]:
    """Of 100 patients like these: how many had the event by the horizon, how many expected."""
    return {
        "per": 100,
        "horizon": float(horizon),
        "observed": round(100 * observed),
        "predicted": round(100 * expected),
        "observed_risk": _num(observed),
        "predicted_risk": _num(expected),
    }


def _group_estimate(compute: Callable[[], float], replicates: np.ndarray, level: float) -> Estimate:
    """Return a subgroup's estimate (missing where undefined there) with its interval."""
    try:
        value = float(compute())
    except DataError:
        return Estimate.missing()
    return _interval(replicates, value, level, False)


def _bands(replicates: np.ndarray, estimate: np.ndarray, level: float) -> list[tuple[Any, Any]]:
    """Pointwise intervals of a curve (None where no replicate was finite)."""
    if replicates.shape[0] == 0:
        return [(None, None)] * estimate.shape[0]
    low, high, _ = engine.contained_interval(replicates, estimate, level)
    return [(_num(lo), _num(hi)) for lo, hi in zip(low, high, strict=True)]


def _bootstrap(
    prepared: Prepared,
    clusters: Clusters,
    n_boot: int,
    random_state: RandomState,
    progress: Progress | None,
) -> dict[str, np.ndarray]:
    """Every replicate's metrics, from the resampling engine's counts (batches of ``_BATCH``).

    Batches run on up to two threads (numpy's large-array operations and the
    compiled kernels release the GIL); results are kept in draw order, so the
    numbers do not depend on the threads.
    """
    out: dict[str, list[np.ndarray]] = {"metrics": [], "curve": [], "net_benefit": [], "groups": []}
    rng = np.random.default_rng(random_state)
    done = 0
    if progress is not None:
        progress(0, n_boot)

    size = max(1, min(_BATCH, _BATCH_CELLS // max(clusters.codes.shape[0], 1)))

    def batches() -> Iterator[np.ndarray]:
        pending: list[np.ndarray] = []
        # the row codes in time order: the counts come sorted, as the replicates need them
        for chunk in engine.weight_chunks(clusters.take(prepared.data.order), n_boot, rng):
            pending.append(chunk)
            if sum(p.shape[0] for p in pending) >= size:
                yield np.concatenate(pending, axis=0)
                pending.clear()
        if pending:
            yield np.concatenate(pending, axis=0)

    def collect(future: Future[dict[str, np.ndarray]]) -> None:
        nonlocal done
        for key, values in future.result().items():
            out[key].append(values)
        done += out["metrics"][-1].shape[0]
        if progress is not None:
            progress(done, n_boot)

    workers = max(1, min(_THREADS, os.cpu_count() or 1))
    if n_boot:
        with ThreadPoolExecutor(workers) as pool:
            running: deque[Future[dict[str, np.ndarray]]] = deque()
            for weights in batches():
                running.append(pool.submit(replicate_sorted, prepared, weights))
                while len(running) >= workers:
                    collect(running.popleft())
            while running:
                collect(running.popleft())
    shapes = {
        "metrics": (len(SURVIVAL_METRICS),),
        "curve": (prepared.curve_basis.shape[0],),
        "net_benefit": (prepared.thresholds.shape[0],),
        "groups": (len(prepared.groups), 2),
    }
    return {
        key: np.concatenate(parts, axis=0) if parts else np.empty((0, *shapes[key]))
        for key, parts in out.items()
    }

"""Cumulative/dynamic time-dependent AUC with inverse probability of censoring weights.

O(n log n): the risks are sorted once per horizon and grouped into tie runs
(:func:`_prepare_auc`); each AUC is then O(n) sequential sums over the runs.
Nothing of that changes between bootstrap replicates: a replicate passes its
row weights (in risk order) and its G to :func:`_auc_from_prepared`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from clinai.evaluation._docstrings import fill_doc
from clinai.evaluation._estimate import FieldsRecord
from clinai.evaluation.survival._horizons import prepare_horizons
from clinai.evaluation.survival._inputs import check_tied_tol
from clinai.evaluation.survival._kaplan_meier import (
    KaplanMeier,
    SortedSurvival,
    _survival_at_unique,
    _value_at,
)
from clinai.exceptions import DataError

__all__ = ["TimeDependentAUC", "time_dependent_auc"]

NO_CASES_MSG = (
    "no {what} at t = {t:g}: the time-dependent AUC needs events by t (cases) and patients "
    "still followed after t (controls)"
)


@dataclass(frozen=True)
class TimeDependentAUC(FieldsRecord):
    """Cumulative/dynamic AUC at each horizon and its summary over the horizons.

    Parameters
    ----------
    times : tuple of float
        The horizons, ascending.
    auc : tuple of float
        AUC(t) at each horizon.
    mean_auc : float
        The AUCs weighted by the Kaplan-Meier probability of an event in each
        interval between horizons (scikit-survival's ``mean_auc``); with one
        horizon, its AUC.
    """

    times: tuple[float, ...]
    auc: tuple[float, ...]
    mean_auc: float


@dataclass(frozen=True, eq=False)
class _AucInputs:
    """One horizon's AUC, prepared once: rows in risk order, tie runs, cases and controls.

    Everything a bootstrap replicate does not change; a replicate passes its row
    weights (in this risk order: ``weights_in_time_order[by_risk]``, or its
    patient counts gathered straight into it) and its own G.
    """

    by_risk: np.ndarray  # sorted-by-time row of each position in risk order
    run_starts: np.ndarray  # first position of each tie run (values within tied_tol)
    case: np.ndarray  # event by t, in risk order
    control: np.ndarray  # followed beyond t, in risk order
    time_group: np.ndarray  # index of each row's time in data.unique, in risk order


def _prepare_auc(
    data: SortedSurvival, sorted_risk: np.ndarray, t: float, tied_tol: float
) -> _AucInputs:
    """Sort the risks (rows in time order) once and mark cases and controls at ``t``.

    As scikit-survival's ROC, a run of risks each within ``tied_tol`` of the next
    is one tie group.
    """
    by_risk = np.argsort(sorted_risk)  # tie runs are summed: order within them does not matter
    values = sorted_risk[by_risk]
    new = np.empty(values.shape[0], dtype=bool)
    new[:1] = True
    np.greater(np.diff(values), tied_tol, out=new[1:])
    time_in_risk_order = data.time[by_risk]
    return _AucInputs(
        by_risk=by_risk,
        run_starts=np.flatnonzero(new),
        case=data.event[by_risk] & (time_in_risk_order <= t),
        control=time_in_risk_order > t,
        time_group=data.group[by_risk],
    )


def _auc_from_prepared(
    inputs: _AucInputs, censoring_unique: np.ndarray, risk_order_weights: np.ndarray | None = None
) -> float:
    """AUC(t) of a prepared horizon; NaN without cases or controls. One O(n) pass (numba).

    Cases (event by t) weigh w_i / G(T_i), controls (T_j > t) weigh w_j; the AUC
    is P(case risk > control risk) + P(tie) / 2 under these weights. Cases with
    G(T_i) = 0 weigh 0 (scikit-survival refuses those data; the public function
    says so).
    """
    from clinai.evaluation.survival._kernels import auc_sums  # numba, compiled once

    n = inputs.case.shape[0]
    w = np.ones(n) if risk_order_weights is None else np.asarray(risk_order_weights, dtype=float)
    numerator, cases, controls = auc_sums(
        inputs.run_starts, inputs.case, inputs.control, inputs.time_group, censoring_unique, w
    )
    if cases * controls <= 0:
        return float("nan")
    return float(numerator / (cases * controls))


@fill_doc
def time_dependent_auc(
    time: Any,
    event: Any,
    risk: Any,
    times: Any,
    *,
    censoring: KaplanMeier | None = None,
    tied_tol: float = 1e-8,
) -> TimeDependentAUC:
    """Cumulative/dynamic AUC at each horizon, with IPCW.

    AUC(t) = sum_i sum_j 1(T_i <= t, D_i = 1) 1(T_j > t) w_i [1(r_i > r_j) +
    1(r_i = r_j)/2] / (sum_i 1(T_i <= t, D_i = 1) w_i * sum_j 1(T_j > t)) with
    w_i = 1 / G(T_i): cases are the patients with an event by t, controls those
    still followed after t [Uno et al. 2007, JASA 102:527; Hung & Chiang 2010,
    Can J Stat 38:8]. Equals scikit-survival's ``cumulative_dynamic_auc``.
    O(n log n) per horizon.

    Parameters
    ----------
    {time}
    {event}
    risk : array-like of shape (n,) or (n, len(times))
        Predicted risk by each horizon (one column per horizon), or one score
        for all; higher means higher risk.
    times : float or array-like
        Horizons, each within follow-up (first time <= t < last time).
    {censoring}
    {tied_tol}

    Returns
    -------
    TimeDependentAUC

    Raises
    ------
    DataError
        Bad inputs; a horizon outside follow-up; no cases or controls at a horizon.

    Notes
    -----
    A case whose G(T_i) is 0 (a censoring shares the last follow-up time with it)
    weighs 0 here; scikit-survival refuses such data.

    Examples
    --------
    >>> time = [2, 3, 3, 5, 6, 8, 9, 12]
    >>> event = [1, 1, 0, 1, 0, 1, 0, 0]
    >>> risk = [0.6, 0.2, 0.5, 0.45, 0.1, 0.3, 0.35, 0.1]
    >>> result = time_dependent_auc(time, event, risk, [4, 7])
    >>> [round(a, 4) for a in result.auc], round(result.mean_auc, 4)
    ([0.6727, 0.7647], 0.7072)
    """
    data, horizons, matrix, g_unique = prepare_horizons(
        time, event, risk, times, censoring, bounded=False
    )
    tol = check_tied_tol(tied_tol)
    values = []
    for column, t in enumerate(horizons):
        inputs = _prepare_auc(data, matrix[:, column], float(t), tol)
        auc = _auc_from_prepared(inputs, g_unique)
        if np.isnan(auc):
            has_case = bool((data.event & (data.time <= t)).any())
            what = "controls (patients followed beyond t)" if has_case else "cases (events)"
            raise DataError(NO_CASES_MSG.format(what=what, t=t))
        values.append(auc)
    return TimeDependentAUC(
        times=tuple(float(t) for t in horizons),
        auc=tuple(values),
        mean_auc=_mean_auc(data, horizons, np.asarray(values)),
    )


def _mean_auc(
    data: SortedSurvival, horizons: np.ndarray, auc: np.ndarray, weights: np.ndarray | None = None
) -> float:
    """AUCs weighted by the Kaplan-Meier drop in each interval (scikit-survival's mean_auc)."""
    if auc.shape[0] == 1:
        return float(auc[0])
    unique_survival = _survival_at_unique(data, weights)
    survival = np.array([_value_at(data.unique, unique_survival, t) for t in horizons])
    drop = -np.diff(np.r_[1.0, survival])
    return float((auc * drop).sum() / (1.0 - survival[-1]))

"""Competing risks: two models on the same patients, and the fairness tables.

The competing-risk counterparts of :func:`compare_survival_models` and
:func:`survival_fairness`. Every number is
:func:`~clinai.evaluation.survival._competing.competing_metrics_weighted` (the
function behind :func:`evaluate_competing`) on the rows concerned, and every
interval comes from the resampling engine's patient-clustered counts
(:func:`weighted_replicates`, the draws of :func:`evaluate_competing` with the same
seed):

* :func:`compare_competing_models`: Wolbers' C, the time-dependent AUC, the
  Aalen-Johansen O/E, the Brier score of the CIF and its scaled version (IPA) of
  both models and their paired difference (this model - the other; both scored on
  each resample's patients).
* :func:`competing_fairness`: Wolbers' C and the Aalen-Johansen O/E per group of
  each sensitive attribute and intersection of two, computed on the group's rows
  alone (its own censoring and Aalen-Johansen estimates), with the gaps between
  groups; a group with fewer than ``min_cell`` patients, events of the cause by the
  horizon or patients without one is suppressed.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from typing import Any

import numpy as np
import pandas as pd

from clinai._utils._vocabulary import COMPETING_FAIRNESS_METRICS
from clinai.evaluation.resampling._loop import with_intervals
from clinai.evaluation.resampling.engine import RandomState
from clinai.evaluation.survival._competing import (
    COMPETING_METRICS,
    CompetingInputs,
    competing_metrics_weighted,
    prepare_competing,
)
from clinai.evaluation.validate._compare_survival import ComparedMetric, SurvivalComparison
from clinai.evaluation.validate._fairness_survival import (
    SurvivalFairnessTable,
    assemble_tables,
    fairness_tables,
    table_cells,
)
from clinai.evaluation.validate._survival_competing import weighted_replicates
from clinai.exceptions import DataError

__all__ = [
    "COMPARED_COMPETING_METRICS",
    "COMPETING_FAIRNESS_METRICS",
    "compare_competing_models",
    "competing_fairness",
]

#: The metrics compared, in the order of the record (brier: lower is better).
COMPARED_COMPETING_METRICS = ("wolbers_c", "time_auc", "oe_ratio", "brier", "scaled_brier")

_COMPARED = [COMPETING_METRICS.index(name) for name in COMPARED_COMPETING_METRICS]
_FAIR = [COMPETING_METRICS.index(name) for name in COMPETING_FAIRNESS_METRICS]


def _metrics(inputs: CompetingInputs, counts: np.ndarray | None, picked: list[int]) -> np.ndarray:
    """Return the picked metrics under counts in the given row order (None: each row once)."""
    weights = None if counts is None else counts[inputs.data.order]
    return competing_metrics_weighted(inputs, weights)[picked]


def compare_competing_models(
    time: Any,
    event_code: Any,
    risk: Any,
    risk_other: Any,
    *,
    horizon: float,
    cause: int = 1,
    name: str = "registered version",
    random_state: RandomState = 0,
    patient_ids: Any = None,
    n_boot: int = 200,
    ci_level: float = 0.95,
) -> SurvivalComparison:
    """Compare two models' cumulative incidence by a horizon on the same patients.

    Parameters
    ----------
    time : array-like of shape (n,)
        Follow-up.
    event_code : array-like of shape (n,)
        0 censored, ``cause`` the event of interest, another positive code a
        competing event.
    risk, risk_other : array-like of shape (n,)
        Predicted cumulative incidence of ``cause`` by ``horizon`` of this model and of
        the other, in [0, 1].
    horizon : float
    cause : int, default 1
    name : str
        The other model's description.
    random_state : int, default 0
        With the same seed, each model's interval is :func:`evaluate_competing`'s.
    patient_ids : array-like, optional
        Patients resampled, not rows.
    n_boot : int, default 200
    ci_level : float, default 0.95

    Returns
    -------
    SurvivalComparison
        ``metrics`` by the names of :data:`COMPARED_COMPETING_METRICS`; each
        difference is this model's estimate minus the other's, its interval from the
        same resampled patients.

    Raises
    ------
    DataError
        Bad inputs (one line each, from
        :func:`~clinai.evaluation.survival._competing.prepare_competing`).
    """
    models = [
        prepare_competing(time, event_code, values, horizon, cause=cause)
        for values in (risk, risk_other)
    ]

    def values(counts: np.ndarray | None) -> np.ndarray:
        mine, other = (_metrics(inputs, counts, _COMPARED) for inputs in models)
        return np.column_stack([mine, other, mine - other])  # (metrics, model/other/diff)

    point = values(None)
    replicates, _ = weighted_replicates(
        values, models[0].n, patient_ids=patient_ids, n_boot=n_boot, random_state=random_state
    )
    estimates = with_intervals(replicates.reshape(n_boot, *point.shape), point, ci_level)
    return SurvivalComparison(
        name=str(name),
        horizon=float(models[0].t),
        n_boot=int(n_boot),
        ci_level=float(ci_level),
        metrics={
            metric: ComparedMetric(*estimates[3 * k : 3 * k + 3])
            for k, metric in enumerate(COMPARED_COMPETING_METRICS)
        },
    )


def competing_fairness(
    time: Any,
    event_code: Any,
    risk: Any,
    groups: pd.DataFrame,
    *,
    horizon: float,
    min_cell: int = 5,
    intersections: Sequence[tuple[str, str]] = (),
    cause: int = 1,
    random_state: RandomState = 0,
    patient_ids: Any = None,
    n_boot: int = 200,
    ci_level: float = 0.95,
) -> dict[str, SurvivalFairnessTable]:
    """Wolbers' C and Aalen-Johansen O/E by the horizon per group, with the gaps.

    Parameters
    ----------
    time, event_code, risk, horizon, cause
        As :func:`compare_competing_models` (one model).
    groups : pandas.DataFrame
        One column per sensitive attribute, one row per row of ``time``.
    min_cell : int, default 5
    intersections : sequence of (str, str)
        Pairs of columns crossed into one table each (``"a_x_b"``).
    cause, random_state, patient_ids, n_boot, ci_level
        As :func:`compare_competing_models` (one set of resamples for every
        group, so a gap's interval accounts for its groups being estimated together).

    Returns
    -------
    dict of str to SurvivalFairnessTable
        By table name; each group's ``wolbers_c`` and ``oe_ratio`` are
        :func:`evaluate_competing`'s on the group's rows (None where undefined there,
        e.g. nobody of the group followed to the horizon).

    Raises
    ------
    DataError
        Bad inputs, ``groups`` of another length, an intersection naming an unknown
        column.
    """
    inputs = prepare_competing(time, event_code, risk, horizon, cause=cause)
    data = inputs.data
    n = inputs.n
    rows = np.empty(n, dtype=np.intp)
    rows[data.order] = np.arange(n)  # given row -> its place in time order
    frame, tables = fairness_tables(groups, n, intersections)
    cells, shown = table_cells(frame, tables, inputs.case[rows], min_cell)
    t, codes, r = data.time[rows], data.event[rows], inputs.risk[rows]
    per_cell: list[CompetingInputs | None] = []
    for cell in shown:
        one = None
        with suppress(DataError):  # e.g. nobody of the group followed to the horizon
            one = prepare_competing(
                t[cell.mask], codes[cell.mask], r[cell.mask], horizon, cause=cause
            )
        per_cell.append(one)

    def values(counts: np.ndarray | None) -> np.ndarray:
        out = np.full((len(shown), len(COMPETING_FAIRNESS_METRICS)), np.nan)
        for k, (cell, one) in enumerate(zip(shown, per_cell, strict=True)):
            if one is not None:
                out[k] = _metrics(one, None if counts is None else counts[cell.mask], _FAIR)
        return out

    point = values(None)
    replicates, _ = weighted_replicates(
        values, n, patient_ids=patient_ids, n_boot=n_boot, random_state=random_state
    )
    return assemble_tables(
        tables,
        cells,
        point,
        replicates.reshape(n_boot, *point.shape),
        metrics=COMPETING_FAIRNESS_METRICS,
        ci_level=ci_level,
        min_cell=min_cell,
    )

"""Performance by subgroup of a sensitive attribute, with small-cell suppression.

For each column of ``sensitive_features`` (e.g. sex, age band) and each of its
groups, :func:`subgroup_metrics` reports the number of rows and events, the
AUROC, calibration intercept, O/E ratio, sensitivity and specificity,
computed with fairlearn's :class:`~fairlearn.metrics.MetricFrame`, and
optionally patient-level bootstrap intervals.

Suppression (DESIGN.md): a group with fewer than ``min_cell`` rows, patients,
events or non-events is *suppressed*: all its numbers, ``n`` and ``events``
included, are reported as missing. Because the total ``n`` and events are
reported elsewhere, hiding one small group is not enough: its counts would
follow by subtraction. So the counts (not the metrics) of the smallest other
groups are hidden too, until the hidden groups together hold at least
``min_cell`` rows, events and non-events (complementary suppression).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from clinai.evaluation._docstrings import fill_doc
from clinai.evaluation._estimate import Estimate, _group_counts, _num
from clinai.evaluation._groups import group_order
from clinai.evaluation._inputs import (
    check_ci_level,
    check_min_cell,
    check_n_boot,
    check_patient_ids,
    check_threshold,
    check_y,
)
from clinai.evaluation.calibration._calibration import (
    _intercept_weighted,
    _oe_weighted,
    calibration_intercept,
    oe_ratio,
)
from clinai.evaluation.discrimination._metrics import _auroc_weighted, auroc_score
from clinai.evaluation.resampling import engine
from clinai.evaluation.resampling.engine import RandomState
from clinai.evaluation.thresholds._thresholds import _threshold_weighted, threshold_metrics
from clinai.exceptions import DataError

__all__ = [
    "MISSING_GROUP",
    "SENSITIVE_LENGTH_MSG",
    "SENSITIVE_TYPE_MSG",
    "subgroup_metrics",
]

#: Label of the group of rows whose sensitive attribute is missing.
MISSING_GROUP = "missing"

SENSITIVE_TYPE_MSG = (
    "sensitive_features must be a pandas DataFrame with one column per attribute; got {type}"
)
SENSITIVE_LENGTH_MSG = (
    "sensitive_features has {n_rows} rows but y_true has {n}: pass one row per prediction"
)

_METRICS = ("auroc", "calibration_intercept", "oe_ratio", "sensitivity", "specificity")


@dataclass(frozen=True)
class SubgroupRow:
    """Metrics of one group of one sensitive attribute.

    When ``suppressed`` is true the group is too small to report (fewer than
    ``min_cell`` rows, patients, events or non-events): every number, ``n``
    and ``events`` included, is ``None``. ``n`` and ``events`` are also
    ``None`` for a group whose counts would reveal a suppressed group's
    counts by subtraction from the totals (complementary suppression).
    """

    group: str
    n: int | None
    events: int | None
    suppressed: bool
    auroc: Estimate
    calibration_intercept: Estimate
    oe_ratio: Estimate
    sensitivity: Estimate
    specificity: Estimate

    def to_dict(self) -> dict[str, Any]:
        """Return one entry of ``subgroups[attribute]`` in ``metrics.json``."""
        return {
            "group": self.group,
            **_group_counts(self),
            "auroc": self.auroc.to_dict(),
            "calibration_intercept": self.calibration_intercept.to_dict(),
            "oe_ratio": self.oe_ratio.to_dict(),
            "sensitivity": self.sensitivity.to_dict(),
            "specificity": self.specificity.to_dict(),
        }


@dataclass(frozen=True)
class SubgroupResult:
    """Per-group metrics of one sensitive attribute.

    Attributes
    ----------
    attribute : str
        Name of the sensitive attribute (a column of ``sensitive_features``).
    threshold : float or None
        Threshold of the per-group sensitivity and specificity.
    rows : tuple of SubgroupRow
        One row per group, sorted by group label.
    max_auroc_difference : float
        Largest difference in AUROC between two non-suppressed groups (NaN when
        fewer than two groups can be reported).
    """

    attribute: str
    threshold: float | None
    rows: tuple[SubgroupRow, ...]
    max_auroc_difference: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"attribute", "threshold", "max_auroc_difference", "rows"}``."""
        return {
            "attribute": self.attribute,
            "threshold": _num(self.threshold),
            "max_auroc_difference": _num(self.max_auroc_difference),
            "rows": [row.to_dict() for row in self.rows],
        }


def _safe(metric: Callable[[np.ndarray, np.ndarray], float]) -> Callable[..., float]:
    """Wrap a metric so that an undefined value (DataError, e.g. one class) becomes NaN."""

    def wrapped(y_true: Any, y_pred: Any) -> float:
        try:
            return float(metric(y_true, y_pred))
        except DataError:
            return math.nan

    return wrapped


def _check_features(sensitive_features: Any, n: int) -> pd.DataFrame:
    if isinstance(sensitive_features, pd.Series):
        sensitive_features = sensitive_features.to_frame()
    if not isinstance(sensitive_features, pd.DataFrame):
        raise DataError(SENSITIVE_TYPE_MSG.format(type=type(sensitive_features).__name__))
    if sensitive_features.shape[0] != n:
        raise DataError(SENSITIVE_LENGTH_MSG.format(n_rows=sensitive_features.shape[0], n=n))
    return sensitive_features.reset_index(drop=True)


def _group_labels(column: pd.Series, name: str) -> pd.Series:
    """Group label of each row as a string; missing values become :data:`MISSING_GROUP`."""
    values = column.astype(object)
    values = values.where(column.notna(), MISSING_GROUP)
    return pd.Series(values.astype(str).to_numpy(), name=name)


def _hidden_counts(table: pd.DataFrame, suppressed: pd.Series, min_cell: int) -> pd.Series:
    """Return the groups whose counts must be hidden: suppressed plus complementary ones."""
    hidden = suppressed.copy()
    if not hidden.any():
        return hidden
    by_size = table["n"].sort_values(kind="mergesort").index
    while not hidden.all():
        kept = table.loc[hidden]
        totals = (kept["n"].sum(), kept["events"].sum(), kept["non_events"].sum())
        if min(totals) >= min_cell:
            break
        smallest = next(group for group in by_size if not hidden[group])
        hidden[smallest] = True
    return hidden


@fill_doc
def subgroup_metrics(
    y_true: Any,
    y_prob: Any,
    sensitive_features: pd.DataFrame,
    *,
    threshold: float,
    min_cell: int = 5,
    patient_ids: Any = None,
    n_boot: int = 0,
    ci_level: float = 0.95,
    random_state: RandomState = 0,
) -> dict[str, SubgroupResult]:
    """Discrimination, calibration and threshold metrics for each group of each attribute.

    For each group: ``n`` (rows), ``events``, AUROC (:func:`auroc_score`),
    calibration intercept (:func:`calibration_intercept`), O/E ratio
    (:func:`oe_ratio`), and sensitivity and specificity at ``threshold``
    (:func:`threshold_metrics`), computed by fairlearn's ``MetricFrame``. A
    group with fewer than ``min_cell`` rows, patients, events or non-events
    is suppressed (every number ``None``, ``n`` and ``events`` too), and the
    counts of the smallest other groups are hidden until the hidden groups
    together have at least ``min_cell`` rows, events and non-events, so that
    no small count follows by subtraction from the totals. Per attribute,
    ``max_auroc_difference`` is the largest AUROC difference between two
    reported groups.

    Parameters
    ----------
    {y_true}
    {y_prob}
    sensitive_features : pandas.DataFrame
        One column per attribute, one row per prediction (matched by position).
        Missing values form the group ``"missing"``.
    threshold : float
        Threshold in [0, 1] of the per-group sensitivity and specificity.
    {min_cell}
    patient_ids : array-like of shape (n,), optional
        Patient of each row, for the patient count and the cluster bootstrap.
    n_boot : int, default=0
        Bootstrap resamples per group for the intervals (0: estimates only).
    {ci_level}
    random_state : int, numpy.random.Generator or None, default=0
        Seed of the bootstrap.

    Returns
    -------
    dict of str to SubgroupResult
        By attribute, in the column order of ``sensitive_features``; groups in
        the order of :func:`group_order` (bands by their lower bound, an ordered
        categorical in its order).

    Raises
    ------
    DataError
        On invalid or one-class input, ``sensitive_features`` that is not a
        DataFrame or has the wrong number of rows, or an invalid parameter.
    """
    from fairlearn.metrics import MetricFrame

    y, p = check_y(y_true, y_prob)
    n = y.shape[0]
    t = check_threshold(threshold, closed=True)
    cell = check_min_cell(min_cell)
    n_boot = check_n_boot(n_boot)
    level = check_ci_level(ci_level)
    features = _check_features(sensitive_features, n)
    codes = None if patient_ids is None else check_patient_ids(patient_ids, n)
    metric_functions = {
        "n": lambda a, b: float(len(a)),
        "events": lambda a, b: float(np.sum(a)),
        "auroc": _safe(auroc_score),
        "calibration_intercept": _safe(calibration_intercept),
        "oe_ratio": _safe(oe_ratio),
        "sensitivity": _safe(lambda a, b: threshold_metrics(a, b, threshold=t).sensitivity),
        "specificity": _safe(lambda a, b: threshold_metrics(a, b, threshold=t).specificity),
    }
    attribute_seeds = engine.seed_sequence(random_state).spawn(features.shape[1])
    results: dict[str, SubgroupResult] = {}
    for (attribute, column), seed in zip(features.items(), attribute_seeds, strict=True):
        name = str(attribute)
        labels = _group_labels(column, name)
        frame = MetricFrame(metrics=metric_functions, y_true=y, y_pred=p, sensitive_features=labels)
        table, small, hidden = _group_table(frame, labels, codes, cell)
        rows: list[SubgroupRow] = []
        for group, group_seed in zip(table.index, seed.spawn(table.shape[0]), strict=True):
            if small[group]:
                missing = Estimate.missing()
                rows.append(SubgroupRow(str(group), None, None, True, *(missing for _ in _METRICS)))
                continue
            members = np.flatnonzero(labels.to_numpy() == group)
            rows.append(
                _subgroup_row(
                    str(group),
                    table.loc[group],
                    bool(hidden[group]),
                    y[members],
                    p[members],
                    None if codes is None else codes[members],
                    threshold=t,
                    n_boot=n_boot,
                    ci_level=level,
                    rng=np.random.default_rng(group_seed),
                )
            )
        reported_auroc = [
            row.auroc.estimate
            for row in rows
            if not row.suppressed and math.isfinite(row.auroc.estimate)
        ]
        gap = max(reported_auroc) - min(reported_auroc) if len(reported_auroc) >= 2 else math.nan
        # computed in text order (the bootstrap seeds follow it); shown in the bands' order
        position = {g: k for k, g in enumerate(group_order(table.index, column))}
        rows.sort(key=lambda row: position[row.group])
        results[name] = SubgroupResult(
            attribute=name, threshold=t, rows=tuple(rows), max_auroc_difference=gap
        )
    return results


def _group_table(
    frame: Any, labels: pd.Series, codes: np.ndarray | None, cell: int
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Each group's counts and metrics (text order), the small groups and the hidden counts."""
    table = frame.by_group.astype("float64")
    table.index = table.index.astype(str)
    table = table.sort_index()
    table["non_events"] = table["n"] - table["events"]
    if codes is None:
        table["patients"] = table["n"]
    else:
        patients = pd.Series(codes).groupby(labels.to_numpy()).nunique()
        table["patients"] = patients.reindex(table.index).astype("float64")
    small = table[["n", "patients", "events", "non_events"]].min(axis=1) < cell
    return table, small, _hidden_counts(table, small, cell)


def _subgroup_row(
    group: str,
    record: pd.Series,
    hidden: bool,
    y: np.ndarray,
    p: np.ndarray,
    codes: np.ndarray | None,
    *,
    threshold: float,
    n_boot: int,
    ci_level: float,
    rng: np.random.Generator,
) -> SubgroupRow:
    """One reported group: its metrics with intervals from its own resamples."""
    low, high = _group_intervals(
        y,
        p,
        codes,
        {metric: float(record[metric]) for metric in _METRICS},
        threshold=threshold,
        n_boot=n_boot,
        ci_level=ci_level,
        rng=rng,
    )
    estimates = {
        metric: Estimate(float(record[metric]), low[metric], high[metric]) for metric in _METRICS
    }
    return SubgroupRow(
        group=group,
        n=None if hidden else int(record["n"]),
        events=None if hidden else int(record["events"]),
        suppressed=False,
        **estimates,
    )


def _group_intervals(
    y: np.ndarray,
    p: np.ndarray,
    codes: np.ndarray | None,
    estimates: dict[str, float],
    *,
    threshold: float,
    n_boot: int,
    ci_level: float,
    rng: np.random.Generator,
) -> tuple[dict[str, float], dict[str, float]]:
    """Bootstrap intervals of one group's metrics (NaN when ``n_boot`` is 0).

    Percentile intervals, extended to contain their estimates (see ``engine.contained_interval``).
    """
    if n_boot == 0:
        nan = dict.fromkeys(_METRICS, math.nan)
        return nan, dict(nan)
    thresholds = np.array([threshold])
    replicates = engine.run_replicates(
        y,
        p,
        weighted={
            "auroc": _auroc_weighted,
            "calibration_intercept": _intercept_weighted,
            "oe_ratio": _oe_weighted,
            "threshold": lambda a, b, w: _threshold_weighted(a, b, w, thresholds)[:, 0, :2],
        },
        resampled={},
        shapes={"auroc": (), "calibration_intercept": (), "oe_ratio": (), "threshold": (2,)},
        # the group's patients, numbered anew (or its rows)
        clusters=engine.clusters_of(codes, y.shape[0]),
        n_boot=n_boot,
        rng=rng,
        progress=None,
    )
    low: dict[str, float] = {}
    high: dict[str, float] = {}
    for metric in ("auroc", "calibration_intercept", "oe_ratio"):
        lo, hi, _ = engine.contained_interval(replicates[metric], estimates[metric], ci_level)
        low[metric], high[metric] = float(lo), float(hi)
    point = [estimates["sensitivity"], estimates["specificity"]]
    lo, hi, _ = engine.contained_interval(replicates["threshold"], point, ci_level)
    low["sensitivity"], high["sensitivity"] = float(lo[0]), float(hi[0])
    low["specificity"], high["specificity"] = float(lo[1]), float(hi[1])
    return low, high

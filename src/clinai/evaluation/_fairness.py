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
import re
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from clinai.evaluation._bootstrap import (
    RandomState,
    _contained_interval,
    _run_replicates,
)
from clinai.evaluation._calibration import (
    _intercept_weighted,
    _oe_weighted,
    calibration_intercept,
    oe_ratio,
)
from clinai.evaluation._inputs import (
    check_ci_level,
    check_n_boot,
    check_patient_ids,
    check_threshold,
    check_y,
)
from clinai.evaluation._metrics import _auroc_weighted, auroc_score
from clinai.evaluation._results import Estimate, SubgroupResult, SubgroupRow
from clinai.evaluation._thresholds import _threshold_weighted, threshold_metrics
from clinai.exceptions import DataError

__all__ = [
    "MIN_CELL_MSG",
    "MISSING_GROUP",
    "SENSITIVE_LENGTH_MSG",
    "SENSITIVE_TYPE_MSG",
    "group_order",
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
MIN_CELL_MSG = "min_cell must be a non-negative integer; got {value!r}"

_METRICS = ("auroc", "calibration_intercept", "oe_ratio", "sensitivity", "specificity")


# A band label's lower bound: "<60", "60-74", ">=75", "1-4", "≥18" (numbers may be negative).
_BAND = re.compile(r"^\s*(<=|>=|<|>|≤|≥)?\s*(-?\d+(?:[.,]\d+)?)")
# Where a band starting at x lies among bands starting at x: "<x" first, ">x" last.
_BAND_SIDE = {"<": -2, "<=": -1, "≤": -1, None: 0, ">=": 0, "≥": 0, ">": 1}


def _band_key(label: str) -> tuple[float, int] | None:
    """Sort key of a numeric band label (lower bound, side); None for a text label."""
    match = _BAND.match(label)
    if match is None:
        return None
    return float(match.group(2).replace(",", ".")), _BAND_SIDE[match.group(1)]


def group_order(labels: Iterable[Any], column: pd.Series | None = None) -> list[str]:
    """Order group labels as a reader expects: by band, by category order, else by text.

    - When ``column`` is an ordered pandas ``Categorical``, its categories keep
      their order (labels not among them, e.g. ``"missing"``, come last).
    - Otherwise labels that start with a number or a comparison (``"<60"``,
      ``"60-74"``, ``">=75"``; ``"<1"``, ``"1-4"``, ``"5-11"``) are sorted by
      their lower bound, ``"<x"`` before ``"x-y"`` before ``">x"``; the other
      labels follow in text order.

    Parameters
    ----------
    labels : iterable
        The group labels (as text).
    column : pandas.Series, optional
        The attribute the labels came from, for an ordered categorical.

    Returns
    -------
    list of str
        Each distinct label once, in display order.

    Examples
    --------
    >>> group_order(["60-74", "<60", ">=75", "unknown"])
    ['<60', '60-74', '>=75', 'unknown']
    >>> group_order(["1-4", "12-17", "5-11", "<1", ">=18"])
    ['<1', '1-4', '5-11', '12-17', '>=18']
    """
    distinct = sorted({str(label) for label in labels})
    dtype = getattr(column, "dtype", None)
    if isinstance(dtype, pd.CategoricalDtype) and dtype.ordered:
        rank = {str(c): k for k, c in enumerate(dtype.categories)}
        return sorted(distinct, key=lambda g: (g not in rank, rank.get(g, 0), g))
    keys = {label: _band_key(label) for label in distinct}
    numeric = sorted((label for label in distinct if keys[label] is not None), key=keys.get)
    return numeric + [label for label in distinct if keys[label] is None]


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


def _check_min_cell(min_cell: Any) -> int:
    if isinstance(min_cell, bool) or not isinstance(min_cell, int | np.integer) or min_cell < 0:
        raise DataError(MIN_CELL_MSG.format(value=min_cell))
    return int(min_cell)


def _group_labels(column: pd.Series, name: str) -> pd.Series:
    """Group label of each row as a string; missing values become :data:`MISSING_GROUP`."""
    values = column.astype(object)
    values = values.where(column.notna(), MISSING_GROUP)
    return pd.Series(values.astype(str).to_numpy(), name=name)


def _seed_sequence(random_state: RandomState) -> np.random.SeedSequence:
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(int(random_state.integers(2**63)))
    return np.random.SeedSequence(random_state)


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
    y_true : array-like of shape (n,)
        Observed outcome, 0 or 1.
    y_prob : array-like of shape (n,)
        Predicted probability of the event.
    sensitive_features : pandas.DataFrame
        One column per attribute, one row per prediction (matched by position).
        Missing values form the group ``"missing"``.
    threshold : float
        Threshold in [0, 1] of the per-group sensitivity and specificity.
    min_cell : int, default=5
        Smallest reportable number of rows, patients, events and non-events.
    patient_ids : array-like of shape (n,), optional
        Patient of each row, for the patient count and the cluster bootstrap.
    n_boot : int, default=0
        Bootstrap resamples per group for the intervals (0: estimates only).
    ci_level : float, default=0.95
        Confidence level of the intervals.
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
    cell = _check_min_cell(min_cell)
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
    attribute_seeds = _seed_sequence(random_state).spawn(features.shape[1])
    results: dict[str, SubgroupResult] = {}
    for (attribute, column), seed in zip(features.items(), attribute_seeds, strict=True):
        name = str(attribute)
        labels = _group_labels(column, name)
        frame = MetricFrame(metrics=metric_functions, y_true=y, y_pred=p, sensitive_features=labels)
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
        hidden = _hidden_counts(table, small, cell)
        group_seeds = seed.spawn(table.shape[0])
        rows: list[SubgroupRow] = []
        reported_auroc: list[float] = []
        for group, group_seed in zip(table.index, group_seeds, strict=True):
            record = table.loc[group]
            if small[group]:
                missing = Estimate.missing()
                rows.append(SubgroupRow(str(group), None, None, True, *(missing for _ in _METRICS)))
                continue
            members = np.flatnonzero(labels.to_numpy() == group)
            low, high = _group_intervals(
                y[members],
                p[members],
                None if codes is None else codes[members],
                {metric: float(record[metric]) for metric in _METRICS},
                threshold=t,
                n_boot=n_boot,
                ci_level=level,
                rng=np.random.default_rng(group_seed),
            )
            estimates = {
                metric: Estimate(float(record[metric]), low[metric], high[metric])
                for metric in _METRICS
            }
            if math.isfinite(estimates["auroc"].estimate):
                reported_auroc.append(estimates["auroc"].estimate)
            rows.append(
                SubgroupRow(
                    group=str(group),
                    n=None if hidden[group] else int(record["n"]),
                    events=None if hidden[group] else int(record["events"]),
                    suppressed=False,
                    **estimates,
                )
            )
        gap = max(reported_auroc) - min(reported_auroc) if len(reported_auroc) >= 2 else math.nan
        # computed in text order (the bootstrap seeds follow it); shown in the bands' order
        position = {g: k for k, g in enumerate(group_order(table.index, column))}
        rows.sort(key=lambda row: position[row.group])
        results[name] = SubgroupResult(
            attribute=name, threshold=t, rows=tuple(rows), max_auroc_difference=gap
        )
    return results


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

    Percentile intervals, extended to contain their estimates (see ``_contained_interval``).
    """
    if n_boot == 0:
        nan = dict.fromkeys(_METRICS, math.nan)
        return nan, dict(nan)
    if codes is None:
        group_codes = np.arange(y.shape[0], dtype=np.intp)
    else:
        group_codes = np.asarray(pd.factorize(codes)[0], dtype=np.intp)
    thresholds = np.array([threshold])
    replicates = _run_replicates(
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
        codes=group_codes,
        n_clusters=int(group_codes.max()) + 1,
        n_boot=n_boot,
        rng=rng,
        progress=None,
    )
    low: dict[str, float] = {}
    high: dict[str, float] = {}
    for metric in ("auroc", "calibration_intercept", "oe_ratio"):
        lo, hi, _ = _contained_interval(replicates[metric], estimates[metric], ci_level)
        low[metric], high[metric] = float(lo), float(hi)
    point = [estimates["sensitivity"], estimates["specificity"]]
    lo, hi, _ = _contained_interval(replicates["threshold"], point, ci_level)
    low["sensitivity"], high["sensitivity"] = float(lo[0]), float(hi[0])
    low["specificity"], high["specificity"] = float(lo[1]), float(hi[1])
    return low, high

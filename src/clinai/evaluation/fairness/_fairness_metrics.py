"""Fairness across groups and intersections of sensitive attributes, with bootstrap intervals.

For each sensitive attribute (e.g. sex) and each configured intersection of two
attributes (e.g. sex x age band), :func:`fairness_metrics` computes per group,
with fairlearn's :class:`~fairlearn.metrics.MetricFrame`:

- AUROC (:func:`auroc_score`);
- calibration-in-the-large: the calibration intercept, the ``a`` of the
  logistic model ``logit P(y=1) = a + logit(p)`` (:func:`calibration_intercept`;
  0 when the mean predicted risk matches the observed risk);
- sensitivity ``TP / (TP + FN)`` and specificity ``TN / (TN + FP)`` at the
  operating threshold ``t`` (flag when ``p >= t``);
- net benefit at ``t``: ``TP/n - FP/n * t / (1 - t)``, with ``n`` the group's rows.

Between the reported groups of one table it gives the *difference*
``max - min`` and, for the metrics that cannot be negative (AUROC,
sensitivity, specificity), the *ratio* ``min / max`` (fairlearn's
``MetricFrame.difference()`` and ``ratio()`` over the reported groups).

Intervals: percentile bootstrap, resampling patients (or rows) of the whole
sample with the machinery of :mod:`clinai.evaluation.resampling._bootstrap`, so group
sizes vary between replicates as they would in a new sample. Every group
metric, difference and ratio is computed on the same resamples; a replicate
in which a reported group's metric is undefined (e.g. no event drawn in it)
is left out of that difference and ratio and counted in ``n_skipped``. The
largest minus the smallest of several noisy values is biased upwards in each
resample (and the ratio downwards), so with many or small groups the interval
of a difference can lie above its point estimate; its upper limit is the
number to judge a criterion such as "gap at most 0.10" on.

Suppression (DESIGN.md): a group with fewer than ``min_cell`` rows, patients,
events or non-events is suppressed: no number of it is reported and it takes
no part in the differences and ratios. For a single attribute the counts of
the smallest other groups are hidden too until the hidden groups hold at least
``min_cell`` rows, events and non-events (complementary suppression). An
intersection's margins are the single attributes' groups, whose counts may be
reported, so one suppressed cell could be recovered from its row or column:
when any cell of an intersection is suppressed, the counts of every cell of
that intersection are hidden (its metrics, which are rates, stay).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from clinai._utils._vocabulary import FAIRNESS_METRICS
from clinai._utils._vocabulary import FAIRNESS_RATIO_METRICS as RATIO_METRICS
from clinai.evaluation._docstrings import fill_doc
from clinai.evaluation._estimate import Estimate, _group_counts, _num
from clinai.evaluation._groups import group_order
from clinai.evaluation._inputs import (
    check_ci_level,
    check_min_cell,
    check_n_boot,
    check_threshold,
    check_y,
)
from clinai.evaluation.calibration._calibration import _intercept_weighted, calibration_intercept
from clinai.evaluation.discrimination._metrics import _auroc_weighted, auroc_score
from clinai.evaluation.fairness._subgroups import (
    _check_features,
    _group_labels,
    _hidden_counts,
    _safe,
)
from clinai.evaluation.resampling import engine
from clinai.evaluation.resampling.engine import Progress, RandomState
from clinai.evaluation.thresholds._decision_curve import _net_benefit_weighted, net_benefit
from clinai.evaluation.thresholds._thresholds import _threshold_weighted, threshold_metrics
from clinai.exceptions import DataError

__all__ = [
    "DISPARITY_SUMMARIES",
    "FAIRNESS_METRICS",
    "GROUP_SEPARATOR",
    "INTERSECTION_MSG",
    "RATIO_METRICS",
    "fairness_metrics",
    "intersection_name",
]

# FAIRNESS_METRICS (every group's metrics, in report order) and RATIO_METRICS (those with a
# ratio min / max) are clinai._utils._vocabulary's tables, shared with config and reporting.
#: The between-group summaries of a metric.
DISPARITY_SUMMARIES = ("difference", "ratio")
#: Joins the levels of an intersection cell's label, e.g. ``"female & 70+"``.
GROUP_SEPARATOR = " & "

INTERSECTION_MSG = (
    "intersections[{index}] must name two different columns of sensitive_features "
    "(available: {available}); got {value!r}"
)


@dataclass(frozen=True)
class FairnessGroup:
    """The fairness metrics of one group (or intersection cell) of sensitive attributes.

    A ``suppressed`` group has fewer than ``min_cell`` rows, patients, events
    or non-events: no number of it is reported (``metrics`` is empty, ``n`` and
    ``events`` are ``None``). ``n`` and ``events`` are also ``None`` when they
    would reveal a suppressed group's counts by subtraction.

    Attributes
    ----------
    group : str
        Group label; an intersection cell joins its levels with ``" & "``.
    levels : Mapping[str, str]
        The level of each attribute of the table, e.g. ``{"sex": "female"}``.
    n, events : int or None
        Rows and events of the group.
    suppressed : bool
        Whether the group is too small to report.
    metrics : Mapping[str, Estimate]
        By metric name (``auroc``, ``calibration_in_the_large``,
        ``sensitivity``, ``specificity``, ``net_benefit``).
    """

    group: str
    levels: Mapping[str, str]
    n: int | None
    events: int | None
    suppressed: bool
    metrics: Mapping[str, Estimate]

    def to_dict(self) -> dict[str, Any]:
        """Return one entry of ``fairness[table]["groups"]`` (metrics ``None`` if suppressed)."""
        return {
            "group": self.group,
            "levels": dict(self.levels),
            **_group_counts(self),
            **{
                name: None if self.suppressed else estimate.to_dict()
                for name, estimate in self.metrics.items()
            },
        }


@dataclass(frozen=True)
class FairnessDisparity:
    """Between-group difference (max - min) and ratio (min / max) of one metric.

    Attributes
    ----------
    difference : Estimate
        Largest minus smallest value over the reported groups, with a
        bootstrap interval.
    ratio : Estimate or None
        Smallest over largest value; ``None`` for a metric that can be negative
        (calibration-in-the-large, net benefit), where a ratio has no meaning.
    n_groups : int
        Reported (not suppressed) groups the disparity is taken over.
    n_skipped : int
        Bootstrap replicates in which a reported group's metric was undefined.
    """

    difference: Estimate
    ratio: Estimate | None
    n_groups: int
    n_skipped: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"difference", "ratio", "n_groups", "n_skipped"}`` (no ratio if undefined)."""
        out: dict[str, Any] = {"difference": self.difference.to_dict()}
        if self.ratio is not None:
            out["ratio"] = self.ratio.to_dict()
        out["n_groups"] = int(self.n_groups)
        out["n_skipped"] = int(self.n_skipped)
        return out


@dataclass(frozen=True)
class FairnessTable:
    """Fairness metrics of one sensitive attribute or one intersection of attributes.

    Attributes
    ----------
    name : str
        ``"sex"``, or ``"sex_x_age_band"`` for an intersection.
    attributes : tuple of str
        The attribute(s) whose levels define the groups.
    threshold : float
        Operating threshold of sensitivity, specificity and net benefit.
    min_cell : int
        Smallest reported number of rows, patients, events and non-events.
    groups : tuple of FairnessGroup
        Sorted by label.
    disparities : Mapping[str, FairnessDisparity]
        By metric name.
    """

    name: str
    attributes: tuple[str, ...]
    threshold: float
    min_cell: int
    groups: tuple[FairnessGroup, ...]
    disparities: Mapping[str, FairnessDisparity]

    def to_dict(self) -> dict[str, Any]:
        """Return ``fairness[name]`` of ``metrics.json``: settings, groups, one key per metric."""
        return {
            "attributes": list(self.attributes),
            "intersection": len(self.attributes) > 1,
            "threshold": _num(self.threshold),
            "min_cell": int(self.min_cell),
            "groups": [group.to_dict() for group in self.groups],
            **{name: disparity.to_dict() for name, disparity in self.disparities.items()},
        }


@dataclass(frozen=True)
class FairnessResult:
    """Fairness metrics of every sensitive attribute and intersection; ``fairness`` of metrics.json.

    Attributes
    ----------
    tables : Mapping[str, FairnessTable]
        By table name (attribute, or ``"a_x_b"`` for an intersection).
    n_boot : int
        Bootstrap replicates behind the intervals (0: none).
    ci_level : float
        Confidence level of the intervals.
    """

    tables: Mapping[str, FairnessTable]
    n_boot: int = 0
    ci_level: float = 0.95

    def to_dict(self) -> dict[str, Any]:
        """Return ``{table: table.to_dict()}`` (paths like ``fairness.sex.auroc.difference``)."""
        return {name: table.to_dict() for name, table in self.tables.items()}


def intersection_name(attributes: Sequence[str]) -> str:
    """Return the table name of an intersection, e.g. ``("sex", "age_band") -> "sex_x_age_band"``.

    Examples
    --------
    >>> intersection_name(["sex", "age_band"])
    'sex_x_age_band'
    """
    return "_x_".join(str(a) for a in attributes)


def _group_weighted(members: Sequence[np.ndarray], t: float) -> Callable[..., np.ndarray]:
    """Vectorised metrics of each group: an array of shape (b, groups, metrics)."""
    thresholds = np.array([t])

    def metric(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
        out = np.full((w.shape[0], len(members), len(FAIRNESS_METRICS)), np.nan)
        for j, index in enumerate(members):
            y_g, p_g, w_g = y[index], p[index], w[:, index]
            out[:, j, 0] = _auroc_weighted(y_g, p_g, w_g)
            out[:, j, 1] = _intercept_weighted(y_g, p_g, w_g)
            out[:, j, 2:4] = _threshold_weighted(y_g, p_g, w_g, thresholds)[:, 0, :2]
            out[:, j, 4] = _net_benefit_weighted(y_g, p_g, w_g, thresholds)[:, 0]
        return out

    return metric


def _tables(
    features: pd.DataFrame, intersections: Sequence[Sequence[str]]
) -> list[tuple[str, tuple[str, ...], pd.Series, pd.DataFrame]]:
    """Return (name, attributes, group label per row, level per row and attribute) per table."""
    labels = {str(name): _group_labels(column, str(name)) for name, column in features.items()}
    tables: list[tuple[str, tuple[str, ...], pd.Series, pd.DataFrame]] = [
        (name, (name,), label, pd.DataFrame({name: label})) for name, label in labels.items()
    ]
    for index, pair in enumerate(intersections):
        names = tuple(str(a) for a in pair) if not isinstance(pair, str) else (pair,)
        if len(names) != 2 or names[0] == names[1] or any(a not in labels for a in names):
            raise DataError(
                INTERSECTION_MSG.format(
                    index=index, available=", ".join(labels) or "none", value=pair
                )
            )
        levels = pd.DataFrame({a: labels[a] for a in names})
        label = levels[names[0]].str.cat(levels[names[1]], sep=GROUP_SEPARATOR)
        tables.append((intersection_name(names), names, label.rename(None), levels))
    return tables


def _disparity(values: np.ndarray, *, ratio: bool) -> tuple[np.ndarray, np.ndarray]:
    """Difference (max - min) and ratio (min / max) along the last axis; NaN if any is NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        high = values.max(axis=-1)
        low = values.min(axis=-1)
        difference = high - low
        quotient = np.where(high > 0, low / high, np.nan) if ratio else np.full_like(high, np.nan)
    return difference, quotient


def _group_values(t: float) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """One MetricFrame metric returning every value of a group: fairlearn's overhead once."""
    functions = {
        "auroc": _safe(auroc_score),
        "calibration_in_the_large": _safe(calibration_intercept),
        "sensitivity": _safe(lambda a, b: threshold_metrics(a, b, threshold=t).sensitivity),
        "specificity": _safe(lambda a, b: threshold_metrics(a, b, threshold=t).specificity),
        "net_benefit": _safe(lambda a, b: net_benefit(a, b, threshold=t)),
    }

    def group_values(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        values = [float(len(a)), float(np.sum(a))]
        return np.array(values + [functions[name](a, b) for name in FAIRNESS_METRICS])

    return group_values


@dataclass(frozen=True, eq=False)
class _Table:
    """One fairness table before its intervals: point values, suppression, reported groups."""

    name: str
    attributes: tuple[str, ...]
    table: pd.DataFrame
    small: pd.Series
    hidden: pd.Series
    reported: list[str]
    levels: pd.DataFrame
    label_values: np.ndarray


def _prepare_table(
    frame: Any,
    name: str,
    attributes: tuple[str, ...],
    labels: pd.Series,
    levels: pd.DataFrame,
    codes: np.ndarray,
    cell: int,
) -> _Table:
    """Point values of each group (text order), the small groups and the hidden counts."""
    by_group = frame.by_group["values"]
    table = pd.DataFrame(
        np.vstack(by_group.to_list()),
        index=by_group.index.astype(str),
        columns=["n", "events", *FAIRNESS_METRICS],
    )
    table = table.sort_index()
    table["non_events"] = table["n"] - table["events"]
    table["patients"] = (
        pd.Series(codes).groupby(labels.to_numpy()).nunique().reindex(table.index)
    ).astype("float64")
    small = table[["n", "patients", "events", "non_events"]].min(axis=1) < cell
    if len(attributes) == 1:
        hidden = _hidden_counts(table, small, cell)
    else:
        hidden = pd.Series(bool(small.any()), index=table.index)
    reported = [g for g in table.index if not small[g]]
    return _Table(name, attributes, table, small, hidden, reported, levels, labels.to_numpy())


def _table_groups(
    entry: _Table, point_values: np.ndarray, draws: np.ndarray | None, level: float
) -> list[FairnessGroup]:
    """Each group of a table with its metrics' intervals; suppressed groups stay blank."""
    if draws is not None:
        low, high, _ = engine.contained_interval(draws, point_values, level)
    groups = []
    for group in entry.table.index:
        first = int(np.flatnonzero(entry.label_values == group)[0])
        group_levels = {a: str(entry.levels[a].iloc[first]) for a in entry.attributes}
        if entry.small[group]:
            blank = dict.fromkeys(FAIRNESS_METRICS, Estimate.missing())
            groups.append(FairnessGroup(str(group), group_levels, None, None, True, blank))
            continue
        j = entry.reported.index(group)
        metrics = {
            metric: Estimate(
                float(entry.table.loc[group, metric]),
                math.nan if draws is None else float(low[j, k]),
                math.nan if draws is None else float(high[j, k]),
            )
            for k, metric in enumerate(FAIRNESS_METRICS)
        }
        record = entry.table.loc[group]
        hidden = entry.hidden[group]
        groups.append(
            FairnessGroup(
                group=str(group),
                levels=group_levels,
                n=None if hidden else int(record["n"]),
                events=None if hidden else int(record["events"]),
                suppressed=False,
                metrics=metrics,
            )
        )
    return groups


def _table_disparities(
    point_values: np.ndarray, draws: np.ndarray | None, n_reported: int, level: float
) -> dict[str, FairnessDisparity]:
    """Difference (max - min) and ratio (min / max) of each metric across reported groups."""
    disparities = {}
    for k, metric in enumerate(FAIRNESS_METRICS):
        has_ratio = metric in RATIO_METRICS
        if n_reported < 2:
            missing = Estimate.missing()
            disparities[metric] = FairnessDisparity(
                missing, Estimate.missing() if has_ratio else None, n_reported
            )
            continue
        diff, ratio = _disparity(point_values[:, k], ratio=has_ratio)
        diff_low = diff_high = ratio_low = ratio_high = math.nan
        skipped = 0
        if draws is not None:
            d_rep, r_rep = _disparity(draws[:, :, k], ratio=has_ratio)
            skipped = int((~np.isfinite(d_rep)).sum())
            d_low, d_high, _ = engine.contained_interval(d_rep, diff, level)
            diff_low, diff_high = float(d_low), float(d_high)
            if has_ratio:
                r_low, r_high, _ = engine.contained_interval(r_rep, ratio, level)
                ratio_low, ratio_high = float(r_low), float(r_high)
        disparities[metric] = FairnessDisparity(
            difference=Estimate(float(diff), diff_low, diff_high),
            ratio=Estimate(float(ratio), ratio_low, ratio_high) if has_ratio else None,
            n_groups=n_reported,
            n_skipped=skipped,
        )
    return disparities


@fill_doc
def fairness_metrics(
    y_true: Any,
    y_prob: Any,
    sensitive_features: pd.DataFrame,
    *,
    threshold: float,
    intersections: Sequence[Sequence[str]] = (),
    min_cell: int = 5,
    patient_ids: Any = None,
    n_boot: int = 0,
    ci_level: float = 0.95,
    random_state: RandomState = 0,
    progress: Progress | None = None,
) -> FairnessResult:
    """Group metrics, between-group differences and ratios, per attribute and intersection.

    Per group (fairlearn ``MetricFrame``): AUROC, calibration-in-the-large
    (the calibration intercept), sensitivity and specificity at ``threshold``
    (flag when ``p >= threshold``) and net benefit at ``threshold``
    (``TP/n - FP/n * t / (1 - t)``). Per table and metric: the difference
    ``max - min`` over the reported groups and, for AUROC, sensitivity and
    specificity, the ratio ``min / max``, each with a percentile bootstrap
    interval from whole-sample resamples (of patients when ``patient_ids`` is
    given). Groups with fewer than ``min_cell`` rows, patients, events or
    non-events are suppressed everywhere (see the module docstring).

    Parameters
    ----------
    {y_true}
    {y_prob}
    sensitive_features : pandas.DataFrame
        One column per attribute, one row per prediction; missing values form
        the group ``"missing"``.
    threshold : float
        Operating threshold, strictly between 0 and 1.
    intersections : sequence of pairs of str, default=()
        Pairs of columns of ``sensitive_features`` crossed into one table each,
        named ``"a_x_b"`` (see :func:`intersection_name`).
    {min_cell}
    patient_ids : array-like of shape (n,), optional
        Patient of each row: patients are counted and resampled, not rows.
    n_boot : int, default=0
        Bootstrap replicates (0: estimates only).
    {ci_level}
    {random_state}
    {progress}

    Returns
    -------
    FairnessResult
        Its ``to_dict()`` is the ``fairness`` block of ``metrics.json``:
        ``{table: {"attributes", "intersection", "threshold", "min_cell",
        "groups": [...], "auroc": {"difference", "ratio", ...}, ...}}``.

    Raises
    ------
    DataError
        On invalid or one-class input, ``sensitive_features`` of the wrong
        shape, an intersection naming an unknown column, or an invalid parameter.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.05, 0.6, 400)
    >>> y = rng.binomial(1, p)
    >>> sex = pd.DataFrame({"sex": rng.choice(["female", "male"], 400)})
    >>> result = fairness_metrics(y, p, sex, threshold=0.2)
    >>> sorted(result.to_dict()["sex"])[:4]
    ['attributes', 'auroc', 'calibration_in_the_large', 'groups']
    """
    from fairlearn.metrics import MetricFrame

    y, p = check_y(y_true, y_prob)
    n = y.shape[0]
    t = check_threshold(threshold, name="threshold")
    cell = check_min_cell(min_cell)
    n_boot = check_n_boot(n_boot)
    level = check_ci_level(ci_level)
    features = _check_features(sensitive_features, n)
    clusters = engine.clusters_of(patient_ids, n)
    group_values = _group_values(t)
    prepared = []
    weighted: dict[str, Callable[..., np.ndarray]] = {}
    shapes: dict[str, tuple[int, ...]] = {}
    for name, attributes, labels, levels in _tables(features, intersections):
        frame = MetricFrame(
            metrics={"values": group_values}, y_true=y, y_pred=p, sensitive_features=labels
        )
        entry = _prepare_table(frame, name, attributes, labels, levels, clusters.codes, cell)
        prepared.append(entry)
        if n_boot and entry.reported:
            members = [np.flatnonzero(entry.label_values == g) for g in entry.reported]
            weighted[name] = _group_weighted(members, t)
            shapes[name] = (len(entry.reported), len(FAIRNESS_METRICS))
    replicates = (
        engine.run_replicates(
            y,
            p,
            weighted=weighted,
            resampled={},
            shapes=shapes,
            clusters=clusters,
            n_boot=n_boot,
            rng=np.random.default_rng(engine.seed_sequence(random_state)),
            progress=progress,
        )
        if weighted
        else {}
    )
    # groups are computed in text order (the bootstrap follows it) and shown in the bands' order
    level_rank = {
        str(a): {g: k for k, g in enumerate(group_order(_group_labels(c, str(a)), c))}
        for a, c in features.items()
    }
    results: dict[str, FairnessTable] = {}
    for entry in prepared:
        draws = replicates.get(entry.name)
        point_values = entry.table.loc[entry.reported, list(FAIRNESS_METRICS)].to_numpy(
            dtype="float64"
        )
        groups = _table_groups(entry, point_values, draws, level)
        groups.sort(key=lambda g: tuple(level_rank[a][g.levels[a]] for a in entry.attributes))
        results[entry.name] = FairnessTable(
            name=entry.name,
            attributes=entry.attributes,
            threshold=t,
            min_cell=cell,
            groups=tuple(groups),
            disparities=_table_disparities(point_values, draws, len(entry.reported), level),
        )
    return FairnessResult(tables=results, n_boot=n_boot, ci_level=level)

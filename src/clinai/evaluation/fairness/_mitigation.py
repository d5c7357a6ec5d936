"""Post-processing mitigation with fairlearn's ThresholdOptimizer, reported beside the model.

:func:`threshold_optimizer_mitigation` learns group-specific (possibly
randomised) thresholds on predictions the model did not see in training (the
training split's out-of-fold or calibration predictions; never the test
split), so that a fairness constraint holds (e.g. equalized odds: equal true
and false positive rates across groups) while an objective is maximised
(default balanced accuracy). It then applies both rules to the test split:

- *unmitigated*: flag when ``p >= t`` (the operating threshold);
- *mitigated*: the optimizer's group-specific decisions.

Reported for each rule: sensitivity ``TP / (TP + FN)``, specificity
``TN / (TN + FP)``, flag rate ``(TP + FP) / n`` and net benefit at ``t``
(``TP/n - FP/n * t / (1 - t)``: the operating threshold sets the exchange rate
of false positives for both rules), and their difference (mitigated minus
unmitigated: the *cost* of mitigation) with paired percentile bootstrap
intervals (the same resamples for both rules; patients resampled when rows
share a patient; the randomised decisions are drawn once and held fixed). Per
group of the attribute: flag rate, sensitivity and specificity of both rules,
and the between-group differences (max - min); groups under ``min_cell`` are
suppressed as in :func:`fairness_metrics`.

The optimizer picks thresholds for its objective, not for the operating
threshold, so part of the change comes from the objective itself. The mitigated
rule is a report, never applied to the model that is registered.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from clinai._utils._vocabulary import MITIGATION_CONSTRAINTS as CONSTRAINTS
from clinai._utils._vocabulary import MITIGATION_GROUP_RATES as _GROUP_RATES
from clinai._utils._vocabulary import MITIGATION_METRICS
from clinai._utils._vocabulary import MITIGATION_OBJECTIVES as OBJECTIVES
from clinai.evaluation._estimate import Estimate, _estimate_or_none, _group_counts, _num
from clinai.evaluation._inputs import (
    check_ci_level,
    check_min_cell,
    check_n_boot,
    check_threshold,
    check_y,
)
from clinai.evaluation.fairness._subgroups import _group_labels, _hidden_counts
from clinai.evaluation.resampling import engine
from clinai.evaluation.resampling.engine import Clusters, RandomState
from clinai.exceptions import DataError

__all__ = [
    "CONSTRAINTS",
    "MITIGATION_METRICS",
    "OBJECTIVES",
    "threshold_optimizer_mitigation",
]

# CONSTRAINTS (the fairlearn ThresholdOptimizer constraints this function accepts),
# OBJECTIVES, MITIGATION_METRICS (overall metrics of each rule) and _GROUP_RATES are
# clinai._utils._vocabulary's tables: config accepts the same options, reporting the same keys.

CONSTRAINT_MSG = "mitigation constraint must be one of {choices}; got {value!r}"
OBJECTIVE_MSG = "mitigation objective must be one of {choices}; got {value!r}"
GROUPS_LENGTH_MSG = "{name} has {got} values but there are {n} predictions: pass one per row"
UNSEEN_GROUP_MSG = (
    "mitigation attribute {attribute!r}: group(s) {groups} of the test split are absent from "
    "the predictions the thresholds are fitted on; the optimizer has no threshold for them"
)
ONE_CLASS_GROUP_MSG = (
    "mitigation attribute {attribute!r}: group(s) {groups} have only one outcome class in the "
    "predictions the thresholds are fitted on; merge small groups or choose another attribute"
)
FIT_FAILED_MSG = "mitigation (ThresholdOptimizer on {attribute!r}) failed: {error}"


@dataclass(frozen=True)
class MitigationGroup:
    """Decision rates of one group before and after post-processing mitigation.

    Attributes
    ----------
    group : str
        Level of the mitigated attribute.
    n, events : int or None
        Rows and events in the test split (``None`` when hidden).
    suppressed : bool
        Too small to report: no rate is given.
    unmitigated, mitigated : Mapping[str, float]
        ``flag_rate``, ``sensitivity`` and ``specificity`` of the group.
    """

    group: str
    n: int | None
    events: int | None
    suppressed: bool
    unmitigated: Mapping[str, float]
    mitigated: Mapping[str, float]

    def to_dict(self) -> dict[str, Any]:
        """Return one entry of ``mitigation["groups"]`` (rates ``None`` if suppressed)."""
        return {
            "group": self.group,
            **_group_counts(self),
            "unmitigated": None
            if self.suppressed
            else {k: _num(v) for k, v in self.unmitigated.items()},
            "mitigated": None
            if self.suppressed
            else {k: _num(v) for k, v in self.mitigated.items()},
        }


@dataclass(frozen=True)
class MitigationResult:
    """Post-processing mitigation (fairlearn ThresholdOptimizer) beside the unmitigated model.

    The mitigated rule is reported only; it is never applied to the
    registered model (``applied_to_registered_model`` is always false).

    Attributes
    ----------
    method, attribute, constraint, objective : str
        What was fitted, e.g. ``threshold_optimizer``, ``sex``, ``equalized_odds``.
    fitted_on : str
        The predictions the thresholds were learnt on (never the test split).
    n_fit : int
        Rows of those predictions.
    threshold : float
        Operating threshold of the unmitigated model (and the exchange rate of
        the net benefit of both rules).
    overall : Mapping[str, Mapping[str, Estimate]]
        ``{"unmitigated", "mitigated", "difference"}`` to ``{"sensitivity",
        "specificity", "flag_rate", "net_benefit"}``; the difference is
        mitigated minus unmitigated, with a paired bootstrap interval.
    disparities : Mapping[str, Mapping[str, float | None]]
        ``{"unmitigated", "mitigated"}`` to the between-group differences
        (max - min) of ``flag_rate``, ``sensitivity`` and ``specificity``.
    groups : tuple of MitigationGroup
    """

    method: str
    attribute: str
    constraint: str
    objective: str
    fitted_on: str
    n_fit: int
    threshold: float
    overall: Mapping[str, Mapping[str, Estimate]]
    disparities: Mapping[str, Mapping[str, float | None]]
    groups: tuple[MitigationGroup, ...]
    applied_to_registered_model: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return the ``mitigation`` block of ``metrics.json``."""
        return {
            "method": self.method,
            "attribute": self.attribute,
            "constraint": self.constraint,
            "objective": self.objective,
            "fitted_on": self.fitted_on,
            "n_fit": int(self.n_fit),
            "threshold": _num(self.threshold),
            "applied_to_registered_model": bool(self.applied_to_registered_model),
            "overall": {
                side: {name: _estimate_or_none(est) for name, est in values.items()}
                for side, values in self.overall.items()
            },
            "disparities": {
                side: {name: _num(v) for name, v in values.items()}
                for side, values in self.disparities.items()
            },
            "groups": [group.to_dict() for group in self.groups],
        }


def _score_estimator() -> Any:
    """Return a fitted 'classifier' whose probability is its one input column (the risk)."""
    from sklearn.base import BaseEstimator, ClassifierMixin

    class _Score(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
        def fit(self, X: Any, y: Any) -> _Score:
            self.classes_ = np.array([0, 1])
            return self

        def predict_proba(self, X: Any) -> np.ndarray:
            risk = np.asarray(X, dtype="float64")[:, 0]
            return np.column_stack([1.0 - risk, risk])

        def predict(self, X: Any) -> np.ndarray:
            return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    return _Score().fit(None, None)


def _rates(y: np.ndarray, d: np.ndarray, w: np.ndarray, t: float) -> np.ndarray:
    """Sensitivity, specificity, flag rate and net benefit of decisions ``d``; shape (b, 4)."""
    tp = w @ (y * d)
    fp = w @ ((1.0 - y) * d)
    events = w @ y
    total = w.sum(axis=1)
    non_events = total - events
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.stack(
            [
                tp / events,
                (non_events - fp) / non_events,
                (tp + fp) / total,
                tp / total - fp / total * (t / (1.0 - t)),
            ],
            axis=-1,
        )
    out[(events == 0) | (non_events == 0)] = np.nan
    return np.asarray(out, dtype="float64")


def _labels(values: Any, n: int, name: str) -> np.ndarray:
    series = pd.Series(np.asarray(values, dtype=object))
    if series.shape[0] != n:
        raise DataError(GROUPS_LENGTH_MSG.format(name=name, got=series.shape[0], n=n))
    return _group_labels(series, name).to_numpy()


def _check_groups(g_fit: np.ndarray, g: np.ndarray, y_f: np.ndarray, attribute: str) -> None:
    """Refuse test groups never seen when fitting, and fitting groups with one outcome class."""
    unseen = sorted(set(g) - set(g_fit))
    if unseen:
        raise DataError(UNSEEN_GROUP_MSG.format(attribute=attribute, groups=", ".join(unseen)))
    classes = pd.Series(y_f).groupby(g_fit).nunique()
    degenerate = sorted(str(group) for group in classes.index[classes < 2])
    if degenerate:
        raise DataError(
            ONE_CLASS_GROUP_MSG.format(attribute=attribute, groups=", ".join(degenerate))
        )


def _fit_and_predict(
    fit: tuple[np.ndarray, np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    *,
    constraint: str,
    objective: str,
    seed: np.random.SeedSequence,
    attribute: str,
) -> np.ndarray:
    """Fit the ThresholdOptimizer on ``(y, p, groups)`` of ``fit``; its flags on ``test``."""
    from fairlearn.postprocessing import ThresholdOptimizer

    y_f, p_f, g_fit = fit
    p, g = test
    optimizer = ThresholdOptimizer(
        estimator=_score_estimator(),
        constraints=constraint,
        objective=objective,
        prefit=True,
        predict_method="predict_proba",
    )
    try:
        optimizer.fit(pd.DataFrame({"risk": p_f}), y_f, sensitive_features=g_fit)
        mitigated = optimizer.predict(
            pd.DataFrame({"risk": p}),
            sensitive_features=g,
            random_state=int(np.random.default_rng(seed).integers(2**31 - 1)),
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise DataError(FIT_FAILED_MSG.format(attribute=attribute, error=exc)) from exc
    return np.asarray(mitigated, dtype="float64")


def _group_rows(
    g: np.ndarray,
    y: np.ndarray,
    codes: np.ndarray,
    flags: dict[str, np.ndarray],
    t: float,
    cell: int,
) -> tuple[list[MitigationGroup], dict[str, list[np.ndarray]]]:
    """Each group's rates under both rules (small groups suppressed) and the reported rates."""
    frame = pd.DataFrame({"group": g, "y": y, "patient": codes})
    table = frame.groupby("group").agg(
        n=("y", "size"), events=("y", "sum"), patients=("patient", "nunique")
    )
    table = table.astype("float64").sort_index()
    table["non_events"] = table["n"] - table["events"]
    small = table[["n", "patients", "events", "non_events"]].min(axis=1) < cell
    hidden = _hidden_counts(table, small, cell)
    rows: list[MitigationGroup] = []
    reported: dict[str, list[np.ndarray]] = {"unmitigated": [], "mitigated": []}
    for group in table.index:
        if small[group]:
            rows.append(MitigationGroup(str(group), None, None, True, {}, {}))
            continue
        mask = (g == group).astype("float64")[None, :]
        rates = {side: _rates(y, d, mask, t)[0, [2, 0, 1]] for side, d in flags.items()}
        for side, values in rates.items():
            reported[side].append(values)
        rows.append(
            MitigationGroup(
                group=str(group),
                n=None if hidden[group] else int(table.loc[group, "n"]),
                events=None if hidden[group] else int(table.loc[group, "events"]),
                suppressed=False,
                unmitigated=dict(zip(_GROUP_RATES, map(float, rates["unmitigated"]), strict=True)),
                mitigated=dict(zip(_GROUP_RATES, map(float, rates["mitigated"]), strict=True)),
            )
        )
    return rows, reported


def _spread(per_group: list[np.ndarray]) -> dict[str, float | None]:
    """Largest minus smallest of each rate across the reported groups (None under two)."""
    if len(per_group) < 2:
        return dict.fromkeys(_GROUP_RATES, None)
    stacked = np.stack(per_group)
    spread = stacked.max(axis=0) - stacked.min(axis=0)
    return {
        rate: float(v) if math.isfinite(v) else None
        for rate, v in zip(_GROUP_RATES, spread, strict=True)
    }


def _overall_rates(
    y: np.ndarray,
    p: np.ndarray,
    flags: tuple[np.ndarray, np.ndarray],
    t: float,
    *,
    clusters: Clusters,
    n_boot: int,
    level: float,
    seed: np.random.SeedSequence,
) -> dict[str, dict[str, Estimate]]:
    """Return both rules' rates on everybody and their difference, with paired intervals."""
    d_u, d_m = flags

    def paired(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
        unmitigated, mitigated_ = _rates(a, d_u, w, t), _rates(a, d_m, w, t)
        return np.stack([unmitigated, mitigated_, mitigated_ - unmitigated], axis=1)

    point = paired(y, p, np.ones((1, y.shape[0])))[0]
    low = high = np.full(point.shape, np.nan)
    if n_boot:
        draws = engine.run_replicates(
            y,
            p,
            weighted={"paired": paired},
            resampled={},
            shapes={"paired": point.shape},
            clusters=clusters,
            n_boot=n_boot,
            rng=np.random.default_rng(seed),
            progress=None,
        )["paired"]
        low, high, _ = engine.contained_interval(draws, point, level)
    return {
        side: {
            metric: Estimate(float(point[i, k]), float(low[i, k]), float(high[i, k]))
            for k, metric in enumerate(MITIGATION_METRICS)
        }
        for i, side in enumerate(("unmitigated", "mitigated", "difference"))
    }


def threshold_optimizer_mitigation(
    y_fit: Any,
    y_prob_fit: Any,
    groups_fit: Any,
    y_true: Any,
    y_prob: Any,
    groups: Any,
    *,
    attribute: str,
    threshold: float,
    constraint: str = "equalized_odds",
    objective: str = "balanced_accuracy_score",
    fitted_on: str = "out-of-fold predictions of the training split",
    min_cell: int = 5,
    patient_ids: Any = None,
    n_boot: int = 0,
    ci_level: float = 0.95,
    random_state: RandomState = 0,
) -> MitigationResult:
    """Fit fairlearn's ThresholdOptimizer on held-out predictions; compare it on the test split.

    See the module docstring for the definitions. The thresholds are learnt
    on ``(y_fit, y_prob_fit, groups_fit)``, which must not be the test split,
    and both rules are evaluated on ``(y_true, y_prob, groups)``.

    Parameters
    ----------
    y_fit, y_prob_fit, groups_fit : array-like of shape (m,)
        Outcome, predicted probability and group of the rows the thresholds
        are fitted on (e.g. out-of-fold predictions of the training split).
    y_true, y_prob, groups : array-like of shape (n,)
        The same for the test split.
    attribute : str
        Name of the sensitive attribute (for the report).
    threshold : float
        Operating threshold of the unmitigated rule, strictly between 0 and 1.
    constraint : str, default="equalized_odds"
        One of :data:`CONSTRAINTS`.
    objective : str, default="balanced_accuracy_score"
        One of :data:`OBJECTIVES`.
    fitted_on : str, default="out-of-fold predictions of the training split"
        Description of the fitting predictions, for the report.
    min_cell : int, default=5
        Smallest reportable rows, patients, events and non-events of a group.
    patient_ids : array-like of shape (n,), optional
        Patient of each test row, for the cluster bootstrap.
    n_boot : int, default=0
        Bootstrap replicates of the overall metrics (0: estimates only).
    ci_level : float, default=0.95
        Confidence level.
    random_state : int, numpy.random.Generator or None, default=0
        Seed of the randomised decisions and of the bootstrap.

    Returns
    -------
    MitigationResult
        ``applied_to_registered_model`` is always false.

    Raises
    ------
    DataError
        On invalid input, an unknown constraint or objective, a test group the
        fitting data lack, or a failed fit.
    """
    if constraint not in CONSTRAINTS:
        raise DataError(CONSTRAINT_MSG.format(choices=", ".join(CONSTRAINTS), value=constraint))
    if objective not in OBJECTIVES:
        raise DataError(OBJECTIVE_MSG.format(choices=", ".join(OBJECTIVES), value=objective))
    y_f, p_f = check_y(y_fit, y_prob_fit)
    y, p = check_y(y_true, y_prob)
    t = check_threshold(threshold, name="threshold")
    cell = check_min_cell(min_cell)
    n_boot = check_n_boot(n_boot)
    level = check_ci_level(ci_level)
    g_fit = _labels(groups_fit, y_f.shape[0], "groups_fit")
    g = _labels(groups, y.shape[0], "groups")
    _check_groups(g_fit, g, y_f, attribute)
    clusters = engine.clusters_of(patient_ids, y.shape[0])
    seeds = engine.seed_sequence(random_state).spawn(2)
    d_m = _fit_and_predict(
        (y_f, p_f, g_fit),
        (p, g),
        constraint=constraint,
        objective=objective,
        seed=seeds[0],
        attribute=attribute,
    )
    d_u = (p >= t).astype("float64")

    overall = _overall_rates(
        y,
        p,
        (d_u, d_m),
        t,
        clusters=clusters,
        n_boot=n_boot,
        level=level,
        seed=seeds[1],
    )
    rows, reported = _group_rows(
        g, y, clusters.codes, {"unmitigated": d_u, "mitigated": d_m}, t, cell
    )
    return MitigationResult(
        method="threshold_optimizer",
        attribute=str(attribute),
        constraint=constraint,
        objective=objective,
        fitted_on=fitted_on,
        n_fit=int(y_f.shape[0]),
        threshold=t,
        overall=overall,
        disparities={side: _spread(per_group) for side, per_group in reported.items()},
        groups=tuple(rows),
    )

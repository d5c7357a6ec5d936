"""Fairness and optional mitigation for the evaluate stage (what the config asks for)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from clinai import evaluation
from clinai.runs._prepare import read_split
from clinai.runs._progress import progress_bar

if TYPE_CHECKING:
    import pandas as pd

    from clinai.config import EvaluationConfig, ExperimentConfig
    from clinai.runs._rundir import RunDir

__all__ = ["evaluation_thresholds", "fairness_blocks"]

logger = logging.getLogger(__name__)

_FITTED_ON = "out-of-fold predictions of the training split ({cv}-fold cross-validation)"


def evaluation_thresholds(spec: EvaluationConfig) -> list[float]:
    """Return the configured thresholds, plus the operating threshold if it is not among them."""
    thresholds = list(spec.thresholds)
    operating = spec.resolved_operating_threshold
    if all(abs(t - operating) > 1e-12 for t in thresholds):
        thresholds.append(operating)
    return thresholds


def _out_of_fold(
    model: Any, X: pd.DataFrame, y: np.ndarray, *, patients: Any, cv: int, seed: int
) -> np.ndarray:
    """Predicted risks of the training split, each from a copy of the model not fitted on it.

    The folds keep each patient's rows together (``patients`` None: rows are patients). A
    calibrated model carries the calibration folds of the whole training split as index
    pairs, which do not fit a fold's rows: its copies calibrate on as many folds of their own.
    """
    from sklearn.base import clone

    from clinai import models

    risks = np.empty(len(y), dtype="float64")
    for train, test in models.cv_splits(y, cv, random_state=seed, groups=patients):
        copy = clone(model)
        calibration_folds = copy.get_params(deep=False).get("cv")
        if isinstance(calibration_folds, list | tuple):
            copy.set_params(cv=len(calibration_folds))
        copy.fit(X.iloc[train], y[train])
        risks[test] = np.asarray(copy.predict_proba(X.iloc[test]))[:, 1]
    return risks


def fairness_blocks(
    config: ExperimentConfig,
    run_dir: RunDir,
    *,
    model: Any,
    y: np.ndarray,
    y_prob: np.ndarray,
    sensitive: pd.DataFrame,
    patients: np.ndarray,
    has_test_split: bool = True,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Return the ``operating_threshold``, ``fairness`` and ``mitigation`` blocks of metrics.json.

    ``fairness``: :func:`clinai.evaluation.fairness_metrics` for every sensitive
    attribute and configured intersection at the operating threshold.
    ``mitigation`` (only when configured): :func:`threshold_optimizer_mitigation`
    fitted on out-of-fold predictions of the training split and evaluated on the
    test split. It is a report; the registered model is never changed.
    """
    spec = config.evaluation
    operating = spec.resolved_operating_threshold
    blocks: dict[str, Any] = {"operating_threshold": operating}
    if not len(sensitive.columns) or not len(y):
        return blocks
    clustered = config.data.patient_id is not None
    with progress_bar("fairness bootstrap", spec.n_boot, enabled=show_progress) as advance:
        fairness = evaluation.fairness_metrics(
            y,
            y_prob,
            sensitive,
            threshold=operating,
            intersections=[tuple(pair) for pair in spec.intersections],
            min_cell=spec.min_cell,
            patient_ids=patients if clustered else None,
            n_boot=spec.n_boot,
            ci_level=spec.ci_level,
            random_state=np.random.SeedSequence([config.seed, 4]),
            progress=advance,
        )
        advance(spec.n_boot, spec.n_boot)  # done, also when every group was too small to resample
    blocks["fairness"] = fairness.to_dict()
    plan = spec.mitigation
    if plan is None:
        return blocks
    if not has_test_split:
        logger.warning("mitigation skipped: there is no test split to evaluate it on")
        return blocks
    X_train, y_train, sensitive_train, patients_train = read_split(run_dir, "train")
    with progress_bar("mitigation (out-of-fold predictions)", 1, enabled=show_progress) as done:
        oof = _out_of_fold(
            model,
            X_train,
            y_train,
            patients=patients_train if clustered else None,
            cv=plan.cv,
            seed=config.seed,
        )
        done()
    result = evaluation.threshold_optimizer_mitigation(
        y_train,
        oof,
        sensitive_train[plan.attribute].to_numpy(),
        y,
        y_prob,
        sensitive[plan.attribute].to_numpy(),
        attribute=plan.attribute,
        threshold=operating,
        constraint=plan.constraint,
        objective=plan.objective,
        fitted_on=_FITTED_ON.format(cv=plan.cv),
        min_cell=spec.min_cell,
        patient_ids=patients if clustered else None,
        n_boot=spec.n_boot,
        ci_level=spec.ci_level,
        random_state=np.random.SeedSequence([config.seed, 5]),
    )
    blocks["mitigation"] = result.to_dict()
    return blocks

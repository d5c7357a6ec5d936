"""Hyperparameter tuning with Optuna, cross-validated inside the training data.

:func:`tune_model` is the binary tuner: its objective is a family's mean
cross-validated score on folds kept fixed across trials; the study around it (budget,
workers, failed trials, the default kept unless beaten) is :mod:`clinai.models._study`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_score

from clinai.exceptions import DataError, ModelError
from clinai.models._preprocess import check_columns
from clinai.models._registry import check_model_name, get_model, get_search_space
from clinai.models._study import TrialRecord, TuningResult, run_study, suggest_params

if TYPE_CHECKING:
    import optuna

__all__ = ["SCORINGS", "check_budget", "cv_splits", "tune_model"]

logger = logging.getLogger(__name__)

#: Scores tune_model accepts (scikit-learn scorer names; higher is better).
SCORINGS = ("roc_auc", "neg_log_loss", "neg_brier_score", "average_precision")

N_TRIALS_MSG = "tuning.n_trials must be an integer >= 1; got {value!r}"
TIMEOUT_MSG = "tuning.timeout_s must be a number of seconds > 0; got {value!r}"
GROUPS_LENGTH_MSG = (
    "groups (data.patient_id) has {got} values for {expected} rows: pass one patient per row"
)
GROUPS_FEW_MSG = (
    "grouped cross-validation needs at least {folds} patients: lower tuning.cv_folds or "
    "calibration.cv, or add patients"
)
CV_FOLDS_MSG = "tuning.cv_folds must be an integer >= 2; got {value!r}"
SCORING_MSG = "tuning.metric (scoring) must be one of {choices}; got {value!r}"
CLASS_COUNT_MSG = (
    "the outcome needs two classes with at least tuning.cv_folds={folds} rows each for "
    "stratified cross-validation; got class counts {counts}: lower tuning.cv_folds or add data"
)
MISSING_COLUMNS_MSG = (
    "X lacks the feature column(s) {columns} named in numeric/categorical: "
    "pass the training features with those columns"
)
LENGTH_MSG = "X has {n_x} rows but y has {n_y}: pass the outcome of the same rows"


def _validate(
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    n_trials: int,
    timeout_s: float,
    cv_folds: int,
    scoring: str,
) -> np.ndarray:
    check_budget(n_trials, timeout_s, cv_folds)
    if scoring not in SCORINGS:
        raise ModelError(SCORING_MSG.format(choices=", ".join(SCORINGS), value=scoring))
    y_arr = np.asarray(y)
    if len(X) != len(y_arr):
        raise ModelError(LENGTH_MSG.format(n_x=len(X), n_y=len(y_arr)))
    labels, counts = np.unique(y_arr, return_counts=True)
    if len(labels) != 2 or counts.min() < cv_folds:
        shown = {str(k): int(v) for k, v in zip(labels, counts, strict=True)}
        raise ModelError(CLASS_COUNT_MSG.format(folds=cv_folds, counts=shown))
    return y_arr


def check_budget(n_trials: Any, timeout_s: Any, cv_folds: Any) -> None:
    """Check a tuner's trial budget, safety timeout and folds (binary and survival).

    Raises
    ------
    ModelError
        One line naming the setting: ``n_trials`` not an integer >= 1, ``timeout_s``
        not a number > 0, or ``cv_folds`` not an integer >= 2.
    """
    if isinstance(n_trials, bool) or not isinstance(n_trials, int | np.integer) or n_trials < 1:
        raise ModelError(N_TRIALS_MSG.format(value=n_trials))
    if (
        isinstance(timeout_s, bool)
        or not isinstance(timeout_s, int | float | np.number)
        or not math.isfinite(float(timeout_s))
        or timeout_s <= 0
    ):
        raise ModelError(TIMEOUT_MSG.format(value=timeout_s))
    if isinstance(cv_folds, bool) or not isinstance(cv_folds, int | np.integer) or cv_folds < 2:
        raise ModelError(CV_FOLDS_MSG.format(value=cv_folds))


def cv_splits(
    y: np.ndarray, n_splits: int, *, random_state: int, groups: Any = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Shuffled stratified folds, keeping each patient's rows together when ``groups`` is given.

    Returns the folds as ``(train, test)`` index pairs, so tuning and calibration can
    share the scheme.
    """
    if groups is None:
        splitter: Any = StratifiedKFold(int(n_splits), shuffle=True, random_state=random_state)
        return list(splitter.split(np.zeros(len(y)), y))
    # Codes in order of first appearance: the folds must not depend on the identifiers' values
    # (pseudonyms change with the key; an ephemeral key changes them on every run).
    groups_arr = pd.factorize(pd.Series(np.asarray(groups)))[0]
    if len(groups_arr) != len(y):
        raise ModelError(GROUPS_LENGTH_MSG.format(got=len(groups_arr), expected=len(y)))
    if len(np.unique(groups_arr)) < n_splits:
        raise ModelError(GROUPS_FEW_MSG.format(folds=n_splits))
    splitter = StratifiedGroupKFold(int(n_splits), shuffle=True, random_state=random_state)
    return list(splitter.split(np.zeros(len(y)), y, groups_arr))


def tune_model(
    name: str,
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    numeric: Sequence[str],
    categorical: Sequence[str],
    n_trials: int,
    timeout_s: float,
    cv_folds: int = 5,
    scoring: str = "roc_auc",
    storage: str | None = "sqlite:///optuna.db",
    study_name: str,
    random_state: int = 0,
    n_jobs: int = 1,
    on_trial: Callable[[TrialRecord], None] | None = None,
    budget_lock: Callable[[], AbstractContextManager[Any]] | None = None,
    groups: Any = None,
) -> TuningResult:
    """Tune a model family's hyperparameters with Optuna and cross-validation.

    A family with an established default (:func:`get_default_params`, e.g.
    logistic regression's C = 1) has it tried as the first trial and kept
    unless the best trial beats it by more than one standard error.

    Each trial draws parameters from :func:`get_search_space` with a seeded
    TPE sampler and scores the whole pipeline (preprocessing included, so
    nothing leaks across folds) by stratified k-fold cross-validation inside
    ``X``, which must be the training data only. The score is the mean over
    folds of a scikit-learn scorer, so higher is better for every choice.

    The study is stored in ``storage`` under ``study_name`` and resumes: a
    rerun with the same name counts the completed trials toward ``n_trials``
    and runs only the rest. RUNNING trials left by a process that was killed
    (same host, process gone) are marked FAIL; trials of live workers are left
    alone, so several processes may share a study (e.g. on a PostgreSQL
    storage). ``n_trials`` is then the total of all of them: each worker
    creates a trial only while complete plus running trials are below it
    (checked under ``budget_lock``), and returns once the study holds
    ``n_trials`` complete trials, waiting for the other workers' last ones.

    The sampler (TPE) is reseeded for every trial from ``random_state`` and the
    trial number, so one worker gives the same trials on every run; with
    several workers each trial sees whatever the others have finished by then,
    so their order and parameters vary from run to run.

    Parameters
    ----------
    name : {"lightgbm", "logistic", "mlp"}
        Model family.
    X : pandas.DataFrame
        Training features (the columns in ``numeric`` and ``categorical``).
    y : ndarray of shape (n_samples,)
        Binary outcome.
    numeric, categorical : sequence of str
        Feature columns by type.
    n_trials : int
        Completed trials the study should have in total, >= 1. This is the
        budget: the same data, config and seed give the same trials and the
        same model on any machine.
    timeout_s : float
        Safety stop in wall-clock seconds of this call, > 0; set it generously
        (clinai's config default is an hour per family) so that it never binds.
        It is checked between trials once a trial is complete, so the last trial
        may run past it. When it fires, the study ends short of ``n_trials``
        (a warning is logged and ``TuningResult.timeout_fired`` is True), and
        the result depends on the machine's speed.
    cv_folds : int, default=5
        Folds of :class:`~sklearn.model_selection.StratifiedKFold` (shuffled,
        seeded with ``random_state``), or of
        :class:`~sklearn.model_selection.StratifiedGroupKFold` when ``groups``
        is given.
    scoring : {"roc_auc", "neg_log_loss", "neg_brier_score", "average_precision"}
        Cross-validation score to maximise.
    storage : str or None, default="sqlite:///optuna.db"
        Optuna storage URL (a SQLite file in the working directory by
        default; a PostgreSQL URL lets many workers share a study). None
        keeps the study in memory (no resuming across processes).
    study_name : str
        Study name; reuse it to resume.
    random_state : int, default=0
        Seed of the sampler, the folds and the estimator.
    n_jobs : int, default=1
        Estimator threads (LightGBM, torch). Folds run one after another.
    on_trial : callable, optional
        Called with a :class:`TrialRecord` after each trial of this call.
    groups : array-like of shape (n_samples,), optional
        Patient of each row. When patients have several rows (e.g. hourly
        predictions), every row of a patient stays in one fold; otherwise the
        folds leak a patient's other rows and favour over-fitting models.
    budget_lock : callable, optional
        Returns a context manager (a fresh one per call) that excludes every
        other process tuning this study while it is held; it guards study
        creation and each check-and-create of a trial. Default: no lock, for a
        study that one process tunes.

    Returns
    -------
    TuningResult
        Best parameters and score, and a record of every trial.

    Raises
    ------
    DataError
        If ``X`` lacks a column named in ``numeric`` or ``categorical``.
    ModelError
        If the name, budget, folds or scoring is invalid, the outcome cannot
        be split into ``cv_folds`` stratified folds, the stored study was made
        for another model or scoring, or no trial can be fitted.
    """
    check_model_name(name, task="binary")
    num, cat = check_columns(numeric, categorical)
    missing = [c for c in [*num, *cat] if c not in getattr(X, "columns", ())]
    if missing:
        raise DataError(MISSING_COLUMNS_MSG.format(columns=", ".join(missing)))
    y_arr = _validate(
        X, y, n_trials=n_trials, timeout_s=timeout_s, cv_folds=cv_folds, scoring=scoring
    )
    space = get_search_space(name)

    folds = cv_splits(y_arr, cv_folds, random_state=random_state, groups=groups)

    def objective(trial: optuna.Trial) -> float:
        params = suggest_params(trial, space)
        pipe = get_model(
            name,
            numeric=numeric,
            categorical=categorical,
            random_state=random_state,
            n_jobs=n_jobs,
            **params,
        )
        scores = cross_val_score(
            pipe, X, y_arr, cv=folds, scoring=scoring, error_score="raise", n_jobs=1
        )
        trial.set_user_attr("cv_std", float(np.std(scores)))
        trial.set_user_attr("cv_se", float(np.std(scores, ddof=1) / np.sqrt(len(scores))))
        return float(np.mean(scores))

    return run_study(
        objective,
        name=name,
        scoring=scoring,
        study_name=study_name,
        storage=storage,
        n_trials=n_trials,
        timeout_s=timeout_s,
        random_state=random_state,
        budget_lock=budget_lock,
        on_trial=on_trial,
    )

"""Optuna tuning of the survival families on cross-validated Uno's C or integrated Brier score.

The study machinery is :func:`~clinai.models._study.run_study`, shared with the binary tuner (a
stored study checked against the family and score, trial budget across workers, seeding
per trial, the default kept unless beaten by one standard error, the
:class:`~clinai.models.TuningResult`); only the folds and the score differ.
The scores are scikit-survival's ``concordance_index_ipcw`` and
``integrated_brier_score``, whose definitions ``clinai.evaluation.uno_c`` and
``clinai.evaluation.integrated_brier_score`` reproduce (the models layer does not import
the evaluation layer; DESIGN.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from clinai.exceptions import ModelError
from clinai.models._registry import (
    check_model_name,
    get_model,
    get_model_task,
    get_search_space,
)
from clinai.models._study import TrialRecord, TuningResult, run_study, suggest_params
from clinai.models._survival_base import check_survival_target
from clinai.models._tuning import check_budget, cv_splits

if TYPE_CHECKING:
    import optuna

__all__ = ["SURVIVAL_SCORINGS", "cv_survival_scores", "tune_survival_model"]

logger = logging.getLogger(__name__)

#: Scores tune_survival_model accepts (higher is better).
SURVIVAL_SCORINGS = ("uno_c", "neg_integrated_brier")
SURVIVAL_SCORING_MSG = (
    "tuning.metric must be one of {choices} for a survival outcome; got {value!r}"
)
FEW_EVENTS_MSG = (
    "the outcome has {events} event(s): stratified {folds}-fold cross-validation needs at "
    "least {folds}; lower tuning.cv_folds or add data"
)
#: Quantiles of the training event times spanned by the integrated Brier score's grid.
_IBS_QUANTILES = np.linspace(0.1, 0.8, 8)


def _sksurv_target(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    from sksurv.util import Surv

    return Surv.from_arrays(event > 0, time)


def _fold_score(
    fitted: Any,
    X_test: Any,
    censoring: np.ndarray,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    scoring: str,
    horizon: float | None,
) -> float:
    """Score one fold; ``censoring`` (every row's follow-up) gives the censoring weights.

    The censoring distribution uses no prediction, so estimating it on all rows leaks
    nothing, and it covers every test row's time (one from the training part alone may not).
    """
    from sksurv.metrics import concordance_index_ipcw, integrated_brier_score

    y_test = _sksurv_target(*test)
    if scoring == "uno_c":
        tau = horizon if horizon is not None else float(np.quantile(train[0], 0.9))
        lp = fitted.predict(X_test)
        return float(concordance_index_ipcw(censoring, y_test, lp, tau=tau)[0])
    grid = np.quantile(train[0][train[1] > 0], _IBS_QUANTILES)
    if horizon is not None:
        grid = np.linspace(grid[0], horizon, len(_IBS_QUANTILES))
    grid = grid[(grid >= test[0].min()) & (grid < test[0].max())]
    survival = fitted.predict_survival(X_test, grid)
    return -float(integrated_brier_score(censoring, y_test, survival, grid))


def cv_survival_scores(
    pipe: Any,
    X: pd.DataFrame,
    y: np.ndarray,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    scoring: str = "neg_integrated_brier",
    horizon: float | None = None,
) -> np.ndarray:
    """Return the score of ``pipe`` on each fold (fitted on the rest).

    Parameters
    ----------
    pipe : SurvivalPipeline
        Unfitted; cloned for each fold.
    X : pandas.DataFrame
    y : structured ndarray
        ``(event, time)``, see :func:`clinai.models.survival_target`.
    folds : sequence of (train, test) index arrays
    scoring : {"neg_integrated_brier", "uno_c"}, default="neg_integrated_brier"
        Minus the integrated IPCW Brier score (Graf et al. 1999) of ``predict_survival``
        over 8 times from the 10th percentile of the training event times to
        ``horizon`` (or their 80th percentile), or Uno's C of ``predict`` truncated at
        ``horizon`` (Uno et al. 2011). With competing events both score the event of
        any cause (the event-free survival); ``predict`` is the chosen cause's.
    horizon : float, optional
        The prediction horizon.

    Returns
    -------
    ndarray of shape (len(folds),)
        Higher is better.
    """
    time, event = check_survival_target(y, competing=True)
    censoring = _sksurv_target(time, event)
    scores = []
    for train, test in folds:
        fitted = clone(pipe).fit(X.iloc[train], y[train])
        parts = (time[train], event[train]), (time[test], event[test])
        scores.append(_fold_score(fitted, X.iloc[test], censoring, *parts, scoring, horizon))
    return np.asarray(scores)


def tune_survival_model(
    name: str,
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    study_name: str,
    n_trials: int,
    numeric: Sequence[str],
    categorical: Sequence[str],
    timeout_s: float = 3600.0,
    cv_folds: int = 5,
    scoring: str = "neg_integrated_brier",
    horizon: float | None = None,
    storage: str | None = None,
    random_state: int = 0,
    n_jobs: int = 1,
    groups: Any = None,
    on_trial: Callable[[TrialRecord], None] | None = None,
    budget_lock: Callable[[], AbstractContextManager[Any]] | None = None,
) -> TuningResult:
    """Tune a survival family's hyperparameters with Optuna on cross-validated scores.

    As :func:`clinai.models.tune_model` (seeded TPE per trial, resumable study, a
    family default tried first and kept unless beaten by one standard error), with
    folds stratified by event and grouped by patient when ``groups`` is given, and the
    score of :func:`cv_survival_scores`.

    Parameters
    ----------
    name : {"cox_net", "gradient_boosted_survival", "deep_surv"}
        A survival family (:func:`clinai.models.get_model_names` with ``"survival"``).
    X : pandas.DataFrame
        Training features.
    y : structured ndarray
        ``(event, time)``.
    study_name : str
    n_trials : int
        Completed trials in total, >= 1.
    numeric, categorical : sequence of str
    timeout_s : float, default=3600
        Safety stop (see :func:`clinai.models.tune_model`).
    cv_folds : int, default=5
    scoring : {"neg_integrated_brier", "uno_c"}, default="neg_integrated_brier"
        The integrated Brier score rewards calibration as well as ranking; Uno's C
        rewards ranking only, so on noisy folds it may pick a penalty that shrinks the
        risks towards the average (colon, 5 folds x 2: mean calibration slope 1.15, SD
        0.71, against 0.95, SD 0.24, with the Brier score; C 0.664 against 0.662).
    horizon : float, optional
        Truncation time of Uno's C and end of the Brier grid.
    storage : str or None, default=None
        Optuna storage URL; None keeps the study in memory.
    random_state, n_jobs : int
    groups : array-like, optional
        Patient of each row: every row of a patient stays in one fold.
    on_trial : callable, optional
        Called with a :class:`~clinai.models.TrialRecord` after each trial.
    budget_lock : callable, optional
        Returns a context manager excluding every other process tuning this study
        while it is held, so several workers share one budget (see
        :func:`clinai.models.tune_model`). Default: no lock, for one process.

    Returns
    -------
    TuningResult

    Raises
    ------
    ModelError
        An unknown or non-survival family, a bad scoring, too few events for the folds.
    DataError
        A bad target (see :func:`clinai.models.survival_target`).
    """
    check_model_name(name)
    task = get_model_task(name)
    if task == "binary":
        check_model_name(name, task="survival")
    if scoring not in SURVIVAL_SCORINGS:
        choices = ", ".join(SURVIVAL_SCORINGS)
        raise ModelError(SURVIVAL_SCORING_MSG.format(choices=choices, value=scoring))
    check_budget(n_trials, timeout_s, cv_folds)
    _, event = check_survival_target(y, competing=task == "competing_risks")
    n_events = int((event > 0).sum())
    if n_events < cv_folds:
        raise ModelError(FEW_EVENTS_MSG.format(events=n_events, folds=cv_folds))
    folds = cv_splits((event > 0).astype(int), cv_folds, random_state=random_state, groups=groups)
    space = get_search_space(name)

    family: dict[str, Any] = {"numeric": numeric, "categorical": categorical, "n_jobs": n_jobs}

    def objective(trial: optuna.Trial) -> float:
        params = suggest_params(trial, space)
        pipe = get_model(name, random_state=random_state, **family, **params)
        scores = cv_survival_scores(pipe, X, y, folds, scoring=scoring, horizon=horizon)
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

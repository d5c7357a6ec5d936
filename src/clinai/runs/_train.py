"""Stage 2, train: tune every model family on the training split, pick one, calibrate it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from clinai import models
from clinai._utils import redact_url, sha256_text
from clinai.runs._acceptance_plan import write_acceptance_plan
from clinai.runs._drift import write_drift_reference
from clinai.runs._plan import write_monitoring_plan
from clinai.runs._prepare import config_sha256, read_split
from clinai.runs._progress import progress_bar
from clinai.runs._rundir import absolute_sqlite_uri
from clinai.runs._small_data import assess_small_data, shrink_if_small
from clinai.runs._workers import tune_with_workers

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import numpy as np
    import pandas as pd

    from clinai.config import CalibrationConfig, ExperimentConfig, SampleSizeConfig, TuningConfig
    from clinai.models import TrialRecord, TuningResult
    from clinai.runs._rundir import RunDir
    from clinai.tracking import MlflowTracker

__all__ = [
    "IN_MEMORY",
    "procedure_options",
    "select_family",
    "train",
    "trial_callback",
    "tune_and_calibrate",
    "tuning_summary",
]

#: ``storage`` value that keeps an Optuna study in memory.
IN_MEMORY = ":memory:"

logger = logging.getLogger(__name__)


#: Bumped when the tuning procedure changes (v2: patient-grouped folds, the default tried
#: first), so a study is never resumed under another procedure.
TUNING_PROCEDURE = "v2"


def _study_name(config: ExperimentConfig, family: str, data_sha256: str) -> str:
    # Same config and data -> same study, so an interrupted study resumes; any change -> a new one.
    fingerprint = sha256_text(config_sha256(config) + data_sha256 + TUNING_PROCEDURE)[:12]
    return f"{config.experiment}-{family}-{fingerprint}"


def _optuna_storage(url: str) -> str | None:
    return None if url == IN_MEMORY else absolute_sqlite_uri(url)


#: Families from simplest to most flexible: the one-standard-error rule prefers the first.
#: (Binary and survival families are never candidates together; each keeps its own order.)
COMPLEXITY_ORDER = ("logistic", "lightgbm", "mlp", "cox_net", "gradient_boosted_survival")


def trial_callback(
    tracker: MlflowTracker | None, family: str, advance: Callable[..., None]
) -> Callable[[TrialRecord], None]:
    """Return the tuner's ``on_trial``: log each trial as a child run, count complete ones.

    A failed trial is logged (state ``FAIL``) but does not move the bar, whose total
    is the number of complete trials the study needs.
    """

    def on_trial(record: TrialRecord) -> None:
        if record.state == "COMPLETE":
            advance()
        if tracker is not None:
            tracker.log_trial(family, record.number, record.params, record.score, record.state)

    return on_trial


def select_family(candidates: Sequence[TuningResult]) -> TuningResult:
    """Pick the simplest family whose CV score is within one standard error of the best.

    The best of many tuning trials is an optimistic estimate, more so for flexible
    families with many hyperparameters; on small clinical datasets the flexible
    winner often does worse on new patients. The one-standard-error rule (Breiman
    et al. 1984; Hastie, Tibshirani & Friedman 2009, sec. 7.10) guards against
    that: the simplest family within one SE of the top score is chosen.
    """
    top = max(candidates, key=lambda r: r.best_score)
    margin = top.best_score_se or 0.0

    def complexity(result: TuningResult) -> int:
        name = result.model_name
        return COMPLEXITY_ORDER.index(name) if name in COMPLEXITY_ORDER else len(COMPLEXITY_ORDER)

    eligible = [r for r in candidates if r.best_score >= top.best_score - margin]
    return min(eligible, key=lambda r: (complexity(r), -r.best_score))


def procedure_options(config: ExperimentConfig) -> dict[str, Any]:
    """Return the config's options of :func:`tune_and_calibrate` that the train stage passes.

    The families, tuning budget, calibration and small-data handling: the quality
    benchmark repeats the train stage's procedure with exactly these.
    """
    return {
        "families": config.models,
        "tuning": config.tuning,
        "calibration": config.calibration,
        "small_data": config.training.small_data,
        "shrinkage_bootstrap": config.training.shrinkage_bootstrap,
        "sample_size": config.evaluation.sample_size,
    }


def tune_and_calibrate(
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    numeric: Sequence[str],
    categorical: Sequence[str],
    families: Sequence[str],
    tuning: TuningConfig,
    calibration: CalibrationConfig,
    seed: int,
    study_prefix: str,
    tracker: MlflowTracker | None = None,
    show_progress: bool = True,
    storage: str | None = None,
    workers: int = 1,
    groups: Any = None,
    small_data: str = "auto",
    shrinkage_bootstrap: int = models.SHRINKAGE_BOOTSTRAP,
    sample_size: SampleSizeConfig | None = None,
    record: dict[str, Any] | None = None,
) -> tuple[Any, list[TuningResult]]:
    """Tune each family, select one (one-SE rule), refit it inside calibration.

    This is clinai's whole model-building procedure, used by the train stage and by
    ``benchmarks/bench_quality.py`` (which repeats it inside every cross-validation fold).

    Parameters
    ----------
    study_prefix : str
        Optuna study name with a ``{family}`` placeholder.
    storage : str, optional
        Optuna storage URL; default the config's ``tuning.storage``. ``IN_MEMORY``
        keeps the study in memory (no resume), as the benchmark and the optimism
        correction need for their many throw-away studies.
    workers : int, default=1
        Processes tuning each family's study together (this one included); see
        :mod:`clinai.runs._workers`. More than one needs a shared storage.
    groups : array-like, optional
        Patient of each row; tuning and calibration folds then keep a patient's
        rows together.
    small_data : {"auto", "off"}, default="auto"
        Riley's criteria are computed before tuning; with ``"auto"`` a model built on
        data that fail them is shrunk (:mod:`clinai.runs._small_data`) by a factor
        estimated from ``shrinkage_bootstrap`` replicates.
    sample_size : SampleSizeConfig, optional
        The anticipated fit for Riley's criteria (the config's ``evaluation.sample_size``).
    record : dict, optional
        Filled with the ``small_data`` block of ``training.json``.

    Returns
    -------
    fitted : estimator
        The calibrated model, fitted on all of ``X``.
    candidates : list of TuningResult
        One tuning result per family.
    """
    # Before tuning: do the training data hold Riley's minimum for these candidate predictors?
    small = assess_small_data(
        X,
        y,
        numeric=numeric,
        categorical=categorical,
        plan=sample_size,
        mode=small_data,
        patients=groups,
    )
    candidates = []
    for family in families:
        with progress_bar(f"tuning {family}", tuning.n_trials, enabled=show_progress) as advance:
            result = tune_with_workers(
                family,
                workers=workers,
                X=X,
                y=y,
                groups=groups,
                numeric=numeric,
                categorical=categorical,
                n_trials=tuning.n_trials,
                timeout_s=tuning.timeout_s,
                cv_folds=tuning.cv_folds,
                scoring=tuning.metric,
                storage=_optuna_storage(storage or tuning.storage),
                study_name=study_prefix.format(family=family),
                random_state=seed,
                n_jobs=tuning.n_jobs,
                on_trial=trial_callback(tracker, family, advance),
            )
        logger.info("%s: best cv %s = %.4f", family, tuning.metric, result.best_score)
        candidates.append(result)

    best = select_family(candidates)
    estimator = models.get_model(
        best.model_name,
        numeric=numeric,
        categorical=categorical,
        random_state=seed,
        n_jobs=tuning.n_jobs,
        **best.best_params,
    )

    def build(X_b: Any, y_b: np.ndarray, units: Any) -> Any:
        # the selected family refitted inside calibration (also on each bootstrap sample)
        return models.calibrate_model(
            estimator,
            X_b,
            y_b,
            method=calibration.method,
            cv=calibration.cv,
            random_state=seed,
            groups=units,
            ensemble=calibration.ensemble,
        )

    fitted = shrink_if_small(
        small,
        build(X, y, groups),
        X,
        y,
        build=build,
        numeric=numeric,
        categorical=categorical,
        seed=seed,
        groups=groups,
        n_boot=shrinkage_bootstrap,
        calibrated=calibration.method != "none",
    )
    if record is not None:
        record.update(small)
    return fitted, candidates


def train(
    config: ExperimentConfig,
    run_dir: RunDir,
    *,
    tracker: MlflowTracker | None = None,
    show_progress: bool = True,
    workers: int = 1,
) -> dict[str, Any]:
    """Tune each configured model family, select the best by the config's metric, calibrate it.

    Tuning uses cross-validation inside the training split only. The selected
    family is refitted on the whole training split inside cross-validated
    post-hoc calibration and saved in MLflow format to ``model/``. ``workers``
    processes tune each family's study together (``clinai train --workers N``).

    Returns
    -------
    dict
        The training summary, also written to ``training.json``.
    """
    from clinai.tracking import save_model_dir

    manifest = run_dir.read_json("data_manifest.json", stage="prepare")
    X, y, _, patients = read_split(run_dir, "train")
    numeric = manifest["features"]["numeric"]
    categorical = manifest["features"]["categorical"]
    tuning = config.tuning

    # The acceptance plan is fixed (hashed) before the test split is evaluated.
    write_acceptance_plan(config, run_dir)
    # So is the monitoring plan: `clinai monitor` refuses one edited after registration.
    write_monitoring_plan(config, run_dir)

    small_data: dict[str, Any] = {}
    fitted, candidates = tune_and_calibrate(
        X,
        y,
        numeric=numeric,
        categorical=categorical,
        seed=config.seed,
        study_prefix=_study_name(config, "{family}", manifest["data_sha256"]),
        tracker=tracker,
        show_progress=show_progress,
        workers=workers,
        # Rows of one patient (several admissions or hourly predictions) share a fold.
        groups=patients if config.data.patient_id is not None else None,
        record=small_data,
        **procedure_options(config),
    )
    best = select_family(candidates)
    save_model_dir(fitted, run_dir.model, input_example=models.synthetic_input_example(X))
    # The development data's distributions, for monitoring and TRIPOD+AI 20c (bins, no row).
    write_drift_reference(
        config,
        run_dir,
        fitted,
        X=X,
        y=y,
        patients=patients,
        categorical=categorical,
        show_progress=show_progress,
    )

    summary = {
        "selection_metric": tuning.metric,
        "selected": best.model_name,
        "best_params": best.best_params,
        "cv_score": best.best_score,
        "selection_rule": "simplest family within one standard error of the best CV score",
        "calibration": {
            "method": config.calibration.method,
            "cv": config.calibration.cv,
            "ensemble": config.calibration.ensemble,
        },
        # Riley's criteria before tuning and the shrinkage applied when they fail
        "small_data": small_data,
        **tuning_summary(tuning, candidates, workers=workers),
    }
    run_dir.write_json("training.json", summary)
    return summary


def tuning_summary(
    tuning: TuningConfig, candidates: Sequence[TuningResult], *, workers: int
) -> dict[str, Any]:
    """Return the ``candidates`` and ``tuning`` blocks of training.json (binary and survival)."""
    return {
        "candidates": [
            {
                "family": r.model_name,
                "cv_score": r.best_score,
                "cv_score_se": r.best_score_se,
                "n_trials": r.n_trials,
                "n_trials_completed": r.n_trials,
                # The safety timeout ended the study short of tuning.n_trials: this family's
                # result then depends on the machine's speed (the report says so).
                "timeout_fired": r.timeout_fired,
                # trials whose fit failed at their parameters: skipped, not counted above
                "n_trials_failed": sum(t.state == "FAIL" for t in r.trials),
                "best_params": r.best_params,
                "study_name": r.study_name,
            }
            for r in candidates
        ],
        "tuning": {
            "n_trials": tuning.n_trials,
            "timeout_s": tuning.timeout_s,
            "timeout_fired": any(r.timeout_fired for r in candidates),
            "cv_folds": tuning.cv_folds,
            "storage": redact_url(tuning.storage),
            "workers": workers,
        },
    }

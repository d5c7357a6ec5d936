"""``clinai run`` for a survival outcome (``outcome.type: survival``).

The stages are those of a binary run, with time-to-event parts where they differ:

* prepare: the binary prepare stage, with the pipeline's ``outcome()`` read as follow-up
  time and event (:func:`survival_outcome`, called by ``load_cohort``): the split is
  stratified by the event (grouped by patient with ``split.method: grouped``) and the
  prepared splits hold the time beside the event. ``data_manifest.json`` gains an
  ``outcome`` block (horizons, events and censoring before the first horizon).
* train: each configured survival family is tuned with Optuna on the integrated Brier
  score (``tune_survival_model``; ``--workers N`` processes share each family's study,
  as in a binary run), the simplest within one standard error of the best
  is refitted on the training split, and saved (and logged to MLflow) as a
  :class:`~clinai.runs._survival_model.HorizonRiskModel`, whose ``predict_proba`` (the
  MLflow pyfunc output) is the risk of the event by the first horizon.
* evaluate: :func:`clinai.evaluation.evaluate_survival` on the test split at the first
  horizon, written to ``survival_metrics.json``.
* report: the survival validation report (EN/DA) and a short model card (natural
  frequencies at the horizon and the C index); MLflow logging and registration as for
  a binary model.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from clinai import evaluation, models
from clinai.exceptions import ConfigError, DataError, ModelError
from clinai.runs import _survival_competing as competing
from clinai.runs._acceptance_plan import (
    check_acceptance_plan,
    judge_acceptance,
    write_acceptance_plan,
)
from clinai.runs._comparisons import registered_version
from clinai.runs._prepare import TIME, prepare, read_split
from clinai.runs._progress import progress_bar
from clinai.runs._report import use_case_translations
from clinai.runs._small_data import assess_small_data_survival, note_survival_shrinkage
from clinai.runs._survival_model import HorizonRiskModel
from clinai.runs._survival_outcome import survival_outcome
from clinai.runs._survival_test_split import SurvivalTest, resampling
from clinai.runs._train import (
    _optuna_storage,
    _study_name,
    select_family,
    trial_callback,
    tuning_summary,
)
from clinai.runs._workers import tune_with_workers

if TYPE_CHECKING:
    from clinai.config import ExperimentConfig
    from clinai.runs._rundir import RunDir
    from clinai.tracking import MlflowTracker

__all__ = [
    "STAGES",
    "SURVIVAL_METRICS_FILE",
    "check_survival_models",
    "evaluate_survival_run",
    "prepare_survival",
    "report_survival",
    "survival_outcome",
    "train_survival",
    "warn_follow_up",
]

logger = logging.getLogger(__name__)

SURVIVAL_METRICS_FILE = "survival_metrics.json"
#: The tuning score (higher is better): rewards calibration as well as ranking.
SURVIVAL_SCORING = "neg_integrated_brier"

NOT_SURVIVAL_MODEL = (
    "models: {name!r} is not a survival model family; outcome.type: survival takes {names}"
)
NOT_COMPETING_MODEL = (
    "models: {name!r} does not model competing events; with outcome.event_codes.competing "
    "set, models takes {names}"
)
FOLLOW_UP_WARNING = (
    "{experiment}: {censored} of {n} test patients ({share:.0%}) were censored before the "
    "horizon {horizon:g} and {followed} followed to it without the event: the observed risks "
    "there rest on those patients (the card and the report say so)"
)
SURVIVAL_IGNORES = (
    "{field}: {what} is not available for outcome.type: survival yet, and the run would go "
    "ahead without it; {remedy}"
)
#: Config parts a survival run does not carry out: field, what it asks for, what to do, and
#: whether the config sets it.
_NOT_FOR_SURVIVAL = (
    (
        "validation.method",
        "Harrell's bootstrap optimism correction",
        "set validation.method: holdout (survival runs are validated on the test split)",
        lambda config: config.validation.method == "optimism",
    ),
    (
        "monitoring",
        "a post-market monitoring plan",
        "remove the section (validate scored risks with clinai validate --time once follow-up "
        "is complete)",
        lambda config: config.monitoring is not None,
    ),
    (
        "economics",
        "the cost and savings analysis",
        "remove the section",
        lambda config: config.economics is not None,
    ),
)


def check_survival_models(config: ExperimentConfig) -> None:
    """Fail before anything is written on what a survival run cannot do.

    A configured family that is not a survival model, and a config part the survival
    stages do not carry out (a run with ``validation.method: optimism`` went ahead and
    its card said nothing of the correction asked for).
    """
    for field, what, remedy, is_set in _NOT_FOR_SURVIVAL:
        if is_set(config):
            raise ConfigError(SURVIVAL_IGNORES.format(field=field, what=what, remedy=remedy))
    known = models.get_model_names(competing.model_task(config))
    message = NOT_COMPETING_MODEL if competing.is_competing(config) else NOT_SURVIVAL_MODEL
    for name in config.models:
        if name not in known:
            raise ModelError(message.format(name=name, names=", ".join(known)))


def read_time(run_dir: RunDir, name: str) -> np.ndarray:
    """Return the follow-up times of a prepared split (a survival run's)."""
    path = run_dir.require(f"prepared/{name}.parquet", stage="prepare")
    return pd.read_parquet(path, columns=[TIME])[TIME].to_numpy(dtype=float)


def _follow_up(time: np.ndarray, event: np.ndarray, horizon: float) -> dict[str, Any]:
    """Count events and censorings before the horizon (no patient-level value)."""
    return {
        "events_by_horizon": int(((event == 1) & (time <= horizon)).sum()),
        "censored_before_horizon": int(((event == 0) & (time < horizon)).sum()),
        "median_follow_up": float(np.median(time)),
    }


def prepare_survival(config: ExperimentConfig, run_dir: RunDir) -> dict[str, Any]:
    """Run the prepare stage; add the survival outcome's description to the manifest.

    Returns
    -------
    dict
        The data manifest, with ``outcome`` = type, horizons, event codes and, for the
        whole cohort, the events and censorings before the first horizon.
    """
    assert config.outcome is not None
    manifest = prepare(config, run_dir)
    frames = [
        pd.read_parquet(run_dir.file(f"prepared/{name}.parquet"), columns=[TIME, "__outcome__"])
        for name in ("train", "test")
    ]
    table = pd.concat(frames, ignore_index=True)
    manifest["outcome"] = {
        "type": "survival",
        "horizons": list(config.outcome.horizons),
        "event_codes": config.outcome.codes.model_dump(),
        **_follow_up(
            table[TIME].to_numpy(), table["__outcome__"].to_numpy(), config.outcome.horizons[0]
        ),
    }
    competing.add_competing_counts(config, run_dir, manifest["outcome"])
    run_dir.write_json("data_manifest.json", manifest)
    return manifest


def train_survival(
    config: ExperimentConfig, run_dir: RunDir, *, tracker: MlflowTracker | None, **options: Any
) -> dict[str, Any]:
    """Tune each survival family, select one (one-SE rule), refit it, save it.

    ``options`` are the binary train stage's: ``show_progress`` (default True) and
    ``workers``, the processes tuning each family's study together (``--workers``).

    Returns
    -------
    dict
        The training summary, also written to ``training.json``.
    """
    from clinai.tracking import save_model_dir

    assert config.outcome is not None
    show_progress = bool(options.get("show_progress", True))
    workers = int(options.get("workers", 1))
    manifest = run_dir.read_json("data_manifest.json", stage="prepare")
    # The acceptance plan is fixed (hashed) before the test split is evaluated.
    write_acceptance_plan(config, run_dir)
    X, event, _, patients = read_split(run_dir, "train")
    event = competing.read_event_code(run_dir, "train", event)  # codes 0/1/2 if competing
    y = models.survival_target(read_time(run_dir, "train"), event)
    numeric = manifest["features"]["numeric"]
    categorical = manifest["features"]["categorical"]
    horizons = list(config.outcome.horizons)
    # Riley's time-to-event criteria, before tuning (issue 16).
    small = assess_small_data_survival(
        X,
        y["time"],
        y["event"],
        horizon=horizons[0],
        numeric=numeric,
        categorical=categorical,
        plan=config.evaluation.sample_size,
        mode=config.training.small_data,
    )
    tuning = config.tuning
    groups = patients if config.data.patient_id is not None else None
    study_prefix = _study_name(config, "{family}", manifest["data_sha256"])
    candidates = []
    for family in config.models:
        with progress_bar(f"tuning {family}", tuning.n_trials, enabled=show_progress) as advance:
            candidates.append(
                tune_with_workers(
                    family,
                    workers=workers,
                    X=X,
                    y=y,
                    study_name=study_prefix.format(family=family),
                    n_trials=tuning.n_trials,
                    numeric=numeric,
                    categorical=categorical,
                    timeout_s=tuning.timeout_s,
                    cv_folds=tuning.cv_folds,
                    scoring=SURVIVAL_SCORING,
                    horizon=horizons[0],
                    storage=_optuna_storage(tuning.storage),
                    random_state=config.seed,
                    n_jobs=tuning.n_jobs,
                    groups=groups,
                    on_trial=trial_callback(tracker, family, advance),
                )
            )
    best = select_family(candidates)
    pipe = models.get_model(
        best.model_name,
        random_state=config.seed,
        numeric=numeric,
        categorical=categorical,
        n_jobs=tuning.n_jobs,
        **best.best_params,
    )
    fitted = clone(pipe).fit(X, y)
    recalibration, record = _recalibrate(config, pipe, X, y, groups=groups, progress=show_progress)
    model = HorizonRiskModel(fitted, horizons, recalibration)
    note_survival_shrinkage(small, record)  # the recalibration is the shrinkage
    save_model_dir(model, run_dir.model, input_example=models.synthetic_input_example(X))
    summary = {
        "outcome": {"type": "survival", "horizons": horizons},
        # What the saved (and MLflow pyfunc) model's predict_proba returns.
        "model_output": HorizonRiskModel.OUTPUT.format(horizon=horizons[0]),
        "selection_metric": SURVIVAL_SCORING,
        "selected": best.model_name,
        "best_params": best.best_params,
        "cv_score": best.best_score,
        "selection_rule": "simplest family within one standard error of the best CV score",
        "recalibration": record,
        "small_data": small,
        **tuning_summary(tuning, candidates, workers=workers),
    }
    run_dir.write_json("training.json", summary)
    return summary


def evaluate_survival_run(
    config: ExperimentConfig, run_dir: RunDir, *, show_progress: bool = True
) -> dict[str, Any]:
    """Validate the model on the test split at the first horizon; write survival_metrics.json."""
    from clinai.tracking import load_model_dir

    if competing.is_competing(config):
        return competing.evaluate_competing_run(config, run_dir, show_progress=show_progress)

    assert config.outcome is not None
    # A criterion is never moved after the results are known: refuse an edited plan first.
    fixed = run_dir.read_json("acceptance_plan.json", stage="train")
    check_acceptance_plan(config, fixed)
    model = load_model_dir(run_dir.model)
    X, event, sensitive, patients = read_split(run_dir, "test")
    time = read_time(run_dir, "test")
    horizon = config.outcome.horizons[0]
    risk = model.predict_proba(X)[:, 1]
    lp = model.linear_predictor(X)
    clustered = patients if config.data.patient_id is not None else None
    plan = config.evaluation
    with progress_bar("bootstrap", plan.n_boot, enabled=show_progress) as advance:
        result = evaluation.evaluate_survival(
            time,
            event,
            risk,
            horizon=horizon,
            lp=lp,
            patient_ids=clustered,
            groups=sensitive if len(sensitive.columns) else None,
            n_boot=plan.n_boot,
            ci_level=plan.ci_level,
            random_state=config.seed,
            min_cell=plan.min_cell,
            score_name=f"risk by {horizon:g}",
            progress=advance,
        )
    metrics = result.to_dict()
    test = SurvivalTest(X, time, event, risk, sensitive, clustered, lp=lp)
    with progress_bar("comparisons and fairness", 3, enabled=show_progress) as advance:
        integrated = _integrated_brier(config, run_dir, model, test)
        if integrated is not None:
            metrics["integrated_brier"] = integrated
        advance()
        comparison = _registry_comparison(config, run_dir, test)
        if comparison is not None:
            metrics["comparison"] = comparison
        advance()
        if len(sensitive.columns):
            metrics["fairness"] = _fairness(config, test)
        advance()
    judge_acceptance(metrics, fixed)
    run_dir.write_json(SURVIVAL_METRICS_FILE, metrics)
    warn_follow_up(config.experiment, metrics)
    return metrics


def warn_follow_up(experiment: str, metrics: dict[str, Any]) -> None:
    """Say on the console what the card's caution says: most follow-up ended before the horizon.

    ``metrics`` is survival_metrics.json (its ``horizon`` and ``follow_up`` block).
    """
    from clinai.reporting._survival_report import CAUTION_SHARE

    follow = metrics["follow_up"]
    n, censored = follow["n"], follow["censored_before_horizon"]
    if n and censored / n >= CAUTION_SHARE:
        logger.warning(
            FOLLOW_UP_WARNING.format(
                experiment=experiment,
                censored=censored,
                n=n,
                share=censored / n,
                horizon=metrics["horizon"],
                followed=n - censored - follow["events_by_horizon"],
            )
        )


#: Times of the integrated Brier score: from this quantile of the training event times
#: to the first horizon (the tuning's grid, models._survival_tuning).
_IBS_START_QUANTILE = 0.1
_IBS_TIMES = 8


def _integrated_brier(
    config: ExperimentConfig, run_dir: RunDir, model: Any, test: SurvivalTest
) -> dict[str, Any] | None:
    """Return the integrated Brier score of the model on the test split, up to the horizon.

    The grid starts early in the training events; where the test split's follow-up
    begins later (a small test split: the score is undefined before its first time),
    it starts at the first tenth of the test split's follow-up instead. None when
    that leaves no time before the horizon.
    """
    assert config.outcome is not None
    _, event_train, _, _ = read_split(run_dir, "train")
    time_train = read_time(run_dir, "train")
    horizon = config.outcome.horizons[0]
    start = min(float(np.quantile(time_train[event_train > 0], _IBS_START_QUANTILE)), horizon / 2)
    if start < test.time.min():
        start = float(np.quantile(test.time, _IBS_START_QUANTILE))
    if start >= horizon:
        return None
    grid = np.linspace(start, horizon, _IBS_TIMES)
    return evaluation.integrated_brier_with_interval(
        test.time,
        test.event,
        model.predict_risk(test.X, grid),
        grid,
        **resampling(config, test, stream=6),
    ).to_dict()


def _registry_comparison(
    config: ExperimentConfig, run_dir: RunDir, test: SurvivalTest
) -> dict[str, Any] | None:
    """Compare with the registered version in use on the same test patients (paired)."""
    assert config.outcome is not None
    found = registered_version(config, run_dir, test.X)
    if found is None or not hasattr(found[0], "predict_risk"):
        return None
    other, X_other, version, alias = found
    horizon = config.outcome.horizons[0]
    result = evaluation.compare_survival_models(
        test.time,
        test.event,
        test.risk,
        np.asarray(other.predict_risk(X_other, [horizon]))[:, 0],
        horizon=horizon,
        score=test.lp,
        score_other=other.linear_predictor(X_other),
        name=f"registered version {version} ({alias})",
        **resampling(config, test, stream=7),
    )
    return {**result.to_dict(), "version": str(version), "alias": alias}


def _fairness(config: ExperimentConfig, test: SurvivalTest) -> dict[str, Any]:
    """C and O/E per group of each sensitive attribute and intersection, with the gaps."""
    assert config.outcome is not None
    spec = config.evaluation
    tables = evaluation.survival_fairness(
        test.time,
        test.event,
        test.risk,
        test.sensitive,
        horizon=config.outcome.horizons[0],
        score=test.lp,
        intersections=[(first, second) for first, second in spec.intersections],
        min_cell=spec.min_cell,
        **resampling(config, test, stream=4),
    )
    return {name: table.to_dict() for name, table in tables.items()}


_RECALIBRATION_FITTED_ON = (
    "out-of-fold predictions of the training split ({cv}-fold cross-validation; Cox model "
    "stratified by fold, follow-up censored at the horizon)"
)


def _recalibrate(
    config: ExperimentConfig,
    pipe: Any,
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    groups: Any,
    progress: bool,
) -> tuple[Any, dict[str, Any]]:
    """Recalibrate the selected model on out-of-fold risks (Cox on cloglog risk).

    The survival analogue of the binary runs' cross-validated calibration
    (:mod:`clinai.models._survival_recalibration`): ``calibration.method: none``
    turns it off; with ``calibration.cv`` folds. Returns the recalibration (None when
    not applied) and training.json's ``recalibration`` record.
    """
    assert config.outcome is not None
    cv = config.calibration.cv
    record: dict[str, Any] = {"method": "none", "slope": None, "cv_folds": cv}
    if config.calibration.method == "none":
        return None, {**record, "reason": "calibration.method: none"}
    if competing.is_competing(config):
        return None, {**record, "reason": "not done for competing risks"}
    horizon = config.outcome.horizons[0]
    with progress_bar("recalibration (out-of-fold risks)", 1, enabled=progress) as done:
        try:
            oof, fold = models.out_of_fold_risk(
                pipe, X, y, horizon=horizon, cv_folds=cv, random_state=config.seed, groups=groups
            )
            fitted = models.fit_survival_recalibration(
                oof, y["time"], y["event"], horizon=horizon, strata=fold
            )
        except DataError as exc:
            logger.warning("survival model not recalibrated: %s", exc)
            return None, {**record, "reason": str(exc)}
        done()
    return fitted, {
        **fitted.to_dict(),
        "oof_slope_before": fitted.slope,
        "fitted_on": _RECALIBRATION_FITTED_ON.format(cv=cv),
        "cv_folds": cv,
        "reason": None,
    }


def mlflow_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """Flatten the survival metrics and intervals for MLflow (``harrell_c_ci_low``)."""
    from clinai.tracking._flatten import metric_key

    flat = {}
    # the run's integrated Brier score beside the metrics at the horizon (absent: not a run's)
    named = {**metrics["metrics"], "integrated_brier": metrics.get("integrated_brier") or {}}
    for name, value in named.items():
        for suffix, part in (("", "estimate"), ("ci_low", "ci_low"), ("ci_high", "ci_high")):
            if value.get(part) is not None:
                flat[metric_key(name, suffix)] = float(value[part])
    return flat


def report_survival(
    config: ExperimentConfig,
    run_dir: RunDir,
    *,
    registry: dict[str, Any] | None = None,
    previous: Any = None,
    publish_dir: Path | None = None,
) -> list[Path]:
    """Write the survival validation report (EN/DA) and the model card into the run directory.

    ``registry`` is the version this run registered (shown on the card); ``previous``
    is accepted for the stages' common signature (the comparison with the registered
    version was made by the evaluate stage and is in survival_metrics.json).
    """
    from clinai.reporting._survival_report import render_survival_report

    if competing.is_competing(config):
        return competing.report_competing(config, run_dir, publish_dir=publish_dir)
    metrics = run_dir.read_json(SURVIVAL_METRICS_FILE, stage="evaluate")
    training = run_dir.read_json("training.json", stage="train")
    use_case = run_dir.read_json("data_manifest.json", stage="prepare")["use_case"]
    # the report writes times in the pipeline's unit, as the card does ("1,826 days")
    time_units = {
        language: texts["time_unit"]
        for language, texts in {"en": use_case, **use_case_translations(config)}.items()
        if texts.get("time_unit")
    }
    report = render_survival_report(
        metrics,
        run_dir.path,
        context={
            "title": config.description or config.experiment,
            "source": config.experiment,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        languages=list(config.languages),
        small_data=training.get("small_data"),
        time_units=time_units,
    )
    for line in report.skipped:
        logger.warning("%s", line)
    from clinai.runs._survival_card import survival_model_card

    cards = survival_model_card(
        config,
        run_dir,
        metrics=metrics,
        training=training,
        registry=registry,
        publish_dir=publish_dir,
    )
    return [*report.files, *cards]


#: The stages of a survival run, named as ``runs/_experiment.py`` calls them.
STAGES: dict[str, Any] = {
    "prepare": prepare_survival,
    "train": train_survival,
    "evaluate": evaluate_survival_run,
    "metrics_file": SURVIVAL_METRICS_FILE,
    "flat_metrics": mlflow_metrics,
    "report": report_survival,
}

"""Stage 3, evaluate: predict the held-out split, validate with bootstrap CIs, explain with SHAP."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from clinai import evaluation, models
from clinai._utils import atomic_write_bytes
from clinai.runs._comparisons import baseline_operating_points, baseline_spec, registry_comparison
from clinai.runs._drift import write_predictor_drift
from clinai.runs._economics import check_economics_fixed, run_economics
from clinai.runs._fairness import evaluation_thresholds, fairness_blocks
from clinai.runs._prepare import read_baseline, read_split
from clinai.runs._progress import progress_bar
from clinai.runs._site_summary import write_run_site_summary
from clinai.runs._small_data import binary_plan

if TYPE_CHECKING:
    import pandas as pd

    from clinai.config import ExperimentConfig, SampleSizeConfig
    from clinai.runs._rundir import RunDir

__all__ = ["evaluate"]

logger = logging.getLogger(__name__)


def _sample_size(
    plan: SampleSizeConfig, y_train: np.ndarray, *, n_parameters: int
) -> dict[str, Any]:
    """Riley et al.'s minimum sample size for the training split, with its assessment.

    The candidate parameters are the model's input columns after preprocessing
    (one-hot levels and missing indicators included).
    """
    n_train, events_train = len(y_train), int(np.sum(y_train))
    result = evaluation.riley_sample_size(
        prevalence=plan.prevalence or events_train / n_train,
        n_parameters=n_parameters,
        **binary_plan(plan),
    )
    assessment = evaluation.assess_sample_size(
        result, n_available=n_train, events_available=events_train
    )
    required = result.to_dict()
    # The assessment's events_per_parameter is of the available data; keep the required one too.
    required["events_per_parameter_required"] = required.pop("events_per_parameter")
    return {**required, **assessment.to_dict()}


def _shap(
    inputs: models.ExplainInputs,
    n_background: int,
    max_rows: int,
    seed: int,
    advance: Any = None,
) -> Any:
    """SHAP values of the model, averaged over the fold models of a calibrated ensemble."""
    members = inputs.members or (inputs,)
    if len({tuple(member.feature_names) for member in members}) > 1:
        # a fold model saw other categories: its columns do not line up with the others'
        logger.warning("the fold models encode different columns: explaining the first one")
        members = members[:1]
    per_model = []
    for member in members:
        per_model.append(
            evaluation.shap_values(
                member.estimator,
                member.X_transformed,
                feature_names=member.feature_names,
                kind=member.kind,
                n_background=n_background,
                max_rows=max_rows,
                random_state=seed,
                background=member.background,
            )
        )
        if advance is not None:
            advance()
    return evaluation.mean_shap_values(per_model)


def _variable_groups(config: ExperimentConfig, columns: Any) -> dict[str, str]:
    """``{column: clinical variable}`` of the features the pipeline groups (VARIABLE_GROUPS)."""
    from clinai.runs._plugins import load_pipeline, pipeline_variable_groups

    return pipeline_variable_groups(load_pipeline(config.pipeline), [str(c) for c in columns])


def _explanation(
    config: ExperimentConfig,
    model: Any,
    inputs: models.ExplainInputs,
    *,
    X: pd.DataFrame,
    X_train: pd.DataFrame,
    y: np.ndarray,
    y_prob: np.ndarray,
    sensitive: pd.DataFrame,
    patients: Any,
    show_progress: bool,
) -> dict[str, Any]:
    """Explain the model: the content of ``importance.json``.

    SHAP importance, rank intervals, subgroup importance, dependence data and the
    three synthetic example profiles explained locally.
    """
    import pandas as pd

    spec = config.evaluation
    # Model-agnostic (kernel) SHAP costs ~5 s per 100 rows x 100 background rows: cap it.
    kernel = inputs.kind == "kernel"
    n_background = min(spec.shap_background, 50) if kernel else spec.shap_background
    max_rows = min(spec.shap_max_rows, 200) if kernel else spec.shap_max_rows
    with progress_bar("SHAP", max(1, len(inputs.members)), enabled=show_progress) as advance:
        values = _shap(inputs, n_background, max_rows, config.seed, advance)
    # features the pipeline shows as one clinical variable: SHAP summed as for one-hot columns
    groups = _variable_groups(config, X.columns)
    # example profiles are built from summaries and checked against every row: never a patient
    profiles = evaluation.synthetic_profiles(
        X, y_prob, min_cell=spec.min_cell, reference=pd.concat([X, X_train], ignore_index=True)
    )
    local: tuple[Any, ...] = ()
    if len(profiles.X):
        profile_inputs = models.explain_inputs(
            model, profiles.X, background=X_train, random_state=config.seed
        )
        profile_values = _shap(profile_inputs, n_background, len(profiles.X), config.seed)
        local = evaluation.explain_profiles(
            profiles,
            predicted_risk=model.predict_proba(profiles.X)[:, 1],
            shap=profile_values,
            feature_to_variable={
                column: groups.get(variable, variable)
                for column, variable in profile_inputs.feature_to_variable.items()
            },
        )
    rows = values.rows
    with progress_bar("SHAP rank stability", spec.n_boot, enabled=show_progress) as advance:
        explanation = evaluation.explain_global(
            values,
            feature_to_variable={
                column: groups.get(variable, variable)
                for column, variable in inputs.feature_to_variable.items()
            },
            X=X.iloc[rows],
            sensitive_features=sensitive.iloc[rows] if len(sensitive.columns) else None,
            y_true=np.asarray(y)[rows],
            patient_ids=None if patients is None else np.asarray(patients)[rows],
            min_cell=spec.min_cell,
            n_boot=spec.n_boot,
            ci_level=spec.ci_level,
            random_state=config.seed,
            profiles=local,
            progress=advance,
        )
    return explanation.to_dict()


def evaluate(
    config: ExperimentConfig, run_dir: RunDir, *, show_progress: bool = True
) -> dict[str, Any]:
    """Validate the trained model on the held-out split.

    Writes ``metrics.json`` (schema v1, acceptance verdicts included),
    ``importance.json`` (SHAP by clinical variable, rank intervals, subgroup
    importance, dependence data, synthetic example profiles) and ``predictions.parquet``
    (patient-level; stays in the run directory, never logged).

    Returns
    -------
    dict
        The metrics (the content of ``metrics.json``).
    """
    import pandas as pd

    from clinai.tracking import load_model_dir

    plan = run_dir.read_json("acceptance_plan.json", stage="train")
    model = load_model_dir(run_dir.require("model", stage="train"))
    # No test split: validate on the development data, then correct for optimism below.
    no_test = config.split.method == "none"
    X, y, sensitive, patients = read_split(run_dir, "train" if no_test else "test")
    y_prob = model.predict_proba(X)[:, 1]
    baseline = read_baseline(run_dir, "train" if no_test else "test")
    manifest = run_dir.read_json("data_manifest.json", stage="prepare")

    spec = config.evaluation
    low, high, step = spec.decision_curve
    dca_thresholds = np.round(np.arange(low, high + step / 2, step), 6)
    clustered = config.data.patient_id is not None
    with progress_bar("bootstrap", spec.n_boot, enabled=show_progress) as advance:
        result = evaluation.evaluate_predictions(
            y,
            y_prob,
            patient_ids=patients if clustered else None,
            sensitive_features=sensitive if len(sensitive.columns) else None,
            thresholds=evaluation_thresholds(spec),
            dca_thresholds=dca_thresholds,
            n_boot=spec.n_boot,
            ci_level=spec.ci_level,
            min_cell=spec.min_cell,
            random_state=config.seed,
            progress=advance,
            target_sensitivities=spec.target_sensitivities,
            subgroup_threshold=spec.resolved_operating_threshold,
            y_baseline=baseline,
            baseline_name=baseline_spec(manifest)["name"] if baseline is not None else None,
        )
    metrics = result.to_dict()
    # fairness per attribute and intersection, and the optional mitigation (a report only)
    metrics.update(
        fairness_blocks(
            config,
            run_dir,
            model=model,
            y=y,
            y_prob=y_prob,
            sensitive=sensitive,
            patients=patients,
            has_test_split=config.split.method != "none",
            show_progress=show_progress,
        )
    )
    if baseline is not None:
        points = baseline_operating_points(config, manifest, y, y_prob, baseline, patients)
        if points is not None:
            metrics["baseline_operating_points"] = points
    # Without a test split the new model would be scored on its own development data: unfair.
    previous = None if no_test else registry_comparison(config, run_dir, X, y, y_prob, patients)
    if previous is not None:
        metrics["registry_comparison"] = previous
    from clinai.runs._optimism import apply_optimism_correction, internal_validation

    optimism = internal_validation(config, run_dir, model=model, show_progress=show_progress)
    if optimism is not None:
        metrics["internal_validation"] = optimism
        if no_test:
            metrics = apply_optimism_correction(metrics, optimism)
    verdicts = evaluation.evaluate_acceptance(metrics, plan["criteria"])
    metrics["acceptance"] = [v.to_dict() for v in verdicts]
    X_train, y_train, *_ = read_split(run_dir, "train")
    inputs = models.explain_inputs(model, X, background=X_train, random_state=config.seed)
    if spec.sample_size is not None:
        metrics["sample_size"] = _sample_size(
            spec.sample_size, y_train, n_parameters=len(inputs.feature_names)
        )
    # Issue 17: costs and savings, only when the config has an economics: section.
    check_economics_fixed(config, plan)
    economics = run_economics(
        config, manifest, y, y_prob, baseline, patients, basis="development" if no_test else "test"
    )
    if economics is not None:
        metrics["economics"] = economics
    run_dir.write_json("metrics.json", metrics)
    # Issue 17: what this site would share for a meta-analysis across hospitals (no row).
    write_run_site_summary(
        config, run_dir, y=y, y_prob=y_prob, patients=patients, plan_sha256=plan["sha256"]
    )
    # TRIPOD+AI 20c: the predictors in the test split against the training split (own file).
    write_predictor_drift(config, run_dir, X, y_prob)

    importance = _explanation(
        config,
        model,
        inputs,
        X=X,
        X_train=X_train,
        y=y,
        y_prob=y_prob,
        sensitive=sensitive,
        patients=patients if clustered else None,
        show_progress=show_progress,
    )
    run_dir.write_json("importance.json", importance)

    predictions = pd.DataFrame({"patient": patients, "y_true": y, "y_prob": y_prob})
    atomic_write_bytes(run_dir.file("predictions.parquet"), predictions.to_parquet(index=False))
    logger.info("evaluated %s: auroc %.3f", config.experiment, metrics["auroc"]["estimate"])
    return metrics

"""Orchestration: the order of the stages, MLflow around them, and failure handling."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinai._utils import atomic_write_text
from clinai.config import load_config
from clinai.exceptions import ClinaiError, ModelError
from clinai.runs._evaluate import evaluate
from clinai.runs._prepare import prepare
from clinai.runs._report import acceptance_verdict, report
from clinai.runs._rundir import PATIENT_LEVEL, RunDir, absolute_sqlite_uri, resolve_run_dir
from clinai.runs._train import train

if TYPE_CHECKING:
    from clinai.config import ExperimentConfig
    from clinai.tracking import MlflowTracker, RunStatus

__all__ = [
    "RunResult",
    "evaluate_stage",
    "prepare_stage",
    "report_stage",
    "run_experiment",
    "train_stage",
]

logger = logging.getLogger(__name__)

CANDIDATE_ALIAS = "candidate"
APPROVED_ALIAS = "approved"
_TRACKING_FILE = "tracking.json"


@dataclass(frozen=True)
class RunResult:
    """What a finished ``clinai run`` produced."""

    experiment: str
    run_dir: Path
    metrics: dict[str, Any]
    verdict: str
    mlflow_run_id: str | None
    registry: dict[str, Any] | None


def _check_before_start(config: ExperimentConfig) -> None:
    """Fail on names the schema cannot check (models, pipeline) before anything is written."""
    from clinai import models
    from clinai.runs._plugins import load_pipeline

    known = models.get_model_names()
    for name in config.models:
        if name not in known:
            raise ModelError(
                "models: " + models.UNKNOWN_MODEL_MSG.format(name=name, names=", ".join(known))
            )
    load_pipeline(config.pipeline)


def _tracker(config: ExperimentConfig) -> MlflowTracker | None:
    if not config.tracking.enabled:
        return None
    from clinai.tracking import MlflowTracker

    return MlflowTracker(absolute_sqlite_uri(config.tracking.uri), config.experiment)


def _register(
    config: ExperimentConfig, run_dir: RunDir, tracker: MlflowTracker, metrics: dict[str, Any]
) -> dict[str, Any] | None:
    """Log the model to MLflow and register it: alias ``candidate``; ``approved`` if accepted."""
    from clinai import models
    from clinai.runs._prepare import read_split
    from clinai.tracking import load_model_dir

    model = load_model_dir(run_dir.model)
    X, *_ = read_split(run_dir, "train")
    name = config.tracking.model_name or config.experiment
    info = tracker.log_model(
        model,
        input_example=models.synthetic_input_example(X),
        registered_model_name=name if config.tracking.register_model else None,
    )
    if not config.tracking.register_model or info.get("version") is None:
        return None
    version = str(info["version"])
    verdict = acceptance_verdict(metrics)
    failed = [r["criterion"] for r in metrics.get("acceptance", []) if r.get("status") == "fail"]
    tracker.set_model_version_tags(
        name,
        version,
        {
            "acceptance_verdict": verdict,
            "failed_criteria": ", ".join(failed) or "none",
            "clinai_run_id": run_dir.run_id,
        },
    )
    tracker.set_registered_alias(name, CANDIDATE_ALIAS, version)
    alias = CANDIDATE_ALIAS
    if verdict == "accepted":
        tracker.set_registered_alias(name, APPROVED_ALIAS, version)
        alias = APPROVED_ALIAS
    return {"model_name": name, "version": version, "alias": alias}


def _log_params(tracker: MlflowTracker, config: ExperimentConfig, run_dir: RunDir) -> None:
    manifest = run_dir.read_json("data_manifest.json", stage="prepare")
    tracker.log_params(
        {
            "config": config.model_dump(mode="json"),
            "data_sha256": manifest["data_sha256"],
            "n_train": manifest["split"]["n_train"],
            "n_test": manifest["split"]["n_test"],
        }
    )


def _finish_tracking(
    config: ExperimentConfig,
    run_dir: RunDir,
    tracker: MlflowTracker | None,
    *,
    publish_dir: Path | None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    from clinai.tracking import flatten_metrics

    metrics = run_dir.read_json("metrics.json", stage="evaluate")
    registry = None
    if tracker is not None:
        training = run_dir.read_json("training.json", stage="train")
        tracker.log_params(
            {"selected_model": training["selected"], "best_params": training["best_params"]}
        )
        tracker.log_metrics(flatten_metrics(metrics))
        registry = _register(config, run_dir, tracker, metrics)
    report(config, run_dir, registry=registry, publish_dir=publish_dir)
    if tracker is not None:
        tracker.log_artifacts(run_dir.path, exclude=PATIENT_LEVEL)
    return metrics, registry


def run_experiment(
    config_path: str | Path,
    *,
    overrides: Iterable[str] = (),
    run_id: str | None = None,
    publish_dir: Path | None = None,
    show_progress: bool = True,
) -> RunResult:
    """Run every stage of an experiment: prepare -> train -> evaluate -> report -> register.

    One MLflow parent run covers the whole run, with tuning trials as nested runs.
    On any failure the MLflow run is marked FAILED and the run directory is renamed
    ``<run_id>.failed`` (with ``error.txt``), so nothing that looks complete is left.

    Parameters
    ----------
    config_path : path-like
        The experiment YAML.
    overrides : iterable of str
        ``key=value`` overrides (``--set``).
    run_id : str, optional
        Name of the run directory (default: a fresh timestamped id).
    publish_dir : pathlib.Path, optional
        Where to copy the English Markdown model card as ``<experiment>.md``.
    show_progress : bool
        Show Rich progress bars on stderr.

    Returns
    -------
    RunResult
    """
    config = load_config(config_path, overrides=overrides)
    _check_before_start(config)
    run_dir = resolve_run_dir(config.output_dir, config.experiment, run_id, create=True)
    tracker = _tracker(config)
    mlflow_run_id = None
    try:
        if tracker is not None:
            mlflow_run_id = tracker.start(
                run_dir.run_id,
                tags={
                    "clinai.experiment": config.experiment,
                    "clinai.pipeline": config.pipeline,
                },
            )
        prepare(config, run_dir)
        if tracker is not None:
            _log_params(tracker, config, run_dir)
        train(config, run_dir, tracker=tracker, show_progress=show_progress)
        evaluate(config, run_dir, show_progress=show_progress)
        metrics, registry = _finish_tracking(config, run_dir, tracker, publish_dir=publish_dir)
    except BaseException as exc:
        if tracker is not None and mlflow_run_id is not None:
            status: RunStatus = "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED"
            try:
                tracker.end(status)
            except ClinaiError:  # the original error matters more than a tracking failure
                logger.warning("could not mark MLflow run %s as %s", mlflow_run_id, status)
        _mark_failed(run_dir, exc)
        raise
    if tracker is not None:
        tracker.end("FINISHED")
    return RunResult(
        experiment=config.experiment,
        run_dir=run_dir.path,
        metrics=metrics,
        verdict=acceptance_verdict(metrics),
        mlflow_run_id=mlflow_run_id,
        registry=registry,
    )


def _mark_failed(run_dir: RunDir, exc: BaseException) -> None:
    failed = run_dir.path.with_name(f"{run_dir.run_id}.failed")
    shutil.rmtree(failed, ignore_errors=True)
    if run_dir.path.exists():
        run_dir.path.rename(failed)
    # A failed run keeps its partial outputs for diagnosis, but never a completion record.
    (failed / "audit.json").unlink(missing_ok=True)
    atomic_write_text(failed / "error.txt", f"{type(exc).__name__}: {exc}\n")
    pointer = run_dir.path.parent / "LATEST"
    if pointer.is_file() and pointer.read_text(encoding="utf-8").strip() == run_dir.run_id:
        pointer.unlink()


# The stages one by one (dvc.yaml and `clinai prepare|train|evaluate|report` use these).
def prepare_stage(
    config_path: str | Path, *, overrides: Iterable[str] = (), run_id: str | None = None
) -> RunDir:
    """Run the prepare stage in a new run directory (it becomes the experiment's LATEST)."""
    config = load_config(config_path, overrides=overrides)
    _check_before_start(config)
    run_dir = resolve_run_dir(config.output_dir, config.experiment, run_id, create=True)
    try:
        prepare(config, run_dir)
    except BaseException as exc:
        _mark_failed(run_dir, exc)
        raise
    return run_dir


def _stage_tracker(config: ExperimentConfig, run_dir: RunDir) -> MlflowTracker | None:
    tracker = _tracker(config)
    if tracker is None:
        return None
    state_file = run_dir.file(_TRACKING_FILE)
    if state_file.is_file():
        tracker.resume(run_dir.read_json(_TRACKING_FILE, stage="train")["mlflow_run_id"])
    else:
        run_dir.write_json(_TRACKING_FILE, {"mlflow_run_id": tracker.start(run_dir.run_id)})
    return tracker


def train_stage(
    config_path: str | Path,
    *,
    overrides: Iterable[str] = (),
    run_id: str | None = None,
    show_progress: bool = True,
) -> RunDir:
    """Run the train stage on a prepared run directory (default: the LATEST one)."""
    config = load_config(config_path, overrides=overrides)
    run_dir = resolve_run_dir(config.output_dir, config.experiment, run_id, create=False)
    tracker = _stage_tracker(config, run_dir)
    try:
        if tracker is not None:
            _log_params(tracker, config, run_dir)
        train(config, run_dir, tracker=tracker, show_progress=show_progress)
    except BaseException:
        if tracker is not None:
            tracker.end("FAILED")
        raise
    if tracker is not None:
        tracker.end("FINISHED")
    return run_dir


def evaluate_stage(
    config_path: str | Path,
    *,
    overrides: Iterable[str] = (),
    run_id: str | None = None,
    show_progress: bool = True,
) -> RunDir:
    """Run the evaluate stage on a trained run directory (default: the LATEST one)."""
    config = load_config(config_path, overrides=overrides)
    run_dir = resolve_run_dir(config.output_dir, config.experiment, run_id, create=False)
    evaluate(config, run_dir, show_progress=show_progress)
    return run_dir


def report_stage(
    config_path: str | Path,
    *,
    overrides: Iterable[str] = (),
    run_id: str | None = None,
    publish_dir: Path | None = None,
) -> RunDir:
    """Run the report stage (and MLflow logging and registration) on an evaluated run directory."""
    config = load_config(config_path, overrides=overrides)
    run_dir = resolve_run_dir(config.output_dir, config.experiment, run_id, create=False)
    tracker = _stage_tracker(config, run_dir)
    try:
        _finish_tracking(config, run_dir, tracker, publish_dir=publish_dir)
    except BaseException:
        if tracker is not None:
            tracker.end("FAILED")
        raise
    if tracker is not None:
        tracker.end("FINISHED")
    return run_dir

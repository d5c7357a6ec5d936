"""Orchestration: the order of the stages, MLflow around them, and failure handling."""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinai._utils import atomic_write_text, redact_url
from clinai.config import load_config
from clinai.exceptions import ClinaiError, ModelError
from clinai.runs._audit import anchor_tags, append_anchored_record
from clinai.runs._docstrings import fill_doc
from clinai.runs._evaluate import evaluate
from clinai.runs._lineage import code_version
from clinai.runs._phi import scan_run
from clinai.runs._plan import MONITORING_PLAN_TAG, registered_plan_sha256
from clinai.runs._prepare import config_for_output, config_sha256, prepare
from clinai.runs._report import acceptance_verdict, report
from clinai.runs._rundir import PATIENT_LEVEL, RunDir, absolute_sqlite_uri, resolve_run_dir
from clinai.runs._stage_config import check_prepared_config, record_stage_config
from clinai.runs._train import train
from clinai.runs._workers import check_storage_driver, check_workers

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
#: Set only by a named reviewer's decision (``clinai approve``), never by a run.
APPROVED_ALIAS = "approved"
#: Model version tag: whether every pre-specified acceptance criterion passed.
MEETS_CRITERIA_TAG = "meets_acceptance_criteria"
_TRACKING_FILE = "tracking.json"
#: A RUNNING MLflow run whose owner cannot be checked (another host, no owner tags) is
#: taken as orphaned after this many seconds.
ORPHAN_MIN_AGE_S = 24 * 3600.0
_HOST_TAG = "clinai.host"
_PID_TAG = "clinai.pid"


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

    check_storage_driver(config.tuning.storage)
    if config.is_survival:
        from clinai.runs._survival_run import check_survival_models

        check_survival_models(config)
        load_pipeline(config.pipeline)
        return
    known = models.get_model_names()
    for name in config.models:
        if name not in known:
            raise ModelError(
                "models: " + models.UNKNOWN_MODEL_MSG.format(name=name, names=", ".join(known))
            )
    load_pipeline(config.pipeline)


@dataclass(frozen=True)
class _Stages:
    """The stage functions of one outcome kind (binary, or survival: runs/_survival_run.py)."""

    prepare: Callable[..., Any]
    train: Callable[..., Any]
    evaluate: Callable[..., Any]
    metrics_file: str
    flat_metrics: Callable[[dict[str, Any]], dict[str, float]]
    report: Callable[..., Any]


def _stages(config: ExperimentConfig) -> _Stages:
    """Return the stages of the config's outcome kind."""
    if config.is_survival:
        from clinai.runs._survival_run import STAGES

        return _Stages(**STAGES)
    from clinai.tracking import flatten_metrics

    return _Stages(prepare, train, evaluate, "metrics.json", flatten_metrics, report)


def _owner_tags() -> dict[str, str]:
    """MLflow tags naming the process that owns a run (to tell orphans from live workers)."""
    return {_HOST_TAG: socket.gethostname(), _PID_TAG: str(os.getpid())}


def _owner_alive(tags: Mapping[str, str]) -> bool | None:
    """Whether the process that owns a run still runs: None if it cannot be told from here."""
    host, pid = tags.get(_HOST_TAG), tags.get(_PID_TAG)
    if host != socket.gethostname() or pid is None or not pid.isdigit():
        return None
    if int(pid) == os.getpid():
        return False  # this process starts a new run, so an old one of its own was left behind
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _mark_orphans(config: ExperimentConfig) -> None:
    """Mark MLflow runs left RUNNING by killed processes FAILED; live workers' runs stay."""
    if not config.tracking.enabled:
        return
    from clinai.tracking import mark_orphan_runs

    count = mark_orphan_runs(
        absolute_sqlite_uri(config.tracking.uri),
        config.experiment,
        min_age_s=ORPHAN_MIN_AGE_S,
        alive=_owner_alive,
    )
    if count:
        logger.warning("marked %s MLflow run(s) left RUNNING by a stopped process FAILED", count)


def _tracker(config: ExperimentConfig) -> MlflowTracker | None:
    if not config.tracking.enabled:
        return None
    from clinai.tracking import MlflowTracker

    return MlflowTracker(absolute_sqlite_uri(config.tracking.uri), config.experiment)


def _register(
    config: ExperimentConfig, run_dir: RunDir, tracker: MlflowTracker, metrics: dict[str, Any]
) -> dict[str, Any] | None:
    """Log the model to MLflow and register it under the alias ``candidate``.

    The version is tagged with the acceptance verdict and whether it meets the
    acceptance criteria; ``approved`` is left to a named reviewer (``clinai approve``).
    If tagging fails, the version is deleted again.
    """
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
    registry: dict[str, Any] = {
        "model_name": name,
        "version": version,
        "alias": CANDIDATE_ALIAS,
        # Where `clinai approve` finds the version again (a password would be hidden here).
        "tracking_uri": redact_url(tracker.tracking_uri),
        "mlflow_run_id": tracker.run_id,
    }
    verdict = acceptance_verdict(metrics)
    failed = [r["criterion"] for r in metrics.get("acceptance", []) if r.get("status") == "fail"]
    tags = {
        "acceptance_verdict": verdict,
        MEETS_CRITERIA_TAG: str(verdict == "accepted").lower(),
        "failed_criteria": ", ".join(failed) or "none",
        "clinai_run_id": run_dir.run_id,
        "approval.decision": "pending",
    }
    plan_sha256 = registered_plan_sha256(run_dir)
    if plan_sha256 is not None:  # `clinai monitor` checks the config's plan against it
        tags[MONITORING_PLAN_TAG] = plan_sha256
    try:
        tracker.registry.set_version_tags(name, version, tags)
        tracker.registry.set_alias(name, CANDIDATE_ALIAS, version)
    except BaseException:
        _unregister(tracker, registry)
        raise
    return registry


def _unregister(tracker: MlflowTracker, registry: Mapping[str, Any]) -> None:
    """Delete the version a failed run registered (a failed run leaves nothing registered)."""
    try:
        tracker.registry.delete_version(registry["model_name"], registry["version"])
    except ClinaiError:  # the original error matters more than a tracking failure
        logger.warning(
            "could not delete version %s of model %s registered by a failed run: delete it by "
            "hand (MLflow UI or MlflowClient.delete_model_version)",
            registry["version"],
            registry["model_name"],
        )


def _log_params(tracker: MlflowTracker, config: ExperimentConfig, run_dir: RunDir) -> None:
    manifest = run_dir.read_json("data_manifest.json", stage="prepare")
    tracker.log_params(
        {
            "config": config_for_output(config),
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
    """Log to MLflow, register, report, run the PHI guard and log the artifacts.

    The version is registered before the report (the card names it), so any failure
    after that deletes it again: a failed run leaves nothing in the registry.
    """
    stages = _stages(config)
    metrics = run_dir.read_json(stages.metrics_file, stage="evaluate")
    registry = None
    previous = None
    if tracker is not None:
        if config.tracking.register_model:
            previous = tracker.registry.latest_metrics(
                config.tracking.model_name or config.experiment
            )
        training = run_dir.read_json("training.json", stage="train")
        tracker.log_params(
            {"selected_model": training["selected"], "best_params": training["best_params"]}
        )
        tracker.log_metrics(stages.flat_metrics(metrics))
        registry = _register(config, run_dir, tracker, metrics)
    try:
        stages.report(
            config, run_dir, registry=registry, previous=previous, publish_dir=publish_dir
        )
        # The PHI guard runs before anything of the run directory is copied to MLflow.
        scan_run(
            config, run_dir.path, mlflow_texts=tracker.run_texts() if tracker is not None else None
        )
        if tracker is not None:
            tracker.log_artifacts(run_dir.path, exclude=PATIENT_LEVEL)
    except BaseException:
        if tracker is not None and registry is not None:
            _unregister(tracker, registry)
        raise
    return metrics, registry


@fill_doc
def run_experiment(
    config_path: str | Path,
    *,
    overrides: Iterable[str] = (),
    run_id: str | None = None,
    publish_dir: Path | None = None,
    show_progress: bool = True,
    workers: int = 1,
) -> RunResult:
    """Run every stage of an experiment: prepare -> train -> evaluate -> report -> register.

    One MLflow parent run covers the whole run, with tuning trials as nested runs.
    On any failure the MLflow run is marked FAILED and the run directory is renamed
    ``<run_id>.failed`` (with ``error.txt``), so nothing that looks complete is left.

    {parameters_config}
    run_id : str, optional
        Name of the run directory (default: a fresh timestamped id).
    publish_dir : pathlib.Path, optional
        Where to copy the English Markdown model card as ``<experiment>.md``.
    show_progress : bool
        Show Rich progress bars on stderr.
    workers : int, default=1
        Processes tuning each model family's Optuna study together (``--workers``).

    Returns
    -------
    RunResult
    """
    config = load_config(config_path, overrides=overrides)
    _check_before_start(config)
    check_workers(workers, config.tuning.storage)
    _mark_orphans(config)
    run_dir = resolve_run_dir(config.output_dir, config.experiment, run_id, create=True)
    stages = _stages(config)
    tracker = _tracker(config)
    mlflow_run_id = None
    registry = None
    try:
        if tracker is not None:
            mlflow_run_id = tracker.start(
                run_dir.run_id,
                tags={
                    "clinai.experiment": config.experiment,
                    "clinai.pipeline": config.pipeline,
                    **_owner_tags(),
                },
            )
        stages.prepare(config, run_dir)
        if tracker is not None:
            _log_params(tracker, config, run_dir)
        stages.train(config, run_dir, tracker=tracker, show_progress=show_progress, workers=workers)
        stages.evaluate(config, run_dir, show_progress=show_progress)
        metrics, registry = _finish_tracking(config, run_dir, tracker, publish_dir=publish_dir)
        _audit(
            config,
            run_dir,
            mlflow_run_id,
            status="finished",
            metrics=metrics,
            registry=registry,
            tracker=tracker,
        )
        if tracker is not None:
            tracker.end("FINISHED")
    except BaseException as exc:
        if tracker is not None and registry is not None:
            _unregister(tracker, registry)  # registered, but a later step failed
        if tracker is not None and mlflow_run_id is not None:
            status: RunStatus = "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED"
            try:
                tracker.end(status)
            except ClinaiError:  # the original error matters more than a tracking failure
                logger.warning("could not mark MLflow run %s as %s", mlflow_run_id, status)
        _mark_failed(run_dir, exc)
        try:
            _audit(config, run_dir, mlflow_run_id, status="failed", error=exc, tracker=tracker)
        except (OSError, ClinaiError):
            logger.warning("could not append failed run %s to the audit log", run_dir.run_id)
        raise
    return RunResult(
        experiment=config.experiment,
        run_dir=run_dir.path,
        metrics=metrics,
        verdict=acceptance_verdict(metrics),
        mlflow_run_id=mlflow_run_id,
        registry=registry,
    )


def _audit(
    config: ExperimentConfig,
    run_dir: RunDir,
    mlflow_run_id: str | None,
    *,
    status: str,
    metrics: dict[str, Any] | None = None,
    registry: dict[str, Any] | None = None,
    error: BaseException | None = None,
    tracker: MlflowTracker | None = None,
) -> None:
    """Append the run's record to ``<output_dir>/audit.jsonl`` (finished and failed runs).

    The record is anchored outside the log, so truncating the log is detected: its
    ``seq`` and ``sha256`` go into the run directory's ``audit_anchor.json`` and, with
    tracking, into the MLflow run's tags.
    """
    folder = run_dir.path
    if status == "failed":  # a failed run was renamed <run_id>.failed
        folder = run_dir.path.with_name(f"{run_dir.run_id}.failed")
    manifest_file = folder / "data_manifest.json"
    data_sha256 = (
        json.loads(manifest_file.read_text(encoding="utf-8")).get("data_sha256")
        if manifest_file.is_file()
        else None
    )
    _, anchor = append_anchored_record(
        config.output_dir,
        {
            "kind": "run",
            "experiment": config.experiment,
            "run_id": run_dir.run_id,
            "mlflow_run_id": mlflow_run_id,
            "status": status,
            # The class only: a message could quote input the log must not hold.
            "error": type(error).__name__ if error is not None else None,
            "config_sha256": config_sha256(config),
            "data_sha256": data_sha256,
            "code_version": code_version(),
            "acceptance_verdict": acceptance_verdict(metrics) if metrics is not None else None,
            "registry_action": (
                f"registered {registry['model_name']} v{registry['version']} "
                f"as @{registry['alias']}"
                if registry
                else "none"
            ),
        },
        run_path=folder if folder.is_dir() else None,
        kind="run",
    )
    if tracker is not None and tracker.run_id is not None:
        tracker.set_run_tags(anchor_tags(anchor))


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
        _stages(config).prepare(config, run_dir)
    except BaseException as exc:
        _mark_failed(run_dir, exc)
        raise
    return run_dir


@contextmanager
def _stage_tracker(config: ExperimentConfig, run_dir: RunDir) -> Iterator[MlflowTracker | None]:
    """Open (first stage) or reopen (later stages) the run's one MLflow run for a stage.

    The MLflow run is FINISHED when the stage succeeds and FAILED when it raises.
    """
    tracker = _tracker(config)
    if tracker is None:
        yield None
        return
    state_file = run_dir.file(_TRACKING_FILE)
    if state_file.is_file():
        tracker.resume(run_dir.read_json(_TRACKING_FILE, stage="train")["mlflow_run_id"])
    else:
        run_dir.write_json(_TRACKING_FILE, {"mlflow_run_id": tracker.start(run_dir.run_id)})
    try:
        yield tracker
    except BaseException:
        tracker.end("FAILED")
        raise
    tracker.end("FINISHED")


def train_stage(
    config_path: str | Path,
    *,
    overrides: Iterable[str] = (),
    run_id: str | None = None,
    show_progress: bool = True,
    workers: int = 1,
) -> RunDir:
    """Run the train stage on a prepared run directory (default: the LATEST one).

    ``workers`` processes tune each model family's Optuna study together.
    """
    config = load_config(config_path, overrides=overrides)
    check_workers(workers, config.tuning.storage)
    check_storage_driver(config.tuning.storage)
    run_dir = resolve_run_dir(config.output_dir, config.experiment, run_id, create=False)
    check_prepared_config(config, run_dir, stage="train")
    _mark_orphans(config)
    with _stage_tracker(config, run_dir) as tracker:
        if tracker is not None:
            _log_params(tracker, config, run_dir)
        _stages(config).train(
            config, run_dir, tracker=tracker, show_progress=show_progress, workers=workers
        )
    record_stage_config(config, run_dir)
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
    check_prepared_config(config, run_dir, stage="evaluate")
    _stages(config).evaluate(config, run_dir, show_progress=show_progress)
    record_stage_config(config, run_dir)
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
    check_prepared_config(config, run_dir, stage="report")
    record_stage_config(config, run_dir)  # only its tracking, languages or description differ
    with _stage_tracker(config, run_dir) as tracker:
        _finish_tracking(config, run_dir, tracker, publish_dir=publish_dir)
    return run_dir

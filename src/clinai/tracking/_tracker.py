"""MLflow tracking: a parent run per clinai run, nested trial runs, artifacts, model, registry.

This module (with :mod:`clinai.tracking._model_io`) is the only place in clinai
that imports mlflow, and it does so inside the methods, so ``import
clinai.tracking`` stays cheap. Runs are driven through an explicit
:class:`mlflow.MlflowClient` and explicit run ids rather than MLflow's global
"active run" stack, so logging trials from an Optuna callback (possibly in
another thread) cannot attach them to the wrong run.

Every MLflow failure is raised as :class:`clinai.exceptions.TrackingError`
naming the tracking URI (with any password hidden) and what was being done.
"""

from __future__ import annotations

import contextlib
import fnmatch
import io
import json
import logging
import math
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from clinai._utils import redact_url as _redact
from clinai.exceptions import TrackingError
from clinai.tracking._model_io import pip_requirements_for, quiet_mlflow_save, signature_example

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient

__all__ = [
    "MlflowTracker",
    "RunStatus",
    "find_audit_anchors",
    "flatten_metrics",
    "mark_orphan_runs",
]

logger = logging.getLogger(__name__)

RunStatus = Literal["FINISHED", "FAILED", "KILLED"]

_FAILED = "MLflow tracking at {uri} failed while {action}: {reason}"
_NOT_STARTED = (
    "MLflow tracking at {uri}: no run is active while {action}; call MlflowTracker.start() "
    "or use `with tracker.run(...)` first"
)
_ALREADY_STARTED = (
    "MLflow tracking at {uri}: run {run_id} is still active; end it with MlflowTracker.end() "
    "before starting another"
)
_DELETED_EXPERIMENT = (
    "MLflow tracking at {uri}: experiment {name!r} was deleted; restore it "
    "(`mlflow experiments restore --experiment-id {experiment_id}`) or use another experiment name"
)
_BAD_TEXT = "The '{name}' parameter must be a non-empty string. Got {got!r} instead."
_BAD_STATUS = "The 'status' parameter must be one of {valid}. Got {got!r} instead."
_NO_DIR = "MLflow tracking at {uri}: cannot log artifacts from {path}: it is not a folder"

_STATUSES = ("FINISHED", "FAILED", "KILLED")
# MLflow limits (mlflow.utils.validation), copied so that importing them needs no mlflow.
_MAX_PARAM_VALUE = 6000
_MAX_KEY = 250
_MAX_TAG_VALUE = 8000
_PARAMS_PER_BATCH = 100
_METRICS_PER_BATCH = 1000
_PARENT_TAG = "mlflow.parentRunId"
_TRIAL_STATUS = {"COMPLETE": "FINISHED", "PRUNED": "FINISHED", "FAIL": "FAILED"}

_KEY_REPLACEMENTS = (
    ("<=", "le"), (">=", "ge"), ("<", "lt"), (">", "gt"), ("=", "eq"), ("+", "plus"),
)
_INVALID_KEY_CHARS = re.compile(r"[^A-Za-z0-9_\-. /]")


def _metric_key(*parts: object) -> str:
    """Join parts into an MLflow-safe metric key; '<50' -> 'lt50', '70+' -> '70plus'."""
    text = "_".join(str(p) for p in parts if p is not None and str(p) != "")
    for old, new in _KEY_REPLACEMENTS:
        text = text.replace(old, new)
    return _INVALID_KEY_CHARS.sub("_", text)[:_MAX_KEY]


def _param_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        try:
            text = json.dumps(list(value), default=str)
        except (TypeError, ValueError):
            text = str(value)
    else:
        text = str(value)
    if len(text) > _MAX_PARAM_VALUE:
        logger.debug("param value truncated from %s to %s characters", len(text), _MAX_PARAM_VALUE)
        text = text[: _MAX_PARAM_VALUE - 3] + "..."
    return text


def _flatten_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Flatten nested mappings with dots: ``{"a": {"b": 1}} -> {"a.b": "1"}``."""
    flat: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten_params(value, f"{name}."))
        else:
            flat[_INVALID_KEY_CHARS.sub("_", name)[:_MAX_KEY]] = _param_value(value)
    return flat


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _add_estimate(out: dict[str, float], key: str, value: Any) -> None:
    if isinstance(value, Mapping):
        for suffix, part in (("", "estimate"), ("_ci_low", "ci_low"), ("_ci_high", "ci_high")):
            number = _finite(value.get(part))
            if number is not None:
                out[f"{key}{suffix}"] = number
    else:
        number = _finite(value)
        if number is not None:
            out[key] = number


def flatten_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """Turn metrics.json (schema v1) into flat MLflow metric names.

    Estimates become ``name``, ``name_ci_low`` and ``name_ci_high`` (``auroc``,
    ``calibration_slope_ci_low``, ``sensitivity_at_0.2``,
    ``subgroup_sex_female_auroc``); missing and non-finite values are left out.
    Curves (ROC, calibration, decision curve) are not metrics and are skipped,
    and so is every suppressed subgroup cell: a cell too small to show a person
    is too small to show in MLflow.

    Parameters
    ----------
    metrics : mapping
        The validation result, metrics.json schema v1.

    Returns
    -------
    dict of str to float
        Metric name to value.

    Examples
    --------
    >>> flatten_metrics({"n": 60, "auroc": {"estimate": 0.8, "ci_low": 0.7, "ci_high": 0.9}})
    {'n': 60.0, 'auroc': 0.8, 'auroc_ci_low': 0.7, 'auroc_ci_high': 0.9}
    """
    out: dict[str, float] = {}
    for key in ("n", "events", "prevalence", "auroc", "auprc", "brier", "scaled_brier"):
        _add_estimate(out, key, metrics.get(key))
    calibration = metrics.get("calibration")
    if isinstance(calibration, Mapping):
        for key in ("intercept", "slope", "oe_ratio", "ici", "e50", "e90"):
            _add_estimate(out, f"calibration_{key}", calibration.get(key))
    for row in metrics.get("thresholds") or []:
        threshold = _finite(row.get("threshold")) if isinstance(row, Mapping) else None
        if threshold is None:
            continue
        for key in ("sensitivity", "specificity", "ppv", "npv", "flag_rate"):
            _add_estimate(out, f"{key}_at_{threshold:g}", row.get(key))
    subgroups = metrics.get("subgroups")
    for attribute, rows in (subgroups.items() if isinstance(subgroups, Mapping) else []):
        for row in rows or []:
            if not isinstance(row, Mapping) or row.get("suppressed"):
                continue
            for key in ("n", "events", "auroc", "calibration_intercept", "oe_ratio",
                        "sensitivity", "specificity"):
                _add_estimate(out, _metric_key("subgroup", attribute, row.get("group"), key),
                              row.get(key))
    baseline = metrics.get("baseline_comparison")
    if isinstance(baseline, Mapping):
        _add_estimate(out, "baseline_auroc_diff", baseline.get("auroc_diff"))
        _add_estimate(out, "baseline_p_value", baseline.get("p_value"))
    statuses = [
        str(row.get("status", "")).lower() for row in metrics.get("acceptance") or []
        if isinstance(row, Mapping)
    ]
    if statuses:
        for status in ("pass", "fail", "not_applicable"):
            out[f"acceptance_n_{status}"] = float(statuses.count(status))
    return out


def _is_excluded(relative: str, patterns: Sequence[str]) -> bool:
    """Whether a file (POSIX path relative to the logged folder) matches an exclude pattern.

    A pattern matches the file name (``predictions.parquet``, ``*.parquet``), the
    relative path (``plots/raw_*.png``) or any folder on the way (``prepared`` or
    ``prepared/``).
    """
    parts = relative.split("/")
    folders, name = parts[:-1], parts[-1]
    for pattern in patterns:
        if pattern.endswith("/"):
            folder = pattern.rstrip("/")
            if any(fnmatch.fnmatchcase(f, folder) for f in folders) or relative.startswith(pattern):
                return True
            continue
        if fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(relative, pattern):
            return True
        if any(fnmatch.fnmatchcase(f, pattern) for f in folders):
            return True
    return False


def _artifact_location(tracking_uri: str, experiment: str) -> str | None:
    """``file://<db dir>/mlartifacts/<experiment>`` for a SQLite store, else ``None``."""
    if not tracking_uri.startswith("sqlite:///"):
        return None
    path = tracking_uri.removeprefix("sqlite:///").split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    folder = Path(path).expanduser().resolve().parent / "mlartifacts" / experiment.replace("/", "_")
    return folder.as_uri()


def _client(tracking_uri: str) -> MlflowClient:
    import mlflow
    from mlflow import MlflowClient

    # Set explicitly: MLflow 3.17 falls back to sqlite:///<cwd>/mlflow.db when no URI is set,
    # and log_model resolves the URI from this global setting.
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


class MlflowTracker:
    """Log one clinai run to MLflow: a parent run, nested trial runs, artifacts and the model.

    Parameters
    ----------
    tracking_uri : str
        E.g. ``"sqlite:///mlruns.db"`` (embedded default; artifacts go to
        ``mlartifacts/<experiment>`` beside the database), a PostgreSQL URL or
        ``"http://host:5000"`` for an MLflow server.
    experiment : str
        Experiment name; created on :meth:`start` if it does not exist.

    Attributes
    ----------
    run_id : str or None
        The parent run's id once started.
    experiment_id : str or None
        The experiment's id once started.

    Notes
    -----
    The tracker never logs patient-level data by itself; the caller decides what
    goes in, and should pass ``exclude`` to :meth:`log_artifacts` for
    predictions and prepared data, and a synthetic ``input_example`` to
    :meth:`log_model`. ``MLFLOW_DISABLE_TELEMETRY`` is left to the caller's environment.

    Examples
    --------
    >>> tracker = MlflowTracker("sqlite:///mlruns.db", "icu_mortality")  # doctest: +SKIP
    >>> with tracker.run("logistic-2026-08-01") as run_id:  # doctest: +SKIP
    ...     tracker.log_params({"model": {"family": "logistic"}})
    ...     tracker.log_metrics(flatten_metrics(metrics))
    """

    def __init__(self, tracking_uri: str, experiment: str) -> None:
        if not isinstance(tracking_uri, str) or not tracking_uri:
            raise ValueError(_BAD_TEXT.format(name="tracking_uri", got=tracking_uri))
        if not isinstance(experiment, str) or not experiment:
            raise ValueError(_BAD_TEXT.format(name="experiment", got=experiment))
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.run_id: str | None = None
        self.experiment_id: str | None = None
        self._active = False
        self._client_instance: MlflowClient | None = None

    def __repr__(self) -> str:
        return (
            f"MlflowTracker(tracking_uri={_redact(self.tracking_uri)!r}, "
            f"experiment={self.experiment!r}, run_id={self.run_id!r})"
        )

    # -- helpers ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _failure(self, action: str) -> Iterator[None]:
        try:
            yield
        except TrackingError:
            raise
        except Exception as exc:
            raise TrackingError(
                _FAILED.format(uri=_redact(self.tracking_uri), action=action, reason=exc)
            ) from exc

    @property
    def _client(self) -> MlflowClient:
        if self._client_instance is None:
            with self._failure("connecting"):
                self._client_instance = _client(self.tracking_uri)
        return self._client_instance

    def _require_run(self, action: str) -> str:
        if not self._active or self.run_id is None:
            raise TrackingError(_NOT_STARTED.format(uri=_redact(self.tracking_uri), action=action))
        return self.run_id

    def _ensure_experiment(self) -> str:
        from mlflow.exceptions import MlflowException

        client = self._client
        experiment = client.get_experiment_by_name(self.experiment)
        if experiment is None:
            location = _artifact_location(self.tracking_uri, self.experiment)
            try:
                return client.create_experiment(self.experiment, artifact_location=location)
            except MlflowException:
                # Another process may have created it in the meantime.
                experiment = client.get_experiment_by_name(self.experiment)
                if experiment is None:
                    raise
            logger.info("created MLflow experiment %s (artifacts at %s)", self.experiment, location)
        if experiment.lifecycle_stage == "deleted":
            raise TrackingError(_DELETED_EXPERIMENT.format(
                uri=_redact(self.tracking_uri), name=self.experiment,
                experiment_id=experiment.experiment_id,
            ))
        return str(experiment.experiment_id)

    def _log_batch(self, run_id: str, *, params: Mapping[str, str] | None = None,
                   metrics: Mapping[str, float] | None = None, step: int = 0) -> None:
        from mlflow.entities import Metric, Param

        client = self._client
        params_list = [Param(k, v) for k, v in (params or {}).items()]
        for start in range(0, len(params_list), _PARAMS_PER_BATCH):
            client.log_batch(run_id, params=params_list[start:start + _PARAMS_PER_BATCH])
        timestamp = int(time.time() * 1000)
        metric_list = [Metric(k, v, timestamp, step) for k, v in (metrics or {}).items()]
        for start in range(0, len(metric_list), _METRICS_PER_BATCH):
            client.log_batch(run_id, metrics=metric_list[start:start + _METRICS_PER_BATCH])

    # -- runs ------------------------------------------------------------------------------

    def start(self, run_name: str, *, tags: Mapping[str, str] | None = None) -> str:
        """Start the parent run (creating the experiment if needed).

        Parameters
        ----------
        run_name : str
            Name shown in the MLflow UI.
        tags : mapping of str to str or None, default=None
            Extra run tags.

        Returns
        -------
        str
            The parent run id.

        Raises
        ------
        TrackingError
            If a run of this tracker is still active, or MLflow fails.
        """
        if self._active:
            raise TrackingError(_ALREADY_STARTED.format(uri=_redact(self.tracking_uri),
                                                        run_id=self.run_id))
        with self._failure(f"starting run {run_name!r} in experiment {self.experiment!r}"):
            self.experiment_id = self._ensure_experiment()
            run_tags = {"clinai.kind": "run", **{str(k): str(v)[:_MAX_TAG_VALUE]
                                                 for k, v in (tags or {}).items()}}
            run = self._client.create_run(self.experiment_id, run_name=run_name, tags=run_tags)
        self.run_id = run.info.run_id
        self._active = True
        logger.info("MLflow run %s started in experiment %s at %s", self.run_id, self.experiment,
                    _redact(self.tracking_uri))
        return self.run_id

    def resume(self, run_id: str) -> str:
        """Reopen an existing parent run (a later stage of the same clinai run).

        The stages of ``clinai prepare|train|evaluate|report`` run in separate
        processes; each reopens the one MLflow run that the first stage started.

        Raises
        ------
        TrackingError
            If the run does not exist or MLflow fails.
        """
        if self._active:
            raise TrackingError(_ALREADY_STARTED.format(uri=_redact(self.tracking_uri),
                                                        run_id=self.run_id))
        with self._failure(f"resuming run {run_id}"):
            run = self._client.get_run(run_id)
            self.experiment_id = run.info.experiment_id
            self._client.update_run(run_id, status="RUNNING")
        self.run_id = run_id
        self._active = True
        return run_id

    def end(self, status: RunStatus = "FINISHED") -> None:
        """End the parent run with ``status`` (``FINISHED``, ``FAILED`` or ``KILLED``).

        Does nothing if no run is active.

        Raises
        ------
        ValueError
            If ``status`` is not one of the three.
        TrackingError
            If MLflow fails.
        """
        if status not in _STATUSES:
            raise ValueError(_BAD_STATUS.format(valid=list(_STATUSES), got=status))
        if not self._active or self.run_id is None:
            logger.debug("MlflowTracker.end(%s): no active run", status)
            return
        with self._failure(f"ending run {self.run_id} as {status}"):
            self._client.set_terminated(self.run_id, status=status)
        self._active = False
        logger.info("MLflow run %s ended: %s", self.run_id, status)

    def _end_after_error(self, status: RunStatus) -> None:
        try:
            self.end(status)
        except TrackingError:
            logger.warning("could not mark MLflow run %s as %s", self.run_id, status, exc_info=True)

    @contextlib.contextmanager
    def run(self, run_name: str, *, tags: Mapping[str, str] | None = None) -> Iterator[str]:
        """Start the parent run for a ``with`` block and end it on the way out.

        The run ends ``FINISHED`` when the block completes, ``KILLED`` on
        ``KeyboardInterrupt`` and ``FAILED`` on any other exception, which is re-raised.

        Parameters
        ----------
        run_name : str
            Name shown in the MLflow UI.
        tags : mapping of str to str or None, default=None
            Extra run tags.

        Yields
        ------
        str
            The parent run id.
        """
        run_id = self.start(run_name, tags=tags)
        try:
            yield run_id
        except KeyboardInterrupt:
            self._end_after_error("KILLED")
            raise
        except BaseException:
            self._end_after_error("FAILED")
            raise
        self.end("FINISHED")

    # -- logging ---------------------------------------------------------------------------

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log parameters on the parent run.

        Nested mappings are flattened with dots (``{"tuning": {"n_trials": 20}}`` ->
        ``tuning.n_trials``); values are converted to text and truncated to MLflow's
        limit of 6000 characters.

        Raises
        ------
        TrackingError
            If no run is active, or MLflow refuses (e.g. a parameter re-logged with
            a different value).
        """
        run_id = self._require_run("logging params")
        flat = _flatten_params(params)
        with self._failure("logging params"):
            self._log_batch(run_id, params=flat)

    def run_texts(self) -> dict[str, str]:
        """Return the parent run's params and tags as text (``param.<key>``, ``tag.<key>``).

        Used to check, at the end of a run, that nothing logged holds patient data.

        Raises
        ------
        TrackingError
            If no run is active, or MLflow fails.
        """
        run_id = self._require_run("reading params and tags")
        with self._failure(f"reading params and tags of run {run_id}"):
            data = self._client.get_run(run_id).data
        texts = {f"param.{k}": str(v) for k, v in data.params.items()}
        texts.update({f"tag.{k}": str(v) for k, v in data.tags.items()})
        return texts

    def log_metrics(self, metrics: Mapping[str, float], *, step: int | None = None) -> None:
        """Log metrics on the parent run; ``None`` and non-numbers are skipped.

        Parameters
        ----------
        metrics : mapping of str to float
            E.g. from :func:`flatten_metrics`.
        step : int or None, default=None
            Step of the values (``0`` if ``None``).
        """
        run_id = self._require_run("logging metrics")
        clean: dict[str, float] = {}
        for key, value in metrics.items():
            if value is None or isinstance(value, bool):
                continue
            try:
                clean[_metric_key(key)] = float(value)
            except (TypeError, ValueError):
                logger.debug("metric %s skipped: %r is not a number", key, value)
        with self._failure("logging metrics"):
            self._log_batch(run_id, metrics=clean, step=step or 0)

    def log_trial(
        self,
        model_family: str,
        number: int,
        params: Mapping[str, Any],
        score: float | None,
        state: str,
    ) -> str:
        """Log one tuning trial as a nested child run of the parent run.

        The child is named ``f"{model_family}-trial-{number}"``, tagged with
        ``mlflow.parentRunId``, ``clinai.kind=trial``, ``clinai.model_family``,
        ``clinai.trial_number`` and ``clinai.trial_state``, holds the trial's
        params and its ``cv_score`` metric, and ends ``FINISHED`` (complete or
        pruned trials) or ``FAILED``. Safe to call from an Optuna callback thread.

        Parameters
        ----------
        model_family : str
            E.g. ``"logistic"``.
        number : int
            Trial number within the family's study.
        params : mapping
            The trial's hyperparameters.
        score : float or None
            Cross-validated score (``None`` for a failed or pruned trial).
        state : str
            Optuna's trial state name: ``COMPLETE``, ``PRUNED`` or ``FAIL``.

        Returns
        -------
        str
            The child run id.
        """
        parent = self._require_run("logging a trial")
        state_name = str(state).upper().rsplit(".", 1)[-1]  # accepts "TrialState.COMPLETE"
        tags = {
            _PARENT_TAG: parent,
            "clinai.kind": "trial",
            "clinai.model_family": str(model_family),
            "clinai.trial_number": str(number),
            "clinai.trial_state": state_name,
        }
        value = _finite(score)
        with self._failure(f"logging trial {number} of {model_family}"):
            child = self._client.create_run(
                self.experiment_id or self._ensure_experiment(),
                run_name=f"{model_family}-trial-{number}", tags=tags,
            )
            child_id = child.info.run_id
            try:
                self._log_batch(child_id, params=_flatten_params(params),
                                metrics={"cv_score": value} if value is not None else None)
            except BaseException:
                self._client.set_terminated(child_id, status="FAILED")
                raise
            self._client.set_terminated(child_id, status=_TRIAL_STATUS.get(state_name, "FAILED"))
        return str(child_id)

    def log_artifacts(
        self,
        local_dir: str | os.PathLike[str],
        *,
        artifact_path: str | None = None,
        exclude: Sequence[str] = (),
    ) -> list[str]:
        """Log the files of a folder as artifacts of the parent run, except excluded ones.

        Parameters
        ----------
        local_dir : path-like
            The folder (e.g. the run directory).
        artifact_path : str or None, default=None
            Folder inside the run's artifacts.
        exclude : sequence of str, default=()
            Glob patterns matched against each file name, its relative path and
            the folders on its way: ``("predictions.parquet", "prepared/")`` keeps
            patient-level files out of MLflow. Symbolic links are never followed.

        Returns
        -------
        list of str
            The relative POSIX paths of the files logged.
        """
        run_id = self._require_run("logging artifacts")
        root = Path(local_dir)
        if not root.is_dir():
            raise TrackingError(_NO_DIR.format(uri=_redact(self.tracking_uri), path=root))
        logged: list[str] = []
        with self._failure(f"logging artifacts from {root}"):
            for folder, dirnames, filenames in os.walk(root):
                dirnames.sort()
                for filename in sorted(filenames):
                    path = Path(folder, filename)
                    relative = path.relative_to(root).as_posix()
                    if path.is_symlink() or _is_excluded(relative, exclude):
                        logger.debug("artifact %s not logged (excluded or a link)", relative)
                        continue
                    parent = Path(relative).parent.as_posix()
                    target = "/".join(p for p in (artifact_path, parent) if p and p != ".") or None
                    self._client.log_artifact(run_id, str(path), artifact_path=target)
                    logged.append(relative)
        logger.info("logged %s artifacts from %s", len(logged), root)
        return logged

    def log_model(
        self,
        model: Any,
        *,
        input_example: pd.DataFrame,
        registered_model_name: str | None = None,
    ) -> dict[str, Any]:
        """Log a fitted scikit-learn-API model on the parent run, optionally registering it.

        The model is saved with ``mlflow.sklearn`` under the name ``model``, in
        cloudpickle format (skops refuses LightGBM and PyTorch types), with a
        signature inferred from ``input_example`` and ``model.predict_proba``, an
        explicit short ``pip_requirements`` list (MLflow's own inference takes about
        10 s and over-reaches), and ``pyfunc_predict_fn="predict_proba"`` so that a
        reloaded pyfunc returns probabilities.

        Parameters
        ----------
        model : estimator
            Fitted, with ``predict_proba``.
        input_example : pandas.DataFrame
            A few **synthetic** rows (stored with the model: never real patients).
        registered_model_name : str or None, default=None
            Register a new version under this name.

        Returns
        -------
        dict
            ``{"model_uri", "version", "model_id", "run_id", "name"}``; ``version`` is
            the registered version (int) or ``None``.
        """
        run_id = self._require_run("logging the model")
        with self._failure("logging the model"), quiet_mlflow_save():
            import mlflow
            import mlflow.sklearn
            from mlflow.models import infer_signature

            mlflow.set_tracking_uri(self.tracking_uri)
            mlflow.set_registry_uri(self.tracking_uri)
            input_example = signature_example(input_example)
            signature = infer_signature(input_example, model.predict_proba(input_example))
            # Create the logged model in this run's experiment ourselves: without an active
            # fluent run, MLflow 3.17 would file it under the Default experiment (id 0), whose
            # artifacts land in ./mlruns of the working directory.
            logged = self._client.create_logged_model(
                experiment_id=self.experiment_id or self._ensure_experiment(),
                name="model",
                source_run_id=run_id,
                params=dict(self._client.get_run(run_id).data.params),
            )
            # MLflow prints "Successfully registered model ..." to stderr: route it to the log.
            registration_notes = io.StringIO()
            with contextlib.redirect_stderr(registration_notes):
                info = mlflow.sklearn.log_model(
                    model,
                    name="model",
                    signature=signature,
                    input_example=input_example,
                    pip_requirements=pip_requirements_for(model),
                    serialization_format="cloudpickle",
                    pyfunc_predict_fn="predict_proba",
                    registered_model_name=registered_model_name,
                    run_id=run_id,
                    model_id=logged.model_id,
                )
            logger.info("%s", registration_notes.getvalue().strip())
        version = info.registered_model_version
        logger.info("model logged to %s%s", info.model_uri,
                    f" as {registered_model_name} v{version}" if version is not None else "")
        return {
            "model_uri": info.model_uri,
            "version": None if version is None else int(version),
            "model_id": getattr(info, "model_id", None),
            "run_id": run_id,
            "name": registered_model_name,
        }

    # -- registry --------------------------------------------------------------------------

    def set_registered_alias(self, name: str, alias: str, version: int | str) -> None:
        """Point ``alias`` (e.g. ``candidate``, ``approved``) of a registered model at ``version``.

        Aliases replace MLflow's deprecated stages; ``models:/<name>@<alias>`` then
        loads that version.
        """
        with self._failure(f"setting alias {alias!r} of model {name!r} to version {version}"):
            self._client.set_registered_model_alias(name, alias, str(version))

    def delete_version(self, name: str, version: int | str) -> None:
        """Delete a registered version (and the registered model if it has no version left).

        Used when a run fails after registration (e.g. the PHI guard or the audit log):
        a failed run must leave nothing in the registry. Its aliases go with it.
        """
        with self._failure(f"deleting version {version} of model {name!r}"):
            self._client.delete_model_version(name, str(version))
            if not self._client.search_model_versions(f"name = '{name}'"):
                self._client.delete_registered_model(name)
        logger.info("deleted version %s of model %s", version, name)

    def model_version(self, name: str, version: int | str) -> dict[str, Any] | None:
        """Return ``{"run_id", "tags", "aliases"}`` of a registered version, or None if absent."""
        from mlflow.exceptions import MlflowException

        try:
            found = self._client.get_model_version(name, str(version))
        except MlflowException as exc:
            logger.debug("model %s has no version %s: %s", name, version, exc)
            return None
        except Exception as exc:
            raise TrackingError(
                _FAILED.format(uri=_redact(self.tracking_uri),
                               action=f"reading version {version} of model {name!r}", reason=exc)
            ) from exc
        return {
            "run_id": found.run_id,
            "tags": dict(found.tags or {}),
            "aliases": list(found.aliases or []),
        }

    def delete_alias_of(self, name: str, alias: str, version: int | str) -> bool:
        """Remove ``alias`` of model ``name`` if it points at ``version``; return whether it did."""
        with self._failure(f"removing alias {alias!r} of model {name!r}"):
            aliases = self._client.get_registered_model(name).aliases or {}
            if str(aliases.get(alias)) != str(version):
                return False
            self._client.delete_registered_model_alias(name, alias)
        return True

    def set_run_tags(self, tags: Mapping[str, Any], *, run_id: str | None = None) -> None:
        """Set tags on the parent run (also after it ended) or on the run ``run_id``.

        Raises
        ------
        TrackingError
            If no run was started and no ``run_id`` is given, or MLflow fails.
        """
        target = run_id or self.run_id
        if target is None:
            raise TrackingError(
                _NOT_STARTED.format(uri=_redact(self.tracking_uri), action="setting run tags")
            )
        with self._failure(f"tagging run {target}"):
            for key, value in tags.items():
                self._client.set_tag(target, str(key), str(value)[:_MAX_TAG_VALUE])

    def latest_registered_metrics(self, name: str) -> dict[str, Any] | None:
        """Return ``{"version", "metrics"}`` of the newest registered version of ``name``.

        ``metrics`` is that version's ``metrics.json`` artifact (the validation result the
        change log of the next report compares with); ``None`` if the model has no version
        yet or its run kept no ``metrics.json``.
        """
        import mlflow.artifacts

        with self._failure(f"reading the latest registered version of model {name!r}"):
            try:
                found = self._client.search_model_versions(f"name = '{name}'")
            except Exception as exc:  # the model is not registered yet
                logger.debug("no registered versions of %s: %s", name, exc)
                return None
            versions = [v for v in found if v.run_id]
            if not versions:
                return None
            latest = max(versions, key=lambda v: int(v.version))
            try:
                with contextlib.redirect_stderr(io.StringIO()):  # no progress bar on stderr
                    path = mlflow.artifacts.download_artifacts(
                        run_id=latest.run_id, artifact_path="metrics.json",
                        tracking_uri=self.tracking_uri,
                    )
            except Exception as exc:
                logger.debug("version %s of %s has no metrics.json: %s", latest.version, name, exc)
                return None
            metrics = json.loads(Path(path).read_text(encoding="utf-8"))
        return {"version": str(latest.version), "metrics": metrics}

    def load_registered_model(
        self, name: str, *, aliases: Sequence[str] = ("approved", "candidate")
    ) -> dict[str, Any] | None:
        """Load the registered version of ``name`` the first of ``aliases`` points at.

        This is the model currently in use (``approved``) or, if none is approved
        yet, the latest ``candidate``, so a new version can be compared with it on
        the same patients.

        Returns
        -------
        dict or None
            ``{"model", "version", "alias", "run_id_tag"}`` (the scikit-learn model
            as logged; ``run_id_tag`` is the version's ``clinai_run_id`` tag, or
            None); None if no alias points at a version or the model is not
            registered.
        """
        import mlflow.sklearn

        for alias in aliases:
            try:
                version = self._client.get_model_version_by_alias(name, alias)
            except Exception as exc:  # no such model or alias
                logger.debug("model %s has no alias %s: %s", name, alias, exc)
                continue
            with self._failure(f"loading version {version.version} of model {name!r}"):
                mlflow.set_registry_uri(self.tracking_uri)
                mlflow.set_tracking_uri(self.tracking_uri)
                # MLflow draws a download progress bar on stderr: keep it out of the CLI output.
                with contextlib.redirect_stderr(io.StringIO()):
                    model = mlflow.sklearn.load_model(f"models:/{name}@{alias}")
            return {
                "model": model,
                "version": str(version.version),
                "alias": alias,
                "run_id_tag": (version.tags or {}).get("clinai_run_id"),
            }
        return None

    def set_model_version_tags(
        self, name: str, version: int | str, tags: Mapping[str, Any]
    ) -> None:
        """Set tags (e.g. the acceptance verdict, the card's hash) on a registered model version."""
        with self._failure(f"tagging version {version} of model {name!r}"):
            for key, value in tags.items():
                self._client.set_model_version_tag(name, str(version), str(key),
                                                   str(value)[:_MAX_TAG_VALUE])


def find_audit_anchors(
    tracking_uri: str, *, seq_tag: str, sha_tag: str, chain_tag: str
) -> list[tuple[str, dict[str, Any]]]:
    """Return the audit-log anchors kept as tags of the runs of every experiment.

    Parameters
    ----------
    tracking_uri : str
        The tracking URI.
    seq_tag, sha_tag, chain_tag : str
        Names of the tags holding an anchor's ``seq``, ``sha256`` and ``chain``.

    Returns
    -------
    list of (str, dict)
        ``("MLflow run <run name> (<run id>)", {"seq", "sha256", "chain"})`` for each run
        that carries the three tags.
    """
    anchors: list[tuple[str, dict[str, Any]]] = []
    try:
        client = _client(tracking_uri)
        ids = [e.experiment_id for e in client.search_experiments()]
        page_token = None
        while ids:
            page = client.search_runs(
                ids, filter_string=f"tags.`{sha_tag}` LIKE '%'", max_results=1000,
                page_token=page_token,
            )
            for run in page:
                tags = run.data.tags
                seq = tags.get(seq_tag, "")
                if not seq.isdigit() or not tags.get(sha_tag):
                    continue
                where = f"MLflow run {run.info.run_name} ({run.info.run_id})"
                anchors.append(
                    (where, {"seq": int(seq), "sha256": tags[sha_tag],
                             "chain": tags.get(chain_tag) or None})
                )
            page_token = page.token
            if not page_token:
                break
    except Exception as exc:
        raise TrackingError(
            _FAILED.format(uri=_redact(tracking_uri), action="reading audit anchors", reason=exc)
        ) from exc
    return anchors


def _delete_versions_of_run(client: MlflowClient, run_id: str) -> None:
    """Delete the registered versions of a failed run (and models left without a version).

    A process killed between registering its model and finishing leaves a version
    that points at a run that never finished: a failed run leaves nothing registered.
    """
    for version in client.search_model_versions(f"run_id = '{run_id}'"):
        client.delete_model_version(version.name, version.version)
        logger.warning(
            "deleted version %s of model %s: its run %s never finished",
            version.version, version.name, run_id,
        )
        if not client.search_model_versions(f"name = '{version.name}'"):
            client.delete_registered_model(version.name)


def mark_orphan_runs(
    tracking_uri: str,
    experiment: str,
    *,
    min_age_s: float = 0.0,
    alive: Callable[[Mapping[str, str]], bool | None] | None = None,
) -> int:
    """Mark runs left ``RUNNING`` by a killed process as ``FAILED``.

    Call it before starting a run. With several workers logging to one
    experiment at once, pass ``alive`` (which tells from a run's tags whether
    the process that owns it still runs) or ``min_age_s`` larger than the
    longest run, so that live runs of other workers are left alone. Nested
    runs of a parent that is marked are marked too.

    Parameters
    ----------
    tracking_uri : str
        The tracking URI.
    experiment : str
        Experiment name; a missing experiment has no orphans.
    min_age_s : float, default=0.0
        Runs whose owner ``alive`` cannot tell are marked only if started at
        least this many seconds ago.
    alive : callable, optional
        Called with a run's tags: ``True`` (its process runs: left alone),
        ``False`` (its process is gone: marked whatever its age) or ``None``
        (unknown: ``min_age_s`` decides). Default: unknown for every run.

    Returns
    -------
    int
        The number of runs marked ``FAILED`` (tagged ``clinai.orphaned=true``). Model
        versions registered by a marked run are deleted (a failed run leaves nothing
        registered).
    """
    action = f"marking orphaned runs of experiment {experiment!r}"
    try:
        client = _client(tracking_uri)
        found = client.get_experiment_by_name(experiment)
        if found is None:
            return 0
        cutoff = (time.time() - min_age_s) * 1000
        orphans: list[Any] = []
        running: list[Any] = []
        page_token = None
        while True:
            page = client.search_runs(
                [found.experiment_id], filter_string="attributes.status = 'RUNNING'",
                max_results=1000, page_token=page_token,
            )
            running += list(page)
            page_token = page.token
            if not page_token:
                break
        for run in running:
            owner = alive(run.data.tags) if alive is not None else None
            if owner is False or (owner is None and run.info.start_time <= cutoff):
                orphans.append(run)
        parents = {run.info.run_id for run in orphans}
        orphans += [
            run
            for run in running
            if run.info.run_id not in parents and run.data.tags.get(_PARENT_TAG) in parents
        ]
        for run in orphans:
            client.set_tag(run.info.run_id, "clinai.orphaned", "true")
            client.set_terminated(run.info.run_id, status="FAILED")
            logger.warning("MLflow run %s was left RUNNING; marked FAILED", run.info.run_id)
            _delete_versions_of_run(client, run.info.run_id)
    except TrackingError:
        raise
    except Exception as exc:
        raise TrackingError(
            _FAILED.format(uri=_redact(tracking_uri), action=action, reason=exc)
        ) from exc
    return len(orphans)

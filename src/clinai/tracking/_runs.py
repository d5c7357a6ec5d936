"""Run logging: a parent MLflow run per clinai run, nested trial runs, params, metrics, files.

Runs are driven through an explicit :class:`mlflow.MlflowClient` and explicit
run ids rather than MLflow's global "active run" stack, so logging trials from
an Optuna callback (possibly in another thread) cannot attach them to the wrong
run. The registry of the same store is :attr:`MlflowTracker.registry`.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from clinai._utils import redact_url
from clinai.exceptions import TrackingError
from clinai.tracking._artifacts import log_folder, log_sklearn_model
from clinai.tracking._client import MlflowStore, log_batch, tag_text
from clinai.tracking._flatten import flatten_params, metric_values
from clinai.tracking._registry import ModelRegistry
from clinai.tracking._trials import log_trial_run

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient

__all__ = ["MlflowTracker", "RunStatus"]

logger = logging.getLogger(__name__)

RunStatus = Literal["FINISHED", "FAILED", "KILLED"]

_NOT_STARTED = (
    "MLflow tracking at {uri}: no run is active while {action}; call MlflowTracker.start() "
    "or use `with tracker.run(...)` first"
)
_ALREADY_STARTED = (
    "MLflow tracking at {uri}: run {run_id} is still active; end it with MlflowTracker.end() "
    "before starting another"
)
_BAD_TEXT = "The '{name}' parameter must be a non-empty string. Got {got!r} instead."
_BAD_STATUS = "The 'status' parameter must be one of {valid}. Got {got!r} instead."

_STATUSES = ("FINISHED", "FAILED", "KILLED")


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
    registry : ModelRegistry
        The model registry of the same store (aliases, version tags, deletion, loading).

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
        self._store = MlflowStore(tracking_uri)
        self.registry = ModelRegistry(self._store)

    def __repr__(self) -> str:
        return (
            f"MlflowTracker(tracking_uri={redact_url(self.tracking_uri)!r}, "
            f"experiment={self.experiment!r}, run_id={self.run_id!r})"
        )

    # -- helpers ---------------------------------------------------------------------------

    @property
    def _client(self) -> MlflowClient:
        return self._store.client

    def _require_run(self, action: str) -> str:
        if not self._active or self.run_id is None:
            raise self._store.error(_NOT_STARTED, action=action)
        return self.run_id

    def _experiment_id(self) -> str:
        if self.experiment_id is None:
            self.experiment_id = self._store.ensure_experiment(self.experiment)
        return self.experiment_id

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
            raise self._store.error(_ALREADY_STARTED, run_id=self.run_id)
        with self._store.failure(f"starting run {run_name!r} in experiment {self.experiment!r}"):
            self.experiment_id = self._store.ensure_experiment(self.experiment)
            run_tags = {
                "clinai.kind": "run",
                **{str(k): tag_text(v) for k, v in (tags or {}).items()},
            }
            run = self._client.create_run(self.experiment_id, run_name=run_name, tags=run_tags)
        self.run_id = run.info.run_id
        self._active = True
        logger.info(
            "MLflow run %s started in experiment %s at %s",
            self.run_id,
            self.experiment,
            redact_url(self.tracking_uri),
        )
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
            raise self._store.error(_ALREADY_STARTED, run_id=self.run_id)
        with self._store.failure(f"resuming run {run_id}"):
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
        with self._store.failure(f"ending run {self.run_id} as {status}"):
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
        """:meth:`start` the parent run for a ``with`` block, yield its id, and end it.

        The run ends ``FINISHED`` when the block completes, ``KILLED`` on
        ``KeyboardInterrupt`` and ``FAILED`` on any other exception, which is re-raised.
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

    def set_run_tags(self, tags: Mapping[str, Any], *, run_id: str | None = None) -> None:
        """Set tags on the parent run (also after it ended) or on the run ``run_id``.

        Raises
        ------
        TrackingError
            If no run was started and no ``run_id`` is given, or MLflow fails.
        """
        target = run_id or self.run_id
        if target is None:
            raise self._store.error(_NOT_STARTED, action="setting run tags")
        with self._store.failure(f"tagging run {target}"):
            for key, value in tags.items():
                self._client.set_tag(target, str(key), tag_text(value))

    def run_texts(self) -> dict[str, str]:
        """Return the parent run's params and tags as text (``param.<key>``, ``tag.<key>``).

        Used to check, at the end of a run, that nothing logged holds patient data.

        Raises
        ------
        TrackingError
            If no run is active, or MLflow fails.
        """
        run_id = self._require_run("reading params and tags")
        with self._store.failure(f"reading params and tags of run {run_id}"):
            data = self._client.get_run(run_id).data
        texts = {f"param.{k}": str(v) for k, v in data.params.items()}
        texts.update({f"tag.{k}": str(v) for k, v in data.tags.items()})
        return texts

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
        flat = flatten_params(params)
        with self._store.failure("logging params"):
            log_batch(self._client, run_id, params=flat)

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
        clean = metric_values(metrics)
        with self._store.failure("logging metrics"):
            log_batch(self._client, run_id, metrics=clean, step=step or 0)

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
        with self._store.failure(f"logging trial {number} of {model_family}"):
            return log_trial_run(
                self._client,
                self._experiment_id(),
                parent_run_id=parent,
                model_family=model_family,
                number=number,
                state=state,
                params=params,
                score=score,
            )

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
        return log_folder(
            self._store, run_id, Path(local_dir), artifact_path=artifact_path, exclude=exclude
        )

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
            Register a new version under this name; :attr:`registry` then sets its
            aliases and tags.

        Returns
        -------
        dict
            ``{"model_uri", "version", "model_id", "run_id", "name"}``; ``version`` is
            the registered version (int) or ``None``.
        """
        run_id = self._require_run("logging the model")
        with self._store.failure("logging the model"):
            experiment_id = self._experiment_id()
        return log_sklearn_model(
            self._store,
            run_id,
            experiment_id,
            model,
            input_example=input_example,
            registered_model_name=registered_model_name,
        )

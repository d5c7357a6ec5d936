"""The MLflow store behind a tracking URI: connecting, failure messages, experiments, searches.

Shared by run logging (:mod:`clinai.tracking._runs`), the registry
(:mod:`clinai.tracking._registry`) and the scans over runs
(:mod:`clinai.tracking._orphans`, :mod:`clinai.tracking._anchors`). mlflow is
imported inside the functions, so importing this module stays cheap.

Every MLflow failure is raised as :class:`clinai.exceptions.TrackingError`
naming the tracking URI (with any password hidden) and what was being done.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinai._utils import redact_url
from clinai.exceptions import TrackingError

if TYPE_CHECKING:
    from mlflow import MlflowClient

__all__ = [
    "PARENT_TAG",
    "MlflowStore",
    "artifact_location",
    "connect",
    "failure",
    "log_batch",
    "search_all_runs",
    "tag_text",
    "use_globally",
]

logger = logging.getLogger(__name__)

#: The tag MLflow's UI nests a child run under its parent by.
PARENT_TAG = "mlflow.parentRunId"

FAILED = "MLflow tracking at {uri} failed while {action}: {reason}"
_DELETED_EXPERIMENT = (
    "MLflow tracking at {uri}: experiment {name!r} was deleted; restore it "
    "(`mlflow experiments restore --experiment-id {experiment_id}`) or use another experiment name"
)

# MLflow's limit on a tag value (mlflow.utils.validation), copied so that using it needs no mlflow.
_MAX_TAG_VALUE = 8000
# MLflow's batch limits, likewise.
_PARAMS_PER_BATCH = 100
_METRICS_PER_BATCH = 1000
_RUNS_PER_PAGE = 1000


def tag_text(value: Any) -> str:
    """``value`` as tag text, cut to MLflow's limit of 8000 characters."""
    return str(value)[:_MAX_TAG_VALUE]


def artifact_location(tracking_uri: str, experiment: str) -> str | None:
    """``file://<db dir>/mlartifacts/<experiment>`` for a SQLite store, else ``None``."""
    if not tracking_uri.startswith("sqlite:///"):
        return None
    path = tracking_uri.removeprefix("sqlite:///").split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    folder = Path(path).expanduser().resolve().parent / "mlartifacts" / experiment.replace("/", "_")
    return folder.as_uri()


def use_globally(tracking_uri: str) -> None:
    """Point MLflow's global tracking and registry URIs at ``tracking_uri``.

    Set explicitly: MLflow 3.17 falls back to sqlite:///<cwd>/mlflow.db when no URI
    is set, and its fluent functions (``log_model``, ``load_model``) read this setting.
    """
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)


def connect(tracking_uri: str) -> MlflowClient:
    """Return an :class:`mlflow.MlflowClient` for the tracking and registry store at the URI."""
    from mlflow import MlflowClient

    use_globally(tracking_uri)
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


@contextlib.contextmanager
def failure(tracking_uri: str, action: str) -> Iterator[None]:
    """Raise any error of the block as :class:`TrackingError` naming the URI and ``action``."""
    try:
        yield
    except TrackingError:
        raise
    except Exception as exc:
        raise TrackingError(
            FAILED.format(uri=redact_url(tracking_uri), action=action, reason=exc)
        ) from exc


def search_all_runs(
    client: MlflowClient, experiment_ids: Sequence[str], filter_string: str
) -> Iterator[Any]:
    """Yield every run of ``experiment_ids`` matching ``filter_string``, page after page."""
    if not experiment_ids:
        return
    page_token = None
    while True:
        page = client.search_runs(
            list(experiment_ids),
            filter_string=filter_string,
            max_results=_RUNS_PER_PAGE,
            page_token=page_token,
        )
        yield from page
        page_token = page.token
        if not page_token:
            return


def log_batch(
    client: MlflowClient,
    run_id: str,
    *,
    params: Mapping[str, str] | None = None,
    metrics: Mapping[str, float] | None = None,
    step: int = 0,
) -> None:
    """Log params and metrics on run ``run_id`` in batches of MLflow's maximum size."""
    from mlflow.entities import Metric, Param

    params_list = [Param(k, v) for k, v in (params or {}).items()]
    for start in range(0, len(params_list), _PARAMS_PER_BATCH):
        client.log_batch(run_id, params=params_list[start : start + _PARAMS_PER_BATCH])
    timestamp = int(time.time() * 1000)
    metric_list = [Metric(k, v, timestamp, step) for k, v in (metrics or {}).items()]
    for start in range(0, len(metric_list), _METRICS_PER_BATCH):
        client.log_batch(run_id, metrics=metric_list[start : start + _METRICS_PER_BATCH])


class MlflowStore:
    """One tracking URI and its lazily made client, shared by a tracker and its registry.

    Parameters
    ----------
    tracking_uri : str
        E.g. ``"sqlite:///mlruns.db"``, a PostgreSQL URL or ``"http://host:5000"``.
    """

    def __init__(self, tracking_uri: str) -> None:
        self.tracking_uri = tracking_uri
        self._client: MlflowClient | None = None

    def __repr__(self) -> str:
        return f"MlflowStore({redact_url(self.tracking_uri)!r})"

    @property
    def client(self) -> MlflowClient:
        """The client, made on first use (a failure to connect is a :class:`TrackingError`)."""
        if self._client is None:
            with self.failure("connecting"):
                self._client = connect(self.tracking_uri)
        return self._client

    def failure(self, action: str) -> contextlib.AbstractContextManager[None]:
        """Raise any error of the block as :class:`TrackingError` naming this store."""
        return failure(self.tracking_uri, action)

    def error(self, template: str, **fields: Any) -> TrackingError:
        """Return a :class:`TrackingError` from ``template``, its ``uri`` filled in (redacted)."""
        return TrackingError(template.format(uri=redact_url(self.tracking_uri), **fields))

    def ensure_experiment(self, name: str) -> str:
        """Return the id of experiment ``name``, creating it (artifacts beside a SQLite file).

        Raises
        ------
        TrackingError
            If the experiment was deleted.
        """
        from mlflow.exceptions import MlflowException

        client = self.client
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            location = artifact_location(self.tracking_uri, name)
            try:
                return client.create_experiment(name, artifact_location=location)
            except MlflowException:
                # Another process may have created it in the meantime.
                experiment = client.get_experiment_by_name(name)
                if experiment is None:
                    raise
            logger.info("created MLflow experiment %s (artifacts at %s)", name, location)
        if experiment.lifecycle_stage == "deleted":
            raise self.error(_DELETED_EXPERIMENT, name=name, experiment_id=experiment.experiment_id)
        return str(experiment.experiment_id)

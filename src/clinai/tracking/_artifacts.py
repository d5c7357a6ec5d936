"""What goes into a run's artifact store: the files of a folder, and the fitted model.

:class:`clinai.tracking.MlflowTracker` calls these for its parent run; they take
the store and the run id explicitly so they never touch MLflow's global active run.
"""

from __future__ import annotations

import contextlib
import fnmatch
import io
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinai.tracking._client import MlflowStore, use_globally
from clinai.tracking._model_io import pip_requirements_for, quiet_mlflow_save, signature_example

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["is_excluded", "log_folder", "log_sklearn_model"]

logger = logging.getLogger(__name__)

_NO_DIR = "MLflow tracking at {uri}: cannot log artifacts from {path}: it is not a folder"


def is_excluded(relative: str, patterns: Sequence[str]) -> bool:
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


def log_folder(
    store: MlflowStore,
    run_id: str,
    root: Path,
    *,
    artifact_path: str | None,
    exclude: Sequence[str],
) -> list[str]:
    """Log the files below ``root`` (links never followed) on run ``run_id``.

    Returns the relative POSIX paths of the files logged; see
    :meth:`clinai.tracking.MlflowTracker.log_artifacts`.
    """
    if not root.is_dir():
        raise store.error(_NO_DIR, path=root)
    logged: list[str] = []
    with store.failure(f"logging artifacts from {root}"):
        for folder, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for filename in sorted(filenames):
                path = Path(folder, filename)
                relative = path.relative_to(root).as_posix()
                if path.is_symlink() or is_excluded(relative, exclude):
                    logger.debug("artifact %s not logged (excluded or a link)", relative)
                    continue
                parent = Path(relative).parent.as_posix()
                target = "/".join(p for p in (artifact_path, parent) if p and p != ".") or None
                store.client.log_artifact(run_id, str(path), artifact_path=target)
                logged.append(relative)
    logger.info("logged %s artifacts from %s", len(logged), root)
    return logged


def log_sklearn_model(
    store: MlflowStore,
    run_id: str,
    experiment_id: str,
    model: Any,
    *,
    input_example: pd.DataFrame,
    registered_model_name: str | None,
) -> dict[str, Any]:
    """Log ``model`` on run ``run_id`` of ``experiment_id``, optionally registering it.

    See :meth:`clinai.tracking.MlflowTracker.log_model` for the format chosen and
    the dict returned.
    """
    with store.failure("logging the model"), quiet_mlflow_save():
        import mlflow.sklearn
        from mlflow.models import infer_signature

        use_globally(store.tracking_uri)
        input_example = signature_example(input_example)
        signature = infer_signature(input_example, model.predict_proba(input_example))
        # Create the logged model in this run's experiment ourselves: without an active
        # fluent run, MLflow 3.17 would file it under the Default experiment (id 0), whose
        # artifacts land in ./mlruns of the working directory.
        logged = store.client.create_logged_model(
            experiment_id=experiment_id,
            name="model",
            source_run_id=run_id,
            params=dict(store.client.get_run(run_id).data.params),
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
    logger.info(
        "model logged to %s%s",
        info.model_uri,
        f" as {registered_model_name} v{version}" if version is not None else "",
    )
    return {
        "model_uri": info.model_uri,
        "version": None if version is None else int(version),
        "model_id": getattr(info, "model_id", None),
        "run_id": run_id,
        "name": registered_model_name,
    }

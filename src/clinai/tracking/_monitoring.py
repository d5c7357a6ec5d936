"""The registry side of ``clinai monitor``: the JSON artifacts of a model version's run.

A monitoring pass needs, of the model version the predictions name, the JSON files
its training run logged (``monitoring_plan.json``,
``drift_reference.json``, ``metrics.json``); these are read here, the only
place that imports mlflow. The monitoring run itself is an ordinary
:class:`~clinai.tracking.MlflowTracker` run.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clinai.tracking._client import MlflowStore

__all__ = ["run_json_artifacts"]

logger = logging.getLogger(__name__)


def run_json_artifacts(
    tracking_uri: str, run_id: str, names: Sequence[str]
) -> dict[str, dict[str, Any] | None]:
    """Return the JSON artifacts ``names`` of a run, each None when the run did not log it.

    Raises
    ------
    TrackingError
        If the store cannot be read.
    """
    store = MlflowStore(tracking_uri)
    out: dict[str, dict[str, Any] | None] = {}
    with (
        store.failure(f"reading the artifacts of run {run_id}"),
        tempfile.TemporaryDirectory(prefix="clinai-artifacts-") as folder,
    ):
        logged = {item.path for item in store.client.list_artifacts(run_id)}
        for name in names:
            if name not in logged:
                out[name] = None
                continue
            # MLflow draws a download progress bar on stderr: keep it out of the CLI output.
            with contextlib.redirect_stderr(io.StringIO()):
                path = store.client.download_artifacts(run_id, name, folder)
            out[name] = json.loads(Path(path).read_text(encoding="utf-8"))
    return out

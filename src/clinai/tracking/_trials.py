"""Tuning trials as nested child runs of a clinai run's parent MLflow run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from clinai._utils import finite_float
from clinai.tracking._client import PARENT_TAG, log_batch
from clinai.tracking._flatten import flatten_params

if TYPE_CHECKING:
    from mlflow import MlflowClient

__all__ = ["log_trial_run"]

# Optuna's trial state -> the child run's MLflow status (anything else: FAILED).
_TRIAL_STATUS = {"COMPLETE": "FINISHED", "PRUNED": "FINISHED", "FAIL": "FAILED"}


def log_trial_run(
    client: MlflowClient,
    experiment_id: str,
    *,
    parent_run_id: str,
    model_family: str,
    number: int,
    state: str,
    params: Mapping[str, Any],
    score: float | None,
) -> str:
    """Create, fill and end the child run of trial ``number``; return the child's id.

    See :meth:`clinai.tracking.MlflowTracker.log_trial` for its name, tags and status.
    A child whose params or score cannot be logged ends ``FAILED``.
    """
    state_name = str(state).upper().rsplit(".", 1)[-1]  # accepts "TrialState.COMPLETE"
    tags = {
        PARENT_TAG: parent_run_id,
        "clinai.kind": "trial",
        "clinai.model_family": str(model_family),
        "clinai.trial_number": str(number),
        "clinai.trial_state": state_name,
    }
    value = finite_float(score)
    child = client.create_run(experiment_id, run_name=f"{model_family}-trial-{number}", tags=tags)
    child_id = child.info.run_id
    try:
        log_batch(
            client,
            child_id,
            params=flatten_params(params),
            metrics={"cv_score": value} if value is not None else None,
        )
    except BaseException:
        client.set_terminated(child_id, status="FAILED")
        raise
    client.set_terminated(child_id, status=_TRIAL_STATUS.get(state_name, "FAILED"))
    return str(child_id)

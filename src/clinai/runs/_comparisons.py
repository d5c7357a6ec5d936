"""Comparisons of the evaluate stage: the use case's existing score and the registered model.

Two questions a board asks of a new model, answered on the same test patients:
does it beat the score the ward uses today (a pipeline's ``baseline()``, e.g.
NEWS2, at its alert cut-offs), and does it beat the version already in the
registry?
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from clinai import evaluation
from clinai.exceptions import ClinaiError
from clinai.runs._rundir import absolute_sqlite_uri

if TYPE_CHECKING:
    import pandas as pd

    from clinai.config import ExperimentConfig
    from clinai.runs._rundir import RunDir

__all__ = [
    "baseline_operating_points",
    "baseline_spec",
    "registered_version",
    "registry_comparison",
]

logger = logging.getLogger(__name__)

_DIFFERENT_INPUTS = (
    "the registered version {version} ({alias}) expects other input columns than this run's "
    "model (missing: {missing}); it is not compared"
)


def baseline_spec(manifest: dict[str, Any]) -> dict[str, Any]:
    """Return the use case's baseline description: ``name`` and alert ``thresholds``.

    From the pipeline's ``METADATA["baseline"]`` (e.g. ``{"name": "NEWS2",
    "thresholds": [5, 7]}``); the name defaults to ``"baseline"``.
    """
    spec = manifest.get("use_case", {}).get("baseline") or {}
    return {"name": str(spec.get("name", "baseline")), "thresholds": spec.get("thresholds", [])}


def baseline_operating_points(
    config: ExperimentConfig,
    manifest: dict[str, Any],
    y: np.ndarray,
    y_prob: np.ndarray,
    baseline: np.ndarray,
    patients: Any,
) -> dict[str, Any] | None:
    """Compare the model with the baseline's alert rules at matched flag rates, if it has any."""
    spec = baseline_spec(manifest)
    if not spec["thresholds"]:
        return None
    result = evaluation.compare_operating_points(
        y,
        y_prob,
        baseline,
        baseline_thresholds=spec["thresholds"],
        baseline_name=spec["name"],
        patient_ids=patients if config.data.patient_id is not None else None,
        n_boot=config.evaluation.n_boot,
        ci_level=config.evaluation.ci_level,
        random_state=config.seed,
    )
    return result.to_dict()


def registered_version(
    config: ExperimentConfig, run_dir: RunDir, X: pd.DataFrame
) -> tuple[Any, pd.DataFrame, str, str] | None:
    """Return the registered version in use to compare with: ``(model, X, version, alias)``.

    Looks up the registered model (``tracking.model_name`` or the experiment)
    with alias ``approved``, else ``candidate``; None when tracking or
    ``evaluation.compare_with_registered`` is off, nothing is registered, the
    registered version came from this very run, or it needs input columns this
    run does not have. ``X`` is returned with the columns the version expects.
    """
    if not (config.tracking.enabled and config.evaluation.compare_with_registered):
        return None
    from clinai.tracking import ModelRegistry

    registry = ModelRegistry(absolute_sqlite_uri(config.tracking.uri))
    name = config.tracking.model_name or config.experiment
    try:
        found = registry.load_model(name)
    except ClinaiError as exc:
        logger.warning("registered model %s not compared: %s", name, exc)
        return None
    if found is None:
        return None
    if found.get("run_id_tag") == run_dir.run_id:
        return None
    version, alias = found["version"], found["alias"]
    expected = list(getattr(found["model"], "feature_names_in_", []))
    missing = [c for c in expected if c not in X.columns]
    if missing:
        logger.warning(
            _DIFFERENT_INPUTS.format(version=version, alias=alias, missing=", ".join(missing[:5]))
        )
        return None
    return found["model"], X[expected] if expected else X, version, alias


def registry_comparison(
    config: ExperimentConfig,
    run_dir: RunDir,
    X: pd.DataFrame,
    y: np.ndarray,
    y_prob: np.ndarray,
    patients: Any,
) -> dict[str, Any] | None:
    """Compare the model with the registered version in use, on the same test patients.

    None where :func:`registered_version` finds none to compare with. The result is
    :func:`clinai.evaluation.compare_with_baseline`'s, plus ``version`` and ``alias``.
    """
    found = registered_version(config, run_dir, X)
    if found is None:
        return None
    model, X_registered, version, alias = found
    previous = model.predict_proba(X_registered)[:, 1]
    result = evaluation.compare_with_baseline(
        y,
        y_prob,
        previous,
        baseline_name=f"registered version {version} ({alias})",
        patient_ids=patients if config.data.patient_id is not None else None,
        thresholds=config.evaluation.thresholds,
        n_boot=config.evaluation.n_boot,
        ci_level=config.evaluation.ci_level,
        random_state=config.seed,
    )
    return {**result.to_dict(), "version": version, "alias": alias}

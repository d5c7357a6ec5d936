"""The pre-registered monitoring plan: fixed and hashed at training, checked before monitoring.

The train stage writes ``monitoring_plan.json`` (the config's ``monitoring:``
section and the SHA-256 of its canonical JSON) beside ``acceptance_plan.json``;
the registered model version carries the hash as the tag
:data:`MONITORING_PLAN_TAG`. ``clinai monitor`` and ``clinai update`` call
:func:`check_monitoring_plan`, which refuses a plan edited after registration, as
acceptance criteria edited after a run are refused.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from clinai._utils import sha256_text
from clinai.exceptions import ConfigError

if TYPE_CHECKING:
    from clinai.config import ExperimentConfig
    from clinai.runs._rundir import RunDir

__all__ = [
    "MONITORING_PLAN_FILE",
    "MONITORING_PLAN_TAG",
    "MonitoringPlanError",
    "check_monitoring_plan",
    "monitoring_plan",
    "plan_sha256",
    "read_if_present",
    "registered_plan_sha256",
    "write_monitoring_plan",
]

#: The run-directory file holding the plan and its hash.
MONITORING_PLAN_FILE = "monitoring_plan.json"
#: The model-version tag holding the plan's hash at registration.
MONITORING_PLAN_TAG = "clinai.monitoring_plan_sha256"

PLAN_EDITED_MSG = (
    "the monitoring plan in {config} was edited after {version} of {model} was registered "
    "(sha256 differs): restore it, or register a new version with `clinai run`"
)
NO_PLAN_MSG = (
    "{config} has no monitoring: section: add the post-market monitoring plan (period, "
    "operating_threshold, limits; see the README) and register a model trained with it "
    "(`clinai run`)"
)
NO_PLAN_TAG_MSG = (
    "{version} of {model} was registered without a monitoring plan (no model-version tag "
    "{tag}): register a new version trained with the config's monitoring: section "
    "(`clinai run`)"
)


class MonitoringPlanError(ConfigError):
    """The monitoring plan is missing, or is not the one the model version was registered with."""


def plan_sha256(plan: Mapping[str, Any]) -> str:
    """Return the SHA-256 of a plan's canonical JSON (sorted keys, no whitespace, ASCII).

    Canonical, so the hash depends on the plan's content only, not on the key
    order or layout of the YAML it was written in.
    """
    text = json.dumps(plan, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return sha256_text(text)


def monitoring_plan(config: ExperimentConfig) -> dict[str, Any] | None:
    """Return ``{"plan": <the monitoring section>, "sha256": ...}``, or None without a section.

    Defaults are written out, so a plan that states a default and one that
    leaves it out are the same plan (and hash the same).
    """
    if config.monitoring is None:
        return None
    plan = config.monitoring.model_dump(mode="json")
    return {"plan": plan, "sha256": plan_sha256(plan)}


def write_monitoring_plan(config: ExperimentConfig, run_dir: RunDir) -> dict[str, Any] | None:
    """Fix the plan in the run directory (``monitoring_plan.json``); no section, no file.

    A file left by an earlier train stage of the same run directory is removed when
    the config has no section any more, so the run never claims a plan it lacks.
    """
    current = monitoring_plan(config)
    if current is None:
        run_dir.file(MONITORING_PLAN_FILE).unlink(missing_ok=True)
        return None
    run_dir.write_json(MONITORING_PLAN_FILE, current)
    return current


def read_if_present(run_dir: RunDir, name: str) -> Any:
    """Return a run-directory JSON file's content, or None where the run has no such file."""
    path = run_dir.file(name)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def registered_plan_sha256(run_dir: RunDir) -> str | None:
    """Return the hash the train stage fixed in ``monitoring_plan.json`` (None without a plan)."""
    fixed = read_if_present(run_dir, MONITORING_PLAN_FILE)
    return None if fixed is None else str(fixed["sha256"])


def check_monitoring_plan(
    config: ExperimentConfig,
    version_tags: Mapping[str, str] | None,
    *,
    config_path: str | os.PathLike[str] | None = None,
    model_name: str | None = None,
    version: str | int | None = None,
) -> dict[str, Any]:
    """Return the config's monitoring plan after checking it is the one registered.

    Parameters
    ----------
    config : ExperimentConfig
        The validated config (its ``monitoring:`` section is the current plan).
    version_tags : mapping of str to str or None
        The MLflow model-version tags of the monitored version.
    config_path : path-like, optional
        The config file, named in the messages.
    model_name : str, optional
        The registered model's name (default ``tracking.model_name`` or the experiment).
    version : str or int, optional
        The model version, named in the messages.

    Returns
    -------
    dict
        ``{"plan": <the monitoring section as a dict>, "sha256": <hex digest>}``.

    Raises
    ------
    MonitoringPlanError
        When the config has no ``monitoring:`` section, the version carries no
        plan hash, or the hashes differ (the plan was edited after registration).
    """
    where = str(config_path) if config_path is not None else f"config {config.experiment!r}"
    model = model_name or config.tracking.model_name or config.experiment
    which = f"version {version}" if version is not None else "the version"
    current = monitoring_plan(config)
    if current is None:
        raise MonitoringPlanError(NO_PLAN_MSG.format(config=where))
    registered = (version_tags or {}).get(MONITORING_PLAN_TAG)
    if not registered:
        raise MonitoringPlanError(
            NO_PLAN_TAG_MSG.format(version=which, model=model, tag=MONITORING_PLAN_TAG)
        )
    if registered != current["sha256"]:
        raise MonitoringPlanError(PLAN_EDITED_MSG.format(config=where, version=which, model=model))
    return current

"""The pre-registered acceptance plan: fixed (hashed) at training, checked before judging.

The train stage writes ``acceptance_plan.json`` (the config's criteria, their SHA-256 and
the economics section's hash) before the test split is touched; the evaluate stage judges
the criteria of that file. :func:`check_acceptance_plan` refuses a plan whose file was
edited since (its criteria no longer hash to its ``sha256``) or whose config criteria
differ from the fixed ones: a criterion is never moved after the results are known.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from clinai._utils import sha256_text
from clinai.exceptions import ConfigError

if TYPE_CHECKING:
    from clinai.config import ExperimentConfig
    from clinai.runs._rundir import RunDir

__all__ = [
    "ACCEPTANCE_PLAN_FILE",
    "AcceptancePlanError",
    "acceptance_criteria",
    "check_acceptance_plan",
    "judge_acceptance",
    "write_acceptance_plan",
]

ACCEPTANCE_PLAN_FILE = "acceptance_plan.json"

PLAN_FILE_EDITED_MSG = (
    "{file} was edited after the train stage wrote it (its criteria do not hash to its "
    "sha256): run the train stage again to fix a new plan"
)
PLAN_CONFIG_EDITED_MSG = (
    "evaluation.acceptance in the config differs from the criteria the train stage fixed in "
    "{file} (sha256 differs): restore the criteria, or run the train stage again"
)


class AcceptancePlanError(ConfigError):
    """The acceptance plan was edited after the train stage fixed it."""


def acceptance_criteria(config: ExperimentConfig) -> list[dict[str, Any]]:
    """Return the config's acceptance criteria as plain mappings (the plan's ``criteria``)."""
    return [criterion.model_dump() for criterion in config.evaluation.acceptance]


def _criteria_sha256(criteria: list[Any]) -> str:
    return sha256_text(repr(criteria))


def write_acceptance_plan(config: ExperimentConfig, run_dir: RunDir) -> dict[str, Any]:
    """Fix the acceptance plan in the run directory before the test split is evaluated.

    Returns
    -------
    dict
        ``{"criteria", "sha256", "economics_sha256"}`` (the content of the file).
    """
    from clinai.runs._economics import economics_sha256

    criteria = acceptance_criteria(config)
    plan = {
        "criteria": criteria,
        "sha256": _criteria_sha256(criteria),
        # the economics: section is fixed with the criteria (None without one)
        "economics_sha256": economics_sha256(config),
    }
    run_dir.write_json(ACCEPTANCE_PLAN_FILE, plan)
    return plan


def check_acceptance_plan(config: ExperimentConfig, plan: Mapping[str, Any]) -> None:
    """Refuse a plan edited since the train stage fixed it.

    Parameters
    ----------
    config : ExperimentConfig
        The config the evaluate stage runs with.
    plan : Mapping
        The content of ``acceptance_plan.json``.

    Raises
    ------
    AcceptancePlanError
        When the file's criteria do not hash to its ``sha256``, or the config's
        criteria are not those fixed.
    """
    fixed = plan.get("sha256")
    if _criteria_sha256(list(plan.get("criteria", []))) != fixed:
        raise AcceptancePlanError(PLAN_FILE_EDITED_MSG.format(file=ACCEPTANCE_PLAN_FILE))
    if _criteria_sha256(acceptance_criteria(config)) != fixed:
        raise AcceptancePlanError(PLAN_CONFIG_EDITED_MSG.format(file=ACCEPTANCE_PLAN_FILE))


def judge_acceptance(metrics: dict[str, Any], plan: Mapping[str, Any]) -> None:
    """Judge the plan's criteria on a survival_metrics.json document (in place).

    Adds ``acceptance`` (one row per criterion), ``acceptance_verdict`` and
    ``acceptance_plan_sha256``; the metrics are seen by name
    (:func:`clinai.evaluation.survival_acceptance_view`, competing risks included).
    """
    from clinai import evaluation
    from clinai.runs._report import acceptance_verdict

    view = evaluation.survival_acceptance_view(metrics)
    verdicts = evaluation.evaluate_acceptance(view, plan["criteria"])
    metrics["acceptance"] = [v.to_dict() for v in verdicts]
    metrics["acceptance_verdict"] = acceptance_verdict(metrics)
    metrics["acceptance_plan_sha256"] = plan["sha256"]

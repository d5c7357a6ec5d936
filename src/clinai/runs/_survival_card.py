"""The report stage's model card of a survival run, and its publication.

:func:`survival_model_card` assembles the whitelisted facts of the run (use case,
dataset, model, split, censoring, lineage, registry) beside ``survival_metrics.json``,
has :mod:`clinai.reporting` render the card (JSON, Markdown and HTML per language,
plots), prints the PDFs (skipped with one warning line where WeasyPrint's libraries
are missing) and, with a publish folder, publishes as a binary run does:
``<experiment>.md`` (and ``.<lang>.md``), the run-id-free headline figures
``<experiment>.metrics.json`` and the linked plots under ``plots/``.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinai._utils import atomic_write_text
from clinai.reporting._survival_card import build_survival_card, write_survival_card
from clinai.runs._lineage import code_version, describe_code, pipeline_lineage
from clinai.runs._plugins import load_pipeline
from clinai.runs._prepare import config_sha256
from clinai.runs._report import (
    _write_pdfs,
    acceptance_verdict,
    headline_metrics,
    use_case_translations,
)

if TYPE_CHECKING:
    from clinai.config import ExperimentConfig
    from clinai.runs._rundir import RunDir

__all__ = ["survival_headline_metrics", "survival_model_card"]

# The headline figures `dvc metrics diff` compares: (name, path in survival_metrics.json).
_HEADLINE = (
    ("horizon", ("horizon",)),
    ("harrell_c", ("metrics", "harrell_c", "estimate")),
    ("harrell_c_ci_low", ("metrics", "harrell_c", "ci_low")),
    ("harrell_c_ci_high", ("metrics", "harrell_c", "ci_high")),
    ("uno_c", ("metrics", "uno_c", "estimate")),
    ("time_auc", ("metrics", "time_auc", "estimate")),
    ("oe_ratio", ("metrics", "oe_ratio", "estimate")),
    ("calibration_slope", ("metrics", "calibration_slope", "estimate")),
    ("calibration_slope_ci_low", ("metrics", "calibration_slope", "ci_low")),
    ("calibration_slope_ci_high", ("metrics", "calibration_slope", "ci_high")),
    ("ici", ("metrics", "ici", "estimate")),
    ("brier", ("metrics", "brier", "estimate")),
    ("ipa", ("metrics", "ipa", "estimate")),
    ("n", ("n",)),
    ("events_by_horizon", ("follow_up", "events_by_horizon")),
    ("censored_before_horizon", ("follow_up", "censored_before_horizon")),
)


def _number_at(document: dict[str, Any], path: tuple[str, ...]) -> float | int | None:
    value: Any = document
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def survival_headline_metrics(metrics: dict[str, Any]) -> dict[str, float | int | None]:
    """Pick the headline figures of ``survival_metrics.json`` as one flat mapping.

    Nothing is computed: each value is copied from its path (``None`` where the run
    has none), plus the number of acceptance criteria passed and failed (counted as
    for a binary run). No run id, so two runs of the same model publish the same file.
    """
    out = {name: _number_at(metrics, path) for name, path in _HEADLINE}
    counts = headline_metrics({"acceptance": metrics.get("acceptance")})
    return {
        **out,
        "criteria_passed": counts["criteria_passed"],
        "criteria_failed": counts["criteria_failed"],
    }


def run_lineage(config: ExperimentConfig, manifest: dict[str, Any]) -> dict[str, Any]:
    """Return the hashes and names that tie a run's card to its data, config and code.

    ``manifest`` is the run's data_manifest.json; nothing patient-level is read.
    """
    code = code_version()
    pipeline = pipeline_lineage(load_pipeline(config.pipeline))
    return {
        "config_sha256": config_sha256(config),
        "data_sha256": manifest["data_sha256"],
        "code_version": describe_code(code),
        "git_dirty": code["git_dirty"],
        "pipeline": pipeline["name"],
        "pipeline_sha256": pipeline["sha256"],
    }


def _context(
    config: ExperimentConfig,
    run_dir: RunDir,
    *,
    metrics: dict[str, Any],
    training: dict[str, Any],
    registry: dict[str, Any] | None,
) -> dict[str, Any]:
    """Gather the aggregate-only facts of the run the card renders (no patient-level value)."""
    manifest = run_dir.read_json("data_manifest.json", stage="prepare")
    outcome = manifest.get("outcome") or {}
    return {
        "experiment": config.experiment,
        "run_id": run_dir.run_id,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "languages": list(config.languages),
        "use_case": {**manifest["use_case"], "translations": use_case_translations(config)},
        "dataset": manifest["source"],
        "model": {
            "family": training["selected"],
            "families": [c["family"] for c in training.get("candidates", [])],
            "selection_metric": training.get("selection_metric"),
            "tuning": training.get("tuning"),
            "output": training.get("model_output"),
            # how the risks were recalibrated at training (absent in older runs)
            "recalibration": training.get("recalibration"),
            # Riley's criteria and the shrinkage, where the train stage records them
            "small_data": training.get("small_data"),
        },
        "split": manifest["split"],
        "cohort": {
            "n": manifest["n"],
            "events": manifest["events"],
            "events_by_horizon": outcome.get("events_by_horizon"),
            "censored_before_horizon": outcome.get("censored_before_horizon"),
        },
        "lineage": run_lineage(config, manifest),
        "registry": registry,
        "acceptance_verdict": metrics.get("acceptance_verdict") or acceptance_verdict(metrics),
    }


def survival_model_card(
    config: ExperimentConfig,
    run_dir: RunDir,
    *,
    metrics: dict[str, Any],
    training: dict[str, Any],
    registry: dict[str, Any] | None = None,
    publish_dir: Path | None = None,
) -> list[Path]:
    """Write the survival model card (and PDFs) into the run directory; publish it.

    Parameters
    ----------
    config : ExperimentConfig
        The run's config (``outcome.type: survival``).
    run_dir : RunDir
        The run directory with data_manifest.json (prepare) and training.json (train).
    metrics : dict
        survival_metrics.json of the evaluate stage.
    training : dict
        training.json of the train stage.
    registry : dict, optional
        The registered model (``model_name``, ``version``, ``alias``), when known.
    publish_dir : Path, optional
        Where ``<experiment>.md``, ``<experiment>.<lang>.md``, ``<experiment>.metrics.json``
        and ``plots/<experiment>.*.png`` are copied.

    Returns
    -------
    list of Path
        The files written in the run directory.
    """
    context = _context(config, run_dir, metrics=metrics, training=training, registry=registry)
    files = write_survival_card(
        build_survival_card(context, metrics), run_dir.path, languages=list(config.languages)
    )
    pdfs = _write_pdfs([path for name, path in files.items() if name.endswith(".html")])
    if publish_dir is not None:
        publish_dir.mkdir(parents=True, exist_ok=True)
        for language in ["en", *(x for x in config.languages if x != "en")]:
            suffix = "" if language == "en" else f".{language}"
            shutil.copyfile(
                files[f"model_card{suffix}.md"], publish_dir / f"{config.experiment}{suffix}.md"
            )
        atomic_write_text(
            publish_dir / f"{config.experiment}.metrics.json",
            json.dumps(survival_headline_metrics(metrics), indent=2) + "\n",
        )
        (publish_dir / "plots").mkdir(exist_ok=True)
        for name, path in files.items():
            if name.startswith("plots/"):
                shutil.copyfile(path, publish_dir / name)
    return [*files.values(), *pdfs]

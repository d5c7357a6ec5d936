"""Stage 4, report: plots, model card, validation report, audit record, publication."""

from __future__ import annotations

import json
import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinai import evaluation, reporting
from clinai._utils import atomic_write_bytes, atomic_write_text, sha256_file
from clinai.exceptions import DataError, PipelineError
from clinai.runs._drift import PREDICTOR_DRIFT_FILE
from clinai.runs._lineage import code_version, describe_code, environment, pipeline_lineage
from clinai.runs._plan import MONITORING_PLAN_FILE, read_if_present, registered_plan_sha256
from clinai.runs._plugins import load_pipeline, pipeline_feature_labels
from clinai.runs._prepare import config_sha256

if TYPE_CHECKING:
    from clinai.config import ExperimentConfig
    from clinai.runs._rundir import RunDir

__all__ = ["CONTEXT_FILE", "acceptance_verdict", "build_context", "report"]

logger = logging.getLogger(__name__)

#: Logged (one line) when WeasyPrint or its system libraries are missing: a run then
#: writes every document but the PDFs, which a new user without pango cannot print.
PDF_SKIPPED = "PDFs skipped (HTML and Markdown written): %s"
#: The plots the Markdown card links (not embeds), published beside it.
_LINKED_PLOTS = ("calibration", "ceac")

#: The facts the documents were rendered from, kept so they can be rendered again
#: (``clinai approve``) without computing anything anew.
CONTEXT_FILE = "report_context.json"


def use_case_translations(config: ExperimentConfig) -> dict[str, dict[str, Any]]:
    """Return the reviewed translations of the use case's texts (``METADATA_<LANG>``).

    A pipeline may define e.g. ``METADATA_DA`` with the keys of ``METADATA`` in
    Danish; a language without one is rendered in English with a visible note.
    """
    wanted = [language for language in config.languages if language != "en"]
    if not wanted:
        return {}
    try:
        pipeline = load_pipeline(config.pipeline)
    except PipelineError as exc:
        logger.warning("use-case translations skipped: %s", exc)
        return {}
    translations: dict[str, dict[str, Any]] = {}
    for language in wanted:
        texts = getattr(pipeline, f"METADATA_{language.upper()}", None)
        if isinstance(texts, dict):
            translations[language] = dict(texts)
    return translations


def feature_labels(config: ExperimentConfig, features: Any) -> dict[str, Any]:
    """Return the pipeline's clinical labels of its features and variable groups (en, da, unit).

    Unlabelled features keep their column name in the documents.
    """
    names = list(features.get("numeric", [])) + list(features.get("categorical", []))
    try:
        pipeline = load_pipeline(config.pipeline)
    except PipelineError as exc:
        logger.warning("feature labels skipped: %s", exc)
        return {}
    return pipeline_feature_labels(pipeline, names)


def acceptance_verdict(metrics: dict[str, Any]) -> str:
    """Return ``accepted``, ``not accepted`` or ``no criteria`` from the acceptance results."""
    results = metrics.get("acceptance") or []
    if not results:
        return "no criteria"
    return "accepted" if all(r.get("status") == "pass" for r in results) else "not accepted"


def precise_validation_size(metrics: dict[str, Any]) -> dict[str, Any] | None:
    """Return the patients a precise validation needs at the observed prevalence and AUROC.

    Pavlou et al.'s criteria (:func:`clinai.evaluation.validation_sample_size`, default
    precision); None where they do not apply (an AUROC at or below 0.5).
    """
    auroc, prevalence = metrics.get("auroc"), metrics.get("prevalence")
    estimate = auroc.get("estimate") if isinstance(auroc, dict) else None
    if estimate is None or prevalence is None:
        return None
    try:
        plan = evaluation.validation_sample_size(prevalence, estimate)
    except DataError:
        return None
    return plan.to_dict()


# The headline figures DVC compares between commits: (name, path in metrics.json).
_HEADLINE = (
    ("auroc", ("auroc", "estimate")),
    ("auroc_ci_low", ("auroc", "ci_low")),
    ("auroc_ci_high", ("auroc", "ci_high")),
    ("auprc", ("auprc", "estimate")),
    ("brier", ("brier", "estimate")),
    ("scaled_brier", ("scaled_brier", "estimate")),
    ("calibration_intercept", ("calibration", "intercept", "estimate")),
    ("calibration_slope", ("calibration", "slope", "estimate")),
    ("oe_ratio", ("calibration", "oe_ratio", "estimate")),
    ("ici", ("calibration", "ici", "estimate")),
    ("n", ("n",)),
    ("events", ("events",)),
    ("prevalence", ("prevalence",)),
)


def headline_metrics(metrics: dict[str, Any]) -> dict[str, float | int | None]:
    """Pick the headline figures of ``metrics.json`` as one flat mapping (for ``dvc metrics``).

    Nothing is computed: each value is copied from its path (``None`` where the run has
    none), plus the number of acceptance criteria passed and failed.
    """
    out: dict[str, float | int | None] = {}
    for name, path in _HEADLINE:
        value: Any = metrics
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        number = isinstance(value, int | float) and not isinstance(value, bool)
        out[name] = value if number else None
    statuses = [row.get("status") for row in metrics.get("acceptance") or []]
    out["criteria_passed"] = statuses.count("pass")
    out["criteria_failed"] = statuses.count("fail")
    return out


def table_one(summary: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Flatten the data layer's population summary to ``{variable: {level: display}}``.

    Only the already-suppressed display strings of the whole cohort are kept.
    """
    rows: dict[str, dict[str, str]] = {
        "Patients": {"": str(summary.get("n", ""))},
        "Events": {"": str(summary.get("events_display", summary.get("events", "")))},
    }
    for item in [*summary.get("features", []), *summary.get("sensitive_attributes", [])]:
        name = str(item.get("name"))
        if item.get("kind") == "numeric":
            overall = item.get("overall", {})
            rows[name] = {"median [IQR]": str(overall.get("display", ""))}
        else:
            rows[name] = {
                str(level.get("level")): str(level.get("overall", {}).get("display", ""))
                for level in item.get("levels", [])
            }
    return rows


def build_context(
    config: ExperimentConfig,
    run_dir: RunDir,
    *,
    manifest: dict[str, Any],
    training: dict[str, Any],
    metrics: dict[str, Any],
    registry: dict[str, Any] | None = None,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble the whitelisted, aggregate-only facts the card and report render."""
    source = manifest["source"]
    code = code_version()
    env = environment()
    pipeline = pipeline_lineage(load_pipeline(config.pipeline))
    use_case = manifest["use_case"]
    return {
        "experiment": config.experiment,
        "run_id": run_dir.run_id,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "use_case": {
            "name": use_case["name"],
            "title": use_case.get("title"),
            "setting": use_case.get("setting"),
            "outcome": use_case.get("outcome"),
            "prediction_time": use_case.get("prediction_time"),
            "intended_use": use_case.get("intended_use"),
            "not_for": use_case.get("not_for", []),
            "limitations": use_case.get("limitations", []),
            "population": use_case.get("population"),
            "citation": use_case.get("citation"),
            "description": config.description,
            "translations": use_case_translations(config),
            # what one row is when it is not a patient, e.g. a prediction time (hour)
            "row_unit": use_case.get("row_unit"),
        },
        "dataset": {
            "name": source.get("name"),
            "title": source.get("title"),
            "package": source.get("package"),
            "licence": source.get("licence"),
            "citation": source.get("citation"),
            "url": source.get("url"),
            "n_rows": manifest["n_source_rows"],
        },
        "cohort_flow": manifest["cohort_flow"],
        "population_summary": table_one(manifest["population_summary"]),
        "features": manifest["features"],
        "feature_labels": feature_labels(config, manifest["features"]),
        "previous": previous,
        # written by the prepare stage (absent in run directories made before it existed)
        "data_quality": (
            run_dir.read_json("data_quality.json", stage="prepare")
            if run_dir.file("data_quality.json").is_file()
            else None
        ),
        "split": manifest["split"],
        # Annex IV 9 and TRIPOD+AI 20c (None: no plan pre-registered, or no test split)
        "monitoring_plan": read_if_present(run_dir, MONITORING_PLAN_FILE),
        "predictor_drift": read_if_present(run_dir, PREDICTOR_DRIFT_FILE),
        "model": {
            "family": training["selected"],
            "best_params": training["best_params"],
            "calibration": training["calibration"]["method"],
            "selection_metric": training["selection_metric"],
            "cv_score": training["cv_score"],
            "candidates": training["candidates"],
            "tuning": training["tuning"],
            # Riley's criteria and the shrinkage (absent in runs made before issue 16)
            "small_data": training.get("small_data"),
        },
        "lineage": {
            "config_sha256": config_sha256(config),
            "data_sha256": manifest["data_sha256"],
            "cohort_sha256": manifest["cohort_sha256"],
            # one line for the documents; the parts (version, commit, source hash) for the audit
            "code_version": describe_code(code),
            "clinai_version": code["clinai_version"],
            "git_commit": code["git_commit"],
            "git_dirty": code["git_dirty"],
            "source_sha256": code["source_sha256"],
            # the module that defines the cohort, outcome and features
            "pipeline": pipeline["name"],
            "pipeline_sha256": pipeline["sha256"],
            "python": env["python"],
            "platform": env["platform"],
            "packages": env["packages"],
        },
        "acceptance_verdict": acceptance_verdict(metrics),
        # patients a precise validation needs (Pavlou et al. 2021), beside those it had
        "validation_sample_size": precise_validation_size(metrics),
        "registry": registry,
        "languages": list(config.languages),
    }


def report(
    config: ExperimentConfig,
    run_dir: RunDir,
    *,
    registry: dict[str, Any] | None = None,
    previous: dict[str, Any] | None = None,
    publish_dir: Path | None = None,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Render plots, the model card (md, json, html per language) and the validation report.

    The facts rendered are kept in ``report_context.json``; pass them back as
    ``context`` (e.g. with an ``approval`` added) to render the same run again.

    Also writes ``audit.json`` (hashes of data, config, code and environment,
    the acceptance verdict and a SHA-256 of every output) and, with
    ``publish_dir``, copies the Markdown cards to ``<publish_dir>/<experiment>.md`` (English)
    and ``<experiment>.<lang>.md`` (the config's other languages) and writes the headline
    figures to ``<experiment>.metrics.json`` (the file ``dvc metrics diff`` compares).

    Returns
    -------
    dict
        The audit record.
    """
    manifest = run_dir.read_json("data_manifest.json", stage="prepare")
    training = run_dir.read_json("training.json", stage="train")
    metrics = run_dir.read_json("metrics.json", stage="evaluate")
    importance = run_dir.read_json("importance.json", stage="evaluate")
    if context is None:
        context = build_context(
            config,
            run_dir,
            manifest=manifest,
            training=training,
            metrics=metrics,
            registry=registry,
            previous=previous,
        )
    run_dir.write_json(CONTEXT_FILE, context)
    # the plots show the variables' clinical labels (English: one image serves every language)
    plots = reporting.render_plots(
        metrics,
        importance=reporting.importance_with_labels(importance, context.get("feature_labels")),
        out_dir=run_dir.plots,
    )
    card = reporting.build_model_card(context, metrics, importance=importance)
    # The card links its calibration and cost-effectiveness plots under names that are also
    # unique where the card is published beside other use cases' cards (publish_dir/plots/),
    # so one link works in both; the dependence plots are embedded in the HTML card (data
    # URIs), not linked
    card_images = {name: path for name, path in plots.items() if name.startswith("dependence_")}
    for name in _LINKED_PLOTS:
        if name in plots:
            card_images[name] = run_dir.plots / f"{config.experiment}.{name}.png"
            atomic_write_bytes(card_images[name], plots[name].read_bytes())
    card_files = reporting.write_model_card(
        card, run_dir.path, languages=tuple(config.languages), images={**plots, **card_images}
    )
    report_path, report_md = (
        write(context, metrics, plots=plots, importance=importance, out_path=run_dir.file(name))
        for write, name in (
            (reporting.write_validation_report, "validation_report.html"),
            (reporting.write_validation_report_markdown, "validation_report.md"),
        )
    )
    html_documents = [report_path, *(p for p in card_files.values() if p.suffix == ".html")]
    pdfs = _write_pdfs(html_documents)
    outputs = [
        *plots.values(),
        *card_images.values(),
        *card_files.values(),
        report_path,
        report_md,
        *pdfs,
        run_dir.file("metrics.json"),
        run_dir.file("data_manifest.json"),
    ]
    audit = {
        "experiment": config.experiment,
        "run_id": run_dir.run_id,
        "created_at": context["created_at"],
        "config_sha256": context["lineage"]["config_sha256"],
        "data_sha256": manifest["data_sha256"],
        "cohort_sha256": manifest["cohort_sha256"],
        "code_version": {
            key: context["lineage"].get(key)
            for key in ("clinai_version", "git_commit", "git_dirty", "source_sha256")
        },
        "pipeline": {
            "name": context["lineage"].get("pipeline"),
            "sha256": context["lineage"].get("pipeline_sha256"),
        },
        "environment": {
            "python": context["lineage"]["python"],
            "packages": context["lineage"]["packages"],
        },
        "acceptance_plan_sha256": run_dir.read_json("acceptance_plan.json", stage="train")[
            "sha256"
        ],
        # The post-market monitoring plan fixed at training (None: no plan pre-registered).
        "monitoring_plan_sha256": registered_plan_sha256(run_dir),
        "acceptance_verdict": context["acceptance_verdict"],
        "registry": registry,
        "outputs": {str(Path(p).relative_to(run_dir.path)): sha256_file(p) for p in outputs},
    }
    run_dir.write_json("audit.json", audit)
    if publish_dir is not None:
        publish_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(card_files["model_card.md"], publish_dir / f"{config.experiment}.md")
        for language in config.languages:
            if language != "en":
                shutil.copyfile(
                    card_files[f"model_card.{language}.md"],
                    publish_dir / f"{config.experiment}.{language}.md",
                )
        atomic_write_text(
            publish_dir / f"{config.experiment}.metrics.json",
            json.dumps(headline_metrics(metrics), indent=2) + "\n",
        )
        # Only these plots are linked from the Markdown card (their names carry the
        # experiment, so cards of several use cases can share publish_dir/plots/).
        for name in _LINKED_PLOTS:
            if name in card_images:
                (publish_dir / "plots").mkdir(exist_ok=True)
                image = card_images[name]
                shutil.copyfile(image, publish_dir / "plots" / image.name)
    return audit


def _write_pdfs(html_documents: list[Path]) -> list[Path]:
    """Print each HTML document to PDF, or none (one warning line) where PDFs cannot be written."""
    try:
        reporting.check_pdf_support()
    except ImportError as exc:
        logger.warning(PDF_SKIPPED, " ".join(str(exc).split()))
        return []
    return [reporting.write_pdf(html, html.with_suffix(".pdf")) for html in html_documents]

"""The validation report: one self-contained, accessible HTML file.

Images are embedded as base64 data URIs and the CSS is inline, so the file
opens anywhere (an approval board's e-mail, an air-gapped archive) and loads
nothing from outside. Headings follow one hierarchy, every table has a caption
and scoped header cells, and every image has alt text.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from clinai._utils import atomic_write_text
from clinai.reporting import _sanitize as s
from clinai.reporting._acceptance_view import acceptance_rows
from clinai.reporting._approval_view import approval_view
from clinai.reporting._card import (
    _acceptance,
    _features,
    _importance,
    _n_patients,
    _row_unit,
    _subgroups,
    _thresholds,
    dataset_view,
    document_title,
    row_unit_text,
    rows_strings,
    run_identity,
    sections,
)
from clinai.reporting._docstrings import fill_doc
from clinai.reporting._economics_view import economics_view
from clinai.reporting._explain_view import (
    clean_labels,
    dependence_images,
    explanation_view,
    label_of,
    labelled_importance,
    localise_explanations,
)
from clinai.reporting._fairness_view import fairness_view, mitigation_view
from clinai.reporting._format import NumberFormatter
from clinai.reporting._locales import get_strings
from clinai.reporting._monitoring_plan_view import monitoring_plan_view, predictor_drift_view
from clinai.reporting._quality_view import quality_view
from clinai.reporting._regulatory import (
    ANNEX_IV_CITATION,
    TRIPOD_AI_CITATION,
    annex_iv_map,
    tripod_checklist,
)
from clinai.reporting._render import render, translator
from clinai.reporting._small_data_view import small_data_view
from clinai.reporting._validation_size import validation_size

__all__ = ["write_validation_report"]

logger = logging.getLogger(__name__)

_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
_MAX_DECISION_ROWS = 11
_MAX_ROWS = 200
_MAX_REPORT_VARIABLES = 30
_OVERALL = ("auroc", "auprc", "brier", "scaled_brier")
_CALIBRATION = ("intercept", "slope", "oe_ratio", "ici", "e50", "e90")
# The named fields of the context's blocks that the report shows (nothing else is read).
_USE_CASE_TEXTS = (
    "name",
    "setting",
    "outcome",
    "prediction_time",
    "intended_use",
    "population",
    "citation",
)
_SPLIT_FIELDS = (
    "method",
    "test_size",
    "seed",
    "n_train",
    "n_test",
    "events_train",
    "events_test",
)
_LINEAGE_FIELDS = (
    "config_sha256",
    "data_sha256",
    "cohort_sha256",
    "code_version",
    "git_dirty",
    "source_sha256",
    "pipeline",
    "pipeline_sha256",
    "python",
    "platform",
)
# Metrics compared with the previously registered version: (label key, path in metrics.json).
_CHANGE_LOG = (
    ("auroc", ("auroc",)),
    ("brier", ("brier",)),
    ("calibration_slope", ("calibration", "slope")),
    ("calibration_intercept", ("calibration", "intercept")),
    ("oe_ratio", ("calibration", "oe_ratio")),
)
# Label keys (locales) of the metrics of the optimism correction, by metric name.
_METRIC_LABELS = {
    "auroc": "auroc",
    "brier": "brier",
    "calibration_slope": "calibration_slope",
    "calibration_intercept": "calibration_intercept",
    "auprc": "auprc",
    "scaled_brier": "scaled_brier",
    "oe_ratio": "oe_ratio",
}


def _cell(value: Any, fmt: NumberFormatter) -> str | None:
    """Format one table-1 cell; lists and deeper structures are dropped (privacy)."""
    if isinstance(value, Mapping):
        if "estimate" in value:
            return fmt.est(value)
        if "n" in value and ("pct" in value or "percent" in value):
            pct = value.get("pct", value.get("percent"))
            percent = fmt.percent_format.format(value=fmt.num(pct, 1))
            return f"{fmt.count(value.get('n'))} ({percent})"
        if {"median", "q1", "q3"} <= value.keys():
            median, q1, q3 = (fmt.num(value[k], 1) for k in ("median", "q1", "q3"))
            return f"{median} ({q1}–{q3})"
        if {"mean", "sd"} <= value.keys():
            return f"{fmt.num(value['mean'], 1)} ({fmt.num(value['sd'], 1)})"
        parts = [f"{key}: {fmt.value(item)}" for key, item in s.scalar_items(value).items()]
        return "; ".join(parts) or None
    if isinstance(value, Sequence) and not isinstance(value, str):
        return None
    scalar = s.scalar(value)
    return None if scalar is None else fmt.value(scalar)


def _population_rows(summary: Any, fmt: NumberFormatter) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for variable, value in list(s.mapping(summary).items())[:_MAX_ROWS]:
        nested = isinstance(value, Mapping) and not (
            "estimate" in value or "n" in value or "median" in value or "mean" in value
        )
        if nested:
            for level, cell in list(value.items())[:_MAX_ROWS]:
                text = _cell(cell, fmt)
                if text is not None:
                    rows.append((str(variable), str(level), text))
        else:
            text = _cell(value, fmt)
            if text is not None:
                rows.append((str(variable), "", text))
    return rows


def _cohort_flow(flow: Any) -> list[dict[str, Any]]:
    rows = []
    for row in flow if isinstance(flow, Sequence) and not isinstance(flow, str) else []:
        if isinstance(row, Mapping):
            rows.append(
                {
                    "step": s.text(row.get("step")),
                    "excluded": s.number(row.get("excluded")),
                    "remaining": s.number(row.get("remaining")),
                }
            )
    return rows[:_MAX_ROWS]


def _decision_rows(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = [
        {
            "threshold": s.number(r.get("threshold")),
            "net_benefit": s.number(r.get("net_benefit")),
            "net_benefit_treat_all": s.number(r.get("net_benefit_treat_all")),
        }
        for r in metrics.get("decision_curve") or []
        if isinstance(r, Mapping) and s.number(r.get("threshold")) is not None
    ]
    if len(rows) <= _MAX_DECISION_ROWS:
        return rows
    step = (len(rows) - 1) / (_MAX_DECISION_ROWS - 1)
    return [rows[round(i * step)] for i in range(_MAX_DECISION_ROWS)]


def _candidates(model: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "family": s.text(c.get("family")),
            "cv_score": s.number(c.get("cv_score")),
            "n_trials": s.number(c.get("n_trials")),
            # training.json: the safety timeout ended this family's study short of n_trials
            "timeout_fired": c.get("timeout_fired") is True,
            # training.json: trials whose fit failed at their hyperparameters (skipped)
            "n_trials_failed": s.number(c.get("n_trials_failed")),
        }
        for c in model.get("candidates") or []
        if isinstance(c, Mapping)
    ]


def _images(
    plots: Mapping[str, Path | str], strings: Mapping[str, str], fmt: NumberFormatter, auroc: Any
) -> dict[str, dict[str, str]]:
    alts = {
        "roc": strings["roc_plot_alt"].format(auroc=fmt.est(auroc)),
        "calibration": strings["calibration_plot_alt"],
        "decision_curve": strings["decision_plot_alt"],
        "subgroups": strings["subgroups_plot_alt"],
        "shap_importance": strings["shap_plot_alt"],
        "ceac": strings["econ_ceac_alt"],
    }
    import base64

    images: dict[str, dict[str, str]] = {}
    for name, path in plots.items():
        if name.startswith("dependence_"):
            continue  # placed with their variables (see dependence_images)
        if name not in alts:
            logger.warning("plot %s has no place in the validation report; left out", name)
            continue
        file = Path(path)
        mime = _MIME.get(file.suffix.lower())
        if mime is None or not file.is_file():
            logger.warning("plot %s (%s) is missing or not an image; left out", name, file)
            continue
        data = base64.b64encode(file.read_bytes()).decode("ascii")
        images[name] = {"src": f"data:{mime};base64,{data}", "alt": alts[name]}
    return images


def _rows(value: Any) -> list[Mapping[str, Any]]:
    """Return the mappings of a list (at most ``_MAX_ROWS``); anything else gives none."""
    if not isinstance(value, Sequence) or isinstance(value, str):
        return []
    return [row for row in list(value)[:_MAX_ROWS] if isinstance(row, Mapping)]


def _period(value: Any) -> str | None:
    """Return a date range as ``"start – end"`` from a mapping, a pair or a text."""
    if isinstance(value, Mapping):
        for low, high in (("start", "end"), ("from", "to"), ("min", "max")):
            if low in value or high in value:
                start, end = s.text(value.get(low)), s.text(value.get(high))
                return f"{start or '?'} – {end or '?'}" if (start or end) else None
        return None
    if isinstance(value, Sequence) and not isinstance(value, str):
        parts = [s.text(v) for v in list(value)[:2]]
        return " – ".join(p or "?" for p in parts) if any(parts) else None
    return s.text(value)


def _dig(metrics: Mapping[str, Any], path: Sequence[str]) -> Any:
    value: Any = metrics
    for key in path:
        value = s.mapping(value).get(key)
    return value


def _change_log(previous: Any, metrics: Mapping[str, Any]) -> dict[str, Any] | None:
    """Metrics of the previously registered version beside this run's (no arithmetic)."""
    previous = s.mapping(previous)
    old = s.mapping(previous.get("metrics"))
    if not previous:
        return None
    rows = [
        {
            "label": label,
            "previous": s.estimate(_dig(old, path)),
            "current": s.estimate(_dig(metrics, path)),
        }
        for label, path in _CHANGE_LOG
    ]
    counts = [
        {"label": key, "previous": s.number(old.get(key)), "current": s.number(metrics.get(key))}
        for key in ("n", "events")
    ]
    return {"version": s.scalar(previous.get("version")), "rows": rows, "counts": counts}


def _internal_validation(value: Any) -> dict[str, Any] | None:
    block = s.mapping(value)
    if not block:
        return None
    rows = []
    for name, row in list(s.mapping(block.get("metrics")).items())[:_MAX_ROWS]:
        row = s.mapping(row)
        rows.append(
            {
                "metric": str(name),
                "label_key": _METRIC_LABELS.get(str(name)),
                "apparent": s.number(row.get("apparent")),
                "optimism": s.number(row.get("optimism")),
                "corrected": s.number(row.get("corrected")),
                "optimism_sd": s.number(row.get("optimism_sd")),
                "n_replicates": s.number(row.get("n_replicates")),
            }
        )
    return {
        **{
            k: s.scalar(block.get(k))
            for k in ("method", "n_replicates", "n_done", "n_skipped", "random_state", "resampling")
        },
        "rows": rows,
    }


def _baseline(value: Any) -> dict[str, Any] | None:
    block = s.mapping(value)
    if not block:
        return None
    net_benefit = [
        {"threshold": s.number(r.get("threshold")), "difference": s.estimate(r)}
        for r in _rows(block.get("net_benefit_diff"))
        if s.number(r.get("threshold")) is not None
    ]
    return {
        "name": s.text(block.get("name")),
        "baseline_auroc": s.estimate(block.get("baseline_auroc")),
        "auroc_diff": s.estimate(block.get("auroc_diff")),
        "brier_diff": s.estimate(block.get("brier_diff")),
        "p_value": s.number(block.get("p_value")),
        "net_benefit_diff": net_benefit,
        "notes": s.texts(block.get("notes"))[:20],
    }


def _operating_points(value: Any) -> dict[str, Any] | None:
    """Put the model beside the existing score's alert cut-offs (matched flag rates)."""
    block = s.mapping(value)
    if not block:
        return None
    rates = ("sensitivity", "specificity", "ppv", "flag_rate")
    points = []
    for row in _rows(block.get("points")):
        baseline, model = s.mapping(row.get("baseline")), s.mapping(row.get("model"))
        points.append(
            {
                "baseline_threshold": s.number(row.get("baseline_threshold")),
                "model_threshold": s.number(row.get("model_threshold")),
                "baseline": {k: s.estimate(baseline.get(k)) for k in rates},
                "model": {k: s.estimate(model.get(k)) for k in rates},
                "sensitivity_gain": s.estimate(row.get("sensitivity_gain")),
            }
        )
    return {"name": s.text(block.get("name")), "points": points[:10]}


def _validation_basis(value: Any) -> dict[str, Any] | None:
    block = s.mapping(value)
    if not block:
        return None
    return {"note": s.text(block.get("note")), "corrected": s.texts(block.get("corrected"))}


def _sample_size(value: Any) -> dict[str, Any] | None:
    """Riley's minimum sample size; accepts the flat block and the evaluation's key names."""
    block = s.mapping(value)
    if not block:
        return None
    merged = {**s.mapping(block.get("result")), **s.mapping(block.get("assessment")), **block}
    criteria = []
    for row in _rows(merged.get("criteria")):
        criteria.append(
            {
                "criterion": s.text(row.get("criterion")) or s.text(row.get("name")),
                "description": s.text(row.get("description")),
                "n_required": s.number(row.get("n_required", row.get("n"))),
                "events_required": s.number(row.get("events_required", row.get("events"))),
            }
        )
    adequate = merged.get("adequate")
    return {
        "criteria": criteria,
        "n_required": s.number(merged.get("n_required", merged.get("n"))),
        "events_required": s.number(merged.get("events_required", merged.get("events"))),
        "n_available": s.number(merged.get("n_available")),
        "events_available": s.number(merged.get("events_available")),
        "events_per_parameter": s.number(merged.get("events_per_parameter")),
        "adequate": adequate if isinstance(adequate, bool) else None,
        "warning": s.text(merged.get("warning")),
    }


def _report_view(
    context: Mapping[str, Any],
    metrics: Mapping[str, Any],
    importance: Mapping[str, Any] | None,
    fmt: NumberFormatter,
) -> dict[str, Any]:
    use_case, dataset, split, model, lineage, calibration = sections(context, metrics)
    tuning = s.mapping(model.get("tuning"))
    strings = get_strings(fmt.language)
    labels = clean_labels(context.get("feature_labels"))
    view: dict[str, Any] = {
        "title": document_title(context),
        **run_identity(context),
        "use_case": {
            **{k: s.text(use_case.get(k)) for k in _USE_CASE_TEXTS},
            "not_for": s.texts(use_case.get("not_for")),
            "limitations": s.texts(use_case.get("limitations")),
        },
        "acceptance": _acceptance(metrics, context.get("acceptance_verdict")),
        "n": s.number(metrics.get("n")),
        "n_patients": _n_patients(split),
        # what a row is when it is not a patient, e.g. "prediction times (hours)" (issue 13, 8a)
        "row_unit_text": row_unit_text(
            {
                "n": s.number(metrics.get("n")),
                "n_patients": _n_patients(split),
                "row_unit": _row_unit(use_case),
            },
            fmt.language,
            strings,
        ),
        "events": s.number(metrics.get("events")),
        "prevalence": s.number(metrics.get("prevalence")),
        "overall": {k: s.estimate(metrics.get(k)) for k in _OVERALL},
        "calibration": {k: s.estimate(calibration.get(k)) for k in _CALIBRATION},
        "thresholds": _thresholds(metrics),
        "decision_curve": _decision_rows(metrics),
        "subgroups": _subgroups(metrics),
        "fairness": fairness_view(metrics),
        "mitigation": mitigation_view(metrics),
        # clinical labels of the variables in this language (issue 13, 8b); code names without
        "importance": labelled_importance(_importance(importance), labels, fmt.language, strings),
        "explanations": localise_explanations(
            explanation_view(importance), labels, fmt.language, strings
        ),
        "cohort_flow": _cohort_flow(context.get("cohort_flow")),
        "population_rows": [
            (label_of(variable, labels, fmt.language), level, value)
            for variable, level, value in _population_rows(context.get("population_summary"), fmt)
        ],
        "data_quality": quality_view(context.get("data_quality")),
        # TRIPOD+AI 20c and Annex IV 9 (issue 15): None where the run has no such file
        "predictor_drift": predictor_drift_view(
            context.get("predictor_drift"), labels, fmt.language
        ),
        "monitoring_plan": monitoring_plan_view(context.get("monitoring_plan"), strings, fmt),
        "dataset": dataset_view(dataset),
        "split": {
            **{k: s.scalar(split.get(k)) for k in _SPLIT_FIELDS},
            "train_period": _period(split.get("train_period")),
            "test_period": _period(split.get("test_period")),
        },
        "features": [label_of(f, labels, fmt.language) for f in _features(context)[:_MAX_ROWS]],
        "model": {
            "family": s.text(model.get("family")),
            "calibration": s.text(model.get("calibration")),
            "selection_metric": s.text(model.get("selection_metric")),
            "cv_score": s.number(model.get("cv_score")),
            "best_params": s.scalar_items(model.get("best_params")),
            "candidates": _candidates(model),
            # Storage URLs are left out: they may hold credentials.
            "tuning": {k: s.scalar(tuning.get(k)) for k in ("n_trials", "timeout_s", "cv_folds")},
        },
        "lineage": {
            **{k: s.scalar(lineage.get(k)) for k in _LINEAGE_FIELDS},
            "packages": s.scalar_items(lineage.get("packages")),
        },
        "auroc_delong": s.estimate(metrics.get("auroc_delong")),
        "baseline": _baseline(metrics.get("baseline_comparison")),
        "comparisons": [
            block
            for block in (
                _baseline(metrics.get("baseline_comparison")),
                _baseline(metrics.get("registry_comparison")),
            )
            if block
        ],
        "operating_points": _operating_points(metrics.get("baseline_operating_points")),
        # issue 17: none without an economics: section, so no economic number appears
        "economics": economics_view(metrics.get("economics")),
        "validation_basis": _validation_basis(metrics.get("validation_basis")),
        # too few events or event-free rows for precise estimates (Collins et al. 2016)
        "validation_size": validation_size(
            metrics.get("n"), metrics.get("events"), context.get("validation_sample_size")
        ),
        "internal_validation": _internal_validation(metrics.get("internal_validation")),
        "sample_size": _sample_size(metrics.get("sample_size")),
        "small_data": small_data_view(model),
        "previous": _change_log(context.get("previous"), metrics),
        "approval": approval_view(context.get("approval")),
        "max_variables": _MAX_REPORT_VARIABLES,
        "tripod_citation": TRIPOD_AI_CITATION,
        "annex_iv_citation": ANNEX_IV_CITATION,
    }
    view["criteria"] = acceptance_rows(
        view["acceptance"]["criteria"], metrics, get_strings(fmt.language), fmt
    )
    view["tripod"] = tripod_checklist(view)
    view["annex_iv"] = annex_iv_map(view)
    return view


def report_texts(
    context: Mapping[str, Any],
    metrics: Mapping[str, Any],
    importance: Mapping[str, Any] | None,
    language: str,
) -> tuple[Mapping[str, str], NumberFormatter, dict[str, Any]]:
    """Return the strings, number formatter and view the HTML and Markdown reports render."""
    strings, fmt = translator(language)
    view = _report_view(context, metrics, importance, fmt)
    strings = rows_strings(strings, view["row_unit_text"])  # rows that are not patients
    return strings, fmt, view


@fill_doc
def write_validation_report(
    context: Mapping[str, Any],
    metrics: Mapping[str, Any],
    *,
    plots: Mapping[str, Path | str],
    importance: Mapping[str, Any] | None = None,
    out_path: str | Path,
    language: str = "en",
) -> Path:
    """Write the validation report as one self-contained, accessible HTML file.

    Sections: summary and acceptance verdict (each pre-specified criterion with
    pass, fail or not applicable), discrimination, calibration, thresholds,
    decision curve, subgroups (suppressed cells without numbers), explainability,
    cohort flow, data provenance and lineage, model and tuning, limitations. Every
    estimate is shown with its confidence interval, ``"0.81 (0.75–0.87)"``.
    Only named fields of the inputs are rendered (see :func:`build_model_card`).

    Parameters
    ----------
    context : mapping
        The run context (see :func:`build_model_card`); also ``cohort_flow`` and
        ``population_summary`` (a table-1 dict rendered as variable, level, value).
    metrics : mapping
        The validation result, metrics.json schema v1.
    plots : mapping of str to path
        From :func:`render_plots`; each image is embedded as a data URI.
    importance : mapping or None, default=None
        SHAP importance ``{"method", "n_rows", "variables": [...]}``.
    out_path : str or path-like
        The HTML file to write (atomically).
    {report_language}

    {returns_out_path}

    {raises_unknown_language}
    """
    strings, fmt, view = report_texts(context, metrics, importance, language)
    images = _images(plots, strings, fmt, metrics.get("auroc"))
    explain_images = dependence_images(plots, view["explanations"], strings)
    html = render(
        "validation_report.html.j2",
        r=view,
        images=images,
        t=strings,
        fmt=fmt,
        lang=language,
        explain_images=explain_images,
    )
    path = atomic_write_text(Path(out_path), html)
    logger.info("validation report written to %s", path)
    return path

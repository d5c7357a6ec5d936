"""The model card: built once as a JSON-ready dict, then rendered per language.

:func:`build_model_card` picks whitelisted fields from the run context and the
validation result; :func:`write_model_card` renders only that dict. The top-level
keys cover Google's Model Card Toolkit schema (``model_details``,
``model_parameters``, ``quantitative_analysis``, ``considerations``) plus a
``clinai`` section for what a clinician needs (intended use, not-for uses,
natural frequencies, acceptance verdict, subgroup results).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from clinai._utils import atomic_write_text, to_jsonable
from clinai.reporting import _sanitize as s
from clinai.reporting._acceptance_view import acceptance_rows
from clinai.reporting._approval_view import approval_view
from clinai.reporting._economics_view import economics_view
from clinai.reporting._explain_view import (
    clean_labels,
    dependence_images,
    explanation_view,
    labelled_importance,
    localise_explanations,
)
from clinai.reporting._fairness_view import calibration_image, fairness_view, operating_first
from clinai.reporting._locales import get_language_names
from clinai.reporting._render import render, translator
from clinai.reporting._small_data_view import small_data_view
from clinai.reporting._validation_size import validation_size

__all__ = ["CARD_SCHEMA_VERSION", "build_model_card", "write_model_card"]

logger = logging.getLogger(__name__)

#: Version of the card dict written to model_card.json.
CARD_SCHEMA_VERSION = 1

_UNKNOWN_LANGUAGE = (
    "The 'languages' parameter of write_model_card must hold codes from {valid} "
    "(see clinai.reporting.get_language_names()). Got {got!r} instead."
)

_OVERALL_METRICS = (
    ("auroc", "AUROC"),
    ("auprc", "AUPRC"),
    ("brier", "Brier score"),
    ("scaled_brier", "Scaled Brier score"),
)
_CALIBRATION_METRICS = (
    ("intercept", "Calibration intercept"),
    ("slope", "Calibration slope"),
    ("oe_ratio", "O/E ratio"),
    ("ici", "ICI"),
    ("e50", "E50"),
    ("e90", "E90"),
)
_THRESHOLD_METRICS = (
    ("sensitivity", "Sensitivity"),
    ("specificity", "Specificity"),
    ("ppv", "PPV"),
    ("npv", "NPV"),
    ("flag_rate", "Flag rate"),
)
_SUBGROUP_METRICS = ("auroc", "calibration_intercept", "oe_ratio", "sensitivity", "specificity")
_USE_CASE_TEXTS = ("title", "outcome", "prediction_time", "intended_use", "population", "setting")
_USE_CASE_LISTS = ("not_for", "limitations", "users")
_MAX_CARD_VARIABLES = 10
_DATASET_FIELDS = ("name", "title", "package", "licence", "citation", "url", "n_rows")
#: The lineage hashes and versions the card shows (the report shows more).
_LINEAGE_FIELDS = (
    "config_sha256",
    "data_sha256",
    "code_version",
    "git_dirty",
    "python",
    "pipeline",
    "pipeline_sha256",
)

_ETHICAL_CONSIDERATIONS = (
    {
        "name": "Privacy",
        "mitigation_strategy": (
            "Patient identifiers are pseudonymised before use; no identifier or patient-level "
            "row is written to this card, the validation report or the tracking server."
        ),
    },
    {
        "name": "Unequal performance across patient groups",
        "mitigation_strategy": (
            "Discrimination and calibration are reported per subgroup; groups too small to "
            "report reliably are suppressed rather than shown."
        ),
    },
    {
        "name": "Automation bias",
        "mitigation_strategy": (
            "The model gives a risk, not a decision; it supports and does not replace "
            "clinical judgement."
        ),
    },
)


def _perf(
    metric_type: str, value: Any, *, slice_: str = "overall", threshold: float | None = None
) -> dict[str, Any] | None:
    est = s.estimate(value)
    if est is None:
        return None
    entry: dict[str, Any] = {
        "type": metric_type,
        "value": est["estimate"],
        "confidence_interval": {"lower_bound": est["ci_low"], "upper_bound": est["ci_high"]},
        "slice": slice_,
    }
    if threshold is not None:
        entry["threshold"] = threshold
    return entry


def _thresholds(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for row in metrics.get("thresholds") or []:
        if not isinstance(row, Mapping):
            continue
        threshold = s.number(row.get("threshold"))
        if threshold is None:
            continue
        out: dict[str, Any] = {"threshold": float(threshold)}
        for key, _ in _THRESHOLD_METRICS:
            out[key] = s.estimate(row.get(key))
        rows.append(out)
    return rows


def _subgroups(metrics: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for attribute, rows in s.mapping(metrics.get("subgroups")).items():
        cleaned = []
        for row in rows if isinstance(rows, Sequence) else []:
            if not isinstance(row, Mapping):
                continue
            group = s.text(row.get("group"))
            if row.get("suppressed"):
                # No number at all for a suppressed cell, whatever the input held.
                cleaned.append({"group": group, "suppressed": True})
                continue
            entry: dict[str, Any] = {
                "group": group,
                "suppressed": False,
                "n": s.number(row.get("n")),
                "events": s.number(row.get("events")),
            }
            for key in _SUBGROUP_METRICS:
                entry[key] = s.estimate(row.get(key))
            cleaned.append(entry)
        out[str(attribute)] = cleaned
    return out


def _acceptance(metrics: Mapping[str, Any], verdict: Any) -> dict[str, Any]:
    criteria = []
    for row in metrics.get("acceptance") or []:
        if not isinstance(row, Mapping):
            continue
        status = s.text(row.get("status"))
        if status is None:
            passed = row.get("passed")
            status = "not_applicable" if passed is None else ("pass" if passed else "fail")
        status = status.lower().replace(" ", "_")
        value = row.get("value")
        criteria.append(
            {
                **s.fields(row, ("criterion", "metric", "rule"), s.text),
                # which part of the estimate was judged, and against what (absent in old runs)
                "statistic": s.text(row.get("statistic")),
                **s.fields(row, ("min", "max"), s.number),
                "value": s.estimate(value) if isinstance(value, Mapping) else s.scalar(value),
                "passed": row.get("passed") if isinstance(row.get("passed"), bool) else None,
                "status": status,
            }
        )
    verdict_text = s.text(verdict)
    if verdict_text is None and not criteria:
        verdict_text = "no criteria"
    return {"verdict": verdict_text, "criteria": criteria}


def _natural_frequencies(thresholds: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Turn the first threshold's PPV, sensitivity and flag rate into counts per 100/10.

    This is formatting, not statistics: ``round(100 * ppv)``, ``round(10 * sensitivity)``
    (and ``round(100 * sensitivity)`` for the card's one-page summary).
    """
    if not thresholds:
        return None
    first = thresholds[0]

    def scaled(key: str, factor: int) -> int | None:
        est = first.get(key)
        return None if est is None else round(factor * est["estimate"])

    out = {
        "threshold": first["threshold"],
        "flagged_per_100": scaled("flag_rate", 100),
        "outcome_per_100_flagged": scaled("ppv", 100),
        "found_per_10_with_outcome": scaled("sensitivity", 10),
        "found_per_100_with_outcome": scaled("sensitivity", 100),
    }
    if all(out[k] is None for k in out if k != "threshold"):
        return None
    return out


def _score_comparison(value: Any) -> dict[str, Any] | None:
    """Put the existing score's alert cut-offs beside the model, as counts per 100 and per 10.

    Formatting only: ``round(100 * flag_rate)`` and ``round(10 * sensitivity)`` of
    each rule, from ``metrics["baseline_operating_points"]``.
    """
    block = s.mapping(value)
    if not block:
        return None

    def per(rule: Any, key: str, factor: int) -> int | None:
        number = s.number(s.mapping(s.mapping(rule).get(key)).get("estimate"))
        return None if number is None else round(factor * number)

    points = [
        {
            "cutoff": s.number(row.get("baseline_threshold")),
            "flagged_per_100": per(row.get("baseline"), "flag_rate", 100),
            "score_found_per_10": per(row.get("baseline"), "sensitivity", 10),
            "model_found_per_10": per(row.get("model"), "sensitivity", 10),
            "sensitivity_gain": s.estimate(row.get("sensitivity_gain")),
        }
        for row in block.get("points") or []
        if isinstance(row, Mapping)
    ]
    return {"name": s.text(block.get("name")), "points": points[:10]}


def _baseline(value: Any) -> dict[str, Any] | None:
    """Return the score in use today beside the model: its name, AUROC and AUROC difference."""
    block = s.mapping(value)
    name = s.text(block.get("name"))
    if not name:
        return None
    return {
        "name": name,
        "baseline_auroc": s.estimate(block.get("baseline_auroc")),
        "auroc_diff": s.estimate(block.get("auroc_diff")),
    }


def _importance(importance: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not isinstance(importance, Mapping):
        return None
    variables: list[dict[str, Any]] = []
    for row in importance.get("variables") or []:
        if not isinstance(row, Mapping):
            continue
        value = s.number(row.get("mean_abs_shap"))
        name = s.text(row.get("variable"))
        if value is None or name is None:
            continue
        variables.append(
            {
                "variable": name,
                "mean_abs_shap": float(value),
                "direction": s.text(row.get("direction")),
            }
        )
    variables.sort(key=lambda v: float(v["mean_abs_shap"]), reverse=True)
    return {
        "method": s.text(importance.get("method")),
        "n_rows": s.number(importance.get("n_rows")),
        "variables": variables,
    }


def _translations(use_case: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for language, fields in s.mapping(use_case.get("translations")).items():
        fields = s.mapping(fields)
        entry: dict[str, Any] = {key: s.text(fields.get(key)) for key in _USE_CASE_TEXTS}
        entry.update({key: s.texts(fields.get(key)) for key in _USE_CASE_LISTS})
        out[str(language)] = {k: v for k, v in entry.items() if v}
    return out


def _features(context: Mapping[str, Any]) -> list[str]:
    features = context.get("features")
    if isinstance(features, Mapping):
        return s.texts(features.get("numeric")) + s.texts(features.get("categorical"))
    return s.texts(features)


class Sections(NamedTuple):
    """The whitelisted sections of the run context and the result the documents read.

    Each is a mapping, empty where the input has none.
    """

    use_case: Mapping[str, Any]
    dataset: Mapping[str, Any]
    split: Mapping[str, Any]
    model: Mapping[str, Any]
    lineage: Mapping[str, Any]
    calibration: Mapping[str, Any]


def sections(context: Mapping[str, Any], metrics: Mapping[str, Any]) -> Sections:
    """Return the context's and the result's sections that the card and the report read."""
    return Sections(
        use_case=s.mapping(context.get("use_case")),
        dataset=s.mapping(context.get("dataset")),
        split=s.mapping(context.get("split")),
        model=s.mapping(context.get("model")),
        lineage=s.mapping(context.get("lineage")),
        calibration=s.mapping(metrics.get("calibration")),
    )


def document_title(context: Mapping[str, Any]) -> str | None:
    """Return the use case's title, else its name, else the experiment (None if none)."""
    use_case = s.mapping(context.get("use_case"))
    return (
        s.text(use_case.get("title"))
        or s.text(use_case.get("name"))
        or s.text(context.get("experiment"))
    )


def run_identity(context: Mapping[str, Any]) -> dict[str, str | None]:
    """Return the run's ``experiment``, ``run_id`` and ``created_at`` as texts."""
    return {key: s.text(context.get(key)) for key in ("experiment", "run_id", "created_at")}


def dataset_view(dataset: Mapping[str, Any]) -> dict[str, Any]:
    """Return the dataset's named fields as scalars (no other field reaches a document)."""
    return {key: s.scalar(dataset.get(key)) for key in _DATASET_FIELDS}


def build_model_card(
    context: Mapping[str, Any],
    metrics: Mapping[str, Any],
    *,
    importance: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the model card as a JSON-ready dict from whitelisted fields.

    No statistic is computed; the natural frequencies are the first threshold's
    PPV, sensitivity and flag rate scaled to counts (``round(100 * ppv)`` of 100
    flagged patients have the outcome; the model finds ``round(10 * sensitivity)``
    of every 10 who do). Only named fields are copied, as scalars or lists of
    scalars, so anything else in ``context`` (e.g. a patient identifier under an
    unexpected key) never reaches the card. Suppressed subgroup cells keep no numbers.

    Parameters
    ----------
    context : mapping
        The run context: ``experiment``, ``run_id``, ``created_at``, ``use_case``,
        ``dataset``, ``split``, ``model``, ``lineage``, ``acceptance_verdict``,
        ``registry`` and, optionally, ``owners`` ([{"name", "contact"}]), ``licence``,
        ``features`` ({"numeric", "categorical"}) and ``use_case.translations``
        ({"da": {"intended_use", "not_for", ...}}) for the card's other languages.
    metrics : mapping
        The validation result, metrics.json schema v1.
    importance : mapping or None, default=None
        SHAP importance ``{"method", "n_rows", "variables": [...]}``.

    Returns
    -------
    dict
        ``schema_version``, ``model_details``, ``model_parameters``,
        ``quantitative_analysis``, ``considerations`` and ``clinai``. Metric values are
        numbers (Model Card Toolkit itself stores them as strings).

    See Also
    --------
    write_model_card : Write the card as JSON, Markdown and HTML.
    """
    use_case, dataset, split, model, lineage, calibration = sections(context, metrics)
    registry = s.mapping(context.get("registry"))

    title = document_title(context) or "clinai model"
    thresholds = _thresholds(metrics)
    subgroups = _subgroups(metrics)
    acceptance = _acceptance(metrics, context.get("acceptance_verdict"))
    family = s.text(model.get("family"))
    calibration_method = s.text(model.get("calibration"))
    features = _features(context)

    performance_metrics: list[dict[str, Any]] = []
    for key, label in _OVERALL_METRICS:
        performance_metrics.append(_perf(label, metrics.get(key)) or {})
    for key, label in _CALIBRATION_METRICS:
        performance_metrics.append(_perf(label, calibration.get(key)) or {})
    for row in thresholds:
        for key, label in _THRESHOLD_METRICS:
            performance_metrics.append(_perf(label, row[key], threshold=row["threshold"]) or {})
    for attribute, rows in subgroups.items():
        for row in rows:
            if not row["suppressed"]:
                performance_metrics.append(
                    _perf("AUROC", row["auroc"], slice_=f"{attribute}={row['group']}") or {}
                )
    performance_metrics = [m for m in performance_metrics if m]

    registry_info = None
    if registry:
        registry_info = {
            "model_name": s.text(registry.get("model_name")),
            "version": s.scalar(registry.get("version")),
            "alias": s.text(registry.get("alias")),
        }
    version_name = (
        f"{registry_info['model_name']} v{registry_info['version']}"
        if registry_info and registry_info["version"] is not None
        else s.text(context.get("run_id"))
    )
    owners = [
        {"name": s.text(o.get("name")), "contact": s.text(o.get("contact"))}
        for o in context.get("owners") or []
        if isinstance(o, Mapping)
    ]
    citations = [
        {"style": "text", "citation": c}
        for c in (s.text(use_case.get("citation")), s.text(dataset.get("citation")))
        if c
    ]
    references = [{"reference": r} for r in (s.text(dataset.get("url")),) if r]
    references += [{"reference": r} for r in s.texts(context.get("references"))]

    users = s.texts(use_case.get("users"))
    intended_use = s.text(use_case.get("intended_use"))
    limitations = s.texts(use_case.get("limitations"))
    not_for = s.texts(use_case.get("not_for"))
    outcome = s.text(use_case.get("outcome"))

    fairness = [
        {"attribute": attribute, **row} for attribute, rows in subgroups.items() for row in rows
    ]
    card: dict[str, Any] = {
        "schema_version": CARD_SCHEMA_VERSION,
        "model_details": {
            "name": title,
            "overview": s.text(use_case.get("overview")) or intended_use,
            "version": {"name": version_name, "date": s.text(context.get("created_at"))},
            "owners": owners,
            "licence": {
                "model": s.text(context.get("licence")),
                "training_data": s.text(dataset.get("licence")),
            },
            "references": references,
            "citations": citations,
        },
        "model_parameters": {
            "model_architecture": family,
            "calibration": calibration_method,
            "hyperparameters": s.scalar_items(model.get("best_params")),
            "selection": {
                "metric": s.text(model.get("selection_metric")),
                "cv_score": s.number(model.get("cv_score")),
            },
            "data": {
                "dataset": s.text(dataset.get("title")) or s.text(dataset.get("name")),
                "split_method": s.text(split.get("method")),
                "train": {"n": s.number(split.get("n_train"))},
                "test": {
                    "n": s.number(metrics.get("n")) or s.number(split.get("n_test")),
                    "events": s.number(metrics.get("events")),
                    "prevalence": s.number(metrics.get("prevalence")),
                },
            },
            "input_format": (
                "Tabular: one row per patient at the prediction time"
                + (f", with the variables {', '.join(features)}." if features else ".")
            ),
            "input_variables": features,
            "output_format": "Predicted probability (0-1) of the outcome"
            + (f": {outcome}" if outcome else "."),
        },
        "quantitative_analysis": {"performance_metrics": performance_metrics},
        "considerations": {
            "users": [{"description": u} for u in users],
            "use_cases": [{"description": intended_use}] if intended_use else [],
            "limitations": [{"description": text} for text in limitations],
            "out_of_scope_uses": [{"description": text} for text in not_for],
            "ethical_considerations": [dict(e) for e in _ETHICAL_CONSIDERATIONS],
            "fairness_assessment": fairness,
        },
        "clinai": {
            **run_identity(context),
            "title": title,
            "setting": s.text(use_case.get("setting")),
            "intended_use": intended_use,
            "not_for": not_for,
            "users": users,
            "outcome": outcome,
            "prediction_time": s.text(use_case.get("prediction_time")),
            "population": s.text(use_case.get("population")),
            "limitations": limitations,
            "performance": {
                "n": s.number(metrics.get("n")),
                # rows may be prediction times of fewer patients (issue 13, 8a)
                "n_patients": _n_patients(split),
                "row_unit": _row_unit(use_case),
                "events": s.number(metrics.get("events")),
                "prevalence": s.number(metrics.get("prevalence")),
                **{key: s.estimate(metrics.get(key)) for key, _ in _OVERALL_METRICS},
                "calibration": {
                    key: s.estimate(calibration.get(key)) for key, _ in _CALIBRATION_METRICS
                },
            },
            "thresholds": thresholds,
            "natural_frequencies": _natural_frequencies(
                operating_first(thresholds, metrics.get("operating_threshold"))
            ),
            "operating_threshold": s.number(metrics.get("operating_threshold")),
            "fairness": fairness_view(metrics),
            "score_comparison": _score_comparison(metrics.get("baseline_operating_points")),
            "baseline": _baseline(metrics.get("baseline_comparison")),
            # issue 17: none without an economics: section, so no economic number appears
            "economics": economics_view(metrics.get("economics")),
            "validation_basis": s.text(s.mapping(metrics.get("validation_basis")).get("note")),
            "validation_size": validation_size(
                metrics.get("n"), metrics.get("events"), context.get("validation_sample_size")
            ),
            "acceptance": acceptance,
            "importance": _importance(importance),
            "explanations": explanation_view(importance),
            "subgroups": subgroups,
            "dataset": dataset_view(dataset),
            "model": {"family": family, "calibration": calibration_method},
            # issue 16: the data were too small for the model (None when Riley's criteria held)
            "small_data": small_data_view(model),
            "registry": registry_info,
            "approval": approval_view(context.get("approval")),
            "lineage": {key: s.scalar(lineage.get(key)) for key in _LINEAGE_FIELDS},
            "translations": _translations(use_case),
            "feature_labels": clean_labels(context.get("feature_labels")),
        },
    }
    return card


def _n_patients(split: Mapping[str, Any]) -> Any:
    """Distinct patients behind the validation rows (the training split without a test split)."""
    if s.number(split.get("n_test")):
        return s.number(split.get("n_patients_test"))
    return s.number(split.get("n_patients_train"))


def _row_unit(use_case: Mapping[str, Any]) -> dict[str, str] | None:
    """Return what one row is, per language, when not a patient (METADATA ``row_unit``)."""
    unit = use_case.get("row_unit")
    if isinstance(unit, str):
        unit = {"en": unit}
    texts = {str(k): text for k, v in s.mapping(unit).items() if (text := s.text(v))}
    return texts or None


def row_unit_text(
    performance: Mapping[str, Any], language: str, strings: Mapping[str, str]
) -> str | None:
    """Return the language's name of a row when rows are not patients, else None.

    The pipeline's ``row_unit`` (e.g. "prediction times (hours)"); without one,
    "predictions" where there are fewer patients than rows.
    """
    units = s.mapping(performance.get("row_unit"))
    if units:
        return units.get(language) or units.get("en")
    n, patients = performance.get("n"), performance.get("n_patients")
    if isinstance(n, int | float) and isinstance(patients, int | float) and patients < n:
        return strings["row_unit_default"]
    return None


_ROW_KEYS = (
    "n_explained",
    "n_train",
    "n_test",
    "nf_flag_rate",
    "nf_ppv",
    "nf_sensitivity",
    "flag_rate",
    "facts_ppv",
    "score_comparison_line",
    "facts_sensitivity",
    "facts_flag_rate",
)


def rows_strings(strings: Mapping[str, str], unit: str | None) -> Mapping[str, str]:
    """Return the strings with the labels of row counts naming ``unit`` where rows are not patients.

    Table headers ("Patients", "Share of patients flagged"), the split sizes and the
    natural frequencies ("of every 100 patients") then count e.g. "prediction times
    (hours)" (the ``<key>_rows`` strings); with ``unit`` None the strings are unchanged.
    """
    if not unit:
        return strings
    out = {**strings, "patients": unit[:1].upper() + unit[1:]}
    # each "<key>_rows" string names the rows where "<key>" names patients; other
    # placeholders ({flagged}, {ppv}, ...) stay for the template
    for key in _ROW_KEYS:
        if key in strings and f"{key}_rows" in strings:
            out[key] = strings[f"{key}_rows"].replace("{unit}", unit)
    return out


def _localise(
    clinai: Mapping[str, Any], language: str, strings: Mapping[str, str]
) -> dict[str, Any]:
    """Return the card's facts in one language: variables' clinical labels, a row's unit."""
    labels = clinai.get("feature_labels")
    performance = s.mapping(clinai.get("performance"))
    return {
        **clinai,
        "performance": {
            **performance,
            "row_unit_text": row_unit_text(performance, language, strings),
        },
        "importance": labelled_importance(clinai.get("importance"), labels, language, strings),
        "explanations": localise_explanations(
            clinai.get("explanations"), labels, language, strings
        ),
    }


def _use_case_view(card: Mapping[str, Any], language: str) -> tuple[dict[str, Any], bool]:
    """Return the use-case texts of ``language`` (English where not translated)."""
    clinai = s.mapping(card.get("clinai"))
    view: dict[str, Any] = {key: clinai.get(key) for key in (*_USE_CASE_TEXTS, *_USE_CASE_LISTS)}
    if language == "en":
        return view, False
    translation = s.mapping(s.mapping(clinai.get("translations")).get(language))
    view.update({k: v for k, v in translation.items() if v})
    english_only = any(
        clinai.get(key) and not translation.get(key)
        for key in (*_USE_CASE_TEXTS, *_USE_CASE_LISTS)
        if key != "setting"
    )
    return view, english_only


def _render_card(
    card: Mapping[str, Any],
    language: str,
    calibration: Mapping[str, str] | None = None,
    images: Mapping[str, Path | str] | None = None,
    ceac: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    strings, fmt = translator(language)
    clinai = _localise(s.mapping(card.get("clinai")), language, strings)
    # rows that are not patients are counted under their own name (issue 13, 8a)
    strings = rows_strings(strings, clinai["performance"]["row_unit_text"])
    explanations = clinai.get("explanations")
    use_case, english_only = _use_case_view(card, language)
    criteria = s.mapping(clinai.get("acceptance")).get("criteria") or []
    variables = {
        "card": card,
        "c": clinai,
        "uc": use_case,
        "english_only": english_only,
        "t": strings,
        "fmt": fmt,
        "lang": language,
        "max_variables": _MAX_CARD_VARIABLES,
        # the thresholds give the labels of "thresholds.<i>.<metric>" criteria
        "criteria": acceptance_rows(
            criteria, {"thresholds": clinai.get("thresholds")}, strings, fmt
        ),
        "calibration_plot": calibration,
        "ceac_plot": ceac,
        "x": explanations,
        "explain_images": dependence_images(images, explanations, strings),
    }
    return render("model_card.md.j2", **variables), render("model_card.html.j2", **variables)


def write_model_card(
    card: Mapping[str, Any],
    out_dir: str | Path,
    *,
    languages: Iterable[str] = ("en", "da"),
    images: Mapping[str, Path | str] | None = None,
) -> dict[str, Path]:
    """Write the model card as JSON, Markdown and HTML, in English and other languages.

    The English card is always written (``model_card.json``, ``model_card.md``,
    ``model_card.html``); each other language in ``languages`` adds
    ``model_card.<lang>.md`` and ``model_card.<lang>.html``. Headings and clinical
    terms come from the reviewed strings file of the language, and numbers use its
    decimal mark (Danish: ``0,81``). Everything is rendered in memory first and
    each file is written atomically, so a failure leaves no half-written card.

    Parameters
    ----------
    card : mapping
        A card from :func:`build_model_card`.
    out_dir : str or path-like
        Destination folder; created if needed.
    languages : iterable of str, default=("en", "da")
        Codes from :func:`get_language_names`.
    images : mapping of str to path, optional
        Plots from :func:`render_plots`; ``calibration`` is embedded in the HTML
        card (hence its PDF) as a data URI and linked from the Markdown card by
        its path relative to ``out_dir``; the ``dependence_<rank>`` plots are
        embedded in the HTML card's "why the model flags a patient" section.

    Returns
    -------
    dict of str to pathlib.Path
        File name to path, e.g. ``{"model_card.json": ..., "model_card.da.md": ...}``.

    Raises
    ------
    ValueError
        If a language has no strings file.
    """
    wanted = list(dict.fromkeys(languages))
    valid = get_language_names()
    unknown = [lang for lang in wanted if lang not in valid]
    if unknown:
        raise ValueError(_UNKNOWN_LANGUAGE.format(valid=valid, got=unknown))
    rendered: dict[str, str] = {
        "model_card.json": json.dumps(
            to_jsonable(card), indent=2, ensure_ascii=False, allow_nan=False
        )
        + "\n",
    }
    calibration = calibration_image(images, Path(out_dir))
    ceac = calibration_image(images, Path(out_dir), name="ceac")  # economics (issue 17)
    for language in ["en", *[lang for lang in wanted if lang != "en"]]:
        markdown, html = _render_card(card, language, calibration, images, ceac)
        suffix = "" if language == "en" else f".{language}"
        rendered[f"model_card{suffix}.md"] = markdown
        rendered[f"model_card{suffix}.html"] = html
    folder = Path(out_dir)
    written = {name: atomic_write_text(folder / name, text) for name, text in rendered.items()}
    logger.info("model card written to %s (%s)", folder, ", ".join(written))
    return written

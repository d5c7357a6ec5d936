"""Flat MLflow names and values: metric keys, dotted parameters, metrics.json as metrics."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from clinai._utils import finite_float

__all__ = ["flatten_metrics", "flatten_params", "metric_key", "metric_values"]

logger = logging.getLogger(__name__)

# MLflow limits (mlflow.utils.validation), copied so that using them needs no mlflow.
_MAX_PARAM_VALUE = 6000
_MAX_KEY = 250

_KEY_REPLACEMENTS = (
    ("<=", "le"),
    (">=", "ge"),
    ("<", "lt"),
    (">", "gt"),
    ("=", "eq"),
    ("+", "plus"),
)
_INVALID_KEY_CHARS = re.compile(r"[^A-Za-z0-9_\-. /]")
_ESTIMATE_PARTS = (("", "estimate"), ("_ci_low", "ci_low"), ("_ci_high", "ci_high"))
_SUBGROUP_METRICS = (
    "n",
    "events",
    "auroc",
    "calibration_intercept",
    "oe_ratio",
    "sensitivity",
    "specificity",
)


def metric_key(*parts: object) -> str:
    """Join parts into an MLflow-safe metric key; '<50' -> 'lt50', '70+' -> '70plus'."""
    text = "_".join(str(p) for p in parts if p is not None and str(p) != "")
    for old, new in _KEY_REPLACEMENTS:
        text = text.replace(old, new)
    return _INVALID_KEY_CHARS.sub("_", text)[:_MAX_KEY]


def _param_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        try:
            text = json.dumps(list(value), default=str)
        except (TypeError, ValueError):
            text = str(value)
    else:
        text = str(value)
    if len(text) > _MAX_PARAM_VALUE:
        logger.debug("param value truncated from %s to %s characters", len(text), _MAX_PARAM_VALUE)
        text = text[: _MAX_PARAM_VALUE - 3] + "..."
    return text


def flatten_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Flatten nested mappings with dots: ``{"a": {"b": 1}} -> {"a.b": "1"}``.

    Lists become JSON text; values longer than MLflow's 6000 characters are cut.
    """
    flat: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_params(value, f"{name}."))
        else:
            flat[_INVALID_KEY_CHARS.sub("_", name)[:_MAX_KEY]] = _param_value(value)
    return flat


def metric_values(metrics: Mapping[str, Any]) -> dict[str, float]:
    """Make each key MLflow-safe (:func:`metric_key`) and skip ``None``, bools and non-numbers."""
    clean: dict[str, float] = {}
    for key, value in metrics.items():
        if value is None or isinstance(value, bool):
            continue
        try:
            clean[metric_key(key)] = float(value)
        except (TypeError, ValueError):
            logger.debug("metric %s skipped: %r is not a number", key, value)
    return clean


def _add_estimate(out: dict[str, float], key: str, value: Any) -> None:
    if isinstance(value, Mapping):
        for suffix, part in _ESTIMATE_PARTS:
            number = finite_float(value.get(part))
            if number is not None:
                out[f"{key}{suffix}"] = number
    else:
        number = finite_float(value)
        if number is not None:
            out[key] = number


def flatten_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """Turn metrics.json (schema v1) into flat MLflow metric names.

    Estimates become ``name``, ``name_ci_low`` and ``name_ci_high`` (``auroc``,
    ``calibration_slope_ci_low``, ``sensitivity_at_0.2``,
    ``subgroup_sex_female_auroc``); missing and non-finite values are left out.
    Curves (ROC, calibration, decision curve) are not metrics and are skipped,
    and so is every suppressed subgroup cell: a cell too small to show a person
    is too small to show in MLflow.

    Parameters
    ----------
    metrics : mapping
        The validation result, metrics.json schema v1.

    Returns
    -------
    dict of str to float
        Metric name to value.

    Examples
    --------
    >>> flatten_metrics({"n": 60, "auroc": {"estimate": 0.8, "ci_low": 0.7, "ci_high": 0.9}})
    {'n': 60.0, 'auroc': 0.8, 'auroc_ci_low': 0.7, 'auroc_ci_high': 0.9}
    """
    out: dict[str, float] = {}
    for key in ("n", "events", "prevalence", "auroc", "auprc", "brier", "scaled_brier"):
        _add_estimate(out, key, metrics.get(key))
    calibration = metrics.get("calibration")
    if isinstance(calibration, Mapping):
        for key in ("intercept", "slope", "oe_ratio", "ici", "e50", "e90"):
            _add_estimate(out, f"calibration_{key}", calibration.get(key))
    for row in metrics.get("thresholds") or []:
        threshold = finite_float(row.get("threshold")) if isinstance(row, Mapping) else None
        if threshold is None:
            continue
        for key in ("sensitivity", "specificity", "ppv", "npv", "flag_rate"):
            _add_estimate(out, f"{key}_at_{threshold:g}", row.get(key))
    subgroups = metrics.get("subgroups")
    for attribute, rows in subgroups.items() if isinstance(subgroups, Mapping) else []:
        for row in rows or []:
            if not isinstance(row, Mapping) or row.get("suppressed"):
                continue
            for key in _SUBGROUP_METRICS:
                _add_estimate(
                    out, metric_key("subgroup", attribute, row.get("group"), key), row.get(key)
                )
    baseline = metrics.get("baseline_comparison")
    if isinstance(baseline, Mapping):
        _add_estimate(out, "baseline_auroc_diff", baseline.get("auroc_diff"))
        _add_estimate(out, "baseline_p_value", baseline.get("p_value"))
    statuses = [
        str(row.get("status", "")).lower()
        for row in metrics.get("acceptance") or []
        if isinstance(row, Mapping)
    ]
    if statuses:
        for status in ("pass", "fail", "not_applicable"):
            out[f"acceptance_n_{status}"] = float(statuses.count(status))
    return out

"""Whitelisted views of the ``fairness`` and ``mitigation`` blocks for the card and report.

Reporting computes no statistics: these functions copy named fields of
metrics.json as numbers or estimates. A suppressed group keeps its label and
nothing else, whatever the input held, so no small cell reaches a document.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from clinai._utils._vocabulary import FAIRNESS_METRICS
from clinai._utils._vocabulary import MITIGATION_GROUP_RATES as _GROUP_RATES
from clinai._utils._vocabulary import MITIGATION_METRICS as _MITIGATION_METRICS
from clinai.reporting import _sanitize as s

__all__ = [
    "FAIRNESS_METRICS",
    "calibration_image",
    "fairness_view",
    "mitigation_view",
    "operating_first",
]

# FAIRNESS_METRICS (the fairness block's group metrics, in display order) and the mitigation
# block's keys are clinai._utils._vocabulary's tables, the names evaluation writes.
_MAX_TABLES = 30
_MAX_GROUPS = 100


def _rows(value: Any, limit: int = _MAX_GROUPS) -> list[Mapping[str, Any]]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        return []
    return [row for row in list(value)[:limit] if isinstance(row, Mapping)]


def _groups(
    value: Any, numbers: Callable[[Mapping[str, Any]], dict[str, Any]]
) -> list[dict[str, Any]]:
    """Return the group rows: label, n, events and ``numbers(row)``; a suppressed one, its label.

    Anything but an explicit ``"suppressed": false`` shows no number.
    """
    groups: list[dict[str, Any]] = []
    for row in _rows(value):
        label = s.text(row.get("group"))
        if row.get("suppressed") is not False:
            groups.append({"group": label, "suppressed": True})
            continue
        groups.append(
            {
                "group": label,
                "suppressed": False,
                **s.fields(row, ("n", "events"), s.number),
                **numbers(row),
            }
        )
    return groups


def _fairness_numbers(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return a fairness group's estimates, one per metric of :data:`FAIRNESS_METRICS`."""
    return {metric: s.estimate(row.get(metric)) for metric in FAIRNESS_METRICS}


def _mitigation_numbers(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return a mitigation group's rates without and with the mitigation."""
    return {
        side: {rate: s.number(s.mapping(row.get(side)).get(rate)) for rate in _GROUP_RATES}
        for side in ("unmitigated", "mitigated")
    }


def fairness_view(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return one entry per fairness table: label, groups (suppressed: label only), disparities."""
    tables = []
    for name, table in list(s.mapping(metrics.get("fairness")).items())[:_MAX_TABLES]:
        table = s.mapping(table)
        if not table:
            continue
        attributes = s.texts(table.get("attributes")) or [str(name)]
        groups = _groups(table.get("groups"), _fairness_numbers)
        disparities = []
        for metric in FAIRNESS_METRICS:
            block = s.mapping(table.get(metric))
            disparities.append(
                {
                    "metric": metric,
                    "difference": s.estimate(block.get("difference")),
                    "ratio": s.estimate(block.get("ratio")),
                    "has_ratio": "ratio" in block,
                    "n_groups": s.number(block.get("n_groups")),
                }
            )
        intersection = len(attributes) > 1
        tables.append(
            {
                "name": str(name),
                "label": " × ".join(attributes),
                "attributes": attributes,
                "intersection": intersection,
                "counts_hidden": intersection and any(g["suppressed"] for g in groups),
                "threshold": s.number(table.get("threshold")),
                "groups": groups,
                "disparities": disparities,
            }
        )
    return tables


def _cross_validation_folds(fitted_on: str | None) -> int | None:
    """Return the folds of the out-of-fold predictions the thresholds were fitted on."""
    match = re.fullmatch(
        r"out-of-fold predictions of the training split \((\d+)-fold .*\)", fitted_on or ""
    )
    return int(match.group(1)) if match else None


def mitigation_view(metrics: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return the mitigation comparison (overall, per group, disparities), or ``None``."""
    block = s.mapping(metrics.get("mitigation"))
    if not block:
        return None
    overall = s.mapping(block.get("overall"))
    rows = [
        {
            "metric": metric,
            **{
                side: s.estimate(s.mapping(overall.get(side)).get(metric))
                for side in ("unmitigated", "mitigated", "difference")
            },
        }
        for metric in _MITIGATION_METRICS
    ]
    groups = _groups(block.get("groups"), _mitigation_numbers)
    disparities = s.mapping(block.get("disparities"))
    return {
        **{
            key: s.text(block.get(key))
            for key in ("method", "attribute", "constraint", "objective", "fitted_on")
        },
        "fitted_on_cv": _cross_validation_folds(s.text(block.get("fitted_on"))),
        "n_fit": s.number(block.get("n_fit")),
        "threshold": s.number(block.get("threshold")),
        "applied": block.get("applied_to_registered_model") is True,
        "overall": rows,
        "groups": groups,
        "disparities": [
            {
                "rate": rate,
                **{
                    side: s.number(s.mapping(disparities.get(side)).get(rate))
                    for side in ("unmitigated", "mitigated")
                },
            }
            for rate in _GROUP_RATES
        ],
    }


def operating_first(
    thresholds: Sequence[Mapping[str, Any]], operating: Any
) -> list[Mapping[str, Any]]:
    """Put the threshold row of the operating threshold first (natural frequencies use it)."""
    target = s.number(operating)
    rows = list(thresholds)
    if target is None:
        return rows
    match = [row for row in rows if abs(float(row["threshold"]) - float(target)) < 1e-9]
    return match[:1] + [row for row in rows if row not in match[:1]]


def calibration_image(
    images: Mapping[str, Path | str] | None, out_dir: Path, *, name: str = "calibration"
) -> dict[str, str] | None:
    """Return the calibration (or ``name``) plot as a data URI (HTML, PDF) and a relative path."""
    path = Path(s.mapping(images).get(name) or "")
    if not path.name or path.suffix.lower() != ".png" or not path.is_file():
        return None
    relative = Path(os.path.relpath(path.resolve(), out_dir.resolve())).as_posix()
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return {"src": f"data:image/png;base64,{data}", "path": relative}

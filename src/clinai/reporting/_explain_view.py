"""What the documents show of the explanations in ``importance.json`` (whitelisted, no statistics).

The evaluation layer computed everything; this module only picks named fields
(as scalars) for the templates: the top variables with their direction, the
rank intervals, the per-subgroup importance, the three synthetic profiles with
their top contributions, and the dependence plots as embedded images with alt text.
"""

from __future__ import annotations

import base64
import logging
import math
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from clinai.reporting import _sanitize as s

__all__ = [
    "clean_labels",
    "dependence_images",
    "explanation_view",
    "importance_with_labels",
    "label_of",
    "labelled_importance",
    "localise_explanations",
    "ordinal",
]

logger = logging.getLogger(__name__)

_MAX_VARIABLES = 30
_MAX_SUBGROUP_VARIABLES = 8
_MAX_CONTRIBUTIONS = 10


def _rows(value: Any, limit: int = 200) -> list[Mapping[str, Any]]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        return []
    return [row for row in list(value)[:limit] if isinstance(row, Mapping)]


def _rank_intervals(block: Any) -> dict[str, Any] | None:
    block = s.mapping(block)
    rows = [
        {
            "variable": s.text(row.get("variable")),
            "mean_abs_shap": s.number(row.get("mean_abs_shap")),
            "rank": s.number(row.get("rank")),
            "rank_low": s.number(row.get("rank_low")),
            "rank_high": s.number(row.get("rank_high")),
        }
        for row in _rows(block.get("variables"), _MAX_VARIABLES)
    ]
    rows = [row for row in rows if row["variable"]]
    if not rows:
        return None
    return {
        "n_boot": s.number(block.get("n_boot")),
        "ci_level": s.number(block.get("ci_level")),
        "rows": rows,
    }


def _subgroups(value: Any, variables: list[str]) -> list[dict[str, Any]]:
    out = []
    for block in _rows(value, 50):
        groups = []
        for group in _rows(block.get("groups")):
            importance = s.mapping(group.get("importance"))
            suppressed = bool(group.get("suppressed"))
            groups.append(
                {
                    "group": s.text(group.get("group")),
                    "suppressed": suppressed,
                    "n": None if suppressed else s.number(group.get("n")),
                    "cells": [] if suppressed else [s.number(importance.get(v)) for v in variables],
                }
            )
        if groups:
            out.append(
                {
                    "attribute": s.text(block.get("attribute")),
                    "variables": variables,
                    "groups": groups,
                }
            )
    return out


def _profiles(value: Any) -> list[dict[str, Any]]:
    out = []
    for profile in _rows(value, 10):
        contributions = [
            {
                "variable": s.text(item.get("variable")),
                "value": s.scalar(item.get("value")),
                "contribution": s.number(item.get("contribution")),
                "direction": s.text(item.get("direction")),
            }
            for item in _rows(profile.get("contributions"), _MAX_CONTRIBUTIONS)
        ]
        out.append(
            {
                "percentile": s.number(profile.get("percentile")),
                "predicted_risk": s.number(profile.get("predicted_risk")),
                "target_risk": s.number(profile.get("target_risk")),
                "n_rows": s.number(profile.get("n_rows")),
                "scale": s.text(profile.get("scale")),
                "contributions": [c for c in contributions if c["variable"]],
            }
        )
    return out


def explanation_view(importance: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Pick the explanation fields a model card or report shows from ``importance.json``.

    Parameters
    ----------
    importance : mapping or None
        ``importance.json``: ``variables`` plus, optionally, ``rank_intervals``,
        ``subgroup_importance``, ``dependence``, ``profiles`` and ``scale``.

    Returns
    -------
    dict or None
        ``scale``, ``top`` (variables with dependence data: kind, direction,
        highest and lowest level, rank interval), ``rank_intervals``,
        ``subgroups`` and ``profiles``; ``None`` without importance.
    """
    if not isinstance(importance, Mapping):
        return None
    intervals = _rank_intervals(importance.get("rank_intervals"))
    by_variable = {row["variable"]: row for row in (intervals or {}).get("rows", [])}
    top = []
    for entry in _rows(importance.get("dependence"), 20):
        variable = s.text(entry.get("variable"))
        if variable is None:
            continue
        interval = by_variable.get(variable, {})
        top.append(
            {
                "variable": variable,
                "rank": s.number(entry.get("rank")),
                "kind": s.text(entry.get("kind")),
                "direction": s.text(entry.get("direction")),
                "highest_level": s.text(entry.get("highest_level")),
                "lowest_level": s.text(entry.get("lowest_level")),
                "rank_low": interval.get("rank_low"),
                "rank_high": interval.get("rank_high"),
            }
        )
    ranked = [s.text(row.get("variable")) for row in _rows(importance.get("variables"))]
    names = [name for name in ranked if name][:_MAX_SUBGROUP_VARIABLES]
    view = {
        "scale": s.text(importance.get("scale")),
        "top": top,
        "rank_intervals": intervals,
        "subgroups": _subgroups(importance.get("subgroup_importance"), names),
        "profiles": _profiles(importance.get("profiles")),
    }
    if not (top or intervals or view["subgroups"] or view["profiles"]):
        return None
    return view


def dependence_images(
    plots: Mapping[str, Path | str] | None,
    view: Mapping[str, Any] | None,
    strings: Mapping[str, str],
    *,
    out_dir: Path | None = None,
) -> list[dict[str, str]]:
    """Return the dependence plots in rank order as data URIs with alt text.

    Parameters
    ----------
    plots : mapping of str to path, or None
        From :func:`render_plots` (``dependence_<rank>``).
    view : mapping or None
        From :func:`explanation_view` (names each plot's variable).
    strings : mapping
        The language's reviewed strings (``dependence_plot_alt``).
    out_dir : path, optional
        Folder of the document, for a relative ``path`` (Markdown links).

    Returns
    -------
    list of dict
        ``{"variable", "src", "alt", "path"}`` for each plot that exists.
    """
    images = []
    for entry in s.mapping(view).get("top") or []:
        rank = entry.get("rank")
        if rank is None:
            continue
        file = Path(s.mapping(plots).get(f"dependence_{int(rank)}") or "")
        if not file.name or file.suffix.lower() != ".png" or not file.is_file():
            continue
        data = base64.b64encode(file.read_bytes()).decode("ascii")
        relative = (
            Path(os.path.relpath(file.resolve(), out_dir.resolve())).as_posix()
            if out_dir is not None
            else file.name
        )
        images.append(
            {
                "variable": entry["variable"],
                "src": f"data:image/png;base64,{data}",
                "alt": strings["dependence_plot_alt"].format(variable=entry["variable"]),
                "path": relative,
            }
        )
    return images


def clean_labels(value: Any, *, limit: int = 2000) -> dict[str, dict[str, Any]]:
    """Whitelist the feature labels of a run: ``{name: {"en", "da", "unit": {lang: text}}}``.

    Only texts are kept (no other field of the input reaches a document).
    """
    out: dict[str, dict[str, Any]] = {}
    for name, entry in list(s.mapping(value).items())[:limit]:
        entry = s.mapping(entry)
        label: dict[str, Any] = {
            str(k): s.text(v) for k, v in entry.items() if k != "unit" and s.text(v)
        }
        unit = entry.get("unit")
        units = (
            {str(k): s.text(v) for k, v in s.mapping(unit).items() if s.text(v)}
            if isinstance(unit, Mapping)
            else ({"en": s.text(unit)} if s.text(unit) else {})
        )
        if units:
            label["unit"] = units
        if label.get("en"):
            out[str(name)] = label
    return out


def label_of(name: Any, labels: Mapping[str, Any] | None, language: str) -> Any:
    """Return the clinical label of a feature or variable in ``language``, with its unit.

    ``"Heart rate, slope over the last 6 h (/min per hour)"``; English where the
    language has no label; the name itself where the pipeline gave none.
    """
    if not isinstance(name, str):
        return name
    entry = s.mapping(s.mapping(labels).get(name))
    text = entry.get(language) or entry.get("en")
    if not text:
        return name
    units = s.mapping(entry.get("unit"))
    unit = units.get(language) or units.get("en")
    return f"{text} ({unit})" if unit else text


def importance_with_labels(
    importance: Mapping[str, Any] | None, labels: Mapping[str, Any] | None, language: str = "en"
) -> Mapping[str, Any] | None:
    """Return ``importance.json`` with the variables of its plotted blocks under their labels.

    For the plots (one image serves every language: English labels). The
    ``variables`` and ``dependence`` entries get the label as ``variable``;
    nothing else changes.
    """
    if not isinstance(importance, Mapping) or not labels:
        return importance
    clean = clean_labels(labels)

    def relabel(rows: Any) -> Any:
        if not isinstance(rows, Sequence) or isinstance(rows, str):
            return rows
        return [
            {**row, "variable": label_of(row.get("variable"), clean, language)}
            if isinstance(row, Mapping)
            else row
            for row in rows
        ]

    return {
        **importance,
        "variables": relabel(importance.get("variables")),
        "dependence": relabel(importance.get("dependence")),
    }


def ordinal(n: int, language: str) -> str:
    """Write a rank as an ordinal: ``4th`` (English), ``4.`` (Danish), else ``4``."""
    if language == "en":
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix}"
    if language in ("da", "de", "nb", "no", "sv"):
        return f"{n}."
    return str(n)


def _rank_text(rank: Any, tied: int, strings: Mapping[str, str], language: str) -> str | None:
    """``"4"`` for a rank of its own; ``"tied 4th-5th"`` for a mean rank shared by ``tied``."""
    if not isinstance(rank, int | float) or not math.isfinite(rank):
        return None
    if tied <= 1:
        return str(round(rank))
    low, high = round(rank - (tied - 1) / 2), round(rank + (tied - 1) / 2)
    return strings["rank_tied"].format(low=ordinal(low, language), high=ordinal(high, language))


def _interval_text(low: Any, high: Any) -> str | None:
    """``"4"`` when the bootstrap interval is one rank, else ``"4–6"``."""
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in (low, high)):
        return None
    a, b = round(low), round(high)
    return str(a) if a == b else f"{a}–{b}"


def labelled_importance(
    importance: Mapping[str, Any] | None,
    labels: Mapping[str, Any] | None,
    language: str,
    strings: Mapping[str, str],
) -> dict[str, Any] | None:
    """Return the importance table's rows with clinical labels and the language's directions.

    ``variable`` becomes the label (the code name stays under ``name``) and
    ``direction`` the language's short text (``"depends on the category"`` for an
    unordered categorical variable).
    """
    if not isinstance(importance, Mapping):
        return None
    rows = []
    for row in importance.get("variables") or []:
        direction = row.get("direction")
        rows.append(
            {
                **row,
                "name": row.get("variable"),
                "variable": label_of(row.get("variable"), labels, language),
                "direction": strings.get(f"direction_short_{direction}", direction)
                if direction
                else None,
            }
        )
    return {**importance, "variables": rows}


def localise_explanations(
    view: Mapping[str, Any] | None,
    labels: Mapping[str, Any] | None,
    language: str,
    strings: Mapping[str, str],
) -> dict[str, Any] | None:
    """Return :func:`explanation_view` in one language: clinical labels and rank texts.

    Variables get their labels (:func:`label_of`); each rank gets ``rank_text``
    (``"4"``, or ``"tied 4th-5th"`` when variables share a mean rank) and each
    bootstrap interval ``interval_text`` (``"4"`` when it is one rank, else ``"4–6"``).
    Formatting only: the ranks themselves come from ``importance.json``.
    """
    if not isinstance(view, Mapping):
        return None

    def label(name: Any) -> Any:
        return label_of(name, labels, language)

    out = dict(view)
    out["top"] = [
        {
            **row,
            "variable": label(row.get("variable")),
            "interval_text": _interval_text(row.get("rank_low"), row.get("rank_high")),
        }
        for row in view.get("top") or []
    ]
    intervals = view.get("rank_intervals")
    if isinstance(intervals, Mapping):
        shared = Counter(row.get("rank") for row in intervals.get("rows") or [])
        out["rank_intervals"] = {
            **intervals,
            "rows": [
                {
                    **row,
                    "variable": label(row.get("variable")),
                    "rank_text": _rank_text(
                        row.get("rank"), shared[row.get("rank")], strings, language
                    ),
                    "interval_text": _interval_text(row.get("rank_low"), row.get("rank_high")),
                }
                for row in intervals.get("rows") or []
            ],
        }
    out["subgroups"] = [
        {**block, "variables": [label(v) for v in block.get("variables") or []]}
        for block in view.get("subgroups") or []
    ]
    out["profiles"] = [
        {
            **profile,
            "contributions": [
                {**c, "variable": label(c.get("variable"))}
                for c in profile.get("contributions") or []
            ],
        }
        for profile in view.get("profiles") or []
    ]
    return out

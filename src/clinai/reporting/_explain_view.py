"""What the documents show of the explanations in ``importance.json`` (whitelisted, no statistics).

The evaluation layer computed everything; this module only picks named fields
(as scalars) for the templates: the top variables with their direction, the
rank intervals, the per-subgroup importance, the three synthetic profiles with
their top contributions, and the dependence plots as embedded images with alt text.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from clinai.reporting import _sanitize as s

__all__ = ["dependence_images", "explanation_view"]

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
                    "cells": []
                    if suppressed
                    else [s.number(importance.get(v)) for v in variables],
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

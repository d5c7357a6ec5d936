"""Where the validation report answers TRIPOD+AI and the EU AI Act's Annex IV.

Two reviewers' maps, built from what a run actually holds:

- the TRIPOD+AI checklist (Collins GS, Moons KGM, Dhiman P, et al. TRIPOD+AI
  statement: updated guidance for reporting clinical prediction models that use
  regression or machine learning methods. BMJ 2024;385:e078378), item by item;
- the technical documentation of Annex IV of Regulation (EU) 2024/1689 (the
  AI Act), points 1 to 9.

Each row says where in the report (a section anchor) or the run directory the
item is answered, and whether the study team or the provider must complete it.
A tool cannot know the ethics approval, the funding, the clinical rationale or
the post-market plan, so those rows say so rather than pretend. The item texts
are short paraphrases in English (the language of the published checklist and
of the reference text), kept as reference text in ``checklists/*.json``; the
report's headings and status words are translated.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

__all__ = ["ANNEX_IV_POINTS", "TRIPOD_AI_ITEMS", "annex_iv_map", "tripod_checklist"]


def _checklist(name: str) -> dict[str, Any]:
    """Return the packaged checklist ``checklists/<name>.json`` (reference text, not code)."""
    text = resources.files("clinai.reporting").joinpath("checklists", f"{name}.json")
    data: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return data


_TRIPOD_AI = _checklist("tripod_ai")
_ANNEX_IV = _checklist("annex_iv")

TRIPOD_AI_CITATION: str = _TRIPOD_AI["source"]
ANNEX_IV_CITATION: str = _ANNEX_IV["source"]

#: (item, section, short paraphrase) of the TRIPOD+AI checklist for full reports.
TRIPOD_AI_ITEMS: tuple[tuple[str, str, str], ...] = tuple(
    (row["item"], row["section"], row["text"]) for row in _TRIPOD_AI["items"]
)

#: (point, short paraphrase) of Annex IV of Regulation (EU) 2024/1689.
ANNEX_IV_POINTS: tuple[tuple[str, str], ...] = tuple(
    (row["point"], row["text"]) for row in _ANNEX_IV["points"]
)

# Status of a row: answered here; answered in part (the rest by people); not answerable
# by a tool.
ANSWERED, PARTLY, TODO = "answered", "partly", "todo"

_View = Mapping[str, Any]
_Rule = Callable[[_View], tuple[str, list[str]]]


def _has(view: _View, *path: str) -> bool:
    value: Any = view
    for key in path:
        if not isinstance(value, Mapping):
            return False
        value = value.get(key)
    if isinstance(value, bool):
        return True
    return value is not None and value != "" and (not hasattr(value, "__len__") or len(value) > 0)


def _when(
    condition: Callable[[_View], bool],
    anchors: list[str],
    *,
    full: bool = True,
    otherwise: str = TODO,
) -> _Rule:
    def rule(view: _View) -> tuple[str, list[str]]:
        if condition(view):
            return (ANSWERED if full else PARTLY), anchors
        return otherwise, []

    return rule


def _always(status: str, anchors: list[str]) -> _Rule:
    return lambda view: (status, anchors)


def _todo(view: _View) -> tuple[str, list[str]]:
    return TODO, []


def _dates(view: _View) -> bool:
    return _has(view, "split", "train_period") or _has(view, "split", "test_period")


_TRIPOD_RULES: dict[str, _Rule] = {
    "1": _always(PARTLY, ["summary"]),
    "2": _todo,
    "3a": _when(lambda v: _has(v, "use_case", "intended_use"), ["summary"], full=False),
    "3b": _when(
        lambda v: _has(v, "use_case", "intended_use") and _has(v, "use_case", "population"),
        ["summary"],
        full=False,
    ),
    "3c": _todo,
    "4": _always(PARTLY, ["summary"]),
    "5a": _when(
        lambda v: _has(v, "dataset", "name") or _has(v, "dataset", "title"),
        ["provenance"],
        full=False,
    ),
    "5b": _when(_dates, ["provenance"]),
    "6a": _when(lambda v: _has(v, "use_case", "setting"), ["summary"], full=False),
    "6b": _when(lambda v: _has(v, "cohort_flow"), ["cohort-flow"], full=False),
    "6c": _todo,
    "7": _always(PARTLY, ["model"]),
    "8a": _when(lambda v: _has(v, "use_case", "outcome"), ["summary"], full=False),
    "8b": _todo,
    "8c": _todo,
    "9a": _todo,
    "9b": _when(lambda v: _has(v, "features"), ["model"], full=False),
    "9c": _todo,
    "10": _when(lambda v: _has(v, "sample_size"), ["sample-size"], full=False),
    "11": _always(PARTLY, ["model"]),
    "12a": _when(lambda v: _has(v, "split", "method"), ["provenance"]),
    "12b": _always(PARTLY, ["model"]),
    "12c": _when(
        lambda v: _has(v, "model", "family"), ["model", "internal-validation"], full=False
    ),
    "12d": _todo,
    "12e": _always(ANSWERED, ["discrimination", "calibration", "decision-curve"]),
    "12f": _when(lambda v: _has(v, "model", "calibration"), ["model"]),
    "12g": _always(PARTLY, ["lineage"]),
    "13": _todo,
    "14": _when(lambda v: _has(v, "subgroups"), ["subgroups"], full=False),
    "15": _when(lambda v: _has(v, "thresholds"), ["thresholds"], full=False),
    "16": _when(lambda v: _has(v, "split", "method"), ["provenance"], full=False),
    "17": _todo,
    "18a": _todo,
    "18b": _todo,
    "18c": _todo,
    "18d": _todo,
    "18e": _when(
        lambda v: _has(v, "dataset", "licence") or _has(v, "dataset", "url"),
        ["provenance"],
        full=False,
    ),
    "18f": _when(lambda v: _has(v, "lineage", "code_version"), ["lineage"], full=False),
    "19": _todo,
    "20a": _when(lambda v: _has(v, "cohort_flow"), ["cohort-flow"]),
    "20b": _when(lambda v: _has(v, "population_rows"), ["cohort-flow"], full=False),
    "20c": _when(lambda v: _has(v, "predictor_drift"), ["predictor-drift"]),
    "21": _when(lambda v: _has(v, "split", "n_train"), ["provenance", "cohort-flow"]),
    "22": _when(lambda v: _has(v, "model", "family"), ["model", "lineage"], full=False),
    "23a": lambda v: (
        (ANSWERED, ["discrimination", "calibration", "subgroups"])
        if _has(v, "subgroups")
        else (PARTLY, ["discrimination", "calibration"])
    ),
    "23b": _todo,
    "24": _when(lambda v: _has(v, "model", "calibration"), ["model", "change-log"], full=False),
    "25": _todo,
    "26": _when(lambda v: _has(v, "use_case", "limitations"), ["limitations"], full=False),
    "27a": _todo,
    "27b": _todo,
    "27c": _todo,
}

_ANNEX_RULES: dict[str, _Rule] = {
    "1": _always(PARTLY, ["summary", "lineage"]),
    "2": _always(PARTLY, ["model", "provenance", "cohort-flow", "internal-validation", "lineage"]),
    "3": _always(PARTLY, ["discrimination", "calibration", "subgroups", "limitations"]),
    "4": _always(PARTLY, ["summary", "discrimination", "calibration", "decision-curve"]),
    "5": _always(TODO, ["limitations"]),
    "6": _always(PARTLY, ["change-log"]),
    "7": _todo,
    "8": _todo,
    # The plan is pre-registered here; the monitoring system around it is the provider's.
    "9": lambda v: (PARTLY if _has(v, "monitoring_plan") else TODO, ["monitoring-plan"]),
}

# Files of the run directory that answer each Annex IV point, beside the report.
_ANNEX_FILES: dict[str, tuple[str, ...]] = {
    "1": ("model_card.html",),
    "2": ("config.resolved.yaml", "data_manifest.json", "metrics.json", "audit.json", "model/"),
    "3": ("metrics.json", "model_card.html"),
    "4": ("acceptance_plan.json", "metrics.json"),
    "6": ("audit.json",),
    "9": ("monitoring_plan.json", "drift_reference.json"),
}


def tripod_checklist(view: _View) -> list[dict[str, Any]]:
    """Return the TRIPOD+AI rows: item, section, text, status and report anchors.

    Parameters
    ----------
    view : mapping
        The report's whitelisted view (what the report renders).

    Returns
    -------
    list of dict
        ``{"item", "section", "text", "status", "anchors"}`` per item, where
        ``status`` is ``"answered"``, ``"partly"`` (the study team completes it)
        or ``"todo"`` (to be completed by the study team) and ``anchors`` are
        ids of the report's sections.
    """
    rows = []
    for item, section, text in TRIPOD_AI_ITEMS:
        status, anchors = _TRIPOD_RULES[item](view)
        rows.append(
            {
                "item": item,
                "section": section,
                "text": text,
                "status": status,
                "anchors": list(anchors),
            }
        )
    return rows


def annex_iv_map(view: _View) -> list[dict[str, Any]]:
    """Return the Annex IV rows: point, heading, status, report anchors and run files.

    Parameters
    ----------
    view : mapping
        The report's whitelisted view.

    Returns
    -------
    list of dict
        ``{"point", "text", "status", "anchors", "files"}`` per point; ``status``
        as in :func:`tripod_checklist`, where ``"todo"`` means to be completed
        by the provider.
    """
    rows = []
    for point, text in ANNEX_IV_POINTS:
        status, anchors = _ANNEX_RULES[point](view)
        files = list(_ANNEX_FILES.get(point, ())) if status != TODO else []
        rows.append(
            {
                "point": point,
                "text": text,
                "status": status,
                "anchors": list(anchors),
                "files": files,
            }
        )
    return rows

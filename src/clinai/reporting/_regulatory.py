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
of the reference text); the report's headings and status words are translated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["ANNEX_IV_POINTS", "TRIPOD_AI_ITEMS", "annex_iv_map", "tripod_checklist"]

TRIPOD_AI_CITATION = (
    "Collins GS, Moons KGM, Dhiman P, et al. TRIPOD+AI statement: updated guidance for "
    "reporting clinical prediction models that use regression or machine learning methods. "
    "BMJ 2024;385:e078378."
)
ANNEX_IV_CITATION = (
    "Regulation (EU) 2024/1689 (Artificial Intelligence Act), Annex IV: technical "
    "documentation referred to in Article 11(1)."
)

#: (item, section, short paraphrase) of the TRIPOD+AI checklist for full reports.
TRIPOD_AI_ITEMS: tuple[tuple[str, str, str], ...] = (
    (
        "1",
        "Title",
        "Identify the study as developing or evaluating a prediction model, the "
        "target population and the outcome",
    ),
    ("2", "Abstract", "Structured summary (see TRIPOD+AI for Abstracts)"),
    ("3a", "Background", "Healthcare context and rationale, including existing models"),
    (
        "3b",
        "Background",
        "Target population, intended purpose in the care pathway and intended users",
    ),
    ("3c", "Background", "Known health inequalities between sociodemographic groups"),
    ("4", "Objectives", "Study objectives: development, evaluation or both"),
    (
        "5a",
        "Data",
        "Sources of data for development and evaluation, rationale and representativeness",
    ),
    ("5b", "Data", "Dates of the data: start and end of accrual and of follow-up"),
    ("6a", "Participants", "Study setting, number and location of centres"),
    ("6b", "Participants", "Eligibility criteria"),
    ("6c", "Participants", "Treatments received and how they were handled"),
    ("7", "Data preparation", "Pre-processing and quality checking, also across groups"),
    ("8a", "Outcome", "Definition of the outcome and time horizon, how and when assessed"),
    ("8b", "Outcome", "Qualifications of outcome assessors where judgement is needed"),
    ("8c", "Outcome", "Blinding of outcome assessment"),
    ("9a", "Predictors", "Choice of initial predictors and any pre-selection"),
    ("9b", "Predictors", "Definition of all predictors, how and when measured"),
    ("9c", "Predictors", "Qualifications of predictor assessors where judgement is needed"),
    ("10", "Sample size", "How the study size was arrived at and why it suffices"),
    ("11", "Missing data", "How missing data were handled"),
    ("12a", "Analytical methods", "How the data were used, including partitioning"),
    (
        "12b",
        "Analytical methods",
        "How predictors were handled (functional form, scaling, transformation)",
    ),
    (
        "12c",
        "Analytical methods",
        "Model type, building steps, hyperparameter tuning and internal validation",
    ),
    ("12d", "Analytical methods", "Heterogeneity across clusters (e.g. hospitals)"),
    ("12e", "Analytical methods", "Performance measures and plots, and model comparison"),
    ("12f", "Analytical methods", "Model updating (e.g. recalibration) from the evaluation"),
    ("12g", "Analytical methods", "How predictions were calculated in the evaluation"),
    ("13", "Class imbalance", "Class imbalance methods, why and how, and recalibration"),
    ("14", "Fairness", "Approaches to address model fairness and their rationale"),
    ("15", "Model output", "Output of the model and rationale for any thresholds"),
    ("16", "Training versus evaluation", "Differences between development and evaluation data"),
    ("17", "Ethical approval", "Ethics committee approval and informed consent or waiver"),
    ("18a", "Open science", "Funding and the role of the funders"),
    ("18b", "Open science", "Conflicts of interest"),
    ("18c", "Open science", "Where the protocol can be accessed"),
    ("18d", "Open science", "Registration of the study"),
    ("18e", "Open science", "Availability of the study data"),
    ("18f", "Open science", "Availability of the analytical code"),
    ("19", "Patient and public involvement", "Patient and public involvement, or none"),
    ("20a", "Participants", "Flow of participants, with and without the outcome"),
    ("20b", "Participants", "Characteristics of the participants"),
    (
        "20c",
        "Participants",
        "Distribution of important predictors: evaluation against development data",
    ),
    ("21", "Model development", "Participants and outcome events in each analysis"),
    ("22", "Model specification", "Full model (formula, code, object, API) and access"),
    ("23a", "Model performance", "Performance with confidence intervals, including key subgroups"),
    ("23b", "Model performance", "Heterogeneity in performance across clusters"),
    ("24", "Model updating", "Results of any model updating"),
    ("25", "Interpretation", "Overall interpretation, including fairness"),
    ("26", "Limitations", "Limitations and their effect on bias, uncertainty and generalisability"),
    ("27a", "Usability", "How poor-quality or unavailable inputs should be handled in use"),
    ("27b", "Usability", "User interaction with inputs and the expertise needed"),
    ("27c", "Usability", "Next steps for research on applicability and generalisability"),
)

#: (point, short paraphrase) of Annex IV of Regulation (EU) 2024/1689.
ANNEX_IV_POINTS: tuple[tuple[str, str], ...] = (
    (
        "1",
        "General description of the AI system: intended purpose, provider, version, "
        "how it interacts with other hardware and software, instructions for use",
    ),
    (
        "2",
        "Detailed description of the elements of the system and of its development: "
        "methods, design choices, data (provenance, preparation), validation and testing, "
        "human oversight, cybersecurity",
    ),
    (
        "3",
        "Monitoring, functioning and control: capabilities and limitations, accuracy for "
        "specific persons or groups, foreseeable risks, human oversight, input data",
    ),
    ("4", "Appropriateness of the performance metrics for the system"),
    ("5", "The risk management system (Article 9)"),
    ("6", "Relevant changes made by the provider through the system's lifecycle"),
    ("7", "Harmonised standards or other solutions applied"),
    ("8", "Copy of the EU declaration of conformity (Article 47)"),
    ("9", "Post-market monitoring system and plan (Article 72)"),
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

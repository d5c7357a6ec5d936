"""The survival validation report in HTML, Markdown (and PDF) per language, from its JSON.

``clinai validate --time ...`` writes ``survival_metrics.json`` and calls
:func:`render_survival_report`: the natural frequencies at the horizon, the
metrics with their intervals, observed (Kaplan-Meier) against predicted risk by
risk group, the flexible calibration curve, the decision curve, the subgroups
and how the patients were followed (censoring). Reporting computes no
statistics: every number is one the JSON holds, and it holds no patient-level data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinai.reporting._acceptance_view import acceptance_rows, compared_name
from clinai.reporting._format import NumberFormatter
from clinai.reporting._meta_report import MetaReport, write_languages, write_plots_and_documents
from clinai.reporting._plots import _GREY, _MODEL_COLOUR, _OTHER_COLOUR, _new_figure
from clinai.reporting._render import translator
from clinai.reporting._small_data_view import small_data_view
from clinai.reporting._validation_size import validation_size

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "CAUTION_SHARE",
    "SURVIVAL_SCHEMA",
    "follow_up_caution",
    "follow_up_time",
    "render_survival_report",
    "risk_group_cells",
    "size_caution",
    "time_text",
    "unit_in",
]

#: The ``schema`` of the survival_metrics.json this renderer reads.
SURVIVAL_SCHEMA = "clinai.survival_metrics/1"
_NOT_SURVIVAL = (
    "The 'document' parameter of render_survival_report must be the survival_metrics.json "
    "dict (schema {schema!r}). Got {got}."
)
#: Metrics in the report's table: key, digits.
_ROWS = (
    ("harrell_c", 3),
    ("uno_c", 3),
    ("time_auc", 3),
    ("oe_ratio", 2),
    ("calibration_slope", 2),
    ("ici", 3),
    ("e50", 3),
    ("e90", 3),
    ("emax", 3),
    ("brier", 3),
    ("null_brier", 3),
    ("ipa", 3),
)


#: Share of patients censored before the horizon from which the documents warn that the
#: observed risks at the horizon rest on the few patients still followed (a horizon beyond
#: most of the follow-up, or heavy censoring).
CAUTION_SHARE = 0.5


def follow_up_caution(
    follow: Mapping[str, Any], t: Mapping[str, str], fmt: NumberFormatter
) -> str | None:
    """Return the warning that most follow-up ended before the horizon (None when not).

    ``follow`` is a ``follow_up`` block of survival_metrics.json; the patients followed
    to the horizon without the event are those neither censored before it nor with the
    event by it (a count, not a statistic).
    """
    n, censored = follow["n"], follow["censored_before_horizon"]
    if not n or censored / n < CAUTION_SHARE:
        return None
    return t["surv_caution_follow_up"].format(
        censored=fmt.count(censored),
        n=fmt.count(n),
        share=fmt.pct(censored / n),
        followed=fmt.count(n - censored - follow["events_by_horizon"]),
    )


def size_caution(
    follow: Mapping[str, Any], t: Mapping[str, str], fmt: NumberFormatter
) -> str | None:
    """Return the warning that too few outcomes by the horizon make the estimates imprecise.

    The outcomes are the patients with the event by the horizon and those followed to
    it without the event (or a competing one); below 100 of either (Collins, Ogundimu
    and Altman 2016, :mod:`clinai.reporting._validation_size`) the documents say so.
    """
    events = follow["events_by_horizon"]
    ended = follow["censored_before_horizon"] + follow.get("competing_by_horizon", 0)
    followed = follow["n"] - ended - events
    size = validation_size(events + followed, events)
    if size is None:
        return None
    return t["surv_caution_size"].format(
        events=fmt.count(events), others=fmt.count(followed), minimum=fmt.count(size["minimum"])
    )


def risk_group_cells(
    row: Mapping[str, Any], t: Mapping[str, str], fmt: NumberFormatter
) -> tuple[str, str]:
    """Return a risk group's observed risk and size as the card and the report show them.

    A suppressed group (too few events or event-free patients by the horizon) says why
    instead of "small group": its size is not small, its events are few. A group in
    which nobody was followed to the horizon has no Kaplan-Meier risk there, and says so
    instead of a bare "n/a".
    """
    if row["suppressed"]:
        return t["surv_suppressed_risk_group"], t["surv_suppressed_size"]
    observed = row.get("observed")
    shown = t["surv_not_followed"] if observed is None else fmt.pct(observed)
    return shown, fmt.count(row["n"])


def follow_up_time(
    value: float | None, unit: str | None, t: Mapping[str, str], fmt: NumberFormatter
) -> str:
    """Write a follow-up time in the data's unit, unrounded (12.75 years, 4,655 days)."""
    return t["na"] if value is None else time_text(value, fmt, unit)


def unit_in(unit: str | None, language: str) -> str | None:
    """Return an English time ``unit`` in ``language`` where it is a common one, else as is.

    The words are the locale files' ``time_unit_*`` strings: a pipeline whose ``time_unit``
    is English only had Danish cards say "inden for 60 months".

    >>> unit_in("months", "da"), unit_in("months", "en"), unit_in("fortnights", "da")
    ('måneder', 'months', 'fortnights')
    """
    if not unit or language == "en":
        return unit
    t, _ = translator(language)
    return t.get(f"time_unit_{unit.strip().lower()}", unit)


def _with_unit(value: str, unit: str | None) -> str:
    """Return a time with the data's unit where the run knows it ("1,826 days")."""
    return f"{value} {unit}" if unit else value


def time_text(value: float, fmt: NumberFormatter, unit: str | None = None) -> str:
    """Write a time such as the horizon: "1,826 days", "1.5 years", or "1,826" without a unit."""
    return _with_unit(fmt.num(value, 2).rstrip("0").rstrip(".,"), unit)


#: The follow-up block's times shown among the report's facts.
_FOLLOW_UP_TIMES = ("median_follow_up", "max_follow_up")
#: The compared metrics of a run's ``comparison`` block: key, digits.
_COMPARED = (("harrell_c", 3), ("uno_c", 3), ("brier", 3), ("ipa", 3))
_VERDICTS = {
    "accepted": "verdict_accepted",
    "not accepted": "verdict_not_accepted",
    "no criteria": "verdict_no_criteria",
}


def _run_blocks(document: Mapping[str, Any], t: Mapping[str, str], fmt: NumberFormatter) -> dict:
    """Format the blocks a survival run adds: acceptance, comparison, fairness (or empty)."""
    out: dict[str, Any] = {"acceptance": None, "comparison": None, "fairness": []}
    if "acceptance" in document:
        verdict = document.get("acceptance_verdict") or "no criteria"
        out["acceptance"] = {
            "verdict": t[_VERDICTS.get(verdict, "verdict_no_criteria")],
            "rows": [
                {**row, "status_text": t[f"status_{row['status']}"]}
                for row in acceptance_rows(document["acceptance"], document, t, fmt)
            ],
        }
    comparison = document.get("comparison")
    if comparison:
        name = compared_name(comparison, t["surv_registered_name"])
        out["comparison"] = {
            "intro": t["surv_comparison_intro"].format(name=name),
            "rows": [
                {
                    "label": t[f"surv_{name}"],
                    **{
                        part: fmt.est(comparison[name][part], digits)
                        for part in ("model", "registered", "difference")
                    },
                }
                for name, digits in _COMPARED
            ],
        }
    for name, table in (document.get("fairness") or {}).items():
        gaps = [
            (t["surv_c_difference"], table.get("harrell_c", {}).get("difference"), 3),
            (t["surv_oe_difference"], table.get("oe_ratio", {}).get("difference"), 2),
            (t["surv_oe_ratio_between"], table.get("oe_ratio", {}).get("ratio"), 2),
        ]
        out["fairness"].append(
            {
                "caption": t["surv_fairness_caption"].format(table=name),
                "intro": t["surv_fairness_intro"].format(min_cell=table["min_cell"]),
                "groups": [
                    {
                        "group": row["group"],
                        "n": t["surv_suppressed"] if row["suppressed"] else fmt.count(row["n"]),
                        "c": fmt.est(row["harrell_c"], 3) if row["harrell_c"] else t["na"],
                        "oe": fmt.est(row["oe_ratio"], 2) if row["oe_ratio"] else t["na"],
                    }
                    for row in table["groups"]
                ],
                "gaps": [(label, fmt.est(e, d)) for label, e, d in gaps if e is not None],
            }
        )
    return out


def _integrated_brier_row(
    document: Mapping[str, Any], t: Mapping[str, str], fmt: NumberFormatter
) -> list[dict[str, str]]:
    """Return the metrics table's row of a run's integrated Brier score (none without it)."""
    ibs = document.get("integrated_brier")
    if not ibs:
        return []
    label = t["surv_integrated_brier"]
    return [
        {"label": label, "estimate": fmt.num(ibs["estimate"], 3), "ci": fmt.ci(ibs, 3) or t["na"]}
    ]


def _view(
    document: Mapping[str, Any],
    t: Mapping[str, str],
    fmt: NumberFormatter,
    small_data: Mapping[str, Any] | None = None,
    unit: str | None = None,
) -> dict:
    """Format every number of the report (nothing computed here).

    ``unit``: the time unit of a run's data in the report's language (its pipeline's
    ``time_unit``); without it the times are bare numbers "in the time unit of the data".
    """
    horizon = time_text(document["horizon"], fmt, unit)
    nat = document["natural_frequency"]
    follow = document["follow_up"]
    metrics = document["metrics"]
    # a run knows its unit; clinai validate does not, and says so
    if unit:
        times = {key: follow_up_time(follow[key], unit, t, fmt) for key in _FOLLOW_UP_TIMES}
    else:
        times = {key: fmt.num(follow[key], 2) for key in _FOLLOW_UP_TIMES}
    return {
        "horizon": horizon,
        "headline": t["surv_natural_frequency_unit" if unit else "surv_natural_frequency"].format(
            observed=nat["observed"], predicted=nat["predicted"], horizon=horizon
        ),
        "caution": follow_up_caution(follow, t, fmt),
        "size_caution": size_caution(follow, t, fmt),
        "metrics": [
            {
                "label": t[f"surv_{name}"],
                "estimate": fmt.num(metrics[name]["estimate"], digits),
                "ci": fmt.ci(metrics[name], digits) or t["na"],
            }
            for name, digits in _ROWS
        ]
        + _integrated_brier_row(document, t, fmt),
        "facts": [
            (t["surv_patients"], fmt.count(document["n_patients"])),
            (t["surv_rows"], fmt.count(document["n"])),
            (t["surv_events_by_horizon"], fmt.count(follow["events_by_horizon"])),
            (
                t["surv_censored_before_horizon"],
                f"{fmt.count(follow['censored_before_horizon'])} "
                f"({fmt.pct(follow['share_censored_before_horizon'])})",
            ),
            (t["surv_median_follow_up"], times["median_follow_up"]),
            (t["surv_max_follow_up"], times["max_follow_up"]),
            (t["surv_bootstrap"], fmt.count(document["n_boot"])),
            (t["surv_covariate"], t[f"surv_covariate_{document['calibration_covariate']}"]),
        ],
        "risk_groups": [
            {
                "group": row["group"],
                "range": f"{fmt.pct(row['risk_low'])}–{fmt.pct(row['risk_high'])}",
                "predicted": fmt.pct(row["predicted"]),
                "ci": f"{fmt.pct(row['ci_low'])}–{fmt.pct(row['ci_high'])}"
                if row["ci_low"] is not None
                else t["na"],
                **dict(zip(("observed", "n"), risk_group_cells(row, t, fmt), strict=True)),
            }
            for row in document["risk_groups"]
        ],
        "subgroups": [
            {
                "attribute": row["attribute"],
                "group": row["group"],
                "n": t["surv_suppressed"] if row["suppressed"] else fmt.count(row["n"]),
                "c": fmt.est(row["harrell_c"], 3),
                "oe": fmt.est(row["oe_ratio"], 2),
            }
            for row in document["subgroups"]
        ],
        **_run_blocks(document, t, fmt),
        # A run's Riley criteria, as on its card (issue 16): None when met or not given.
        "small_data": small_data_view({"small_data": small_data}, survival=True),
    }


def _risk_group_plot(document: Mapping[str, Any], t: Mapping[str, str]) -> Figure | None:
    rows = [r for r in document["risk_groups"] if r["observed"] is not None]
    if not rows:
        return None
    fig = _new_figure()
    ax = fig.add_subplot()
    top = max(max(r["predicted"], r["ci_high"] or r["observed"]) for r in rows) * 1.05
    ax.plot([0, top], [0, top], color=_GREY, linestyle=":", linewidth=1.0)
    for r in rows:
        if r["ci_low"] is not None:
            ax.plot([r["predicted"]] * 2, [r["ci_low"], r["ci_high"]], color=_MODEL_COLOUR)
    ax.scatter([r["predicted"] for r in rows], [r["observed"] for r in rows], color=_MODEL_COLOUR)
    ax.set_xlabel(t["surv_axis_predicted"])
    ax.set_ylabel(t["surv_axis_observed"])
    return fig


def _calibration_plot(document: Mapping[str, Any], t: Mapping[str, str]) -> Figure | None:
    curve = [p for p in document["calibration_curve"] if p["observed"] is not None]
    if not curve:
        return None
    fig = _new_figure()
    ax = fig.add_subplot()
    x = [p["predicted"] for p in curve]
    if all(p["ci_low"] is not None for p in curve):
        ax.fill_between(
            x,
            [p["ci_low"] for p in curve],
            [p["ci_high"] for p in curve],
            color=_MODEL_COLOUR,
            alpha=0.2,
            linewidth=0,
        )
    ax.plot(x, [p["observed"] for p in curve], color=_MODEL_COLOUR)
    top = max(max(x), max(p["observed"] for p in curve))
    ax.plot([0, top], [0, top], color=_GREY, linestyle=":", linewidth=1.0)
    ax.set_xlabel(t["surv_axis_predicted"])
    ax.set_ylabel(t["surv_axis_observed"])
    return fig


def _decision_plot(document: Mapping[str, Any], t: Mapping[str, str]) -> Figure | None:
    points = document["decision_curve"]
    if not points:
        return None
    fig = _new_figure()
    ax = fig.add_subplot()
    x = [p["threshold"] for p in points]
    model = [p["net_benefit"] for p in points]
    ax.plot(x, model, color=_MODEL_COLOUR, label=t["surv_model"])
    ax.plot(
        x,
        [p["net_benefit_treat_all"] for p in points],
        color=_OTHER_COLOUR,
        label=t["surv_treat_all"],
    )
    ax.axhline(0.0, color=_GREY, linestyle=":", label=t["surv_treat_none"])
    ax.set_ylim(min(-0.02, min(model)), max(model) * 1.1 + 0.01)
    ax.set_xlabel(t["surv_axis_threshold"])
    ax.set_ylabel(t["surv_axis_net_benefit"])
    ax.legend(frameon=False)
    return fig


_PLOTS = {
    "risk_groups": _risk_group_plot,
    "calibration_curve": _calibration_plot,
    "decision_curve": _decision_plot,
}


def _write_language(
    document: Mapping[str, Any],
    context: Mapping[str, Any],
    folder: Path,
    language: str,
    small_data: Mapping[str, Any] | None,
    time_units: Mapping[str, str] | None,
) -> tuple[Path, Path, list[Path]]:
    t, fmt = translator(language)
    units = time_units or {}
    unit = units.get(language) or unit_in(units.get("en"), language)
    suffix = "" if language == "en" else f".{language}"
    figures = (
        (name, f"{name}{suffix}", draw(document, t), t[f"surv_plot_{name}"])
        for name, draw in _PLOTS.items()
    )
    variables = {
        "r": _view(document, t, fmt, small_data, unit),
        "c": context,
        "t": t,
        "fmt": fmt,
        "lang": language,
    }
    return write_plots_and_documents(
        folder, f"validation_report{suffix}", "survival_report", variables, figures
    )


def render_survival_report(
    document: Mapping[str, Any],
    out_dir: str | Path,
    *,
    context: Mapping[str, Any],
    languages: Sequence[str] = ("en", "da"),
    pdf: bool = True,
    small_data: Mapping[str, Any] | None = None,
    time_units: Mapping[str, str] | None = None,
) -> MetaReport:
    """Write the survival validation report as HTML, Markdown and PDF in each language.

    English is ``validation_report.html``/``.md``/``.pdf``; Danish adds
    ``validation_report.da.html`` and so on. Plots go to ``out_dir/plots``
    (``risk_groups``, ``calibration_curve``, ``decision_curve``; ``.da.png`` for Danish).

    Parameters
    ----------
    document : mapping
        survival_metrics.json (schema ``clinai.survival_metrics/1``).
    out_dir : path-like
        The folder; created if needed.
    context : mapping
        ``{"title", "source", "created"}``: texts for the header (no patient data).
    languages : sequence of str, default ("en", "da")
        English is always included.
    pdf : bool, default True
        Print a PDF of each HTML; skipped with one line in ``skipped`` when
        WeasyPrint or its libraries are missing.
    small_data : mapping, optional
        A run's training.json ``small_data`` record (Riley et al.'s time-to-event
        criteria and the shrinkage): when the criteria were not met, the report says
        so in plain words, as the card does. Not given for ``clinai validate``.
    time_units : mapping, optional
        A run's time unit per language (``{"en": "days", "da": "dage"}``, from the
        pipeline's ``time_unit``; a language without one uses the English one): the
        horizon and the follow-up are then written with it, as on the card. Not given
        for ``clinai validate``, whose times are "in the time unit of the data".

    Returns
    -------
    MetaReport
        The files written and the lines of what was skipped.
    """
    if not isinstance(document, Mapping) or document.get("schema") != SURVIVAL_SCHEMA:
        got = document.get("schema") if isinstance(document, Mapping) else type(document).__name__
        raise ValueError(_NOT_SURVIVAL.format(schema=SURVIVAL_SCHEMA, got=got))
    folder = Path(out_dir)
    return write_languages(
        lambda language: _write_language(
            document, context, folder, language, small_data, time_units
        ),
        languages,
        pdf=pdf,
    )

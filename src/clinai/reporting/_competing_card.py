"""The card of a competing-risk run, and the report of ``clinai validate --competing-code``.

Both are Markdown per language (EN, DA) written from survival_metrics.json of a
competing-risk validation; nothing is computed here. The run's card starts with the
use case's texts; the validation report with the predictions file's name. Both then
show the same blocks: natural frequencies by the horizon (Aalen-Johansen), the
metrics, and, where the document has them, the acceptance criteria with their
verdict, the comparison with the registered version and the fairness tables (a
suppressed group shows no number).

The texts are the reviewed strings of ``locales/<language>.yaml`` (the ``ccard_`` keys
and the shared verdict, status and requirement words), the layout is
``templates/competing_card.md.j2``; this module only builds the view it renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clinai.reporting._acceptance_view import _required, compared_name
from clinai.reporting._format import NumberFormatter
from clinai.reporting._locales import get_strings
from clinai.reporting._render import render, translator
from clinai.reporting._survival_card import _risk_group_view, _risk_groups
from clinai.reporting._survival_report import follow_up_caution, size_caution, time_text

__all__ = ["competing_body", "competing_card", "competing_report"]

#: The locale key of the reader's name of each metric (a criterion's ``metric`` or a
#: comparison's key).
LABELS = {
    "wolbers_c": "ccard_wolbers_c",
    "time_auc": "ccard_time_auc",
    "td_auc": "ccard_time_auc",
    "oe_ratio": "ccard_oe_ratio",
    "calibration_slope": "ccard_calibration_slope",
    "brier": "brier",
    "null_brier": "ccard_null_brier",
    "scaled_brier": "ccard_scaled_brier",
    "ipa": "ccard_scaled_brier",
    "observed_risk": "ccard_observed_risk",
    "expected_risk": "ccard_expected_risk",
    "n": "ccard_patients",
    "events": "ccard_events_by_horizon",
}
#: The locale key of each verdict and each criterion's status.
VERDICTS = {
    "accepted": "verdict_accepted",
    "not accepted": "verdict_not_accepted",
    "no criteria": "ccard_no_criteria",
}
STATUSES = {
    "pass": "status_pass",
    "fail": "status_fail",
    "not_applicable": "status_not_applicable",
}
#: The metrics listed under the headline, in order.
SHOWN = ("wolbers_c", "time_auc", "oe_ratio", "scaled_brier")
#: The template; ``doc`` picks the opening ("card", "report", or none: the common blocks).
TEMPLATE = "competing_card.md.j2"


def _label(metric: str, t: Mapping[str, str]) -> str:
    """Name a metric, a comparison path or a fairness path for a reader."""
    parts = metric.removeprefix("metrics.").split(".")
    if parts[0] in ("comparison", "fairness") and len(parts) >= 3:
        name = t[LABELS[parts[-2]]] if parts[-2] in LABELS else parts[-2]
        return f"{parts[0]} {parts[1]}: {name} {parts[-1]}"
    return t[LABELS[parts[0]]] if parts[0] in LABELS else metric


def _acceptance(
    metrics: Mapping[str, Any], t: Mapping[str, str], fmt: NumberFormatter
) -> dict[str, Any] | None:
    rows = metrics.get("acceptance")
    if rows is None:  # not judged (clinai validate): no block
        return None
    view = []
    for row in rows:
        measure = _label(str(row.get("metric")), t)
        if row.get("statistic") in ("ci_low", "ci_high"):
            measure = t[f"ccard_{row['statistic']}"].format(m=measure)
        view.append(
            {
                "criterion": row.get("criterion"),
                "measure": measure,
                "value": fmt.num(row.get("value"), 3),
                "required": _required(row.get("min"), row.get("max"), t, fmt),
                "status": t[STATUSES[row.get("status") or "not_applicable"]],
            }
        )
    verdict = metrics.get("acceptance_verdict") or "no criteria"
    return {"verdict": t[VERDICTS[verdict]], "rows": view}


def _comparison(
    metrics: Mapping[str, Any], t: Mapping[str, str], fmt: NumberFormatter
) -> dict[str, Any] | None:
    block = metrics.get("comparison")
    if not block:
        return None
    rows = [
        {
            "label": _label(name, t),
            **{part: fmt.est(item[part], 3) for part in ("model", "registered", "difference")},
        }
        for name, item in block.items()
        if isinstance(item, Mapping) and "difference" in item
    ]
    return {"name": compared_name(block, t["surv_registered_name"]), "rows": rows}


def _fairness(metrics: Mapping[str, Any], fmt: NumberFormatter) -> list[dict[str, Any]]:
    tables = []
    for table, block in (metrics.get("fairness") or {}).items():
        groups = [
            {"group": group["group"], "suppressed": True}
            if group.get("suppressed")
            else {
                "group": group["group"],
                "suppressed": False,
                "n": fmt.count(group["n"]),
                "events": fmt.count(group["events"]),
                "c": fmt.est(group["wolbers_c"], 3),
                "oe": fmt.est(group["oe_ratio"], 2),
            }
            for group in block.get("groups", [])
        ]
        gaps = None
        if "difference" in block.get("wolbers_c", {}):
            gaps = {
                "c": fmt.est(block["wolbers_c"]["difference"], 3),
                "oe": fmt.est(block["oe_ratio"]["difference"], 2),
                "ratio": fmt.est(block["oe_ratio"]["ratio"], 2),
            }
        tables.append(
            {"table": table, "min_cell": block.get("min_cell"), "groups": groups, "gaps": gaps}
        )
    return tables


def _view(metrics: Mapping[str, Any], language: str, unit: str | None) -> dict[str, Any]:
    """Format every number of the common blocks in one language (nothing computed).

    ``unit``: the time unit of a run's data in this language (its pipeline's
    ``time_unit``); without it (``clinai validate``) the horizon is "in the time unit
    of the data", never a unit the data may not have.
    """
    t, fmt = translator(language)  # a missing number in the language's words, as elsewhere
    frequency = metrics["natural_frequency"]
    follow_up = metrics["competing"]["follow_up"]
    values = {**metrics["metrics"], "calibration_slope": metrics["competing"]["calibration_slope"]}
    return {
        "horizon": metrics["horizon"],
        "horizon_text": time_text(metrics["horizon"], fmt, unit)
        if unit
        else t["ccard_horizon_no_unit"].format(horizon=time_text(metrics["horizon"], fmt)),
        "n": metrics["n"],
        "observed": frequency["observed"],
        "predicted": frequency["predicted"],
        "shown": [
            (t[LABELS[name]], fmt.est(values[name], 2)) for name in (*SHOWN, "calibration_slope")
        ],
        # a competing event ends follow-up as the event does: neither is censoring
        "caution": follow_up_caution(
            {
                **follow_up,
                "events_by_horizon": follow_up["events_by_horizon"]
                + follow_up["competing_by_horizon"],
            },
            t,
            fmt,
        ),
        "size_caution": size_caution(follow_up, t, fmt),
        "events": follow_up["events_by_horizon"],
        "competing": follow_up["competing_by_horizon"],
        "censored": follow_up["censored_before_horizon"],
        # observed (Aalen-Johansen) against predicted risk per risk group, small cells hidden
        "risk_groups": [
            _risk_group_view(row, t, fmt)
            for row in _risk_groups(metrics["competing"].get("risk_groups"))
        ],
        "acceptance": _acceptance(metrics, t, fmt),
        "comparison": _comparison(metrics, t, fmt),
        "fairness": _fairness(metrics, fmt),
    }


def _render(
    metrics: Mapping[str, Any], language: str, unit: str | None = None, **opening: Any
) -> str:
    """Render the template in one language with the common blocks' view.

    A suppressed fairness group says why as the risk groups do: "suppressed (fewer
    than 5)" beside a group of 54 patients (2 with the event) read as 5 patients.
    """
    strings = get_strings(language)
    t = {**strings, "ccard_suppressed": strings["surv_suppressed"]}
    return render(TEMPLATE, t=t, r=_view(metrics, language, unit), **opening)


def competing_body(metrics: Mapping[str, Any], language: str, unit: str | None = None) -> str:
    """Return the card's and the report's common blocks, from natural frequencies on."""
    return _render(metrics, language, unit, doc=None)


#: The use case's texts a card shows where the pipeline has them (``not_for``: a list).
OPTIONAL_TEXTS = ("population", "prediction_time", "not_for", "limitations")


def competing_card(
    metrics: Mapping[str, Any],
    texts: Mapping[str, Any],
    language: str,
    *,
    selected: str,
    lineage: Mapping[str, Any] | None = None,
) -> str:
    """Return a competing-risk run's model card in one language (Markdown).

    ``texts``: the use case's ``title``, ``outcome``, ``intended_use`` and
    ``competing_event`` (the event that competes, in the card's language), and where
    the pipeline has them its ``time_unit`` (the horizon is then "1,826 days"),
    ``population``, ``prediction_time``, ``not_for`` and ``limitations`` (shown as on
    every card: a missing list reads "n/a", never nothing). ``lineage``: the run's
    ``experiment``, ``run_id``, ``dataset``, ``config_sha256``, ``data_sha256``,
    ``code_version``, ``git_dirty``, ``pipeline`` and ``pipeline_sha256`` (hashes and
    names only), rendered under "Data and lineage" with the privacy statement.
    """
    uc = {key: texts[key] for key in ("title", "outcome", "intended_use", "competing_event")}
    uc.update({key: texts.get(key) for key in OPTIONAL_TEXTS})
    unit = texts.get("time_unit") or None
    return _render(
        metrics, language, unit, doc="card", uc=uc, selected=selected, lineage=lineage or {}
    )


def competing_report(
    metrics: Mapping[str, Any],
    language: str,
    *,
    source: str,
    created: str,
    unit: str | None = None,
    title: str | None = None,
) -> str:
    """Return the competing-risk validation report in one language (Markdown).

    ``clinai validate --competing-code`` writes it without ``unit`` (its times are "in
    the time unit of the data") and ``title`` (it is headed by the score and horizon);
    a competing-risk run with its pipeline's ``time_unit`` and the use case's title.
    """
    return _render(
        metrics,
        language,
        unit,
        doc="report",
        score=metrics["score"],
        source=source,
        created=created,
        title=title,
    )

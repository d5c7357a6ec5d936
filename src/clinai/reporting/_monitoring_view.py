"""What the monitoring report shows, as formatted text: the whitelisted view of monitoring.json.

Reporting computes no statistics. This module assembles the report from named fields of
``monitoring.json`` (schema v1, written by ``clinai monitor``): the periods and their
words come from :mod:`._monitoring_words`, the report's sections from
:mod:`._monitoring_sections`. A patient identifier under any other key is never read; a
suppressed subgroup's counts are never read either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clinai.reporting import _sanitize as s
from clinai.reporting._format import NumberFormatter
from clinai.reporting._monitoring_sections import (
    _DEFAULT_PSI_LIMIT,
    _GLOSSARY,
    _cusum_text,
    _drift_tables,
    _glossary_term,
    _inputs,
    _overview,
    _period_rows,
    _plan_view,
    _subgroups,
)
from clinai.reporting._monitoring_words import (
    _MAX_PERIODS,
    _MEASURED,
    _NEEDS_OUTCOMES,
    LEVELS,
    _cap,
    _level_text,
    _limits,
    _periods,
    _Words,
)

__all__ = ["LEVELS", "monitoring_view", "period_series"]


def period_series(monitoring: Mapping[str, Any]) -> dict[str, Any]:
    """Return the numbers the monitoring plots draw, per period, as given (nothing computed).

    Parameters
    ----------
    monitoring : mapping
        monitoring.json (schema v1).

    Returns
    -------
    dict
        ``periods`` (labels), ``measured`` and ``estimated`` (metric to a list of
        estimate dicts or ``None`` per period; measured values of a period with fewer
        events than the plan's minimum are ``None``), ``cusum`` (``value`` and
        ``signalled`` per period, ``limit``) and ``limits`` (the plan's limits).
    """
    plan = s.mapping(monitoring.get("plan"))
    periods = _periods(monitoring, s.number(plan.get("min_events")))
    measured: dict[str, list[Any]] = {}
    for metric, key in _MEASURED:
        measured[metric] = [
            s.estimate(p.performance.get(key))
            if p.measured and not (p.few_events and metric in _NEEDS_OUTCOMES)
            else None
            for p in periods
        ]
    estimated = {
        key: [s.estimate(p.estimated.get(key)) for p in periods]
        for key in ("auroc", "sensitivity", "ppv")
    }
    points = {}
    for point in list(s.mapping(monitoring.get("cusum")).get("points") or [])[:_MAX_PERIODS]:
        point = s.mapping(point)
        label, value = s.text(point.get("period")), s.number(point.get("value"))
        if label is not None and value is not None:
            points[label] = float(value)
    cusum_limit = s.number(s.mapping(monitoring.get("cusum")).get("limit"))
    return {
        "periods": [p.label for p in periods],
        "measured": measured,
        "estimated": estimated,
        "cusum": {
            "values": [points.get(p.label, s.number(p.cusum.get("end"))) for p in periods],
            "signalled": [p.cusum.get("signalled") is True for p in periods],
            "limit": None if cusum_limit is None else float(cusum_limit),
        },
        "limits": _limits(plan),
    }


def monitoring_view(
    monitoring: Mapping[str, Any], t: Mapping[str, str], fmt: NumberFormatter
) -> dict[str, Any]:
    """Return the monitoring report's content in one language, as formatted text.

    Parameters
    ----------
    monitoring : mapping
        monitoring.json (schema v1); only its named fields are read.
    t : mapping
        The language's reviewed strings (``get_strings``).
    fmt : NumberFormatter
        The language's number formatter.

    Returns
    -------
    dict
        ``model``, ``plan``, ``inputs``, ``development``, ``headline`` (the latest
        period's verdict and its reasons in words), ``overview`` (a row per period),
        ``periods`` (each with its facts, reasons and table rows), ``drift`` (heat
        tables of PSI), ``subgroups``, ``cusum_text``, ``actions`` and ``glossary``.
    """
    plan = s.mapping(monitoring.get("plan"))
    words = _Words(t, fmt, plan, s.mapping(monitoring.get("development")).get("alert_rate"))
    min_events = words.min_events
    periods = _periods(monitoring, min_events)
    model = s.mapping(monitoring.get("model"))
    development = s.mapping(monitoring.get("development"))
    period_views = []
    for period in periods:
        notes = []
        if not period.measured:
            notes.append(t["monitoring_estimated_note"])
        elif period.few_events:
            notes.append(
                t["monitoring_few_events_note"].format(
                    events=period.events_text(t, fmt), min_events=fmt.count(min_events)
                )
            )
        period_views.append(
            {
                "label": period.label,
                "facts": t["monitoring_period_facts"].format(
                    start=period.start or t["na"],
                    end=period.end or t["na"],
                    n=fmt.count(period.n),
                    patients=fmt.count(period.n_patients),
                    events=period.events_text(t, fmt),
                ),
                "level": period.level,
                "level_text": _level_text(period.level, t),
                "reasons": words.reasons(period),
                "notes": notes,
                "rows": _period_rows(period, words),
            }
        )
    verdict = s.mapping(monitoring.get("verdict"))
    latest = next(
        (p for p in periods if p.label == s.text(verdict.get("period"))),
        periods[-1] if periods else None,
    )
    headline = None
    if latest is not None:
        level = s.text(verdict.get("level")) or latest.level
        headline = {
            "period": latest.label,
            "level": level,
            "level_text": _level_text(level, t),
            "reasons": words.reasons(latest),
        }
    psi_limit = next(
        (x["max"] for x in words.limits if x["metric"] == "psi" and x["max"]), _DEFAULT_PSI_LIMIT
    )
    return {
        "model": {k: s.scalar(model.get(k)) for k in ("name", "version", "alias", "run_id")},
        "generated_at": s.text(monitoring.get("generated_at")),
        "clinai_version": s.text(monitoring.get("clinai_version")),
        "plan": _plan_view(plan, words),
        "cusum_text": _cusum_text(monitoring, plan, words),
        "inputs": _inputs(monitoring, t, fmt),
        "development": t["monitoring_development"].format(
            n=fmt.count(development.get("n")),
            prevalence=fmt.pct(development.get("prevalence")),
            alert_rate=fmt.pct(development.get("alert_rate")),
        )
        if development
        else None,
        "headline": headline,
        "overview": _overview(periods, words),
        "periods": period_views,
        "drift": _drift_tables(periods, words),
        "psi_limit": fmt.num(psi_limit),
        "subgroups": _subgroups(periods, words),
        "actions": [
            {
                "level": level,
                "label": _cap(_level_text(level, t)),
                "meaning": t[f"monitoring_action_{level}"],
            }
            for level in LEVELS
        ],
        "glossary": [
            {"term": _glossary_term(term, t), "meaning": t[f"monitoring_term_{term}"]}
            for term in _GLOSSARY
        ],
    }

"""The sections of the monitoring report, each built from the periods and the words.

A period's table, the overview across periods, the heat tables of drift, the subgroups,
the plan, the CUSUM sentences and the input files: formatted text only, nothing computed.
A suppressed subgroup's counts are never read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from clinai.reporting import _sanitize as s
from clinai.reporting._fairness_view import _groups
from clinai.reporting._format import NumberFormatter
from clinai.reporting._monitoring_words import (
    _ESTIMATED,
    _MAX_ROWS,
    _MEASURED,
    _NEEDS_OUTCOMES,
    _action,
    _apart,
    _cap,
    _level_text,
    _limit_text,
    _Period,
    _statistic_text,
    _Words,
    metric_label,
)

__all__: list[str] = []

_TOP_FEATURES = 8
_HEAT_COLUMNS = 12  # periods per drift table: a wider table would not fit an A4 page
_PSI_LOW = 0.1  # below this a PSI is conventionally "little change"
_DEFAULT_PSI_LIMIT = 0.2
_GLOSSARY = (
    "auroc",
    "oe_ratio",
    "calibration_slope",
    "ici",
    "alert_rate",
    "sensitivity",
    "ppv",
    "psi",
    "cusum",
    "estimated",
)


def _glossary_term(term: str, t: Mapping[str, str]) -> str:
    if term in ("psi", "cusum"):
        return term.upper()  # the same abbreviation in every language
    if term == "estimated":
        return _cap(t["monitoring_estimated_suffix"].strip("()"))
    return _cap(t[f"monitoring_metric_{term}"])


def _period_rows(period: _Period, words: _Words) -> list[dict[str, str]]:
    t = words.t
    rows = []
    if period.measured:
        for metric, key in _MEASURED:
            value = period.performance.get(key)
            hidden = period.few_events and metric in _NEEDS_OUTCOMES
            text, status = words.judgement(words.judged_as(metric), period, value)
            if hidden and status != "fail":
                text, status = t["monitoring_not_assessable"], "not_applicable"
            rows.append(
                {
                    "label": _cap(words.metric(metric)),
                    "value": t["monitoring_not_assessable"]
                    if hidden
                    else words.value(metric, value),
                    "limit": words.limit_cell(words.judged_as(metric)),
                    "judgement": text,
                    "status": status,
                }
            )
    else:
        for metric, key in _ESTIMATED:
            value = period.estimated.get(key)
            text, status = words.judgement(words.judged_as(metric), period, value)
            label = _cap(metric_label(metric.removeprefix("estimated."), t))
            if metric != "alert_rate":  # the share alerted needs no outcome: it is known
                label = f"{label} {t['monitoring_estimated_suffix']}"
            rows.append(
                {
                    "label": label,
                    "value": words.value(metric, value),
                    "limit": words.limit_cell(words.judged_as(metric)),
                    "judgement": text,
                    "status": status,
                }
            )
    shown = {
        words.judged_as(metric) for metric, _ in (_MEASURED if period.measured else _ESTIMATED)
    }
    # the drift and control-chart rows, and any other metric a reason names
    extra = ["psi", "missing_change", "risk_psi", "cusum"]
    extra += [m for r in period.reasons if (m := s.text(r.get("metric"))) and m not in extra]
    for metric in dict.fromkeys(extra):
        if metric in shown:
            continue
        value = period.value(metric)
        if value is None and not any(r.get("metric") == metric for r in period.reasons):
            continue
        text, status = words.judgement(metric, period, value)
        limit = words.limit_cell(metric)
        if metric == "cusum":
            limit, (text, status) = _cusum_cells(period, words, value)
        if value is None and status == "not_applicable":
            value_text = t["monitoring_not_assessable"]
        else:
            value_text = words.value(metric, value)
        rows.append(
            {
                "label": _cap(words.metric(metric, period)),
                "value": value_text,
                "limit": limit,
                "judgement": text,
                "status": status,
            }
        )
    return rows


def _cusum_cells(period: _Period, words: _Words, value: Any) -> tuple[str, tuple[str, str]]:
    t = words.t
    limit = s.number(period.cusum.get("limit"))
    action = words.cusum_action
    cell = (
        t["required_max"].format(max=words.fmt.num(limit)) + f": {_action(action, t)}"
        if limit is not None
        else t["monitoring_no_limit"]
    )
    if period.cusum.get("signalled") is True:
        return cell, (t["monitoring_breach"].format(action=_action(action, t)), "fail")
    if limit is None or s.number(value) is None:
        return cell, ("", "none")
    return cell, (t["monitoring_within"], "pass")


def _overview(periods: list[_Period], words: _Words) -> list[dict[str, Any]]:
    t, fmt = words.t, words.fmt
    rows = []
    for period in periods:
        cells = {}
        for metric in ("auroc", "oe_ratio"):
            if period.measured:
                hidden = period.few_events
                cells[metric] = (
                    t["monitoring_not_assessable"]
                    if hidden
                    else words.value(metric, period.value(metric))
                )
            elif metric == "auroc" and period.estimated.get("auroc") is not None:
                estimate = words.value(metric, period.estimated.get("auroc"))
                cells[metric] = f"{estimate} {t['monitoring_estimated_suffix']}"
            else:
                cells[metric] = t["monitoring_not_assessable"]
        rows.append(
            {
                "period": period.label,
                "n": fmt.count(period.n),
                "events": period.events_text(t, fmt),
                "auroc": cells["auroc"],
                "oe_ratio": cells["oe_ratio"],
                "level": period.level,
                "level_text": _level_text(period.level, t),
            }
        )
    return rows


def _psi_band(value: float | None, limit: float) -> str:
    if value is None:
        return "none"
    return "high" if value >= limit else "moderate" if value >= _PSI_LOW else "low"


def _drift_tables(periods: list[_Period], words: _Words) -> list[dict[str, Any]]:
    """Heat tables of PSI: the predicted risks, then the top features, by period (12 a table)."""
    fmt, t = words.fmt, words.t
    limit = next((x["max"] for x in words.limits if x["metric"] == "psi" and x["max"]), None)
    limit = _DEFAULT_PSI_LIMIT if limit is None else limit
    per_feature: dict[str, dict[str, float]] = {}
    for period in periods:
        for row in list(period.drift.get("features") or [])[: _MAX_ROWS * 10]:
            row = s.mapping(row)
            feature, psi = s.text(row.get("feature")), s.number(row.get("psi"))
            if feature is not None and psi is not None:
                per_feature.setdefault(feature, {})[period.label] = float(psi)
    # the features that drifted most in any period (a ranking of given numbers)
    top = sorted(per_feature, key=lambda f: (-max(per_feature[f].values()), f))[:_TOP_FEATURES]
    risk = {
        p.label: float(v)
        for p in periods
        if (v := s.number(s.mapping(p.drift.get("risk")).get("psi"))) is not None
    }
    if not top and not risk:
        return []
    lines = [(t["monitoring_drift_risk"], risk)] if risk else []
    lines += [(feature, per_feature[feature]) for feature in top]
    tables = []
    # tables of equal width, none wider than _HEAT_COLUMNS periods
    size = math.ceil(len(periods) / max(1, math.ceil(len(periods) / _HEAT_COLUMNS)))
    for first in range(0, len(periods), size):
        chunk = [p.label for p in periods[first : first + size]]
        rows = []
        for name, values in lines:
            cells = [
                {
                    "text": fmt.num(values[label], _apart(values[label], limit, "ratio", fmt))
                    if label in values
                    else fmt.na,
                    "band": _psi_band(values.get(label), limit),
                }
                for label in chunk
            ]
            rows.append({"name": name, "cells": cells})
        tables.append({"periods": chunk, "rows": rows, "first": chunk[0], "last": chunk[-1]})
    return tables


def _subgroups(periods: list[_Period], words: _Words) -> dict[str, Any] | None:
    """Show the latest period with outcomes (else the latest); no suppressed count."""
    chosen = next((p for p in reversed(periods) if p.outcomes and p.subgroups), None)
    chosen = chosen or next((p for p in reversed(periods) if p.subgroups), None)
    if chosen is None:
        return None

    def numbers(row: Mapping[str, Any]) -> dict[str, str]:
        return {key: words.value(key, row.get(key)) for key in ("auroc", "oe_ratio")}

    attributes = []
    for attribute, rows in list(chosen.subgroups.items())[:_MAX_ROWS]:
        # a suppressed group keeps its label only (the shared rule of every group table)
        out = _groups(rows, numbers)
        attributes.append({"attribute": str(attribute), "rows": out})
    return {"period": chosen.label, "attributes": attributes}


def _plan_view(plan: Mapping[str, Any], words: _Words) -> dict[str, Any]:
    t, fmt = words.t, words.fmt
    unit = s.text(plan.get("period"))
    cusum = s.mapping(plan.get("cusum"))
    limits = [
        {
            "measure": _cap(metric_label(x["metric"], t)),
            "judged_on": _statistic_text(x["statistic"], t),
            "allowed": _limit_text(x, t, fmt),
            "action": _action(x["action"], t),
        }
        for x in words.limits
    ]
    return {
        "period": t.get(f"monitoring_period_{unit}", unit or t["na"]),
        "threshold": t["monitoring_threshold_text"].format(
            threshold=fmt.num(plan.get("operating_threshold"))
        ),
        "min_events": fmt.count(plan.get("min_events")),
        "n_boot": fmt.count(plan.get("n_boot")),
        "subgroups": ", ".join(s.texts(plan.get("subgroups"))) or t["na"],
        "limits": limits,
        "cusum": cusum,
        "sha256": s.text(plan.get("sha256")),
    }


def _cusum_text(monitoring: Mapping[str, Any], plan: Mapping[str, Any], words: _Words) -> list[str]:
    t, fmt = words.t, words.fmt
    chart, settings = s.mapping(monitoring.get("cusum")), s.mapping(plan.get("cusum"))
    if not chart and not settings:
        return []
    odds = s.number(chart.get("odds_ratio", settings.get("odds_ratio")))
    limit = (
        s.number(chart.get("limit"))
        if s.number(chart.get("limit")) is not None
        else s.number(settings.get("limit"))
    )
    texts = [
        t["monitoring_cusum_plan"].format(
            odds_ratio=fmt.num(odds, 1), limit=fmt.num(limit), action=_action(words.cusum_action, t)
        )
    ]
    rate = s.number(settings.get("false_alarm_rate"))
    if rate is not None and s.number(settings.get("limit")) is None:
        texts.append(t["monitoring_cusum_false_alarm"].format(rate=fmt.pct(rate)))
    return texts


def _inputs(
    monitoring: Mapping[str, Any], t: Mapping[str, str], fmt: NumberFormatter
) -> list[dict[str, str]]:
    inputs = s.mapping(monitoring.get("inputs"))
    rows = [
        {"kind": t["monitoring_predictions_file"], **_file(f, fmt)}
        for f in list(inputs.get("predictions") or [])[:_MAX_ROWS]
    ]
    outcomes = s.mapping(inputs.get("outcomes"))
    if outcomes:
        rows.append({"kind": t["monitoring_outcomes_file"], **_file(outcomes, fmt)})
    else:
        rows.append(
            {
                "kind": t["monitoring_outcomes_file"],
                "file_name": t["monitoring_no_outcomes_file"],
                "sha256": "",
                "rows": "",
            }
        )
    return rows


def _file(value: Any, fmt: NumberFormatter) -> dict[str, str]:
    file = s.mapping(value)
    return {
        "file_name": s.text(file.get("file_name")) or fmt.na,
        "sha256": s.text(file.get("sha256")) or "",
        "rows": fmt.count(file.get("rows")),
    }

"""What the monitoring report shows, as formatted text: the whitelisted view of monitoring.json.

Reporting computes no statistics. This module only picks named fields of
``monitoring.json`` (schema v1, written by ``clinai monitor``), formats their numbers
in the reader's language and puts each verdict's reasons into words, e.g. "O/E 1.34
(1.18–1.52) is above the plan's limit 1.25: recalibrate." A patient identifier under
any other key is never read; a suppressed subgroup's counts are never read either.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from clinai.reporting import _sanitize as s
from clinai.reporting._fairness_view import _groups
from clinai.reporting._format import NumberFormatter, estimate_parts

__all__ = ["LEVELS", "monitoring_view", "period_series"]

#: The verdicts, least to most severe (MONITORING.md section 1).
LEVELS = ("in_control", "investigate", "recalibrate", "suspend")

_MAX_PERIODS = 400
_MAX_ROWS = 200
_TOP_FEATURES = 8
_HEAT_COLUMNS = 12  # periods per drift table: a wider table would not fit an A4 page
_PSI_LOW = 0.1  # below this a PSI is conventionally "little change"
_DEFAULT_PSI_LIMIT = 0.2

# How a metric's numbers are written: "ratio" (2 decimals), "small" (3), "pct" (percent).
_KIND = {
    "auroc": "ratio",
    "oe_ratio": "ratio",
    "calibration.intercept": "ratio",
    "calibration.slope": "ratio",
    "ici": "small",
    "alert_rate": "pct",
    "alert_rate_change": "pct",
    "sensitivity": "ratio",
    "specificity": "ratio",
    "ppv": "ratio",
    "estimated.auroc": "ratio",
    "estimated.sensitivity": "ratio",
    "estimated.ppv": "ratio",
    "psi": "ratio",
    "missing_change": "pct",
    "risk_psi": "ratio",
    "cusum": "ratio",
    "expected_events": "count",
}
# The rows of a period's table with outcomes: (metric name in the plan, key in "performance").
_MEASURED = (
    ("auroc", "auroc"),
    ("oe_ratio", "oe_ratio"),
    ("calibration.intercept", "calibration_intercept"),
    ("calibration.slope", "calibration_slope"),
    ("ici", "ici"),
    ("alert_rate", "alert_rate"),
    ("sensitivity", "sensitivity"),
    ("ppv", "ppv"),
)
# The rows of a period's table before its outcomes are known: (metric name, key in "estimated").
_ESTIMATED = (
    ("estimated.auroc", "auroc"),
    ("estimated.sensitivity", "sensitivity"),
    ("specificity", "specificity"),
    ("estimated.ppv", "ppv"),
    ("alert_rate", "alert_rate"),
    ("expected_events", "expected_events"),
)
# Metrics that need outcomes: "not assessable" in a period with too few events.
_NEEDS_OUTCOMES = frozenset(
    {"auroc", "oe_ratio", "calibration.intercept", "calibration.slope", "ici", "sensitivity", "ppv"}
)
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


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _key(metric: str) -> str:
    return metric.replace(".", "_")


def metric_label(metric: str, t: Mapping[str, str]) -> str:
    """Return the short name of a plan's metric in the reader's language (``psi.<feature>`` too)."""
    if metric.startswith("psi.") and len(metric) > 4:
        return t["monitoring_metric_psi_of"].format(feature=metric[4:])
    return t.get(f"monitoring_metric_{_key(metric)}", metric)


def _kind(metric: str) -> str:
    return "ratio" if metric.startswith("psi.") else _KIND.get(metric, "ratio")


def _digits(kind: str) -> int:
    """Return the decimals a metric is written with (of the percentage, for a share)."""
    return {"small": 3, "count": 0, "pct": 1}.get(kind, 2)


def _number(value: Any, kind: str, fmt: NumberFormatter, digits: int | None = None) -> str:
    digits = _digits(kind) if digits is None else digits
    return fmt.pct(value, digits) if kind == "pct" else fmt.num(value, digits)


def _estimate_text(value: Any, kind: str, fmt: NumberFormatter, digits: int | None = None) -> str:
    """Write an estimate with its interval in the metric's own notation (percent for shares)."""
    digits = _digits(kind) if digits is None else digits
    point, low, high = estimate_parts(value)
    if point is None:
        return fmt.na
    if low is None or high is None:
        return _number(point, kind, fmt, digits)
    if kind == "pct":
        return f"{fmt.pct(point, digits)} ({fmt.num(100 * low, digits)}–{fmt.pct(high, digits)})"
    return fmt.est(value, digits)


def _apart(value: float | None, limit: float | None, kind: str, fmt: NumberFormatter) -> int:
    """Enough decimals that a value outside a limit is not written as the limit (0.2021 > 0.20)."""
    digits = _digits(kind)
    while (
        value is not None
        and limit is not None
        and digits < _digits(kind) + 3
        and _number(value, kind, fmt, digits) == _number(limit, kind, fmt, digits)
    ):
        digits += 1
    return digits


def _limit_text(limit: Mapping[str, Any], t: Mapping[str, str], fmt: NumberFormatter) -> str:
    """``"0.80 to 1.25"``, ``"≥ 0.65"`` or ``"≤ 0.20"`` in the metric's notation."""
    kind = _kind(str(limit.get("metric")))
    low, high = s.number(limit.get("min")), s.number(limit.get("max"))
    if low is not None and high is not None:
        return t["required_between"].format(
            min=_number(low, kind, fmt), max=_number(high, kind, fmt)
        )
    if low is not None:
        return t["required_min"].format(min=_number(low, kind, fmt))
    if high is not None:
        return t["required_max"].format(max=_number(high, kind, fmt))
    return fmt.na


def _statistic_text(statistic: Any, t: Mapping[str, str]) -> str:
    if statistic in ("ci_low", "ci_high"):
        return t[f"statistic_{statistic}"]
    return t["monitoring_statistic_estimate"]


def _level_text(level: Any, t: Mapping[str, str]) -> str:
    return t.get(f"monitoring_level_{level}", t["na"]) if level in LEVELS else t["na"]


def _action(action: Any, t: Mapping[str, str]) -> str:
    return _level_text(action, t)


def _limits(plan: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for limit in list(plan.get("limits") or [])[:_MAX_ROWS]:
        limit = s.mapping(limit)
        metric = s.text(limit.get("metric"))
        if metric is None:
            continue
        out.append(
            {
                "metric": metric,
                "statistic": s.text(limit.get("statistic")) or "estimate",
                "min": s.number(limit.get("min")),
                "max": s.number(limit.get("max")),
                "action": s.text(limit.get("action")),
            }
        )
    return out


def _top_feature(drift: Mapping[str, Any], key: str) -> tuple[str | None, float | None]:
    """Return the feature with the largest ``key`` (psi or missing_change) and that value."""
    best: tuple[str | None, float | None] = (None, None)
    for row in list(drift.get("features") or [])[: _MAX_ROWS * 10]:
        row = s.mapping(row)
        value = s.number(row.get(key))
        if value is not None and (best[1] is None or value > best[1]):
            best = (s.text(row.get("feature")), float(value))
    return best


class _Period:
    """One period of monitoring.json, read through the whitelist."""

    def __init__(self, raw: Mapping[str, Any], min_events: int | None) -> None:
        self.label = s.text(raw.get("period")) or "?"
        self.start, self.end = s.text(raw.get("start")), s.text(raw.get("end"))
        self.n, self.n_patients = s.number(raw.get("n")), s.number(raw.get("n_patients"))
        self.events = s.number(raw.get("events"))
        self.outcomes = raw.get("outcomes_available") is True
        self.performance = s.mapping(raw.get("performance"))
        self.estimated = s.mapping(raw.get("estimated"))
        self.drift = s.mapping(raw.get("drift"))
        self.subgroups = s.mapping(raw.get("subgroups"))
        self.cusum = s.mapping(raw.get("cusum"))
        verdict = s.mapping(raw.get("verdict"))
        self.level = s.text(verdict.get("level"))
        self.reasons = [s.mapping(r) for r in list(verdict.get("reasons") or [])[:_MAX_ROWS]]
        # outcomes known but too few events: performance is "not assessable" (a reason, no number)
        self.few_events = bool(
            self.outcomes
            and min_events is not None
            and (self.events is None or self.events < min_events)
        )
        self.measured = self.outcomes and bool(self.performance)

    def value(self, metric: str) -> Any:
        """Return the period's value of a plan metric (an estimate dict or a number), if any."""
        by_key = dict(_MEASURED)
        if metric in by_key:
            return self.performance.get(by_key[metric]) if self.measured else None
        if metric.startswith("estimated."):
            return self.estimated.get(metric.removeprefix("estimated."))
        if metric == "psi":
            return _top_feature(self.drift, "psi")[1]
        if metric == "missing_change":
            return _top_feature(self.drift, "missing_change")[1]
        if metric == "risk_psi":
            return s.mapping(self.drift.get("risk")).get("psi")
        if metric.startswith("psi."):
            for row in self.drift.get("features") or []:
                if s.mapping(row).get("feature") == metric[4:]:
                    return s.mapping(row).get("psi")
        if metric == "cusum":
            return self.cusum.get("end")
        return None

    def events_text(self, t: Mapping[str, str], fmt: NumberFormatter) -> str:
        if not self.outcomes:
            return t["monitoring_events_unknown"]
        return t["suppressed"] if self.events is None else fmt.count(self.events)


class _Words:
    """Puts the numbers of one language into the report's sentences and cells."""

    def __init__(
        self,
        t: Mapping[str, str],
        fmt: NumberFormatter,
        plan: Mapping[str, Any],
        development_alert_rate: Any = None,
    ) -> None:
        self.t, self.fmt = t, fmt
        self.development_alert_rate = s.number(development_alert_rate)
        self.limits = _limits(plan)
        self.min_events = s.number(plan.get("min_events"))
        self.cusum_action = s.text(s.mapping(plan.get("cusum")).get("action")) or "investigate"

    def metric(self, metric: str, period: _Period | None = None) -> str:
        label = metric_label(metric, self.t)
        if period is not None and metric in ("psi", "missing_change"):
            feature, value = _top_feature(period.drift, metric)
            if feature and value:  # a change of 0 names no variable
                label = f"{label} ({feature})"
        return label

    def value(self, metric: str, value: Any) -> str:
        """Write a row's value, with more decimals where it would read as its limit."""
        kind, point = _kind(metric), estimate_parts(value)[0]
        bounds = [x[k] for x in self.limits if x["metric"] == metric for k in ("min", "max")]
        digits = max([_apart(point, b, kind, self.fmt) for b in bounds], default=_digits(kind))
        return _estimate_text(value, kind, self.fmt, digits)

    def reason(self, reason: Mapping[str, Any], period: _Period) -> str | None:
        """One breach in words; ``None`` for a "not assessable" reason (see :meth:`reasons`)."""
        t = self.t
        metric = s.text(reason.get("metric")) or "?"
        if reason.get("kind") == "not_assessable":
            return None
        kind = _kind(metric)
        value = s.number(reason.get("value"))
        low, high = s.number(reason.get("min")), s.number(reason.get("max"))
        above = value is not None and high is not None and value > high
        limit = high if above else low
        statistic = s.text(reason.get("statistic")) or "estimate"
        # the period's estimate with its CI where the limit judged one of its parts; else the
        # value judged (e.g. the highest CUSUM of the period, statistic "max")
        known = statistic in ("estimate", "ci_low", "ci_high")
        full = period.value(metric) if known else None
        digits = _apart(value, limit, kind, self.fmt)
        shown = _estimate_text(
            full if estimate_parts(full)[0] is not None else value, kind, self.fmt, digits
        )
        label = self.metric(metric, period)
        if metric == "cusum" and statistic == "max":
            label = t["monitoring_metric_cusum_max"]
        words = {
            "metric": _cap(label),
            "limit": _number(limit, kind, self.fmt, digits),
            "action": _action(reason.get("action"), t),
        }
        if statistic in ("ci_low", "ci_high"):
            key = "monitoring_reason_bound_above" if above else "monitoring_reason_bound_below"
            return t[key].format(
                value=shown,
                bound=t[f"statistic_{statistic}"],
                bound_value=_number(value, kind, self.fmt, digits),
                **words,
            )
        key = "monitoring_reason_above" if above else "monitoring_reason_below"
        return t[key].format(value=shown, **words)

    def reasons(self, period: _Period) -> list[str]:
        """Put the reasons in words: each breach, then one line for what was not assessed."""
        sentences = [text for r in period.reasons if (text := self.reason(r, period))]
        unassessed = list(
            dict.fromkeys(
                self.metric(s.text(r.get("metric")) or "?")
                for r in period.reasons
                if r.get("kind") == "not_assessable"
            )
        )
        if unassessed:
            metrics = ", ".join(unassessed)
            if not period.outcomes:
                sentences.append(self.t["monitoring_reason_no_outcomes"].format(metrics=metrics))
            else:
                sentences.append(
                    self.t["monitoring_reason_few_events"].format(
                        events=period.events_text(self.t, self.fmt),
                        min_events=self.fmt.count(self.min_events),
                        metrics=metrics,
                    )
                )
        return sentences

    def judged_as(self, metric: str) -> str:
        """Return the plan's metric judging a row (the alert rate: its change, if so limited)."""
        has = {x["metric"] for x in self.limits}
        if metric == "alert_rate" and "alert_rate" not in has and "alert_rate_change" in has:
            return "alert_rate_change"
        return metric

    def limit_cell(self, metric: str) -> str:
        cells = []
        for limit in (x for x in self.limits if x["metric"] == metric):
            text = _limit_text(limit, self.t, self.fmt)
            if limit["statistic"] in ("ci_low", "ci_high"):
                text = f"{self.t['monitoring_bound_' + limit['statistic']]} {text}"
            if metric == "alert_rate_change" and self.development_alert_rate is not None:
                rate = self.fmt.pct(self.development_alert_rate)
                text = self.t["monitoring_alert_change_limit"].format(rate=rate, range=text)
            cells.append(f"{text}: {_action(limit['action'], self.t)}")
        return "; ".join(cells) or self.t["monitoring_no_limit"]

    def judgement(self, metric: str, period: _Period, value: Any) -> tuple[str, str]:
        """(text, status) of one row: breached, not assessable, within the limit, or no limit."""
        t = self.t
        mine = [r for r in period.reasons if r.get("metric") == metric]
        breaches = [r for r in mine if r.get("kind") == "breach"]
        if breaches:
            actions = sorted(
                {str(r.get("action")) for r in breaches},
                key=lambda a: LEVELS.index(a) if a in LEVELS else 0,
            )
            return t["monitoring_breach"].format(action=_action(actions[-1], t)), "fail"
        if any(r.get("kind") == "not_assessable" for r in mine):
            return t["monitoring_not_assessable"], "not_applicable"
        if not any(x["metric"] == metric for x in self.limits):
            return "", "none"
        if value is None or estimate_parts(value)[0] is None:
            return t["na"], "none"
        return t["monitoring_within"], "pass"


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
    min_events = s.number(plan.get("min_events"))
    periods = [
        _Period(s.mapping(p), None if min_events is None else int(min_events))
        for p in list(monitoring.get("periods") or [])[:_MAX_PERIODS]
    ]
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
    periods = [
        _Period(s.mapping(p), None if min_events is None else int(min_events))
        for p in list(monitoring.get("periods") or [])[:_MAX_PERIODS]
    ]
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

"""The monitoring report's vocabulary: monitoring.json's periods read through a whitelist, in words.

Reporting computes no statistics. :class:`_Period` picks the named fields of one period of
``monitoring.json`` (schema v1); :class:`_Words` writes its numbers in the reader's language
and puts each verdict's reasons into words, e.g. "O/E 1.34 (1.18–1.52) is above the plan's
limit 1.25: recalibrate." A patient identifier under any other key is never read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clinai.reporting import _sanitize as s
from clinai.reporting._format import NumberFormatter, estimate_parts

__all__ = ["LEVELS", "metric_label"]

#: The verdicts, least to most severe (MONITORING.md section 1).
LEVELS = ("in_control", "investigate", "recalibrate", "suspend")

_MAX_PERIODS = 400
_MAX_ROWS = 200

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


def _periods(monitoring: Mapping[str, Any], min_events: Any) -> list[_Period]:
    """Return monitoring.json's periods (at most ``_MAX_PERIODS``) through the whitelist."""
    minimum = None if min_events is None else int(min_events)
    return [
        _Period(s.mapping(p), minimum) for p in list(monitoring.get("periods") or [])[:_MAX_PERIODS]
    ]


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

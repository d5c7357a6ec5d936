"""What each acceptance criterion compared, in words a reader of the card or report can check.

A row of ``metrics.json``'s ``acceptance`` list holds the metric path, the part of
the estimate that was judged (``statistic``: the estimate or a bound of its 95%
confidence interval), the bounds and the value. A bare "discrimination 0.38 fail"
next to an AUROC of 0.57 hides that 0.38 is the interval's lower bound; here each
row becomes "AUROC, lower bound of the 95% CI: 0.38 (required ≥ 0.70): fail".
Only labels are looked up (the threshold of ``thresholds.<i>`` from the same
``metrics.json``); nothing is computed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from clinai.reporting import _sanitize as s
from clinai.reporting._format import NumberFormatter

__all__ = ["acceptance_rows", "compared_name"]

# Label keys (locales) of the metric paths a criterion may name.
_LABELS = {
    "auroc": "auroc",
    "auprc": "auprc",
    "brier": "brier",
    "scaled_brier": "scaled_brier",
    "prevalence": "prevalence",
    "calibration.intercept": "calibration_intercept",
    "calibration.slope": "calibration_slope",
    "calibration.oe_ratio": "oe_ratio",
    "calibration.ici": "ici",
    "calibration.e50": "e50",
    "calibration.e90": "e90",
}
_THRESHOLD_LABELS = ("sensitivity", "specificity", "ppv", "npv", "flag_rate")
_MAX_DIGITS = 4


def _bound_text(value: float, fmt: NumberFormatter) -> str:
    """Format a bound with as many decimals as it has (2 to 4), so 0.025 is not shown as 0.03."""
    digits = next((d for d in range(2, _MAX_DIGITS + 1) if round(value, d) == value), _MAX_DIGITS)
    return fmt.num(value, digits)


def _value_text(value: Any, bounds: Sequence[float | None], fmt: NumberFormatter) -> str:
    """Format the judged value with enough decimals to differ visibly from a bound it misses.

    A slope of 1.302 against a maximum of 1.3 reads "1.30 ... fail" at two decimals; it is
    shown as "1.302".
    """
    number = s.number(value)
    if number is None or isinstance(value, int):  # counts (and bools) as they are
        return fmt.value(value)
    for digits in range(2, _MAX_DIGITS + 1):
        if all(
            b is None or b == number or round(b, digits) != round(number, digits) for b in bounds
        ):
            return fmt.num(number, digits)
    return fmt.num(number, _MAX_DIGITS)


def _metric_label(
    path: str, metrics: Mapping[str, Any], t: Mapping[str, str], fmt: NumberFormatter
) -> str:
    """Return the reader's name of a metric path; the path itself when it has none."""
    if path in _LABELS:
        return t[_LABELS[path]]
    if t.get(f"surv_{path}"):  # a survival run's criterion names its metric (harrell_c, ...)
        return t[f"surv_{path}"]
    parts = path.split(".")
    if len(parts) == 3 and parts[0] == "thresholds" and parts[2] in _THRESHOLD_LABELS:
        rows = metrics.get("thresholds")
        index = int(parts[1]) if parts[1].lstrip("-").isdigit() else None
        if isinstance(rows, Sequence) and index is not None and -len(rows) <= index < len(rows):
            threshold = s.number(s.mapping(rows[index]).get("threshold"))
            if threshold is not None:
                return t["criterion_at_threshold"].format(
                    metric=t[parts[2]], threshold=fmt.num(threshold)
                )
    if len(parts) == 4 and parts[0] == "fairness" and parts[3] in ("difference", "ratio"):
        metric = t.get(f"fairness_{parts[2]}")
        if metric:
            return t[f"criterion_fairness_{parts[3]}"].format(metric=metric, table=parts[1])
    return path


def _required(
    low: float | None, high: float | None, t: Mapping[str, str], fmt: NumberFormatter
) -> str:
    if low is not None and high is not None:
        return t["required_between"].format(min=_bound_text(low, fmt), max=_bound_text(high, fmt))
    if low is not None:
        return t["required_min"].format(min=_bound_text(low, fmt))
    if high is not None:
        return t["required_max"].format(max=_bound_text(high, fmt))
    return ""


def acceptance_rows(
    criteria: Sequence[Mapping[str, Any]],
    metrics: Mapping[str, Any],
    t: Mapping[str, str],
    fmt: NumberFormatter,
) -> list[dict[str, Any]]:
    """Describe each judged criterion: what was compared, its value, the requirement, the result.

    Parameters
    ----------
    criteria : sequence of mapping
        The card's acceptance criteria (``criterion``, ``metric``, ``statistic``,
        ``min``, ``max``, ``value``, ``rule``, ``status``), whitelisted already.
    metrics : mapping
        ``metrics.json``; only the thresholds' values are read, for labels.
    t : mapping of str to str
        The language's reviewed strings.
    fmt : NumberFormatter
        The language's number formatter.

    Returns
    -------
    list of dict
        Per criterion: ``criterion``, ``measure`` (e.g. "AUROC, lower bound of the
        95% CI"), ``code`` (the metric path and statistic as configured), ``value``,
        ``required`` (e.g. "≥ 0.70"; the configured rule when the bounds are not
        recorded) and ``status``.
    """
    rows = []
    for row in criteria:
        path = s.text(row.get("metric")) or ""
        statistic = s.text(row.get("statistic"))
        label = _metric_label(path, metrics, t, fmt) if path else t["na"]
        measure = label
        if statistic in ("ci_low", "ci_high"):
            measure = t["criterion_measure"].format(
                metric=label, statistic=t[f"statistic_{statistic}"]
            )
        low, high = s.number(row.get("min")), s.number(row.get("max"))
        required = _required(low, high, t, fmt) or (s.text(row.get("rule")) or "")
        rows.append(
            {
                "criterion": s.text(row.get("criterion")) or path or t["na"],
                "measure": measure,
                "code": " ".join(part for part in (path, statistic) if part),
                "value": _value_text(row.get("value"), (low, high), fmt),
                "required": required,
                "status": s.text(row.get("status")) or "not_applicable",
            }
        )
    return rows


def compared_name(comparison: Mapping[str, Any], template: str) -> str:
    """Name the model a run was compared with, in the document's language.

    A run's comparison records the registered ``version`` and its ``alias``; the
    reader sees ``template`` (the language's "registered version {version}
    ({alias})") filled with them. A comparison without a version (one named by
    the user, as in ``clinai validate``) keeps its recorded ``name``.

    Examples
    --------
    >>> template = "den registrerede version {version} ({alias})"
    >>> compared_name({"name": "registered version 2 (approved)", "version": "2",
    ...                "alias": "approved"}, template)
    'den registrerede version 2 (approved)'
    >>> compared_name({"name": "NEWS2"}, template)
    'NEWS2'
    """
    version = comparison.get("version")
    if version is None:
        return s.text(comparison.get("name")) or ""
    return template.format(version=s.text(version), alias=s.text(comparison.get("alias")) or "")

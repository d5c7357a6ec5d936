"""The metric names an acceptance criterion may use: the layout of ``metrics.json``.

The config layer may not import :mod:`clinai.evaluation` (DESIGN.md layers), so
the layout is stated here and checked against a real ``metrics.json`` by
``tests/config/test_metric_names.py``: a metric added to the evaluation layer
without a line here fails that test.

A criterion's ``metric`` is a dotted path. Each level is checked against this
tree, so a misspelt name (``no_such_metric``, ``calibration.slop``) is refused
when the config loads, not reported "not applicable" after the run.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, Final

__all__ = [
    "COMPETING_METRIC_TREE",
    "METRIC_NAMES",
    "METRIC_TREE",
    "SURVIVAL_METRIC_TREE",
    "metric_path_problem",
]

#: A leaf with ``estimate``, ``ci_low`` and ``ci_high``.
ESTIMATE: Final = "estimate"
#: The parts of an estimate (as in clinai.evaluation's ``STATISTICS``).
STATISTICS: Final = ("estimate", "ci_low", "ci_high")
#: A leaf that is a plain number (judged on its estimate only).
NUMBER: Final = "number"
#: A block whose keys depend on the data or the run (subgroup names, comparisons): below it
#: the path is not checked here.
OPEN: Final = "open"

_THRESHOLD_ROW = {
    "threshold": NUMBER,
    "sensitivity": ESTIMATE,
    "specificity": ESTIMATE,
    "ppv": ESTIMATE,
    "npv": ESTIMATE,
    "flag_rate": ESTIMATE,
}
_DECISION_ROW = {"threshold": NUMBER, "net_benefit": NUMBER, "net_benefit_treat_all": NUMBER}

#: The layout of ``metrics.json`` as acceptance criteria see it. A one-item list stands for
#: a list of such items, indexed by an integer part (``thresholds.0.sensitivity``).
METRIC_TREE: Final[Mapping[str, Any]] = {
    "n": NUMBER,
    "events": NUMBER,
    "prevalence": NUMBER,
    "auroc": ESTIMATE,
    "auroc_delong": ESTIMATE,
    "auprc": ESTIMATE,
    "brier": ESTIMATE,
    "scaled_brier": ESTIMATE,
    "calibration": {
        "intercept": ESTIMATE,
        "slope": ESTIMATE,
        "oe_ratio": ESTIMATE,
        "ici": ESTIMATE,
        "e50": ESTIMATE,
        "e90": ESTIMATE,
    },
    "thresholds": [_THRESHOLD_ROW],
    "decision_curve": [_DECISION_ROW],
    "baseline_comparison": {
        "baseline_auroc": ESTIMATE,
        "auroc_diff": ESTIMATE,
        "brier_diff": ESTIMATE,
        "net_benefit_diff": [ESTIMATE],
        "p_value": NUMBER,
        "delong_z": NUMBER,
    },
    # Keyed by the data (attribute names) or present only in some runs: checked elsewhere
    # (fairness paths by the config's own validator) or not at all.
    "subgroups": OPEN,
    "fairness": OPEN,
    "baseline_operating_points": OPEN,
    "registry_comparison": OPEN,
    "internal_validation": OPEN,
    "sample_size": OPEN,
}

#: The names a criterion's ``metric`` may start with (the top level of ``metrics.json``).
METRIC_NAMES: Final = tuple(METRIC_TREE)

_SURVIVAL_COMPARED = {"model": ESTIMATE, "registered": ESTIMATE, "difference": ESTIMATE}
#: What a survival run's criteria see (``outcome.type: survival``): the metrics of
#: survival_metrics.json at the first horizon by name (clinai.evaluation's
#: ``survival_acceptance_view``; ``td_auc`` is ``time_auc``), the comparison with the
#: registered version and the fairness tables.
SURVIVAL_METRIC_TREE: Final[Mapping[str, Any]] = {
    "n": NUMBER,
    "events": NUMBER,
    **dict.fromkeys(
        ("harrell_c", "uno_c", "td_auc", "time_auc", "oe_ratio", "calibration_slope", "ici"),
        ESTIMATE,
    ),
    **dict.fromkeys(
        ("e50", "e90", "emax", "brier", "null_brier", "ipa", "integrated_brier"), ESTIMATE
    ),
    "comparison": dict.fromkeys(("harrell_c", "uno_c", "brier", "ipa"), _SURVIVAL_COMPARED),
    "fairness": OPEN,
}

#: What a competing-risk run's criteria see (``outcome.event_codes.competing`` set): the
#: metrics of its survival_metrics.json by name (``survival_acceptance_view``; ``td_auc`` is
#: ``time_auc``, ``ipa`` is ``scaled_brier``, ``calibration_slope`` the Fine-Gray slope),
#: the comparison with the registered version and the fairness tables.
COMPETING_METRIC_TREE: Final[Mapping[str, Any]] = {
    "n": NUMBER,
    "events": NUMBER,
    **dict.fromkeys(("wolbers_c", "time_auc", "td_auc", "oe_ratio", "calibration_slope"), ESTIMATE),
    **dict.fromkeys(("brier", "null_brier", "scaled_brier", "ipa"), ESTIMATE),
    **dict.fromkeys(("observed_risk", "expected_risk"), ESTIMATE),
    "comparison": dict.fromkeys(
        ("wolbers_c", "time_auc", "oe_ratio", "brier", "scaled_brier"), _SURVIVAL_COMPARED
    ),
    "fairness": OPEN,
}

UNKNOWN_METRIC_MSG = (
    "metric {metric!r} does not exist in metrics.json: {part!r} is not one of {choices}{hint}"
)
NOT_AN_INDEX_MSG = (
    "metric {metric!r}: {where} is a list; give an item's number and name, e.g. {where}.0.{example}"
)
INCOMPLETE_METRIC_MSG = (
    "metric {metric!r} is a group of metrics, not one value; name one of {choices} (e.g. {example})"
)
TOO_LONG_MSG = (
    "metric {metric!r}: {where} is one value; remove {rest!r} (a criterion picks an interval "
    "bound with statistic: estimate, ci_low or ci_high)"
)
PLAIN_NUMBER_MSG = (
    "metric {metric!r} is a plain number without an interval: judge it with statistic "
    "'estimate', not {statistic!r}"
)


def _short(node: Any) -> str:
    """Write the names below ``node`` compactly: ``{intercept,slope}``, ``<i>.{...}``, ``<...>``."""
    if isinstance(node, Mapping):
        return "{" + ",".join(f"{key}{_suffix(child)}" for key, child in node.items()) + "}"
    if isinstance(node, list):
        return f"<i>{_suffix(node[0])}"
    return "<...>" if node == OPEN else ""


def _suffix(node: Any) -> str:
    short = _short(node)
    return f".{short}" if short else ""


def _choices(node: Mapping[str, Any]) -> str:
    """List the valid names at one level, each with what may follow it."""
    return ", ".join(f"{key}{_suffix(child)}" for key, child in node.items())


def _first_leaf(node: Any) -> str:
    """Return an example path below ``node`` (for the messages)."""
    parts: list[str] = []
    while True:
        if isinstance(node, Mapping):
            key = next(iter(node))
            parts.append(key)
            node = node[key]
        elif isinstance(node, list):
            parts.append("0")
            node = node[0]
        else:
            return ".".join(parts)


def metric_path_problem(
    metric: str, statistic: str = "estimate", tree: Mapping[str, Any] = METRIC_TREE
) -> str | None:
    """Describe why ``metric`` names no value of ``metrics.json`` (``None`` when it does).

    Parameters
    ----------
    metric : str
        A criterion's dotted path (``"auroc"``, ``"calibration.slope"``,
        ``"thresholds.0.sensitivity"``).
    statistic : str
        The part of the estimate the criterion judges; a plain number has only
        its ``"estimate"``.
    tree : mapping, default METRIC_TREE
        The names to check against (:data:`SURVIVAL_METRIC_TREE` for a survival run).

    Returns
    -------
    str or None
        One sentence naming the wrong part and the valid names at that level.

    Examples
    --------
    >>> metric_path_problem("calibration.slope") is None
    True
    >>> metric_path_problem("calibration.slop")[-23:]
    "(did you mean 'slope'?)"
    """
    node: Any = tree
    parts = metric.split(".")
    for depth, part in enumerate(parts):
        where = ".".join(parts[:depth]) or "metrics.json"
        if node == OPEN:
            return None
        if isinstance(node, list):
            if not part.lstrip("-").isdigit():
                item = node[0]
                example = part if isinstance(item, Mapping) and part in item else _first_leaf(item)
                return NOT_AN_INDEX_MSG.format(metric=metric, where=where, example=example)
            node = node[0]
            continue
        if isinstance(node, Mapping):
            if part not in node:
                close = difflib.get_close_matches(part, list(node), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                return UNKNOWN_METRIC_MSG.format(
                    metric=metric, part=part, choices=_choices(node), hint=hint
                )
            node = node[part]
            continue
        if node == ESTIMATE and part in STATISTICS:  # "auroc.ci_low" reads one number too
            node = NUMBER
            continue
        return TOO_LONG_MSG.format(metric=metric, where=where, rest=".".join(parts[depth:]))
    if isinstance(node, list):
        return NOT_AN_INDEX_MSG.format(metric=metric, where=metric, example=_first_leaf(node[0]))
    if isinstance(node, Mapping):
        return INCOMPLETE_METRIC_MSG.format(
            metric=metric, choices=_choices(node), example=f"{metric}.{_first_leaf(node)}"
        )
    if node == NUMBER and statistic != "estimate":
        return PLAIN_NUMBER_MSG.format(metric=metric, statistic=statistic)
    return None

"""The whitelisted view of metrics.json's ``economics`` block for the card and the report.

"What would it cost and what would it save?": the alert burden, the net monetary
benefit (NMB) per 1,000 patients of each strategy and its probabilistic sensitivity
analysis, each beside the assumptions it rests on. Reporting computes no statistics:
this module copies named fields as numbers, estimates and short texts, and joins the
deterministic NMB and the PSA of one strategy by its label. A use case without an
``economics:`` section has no block, and the documents then show no economic number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from clinai.reporting import _sanitize as s

__all__ = ["ECONOMIC_PARAMETERS", "acceptability_curve", "economics_view"]

#: The economic parameters, in display order (keys of ``economics.assumptions``).
ECONOMIC_PARAMETERS = (
    "cost_alert",
    "cost_outcome",
    "relative_risk_reduction",
    "qalys_lost_per_event",
    "willingness_to_pay",
)
#: Parameters that are amounts of money (printed with the currency).
_MONEY = frozenset({"cost_alert", "cost_outcome", "willingness_to_pay"})
#: Each distribution's parameters, in the order the documents print them.
_DISTRIBUTION_KEYS = {
    "point": ("value",),
    "beta": ("alpha", "beta"),
    "gamma": ("shape", "scale"),
    "lognormal": ("meanlog", "sdlog"),
    "normal": ("mean", "sd"),
}
_STRATEGY_KINDS = ("treat_none", "treat_all", "model", "comparator")
_BURDEN_KEYS = (
    "threshold",
    "alerts",
    "true_alerts",
    "alerts_per_100_admissions",
    "alerts_per_ward_day",
    "ppv",
    "number_needed_to_evaluate",
    "staff_hours",
    "staff_hours_per_ward_day",
)
#: A strategy's numbers per 1,000 patients at the point values.
_PER_1000_KEYS = ("alerts_per_1000", "nmb_per_1000", "incremental_nmb_per_1000")
_MAX_ROWS = 60
_MAX_CURVE = 400


def _rows(value: Any, limit: int = _MAX_ROWS) -> list[Mapping[str, Any]]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        return []
    return [row for row in list(value)[:limit] if isinstance(row, Mapping)]


def _digits(threshold: Any) -> int:
    """Decimals to print a cut-point with: none for a whole score (NEWS2 >= 5), else two."""
    number = s.number(threshold)
    return 0 if number is not None and float(number).is_integer() and number >= 1 else 2


def _assumption(name: str, value: Any) -> dict[str, Any] | None:
    spec = s.mapping(value)
    kind = s.text(spec.get("distribution")) or ("point" if "value" in spec else None)
    if kind not in _DISTRIBUTION_KEYS:
        return None
    return {
        "name": name,
        "distribution": kind,
        "parameters": {key: s.number(spec.get(key)) for key in _DISTRIBUTION_KEYS[kind]},
        "expected_value": s.number(spec.get("expected_value", spec.get("value"))),
        "money": name in _MONEY,
    }


def _strategy(row: Mapping[str, Any]) -> dict[str, Any] | None:
    kind = s.text(row.get("strategy"))
    if kind not in _STRATEGY_KINDS:
        return None
    return {
        "strategy": kind,
        "name": s.text(row.get("name")),
        "label": s.text(row.get("label")),
        "threshold": s.number(row.get("threshold")),
        "digits": _digits(row.get("threshold")),
    }


def _strategies(nmb: Mapping[str, Any], psa: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per strategy: the NMB at the point values beside the PSA's (joined by label)."""
    drawn = {s.text(row.get("label")): row for row in _rows(psa.get("strategies"))}
    rows = []
    for row in _rows(nmb.get("strategies")) or _rows(psa.get("strategies")):
        view = _strategy(row)
        if view is None:
            continue
        other = s.mapping(drawn.get(view["label"]))
        view.update(
            {
                **s.fields(row, _PER_1000_KEYS, s.number),
                "expected_nmb": s.estimate(other.get("nmb")),
                "expected_incremental_nmb": s.estimate(other.get("incremental_nmb")),
                "probability_best": s.number(other.get("probability_best")),
            }
        )
        rows.append(view)
    return rows


def _best(label: Any, strategies: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    name = s.text(label)
    return next((dict(row) for row in strategies if row["label"] == name), None)


def economics_view(value: Any) -> dict[str, Any] | None:
    """Return the economics of the card and the report, or None without an ``economics`` block.

    Parameters
    ----------
    value : mapping or None
        metrics.json's ``economics`` block (written by the evaluate stage and by
        ``clinai validate`` when the config has an ``economics:`` section):
        ``currency``, ``basis``, ``assumptions`` (each parameter's distribution as
        ``{"distribution", <its parameters>, "expected_value"}``), ``minutes_per_alert``,
        ``comparator``, ``alert_burden``, ``net_monetary_benefit``, ``sensitivity`` and
        ``best_threshold``.

    Returns
    -------
    dict or None
        ``currency``, ``basis``, ``n``, ``events``, ``per_patients``, ``assumptions``
        (list, display order), ``minutes_per_alert``, ``admissions``, ``admissions_basis``,
        ``ward_days``, ``comparator``, ``alert_burden`` (rows per threshold),
        ``strategies`` (per strategy the NMB per 1,000 at the point values, the PSA's
        expected NMB with its interval and the probability of being best), ``best``
        and ``psa_best`` (the strategy rows with the highest NMB and expected NMB),
        ``best_threshold`` (the model threshold with the highest expected NMB, its
        expected NMB and the grid searched) and ``psa`` (draws, seed, level). Numbers
        only: the templates word and format them per language.

    Examples
    --------
    >>> economics_view(None) is None
    True
    >>> view = economics_view({"currency": "DKK", "assumptions": {
    ...     "cost_alert": {"distribution": "gamma", "shape": 16, "scale": 20,
    ...                    "expected_value": 320.0}}})
    >>> view["assumptions"][0]["parameters"], view["assumptions"][0]["money"]
    ({'shape': 16, 'scale': 20}, True)
    """
    block = s.mapping(value)
    if not block:
        return None
    burden = s.mapping(block.get("alert_burden"))
    nmb = s.mapping(block.get("net_monetary_benefit"))
    psa = s.mapping(block.get("sensitivity"))
    assumptions = s.mapping(block.get("assumptions"))
    strategies = _strategies(nmb, psa)
    comparator = s.mapping(block.get("comparator"))
    best_threshold = s.mapping(block.get("best_threshold"))
    return {
        "currency": s.text(block.get("currency")) or "DKK",
        "basis": s.text(block.get("basis")),
        "n": s.number(nmb.get("n", psa.get("n"))),
        "unit": "patient" if s.text(nmb.get("unit", psa.get("unit"))) == "patient" else "row",
        "events": s.number(nmb.get("events", psa.get("events"))),
        "per_patients": s.number(nmb.get("per_patients")) or 1000,
        "assumptions": [
            view
            for name in ECONOMIC_PARAMETERS
            if (view := _assumption(name, assumptions.get(name))) is not None
        ],
        "minutes_per_alert": s.number(block.get("minutes_per_alert")),
        "hours_per_row": s.number(block.get("hours_per_row")),
        "admissions": s.number(burden.get("admissions")),
        "admissions_basis": s.text(block.get("admissions_basis")),
        "ward_days": s.number(burden.get("ward_days")),
        "comparator": {
            "name": s.text(comparator.get("name")),
            "thresholds": [
                cut
                for cut in (s.number(v) for v in comparator.get("thresholds") or [])
                if cut is not None
            ],
        }
        if comparator
        else None,
        "alert_burden": [
            {key: s.number(row.get(key)) for key in _BURDEN_KEYS}
            for row in _rows(burden.get("thresholds"))
        ],
        "strategies": strategies,
        "best": _best(nmb.get("best"), strategies),
        "psa_best": _best(psa.get("best"), strategies),
        "best_threshold": {
            "threshold": s.number(best_threshold.get("threshold")),
            "expected_nmb": s.estimate(best_threshold.get("expected_nmb")),
            "expected_incremental_nmb": s.estimate(best_threshold.get("expected_incremental_nmb")),
            "grid": [s.number(v) for v in list(best_threshold.get("grid") or [])[:3]],
        }
        if best_threshold
        else None,
        "psa": {key: s.number(psa.get(key)) for key in ("n_draws", "seed", "level")}
        if psa
        else None,
    }


def acceptability_curve(value: Any) -> dict[str, Any] | None:
    """Return the CEAC of an ``economics`` block: WTP grid, curves by label, configured WTP.

    For the plot (:mod:`clinai.reporting._plots`); None when the block has no curve.
    """
    block = s.mapping(value)
    curve = s.mapping(s.mapping(block.get("sensitivity")).get("acceptability"))
    grid = [s.number(w) for w in list(curve.get("willingness_to_pay") or [])[:_MAX_CURVE]]
    if len(grid) < 2 or any(w is None for w in grid):
        return None
    lines = {}
    for label, values in list(s.mapping(curve.get("probability_best")).items())[:_MAX_ROWS]:
        points = [s.number(v) for v in list(values or [])[: len(grid)]]
        if len(points) == len(grid) and all(p is not None for p in points):
            lines[str(label)] = points
    if not lines:
        return None
    wtp = s.mapping(s.mapping(block.get("assumptions")).get("willingness_to_pay"))
    return {
        "willingness_to_pay": grid,
        "lines": lines,
        "configured": s.number(wtp.get("expected_value", wtp.get("value"))),
        "currency": s.text(block.get("currency")) or "DKK",
    }

"""Whitelisted views of the monitoring plan (Annex IV 9) and the predictors' drift (TRIPOD+AI 20c).

Both come from files the run directory already holds (``monitoring_plan.json``
of the train stage and ``predictor_drift.json`` of the evaluate stage); this
module only picks named fields, so nothing else reaches the report, and
computes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from clinai.reporting import _sanitize as s
from clinai.reporting._explain_view import label_of
from clinai.reporting._format import NumberFormatter
from clinai.reporting._monitoring_sections import _cusum_text, _plan_view
from clinai.reporting._monitoring_words import _Words

__all__ = ["monitoring_plan_view", "predictor_drift_view"]

# More rows than the runs layer ever writes: a guard, not a choice.
_MAX_ROWS = 50
# The numbers of a predictor_drift.json row shown as they are.
_DRIFT_NUMBERS = ("psi", "missing_reference", "missing_current")


def _rows(value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        return []
    return [row for row in list(value)[:_MAX_ROWS] if isinstance(row, Mapping)]


def monitoring_plan_view(
    value: Any, t: Mapping[str, str], fmt: NumberFormatter
) -> dict[str, Any] | None:
    """Return the pre-registered monitoring plan in words, or None without one.

    The plan reads as in the monitoring report (the same words and table), so an
    approval board sees the plan it approves exactly as monitoring will apply it.

    Parameters
    ----------
    value : mapping or None
        ``monitoring_plan.json``: ``{"plan": {...}, "sha256": ...}``.
    t : mapping of str to str
        The report's strings.
    fmt : NumberFormatter
        The report's number format.

    Returns
    -------
    dict or None
        ``period``, ``threshold``, ``min_events``, ``n_boot``, ``subgroups``,
        ``limits`` (measure, judged on, allowed range, action), ``cusum_text``
        and ``sha256``.
    """
    block = s.mapping(value)
    plan = s.mapping(block.get("plan"))
    if not plan:
        return None
    flat = {**plan, "sha256": block.get("sha256")}
    words = _Words(t, fmt, flat)
    cusum = s.mapping(plan.get("cusum"))
    texts = _cusum_text({}, flat, words)
    if cusum and s.number(cusum.get("limit")) is None:
        # Before monitoring the limit is not simulated yet: say how it will be set.
        action = s.text(cusum.get("action")) or "investigate"
        texts = [
            t["post_market_cusum_simulated"].format(
                odds_ratio=fmt.num(cusum.get("odds_ratio"), 1),
                rate=fmt.pct(cusum.get("false_alarm_rate")),
                action=t.get(f"monitoring_level_{action}", action),
            )
        ]
    return {**_plan_view(flat, words), "cusum_text": texts}


def _levels(value: Any) -> list[dict[str, Any]]:
    return [
        {
            "level": s.text(row.get("level")),
            "share_reference": s.number(row.get("share_reference")),
            "share_current": s.number(row.get("share_current")),
            "suppressed": row.get("suppressed") is True,
        }
        for row in _rows(value)
    ]


def predictor_drift_view(
    value: Any, labels: Mapping[str, Any] | None, language: str
) -> dict[str, Any] | None:
    """Return the predictors' distributions, development against evaluation data.

    Parameters
    ----------
    value : mapping or None
        ``predictor_drift.json`` (the features with the largest PSI, the rest counted).
    labels : mapping or None
        The pipeline's clinical feature labels.
    language : str
        The report's language (for the labels).

    Returns
    -------
    dict or None
        ``rows`` (label, kind, psi, missing shares, mean and SD or level
        shares of both splits), ``others`` (count and largest PSI), ``n_reference``,
        ``n_current`` and ``risk`` (PSI and means of the predicted risks).
    """
    block = s.mapping(value)
    if not block:
        return None
    rows = []
    for row in _rows(block.get("features")):
        sides = {side: s.mapping(row.get(side)) for side in ("reference", "current")}
        rows.append(
            {
                "feature": label_of(s.text(row.get("feature")), labels, language),
                "kind": s.text(row.get("kind")),
                **{key: s.number(row.get(key)) for key in _DRIFT_NUMBERS},
                # mean_reference, sd_reference, mean_current, sd_current
                **{
                    f"{stat}_{side}": s.number(part.get(stat))
                    for side, part in sides.items()
                    for stat in ("mean", "sd")
                },
                "levels": _levels(sides["current"].get("levels")),
            }
        )
    others = s.mapping(block.get("others"))
    risk = s.mapping(block.get("risk"))
    return {
        "rows": rows,
        "others": {
            "count": s.number(others.get("count")),
            "max_psi": s.number(others.get("max_psi")),
        },
        "n_reference": s.number(block.get("n_reference")),
        "n_current": s.number(block.get("n_current")),
        "risk": (
            {k: s.number(risk.get(k)) for k in ("psi", "mean_reference", "mean_current")}
            if risk
            else None
        ),
    }

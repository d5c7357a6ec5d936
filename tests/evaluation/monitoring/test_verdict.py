"""A period's verdict: breaches, severity order, not-assessable reasons, bad limits."""

from __future__ import annotations

import json

import pytest

from clinai.evaluation import Estimate
from clinai.evaluation.monitoring import (
    MONITORING_ACTIONS,
    MONITORING_METRICS,
    PERFORMANCE_METRICS,
    VERDICT_LEVELS,
    is_monitoring_metric,
    period_verdict,
)
from clinai.evaluation.monitoring._verdict import LIMIT_BOUNDS_MSG, LIMIT_FIELD_MSG
from clinai.exceptions import DataError

PLAN = [
    {"metric": "oe_ratio", "min": 0.8, "max": 1.25, "action": "recalibrate"},
    {"metric": "calibration.slope", "min": 0.7, "max": 1.3, "action": "recalibrate"},
    {"metric": "auroc", "statistic": "ci_high", "min": 0.65, "action": "suspend"},
    {"metric": "alert_rate_change", "max": 0.5, "action": "investigate"},
    {"metric": "psi", "max": 0.2, "action": "investigate"},
    {"metric": "missing_change", "max": 0.1, "action": "investigate"},
    {"metric": "risk_psi", "max": 0.2, "action": "investigate"},
]
GOOD = {
    "oe_ratio": Estimate(1.0, 0.9, 1.1),
    "calibration.slope": {"estimate": 0.95, "ci_low": 0.8, "ci_high": 1.1},
    "auroc": Estimate(0.78, 0.74, 0.82),
    "alert_rate_change": 0.1,
    "psi": 0.05,
    "missing_change": 0.0,
    "risk_psi": 0.02,
}


def test_in_control() -> None:
    verdict = period_verdict(GOOD, PLAN, events=50, min_events=20)
    assert verdict.level == "in_control" and verdict.reasons == ()
    assert verdict.to_dict() == {"level": "in_control", "reasons": []}


@pytest.mark.parametrize(
    ("changes", "level"),
    [
        ({"psi": 0.3}, "investigate"),
        ({"psi": 0.3, "oe_ratio": Estimate(1.4, 1.3, 1.5)}, "recalibrate"),
        ({"psi": 0.3, "auroc": Estimate(0.6, 0.55, 0.64)}, "suspend"),
        (
            {"oe_ratio": 0.7, "auroc": {"estimate": 0.6, "ci_low": 0.5, "ci_high": 0.66}},
            "recalibrate",
        ),
    ],
)
def test_most_severe_breach_wins(changes: dict, level: str) -> None:
    verdict = period_verdict({**GOOD, **changes}, PLAN, events=50, min_events=20)
    assert verdict.level == level
    assert {r.metric for r in verdict.breaches} == set(changes) - {"auroc"} | (
        {"auroc"} if level == "suspend" else set()
    )


def test_breach_reason_lists_the_limit() -> None:
    verdict = period_verdict(
        {**GOOD, "auroc": Estimate(0.6, 0.55, 0.64)}, PLAN, events=50, min_events=20
    )
    assert [r.to_dict() for r in verdict.reasons] == [
        {
            "metric": "auroc",
            "statistic": "ci_high",
            "value": 0.64,
            "min": 0.65,
            "max": None,
            "action": "suspend",
            "kind": "breach",
        }
    ]


@pytest.mark.parametrize("events", [None, 0, 19])
def test_performance_limits_not_assessable_below_min_events(events: int | None) -> None:
    bad = {**GOOD, "oe_ratio": 3.0, "auroc": Estimate(0.5, 0.4, 0.6), "psi": 0.5}
    verdict = period_verdict(bad, PLAN, events=events, min_events=20)
    assert verdict.level == "investigate"  # only the drift limit counts
    kinds = {r.metric: r.kind for r in verdict.reasons}
    assert kinds == {
        "psi": "breach",
        "oe_ratio": "not_assessable",
        "calibration.slope": "not_assessable",
        "auroc": "not_assessable",
    }
    assert verdict.reasons[0].kind == "breach"
    json.dumps(verdict.to_dict(), allow_nan=False)


def test_unmeasured_value_is_not_assessable() -> None:
    limits = [{"metric": "auroc", "statistic": "ci_low", "min": 0.6, "action": "suspend"}]
    for measured in ({}, {"auroc": None}, {"auroc": 0.7}, {"auroc": float("nan")}):
        verdict = period_verdict(measured, limits, events=100, min_events=20)
        assert verdict.level == "in_control"
        assert [r.kind for r in verdict.reasons] == ["not_assessable"]


def test_feature_psi_limit_and_names() -> None:
    limits = [{"metric": "psi.spo2", "max": 0.2, "action": "investigate"}]
    assert period_verdict({"psi.spo2": 0.25}, limits, events=None, min_events=20).level == (
        "investigate"
    )
    assert set(PERFORMANCE_METRICS) <= set(MONITORING_METRICS)
    assert ("in_control", *MONITORING_ACTIONS) == VERDICT_LEVELS
    assert is_monitoring_metric("psi.age") and not is_monitoring_metric("psi.")


def test_bad_limits_name_the_field() -> None:
    with pytest.raises(DataError, match=r"limits\[0\]\.metric must be one of auroc"):
        period_verdict(
            {}, [{"metric": "auc", "max": 1, "action": "suspend"}], events=1, min_events=1
        )
    with pytest.raises(DataError) as action:
        period_verdict({}, [{"metric": "psi", "max": 1, "action": "stop"}], events=1, min_events=1)
    assert str(action.value) == LIMIT_FIELD_MSG.format(
        index=0, field="action", what="one of investigate, recalibrate, suspend", value="stop"
    )
    with pytest.raises(DataError) as bounds:
        period_verdict({}, [{"metric": "psi", "action": "investigate"}], events=1, min_events=1)
    assert str(bounds.value) == LIMIT_BOUNDS_MSG.format(index=0, metric="psi")
    with pytest.raises(DataError, match=r"limits\[0\]\.statistic"):
        limit = {"metric": "psi", "statistic": "median", "max": 1, "action": "investigate"}
        period_verdict({}, [limit], events=1, min_events=1)
    with pytest.raises(DataError, match="min_events"):
        period_verdict({}, [], events=1, min_events=-1)
    with pytest.raises(DataError, match="events must be"):
        period_verdict({}, [], events=1.5, min_events=1)

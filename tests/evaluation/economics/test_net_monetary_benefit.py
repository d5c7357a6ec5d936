"""Net monetary benefit and alert burden against hand computations and their definitions."""

from __future__ import annotations

import json
import math
from dataclasses import fields

import numpy as np
import pytest

from clinai.evaluation import (
    EconomicParameters,
    NetMonetaryBenefit,
    StrategyNMB,
    alert_burden,
    net_monetary_benefit,
)
from clinai.exceptions import DataError

# A 2x2 case small enough to compute by hand: 10 patients, 3 events; at threshold 0.5 the
# model flags 2 events (TP) and 1 non-event (FP), misses 1 event (FN), leaves 6 (TN).
Y = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
P = np.array([0.9, 0.6, 0.2, 0.7, 0.1, 0.1, 0.2, 0.3, 0.4, 0.05])
PARAMS = EconomicParameters(
    cost_alert=100,
    cost_outcome=20_000,
    relative_risk_reduction=0.25,
    qalys_lost_per_event=0.5,
    willingness_to_pay=100_000,
)


def sample(n: int = 400, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.beta(2, 6, size=n)
    return rng.binomial(1, p), p


def test_hand_computed_two_by_two() -> None:
    result = net_monetary_benefit(Y, P, [0.5], PARAMS)
    # harm of one event = cost_outcome + QALYs * WTP = 20,000 + 0.5 * 100,000 = 70,000
    assert PARAMS.harm_per_event == 70_000
    model = result.strategy("model >= 0.5")
    assert (model.tp, model.fp, model.fn, model.tn) == (2, 1, 1, 6)
    # TP: -100 - (1 - 0.25) * 70,000 = -52,600 each, x 2 = -105,200
    # FP: -100; FN: -70,000; TN: 0  ->  total -175,300 over 10 patients
    assert model.nmb_per_1000 == pytest.approx(-175_300 / 10 * 1000)  # -17,530,000
    # treat none: 3 missed events x -70,000 = -210,000 over 10 patients
    assert result.strategy("treat_none").nmb_per_1000 == pytest.approx(-21_000_000)
    # treat all: 3 x -52,600 + 7 x -100 = -158,500 over 10 patients
    assert result.strategy("treat_all").nmb_per_1000 == pytest.approx(-15_850_000)
    # the model saves 21,000,000 - 17,530,000 per 1,000 patients against treating none
    assert model.incremental_nmb_per_1000 == pytest.approx(3_470_000)
    assert model.alerts_per_1000 == pytest.approx(300)
    assert result.best == "treat_all"
    assert result.best_model_threshold == 0.5


def test_treat_all_and_none_by_definition() -> None:
    y, p = sample()
    n, events = len(y), int(y.sum())
    harm = PARAMS.harm_per_event
    # thresholds below every risk flag everybody, above every risk nobody
    low, high = float(p.min()) / 2, (float(p.max()) + 1) / 2
    result = net_monetary_benefit(y, p, [low, 0.2, high], PARAMS)
    treat_none = -events * harm * 1000 / n
    treat_all = (-n * PARAMS.cost_alert - events * (1 - 0.25) * harm) * 1000 / n
    assert result.strategy("treat_none").nmb_per_1000 == pytest.approx(treat_none)
    assert result.strategy("treat_all").nmb_per_1000 == pytest.approx(treat_all)
    assert result.strategy(f"model >= {low:g}").nmb_per_1000 == pytest.approx(treat_all)
    assert result.strategy(f"model >= {high:g}").nmb_per_1000 == pytest.approx(treat_none)
    assert result.strategy("treat_none").incremental_nmb_per_1000 == 0.0


def test_per_patient_sum_at_each_threshold() -> None:
    """The vectorised NMB equals the per-patient values of the definition, summed."""
    y, p = sample(seed=3)
    thresholds = [0.1, 0.2, 0.35]
    result = net_monetary_benefit(y, p, thresholds, PARAMS)
    harm, rrr = PARAMS.harm_per_event, PARAMS.relative_risk_reduction
    for t in thresholds:
        per_patient = [
            (-PARAMS.cost_alert - (1 - rrr) * harm if yi else -PARAMS.cost_alert)
            if pi >= t
            else (-harm if yi else 0.0)
            for yi, pi in zip(y, p, strict=True)
        ]
        expected = sum(per_patient) / len(y) * 1000
        assert result.strategy(f"model >= {t:g}").nmb_per_1000 == pytest.approx(expected)


def test_comparator_at_its_own_cut_points() -> None:
    y, p = sample(seed=4)
    news2 = np.clip(np.round(p * 20), 0, 20)
    result = net_monetary_benefit(y, p, [0.2], PARAMS, comparators={"NEWS2": news2})
    cuts = [s.threshold for s in result.strategies if s.name == "NEWS2"]
    assert cuts == sorted(set(news2.tolist()))[1:]  # every value but the lowest (treat all)
    # the comparator as a risk at the model's threshold gives the model's NMB
    same = net_monetary_benefit(y, p, [0.2], PARAMS, comparators={"copy": (p, [0.2])})
    assert same.strategy("copy >= 0.2").nmb_per_1000 == same.strategy("model >= 0.2").nmb_per_1000
    fixed = net_monetary_benefit(y, p, [0.2], PARAMS, comparators={"NEWS2": (news2, [7, 5])})
    assert [s.label for s in fixed.strategies][-2:] == ["NEWS2 >= 5", "NEWS2 >= 7"]


def test_patients_with_several_rows() -> None:
    """With patient ids a patient is one unit: an event if any row is, flagged by any row."""
    ids = ["A", "A", "B", "B", "C", "D", "D", "D"]
    y = [0, 1, 0, 0, 1, 0, 0, 0]
    p = [0.1, 0.6, 0.7, 0.2, 0.3, 0.1, 0.1, 0.2]
    score = [1, 6, 8, 2, 3, 0, 1, 2]
    comparators = {"NEWS2": (score, [5])}
    rows = net_monetary_benefit(y, p, [0.5], PARAMS, comparators=comparators, patient_ids=ids)
    # per patient at 0.5: A flagged event (TP), B flagged (FP), C missed event (FN), D (TN)
    model = rows.strategy("model >= 0.5")
    assert (rows.unit, rows.n, rows.events) == ("patient", 4, 2)
    assert (model.tp, model.fp, model.fn, model.tn) == (1, 1, 1, 1)
    patients = net_monetary_benefit(
        [1, 0, 1, 0],
        [0.6, 0.7, 0.3, 0.2],
        [0.5],
        PARAMS,
        comparators={"NEWS2": ([6, 8, 3, 2], [5])},
    )
    assert [s.nmb_per_1000 for s in rows.strategies] == [
        s.nmb_per_1000 for s in patients.strategies
    ]
    assert patients.unit == "row"


def test_to_dict_is_plain_json() -> None:
    result = net_monetary_benefit(Y, P, [0.5], PARAMS, comparators={"score": P * 10})
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert set(data) == {f.name for f in fields(NetMonetaryBenefit)} | {"per_patients"}
    assert data["parameters"]["currency"] == "DKK"
    assert data["parameters"]["harm_per_event"] == 70_000
    assert data["strategies"][0]["threshold"] is None
    assert set(data["strategies"][2]) == {f.name for f in fields(StrategyNMB)}


def test_alert_burden_hand_computed() -> None:
    burden = alert_burden(Y, P, [0.5, 0.95], minutes_per_alert=15, ward_days=2, admissions=5)
    point, none = burden.points
    # 3 alerts (2 true) among rows of 5 admissions over 2 ward-days, 15 minutes each
    assert (point.alerts, point.true_alerts) == (3, 2)
    assert point.alerts_per_100_admissions == pytest.approx(60)
    assert point.alerts_per_ward_day == pytest.approx(1.5)
    assert point.number_needed_to_evaluate == pytest.approx(1.5)
    assert point.ppv == pytest.approx(2 / 3)
    assert point.staff_hours == pytest.approx(0.75)
    assert point.staff_hours_per_ward_day == pytest.approx(0.375)
    assert none.alerts == 0 and math.isnan(none.number_needed_to_evaluate)
    data = json.loads(json.dumps(burden.to_dict(), allow_nan=False))
    assert data["thresholds"][1]["number_needed_to_evaluate"] is None
    plain = alert_burden(Y, P, 0.5).to_dict()
    assert plain["admissions"] == 10 and plain["thresholds"][0]["staff_hours"] is None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"cost_alert": -1}, "cost_alert must be a finite number >= 0 (a cost); got -1"),
        ({"cost_outcome": math.nan}, "cost_outcome must be a finite number >= 0"),
        ({"relative_risk_reduction": 1.5}, "relative_risk_reduction must be a finite number in"),
        ({"willingness_to_pay": "lots"}, "willingness_to_pay must be a finite number"),
        ({"currency": "kroner"}, "currency must be a three-letter code"),
    ],
)
def test_bad_parameters(changes: dict[str, object], expected: str) -> None:
    values = {
        "cost_alert": 1.0,
        "cost_outcome": 1.0,
        "relative_risk_reduction": 0.5,
        "qalys_lost_per_event": 1.0,
        "willingness_to_pay": 1.0,
    }
    with pytest.raises(DataError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        EconomicParameters(**{**values, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda: net_monetary_benefit(Y, P, [1.0], PARAMS), "thresholds must lie in"),
        (lambda: net_monetary_benefit(Y, P, [0.5], PARAMS, comparators={"x": "NEWS2"}), "x"),
        (lambda: net_monetary_benefit(Y, P, [0.5], PARAMS, comparators={"x": P[:3]}), "x"),
        (
            lambda: net_monetary_benefit(Y, P, [0.5], PARAMS, comparators={"treat_all": P}),
            "reserved",
        ),
        (lambda: net_monetary_benefit(Y, P, [], PARAMS), "thresholds is empty"),
        (lambda: alert_burden(Y, P, []), "thresholds is empty"),
        (
            lambda: net_monetary_benefit(Y, P, 0.5, PARAMS, comparators={"NEWS2": (P, [5, None])}),
            "comparator 'NEWS2' cut-points must be finite numbers",
        ),
        (lambda: alert_burden(Y, P, [0.5], minutes_per_alert=0), "minutes_per_alert must be"),
        (lambda: alert_burden(Y, P, [0.5], ward_days=-2), "ward_days must be"),
    ],
)
def test_bad_inputs(call: object, expected: str) -> None:
    with pytest.raises(DataError, match=expected):
        call()  # type: ignore[operator]

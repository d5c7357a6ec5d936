"""evaluate_survival: point estimates, bootstrap replicates from case weights, JSON."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from clinai import evaluation as ev
from clinai.evaluation.validate._survival_replicates import prepare, replicate_batch
from clinai.exceptions import DataError
from tests.evaluation.survival._simulation import exponential_latent_times


def _data(n: int = 300, seed: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    lp, event_time, censor_time = exponential_latent_times(
        rng, n, censor_mean=20.0, censor_cap=15.0
    )
    time = np.round(np.minimum(event_time, censor_time), 1) + 0.1
    return {
        "time": time,
        "event": (event_time <= censor_time).astype(int),
        "risk": 1.0 - np.exp(-0.5 * np.exp(0.9 * lp)),
        "lp": lp,
        "sex": rng.choice(["F", "M"], size=n),
    }


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    return _data()


@pytest.fixture(scope="module")
def result(data: dict[str, np.ndarray]) -> ev.SurvivalValidationResult:
    return ev.evaluate_survival(
        data["time"],
        data["event"],
        data["risk"],
        horizon=5.0,
        lp=data["lp"],
        groups=pd.DataFrame({"sex": data["sex"]}),
        n_boot=30,
    )


def test_point_estimates_equal_the_survival_functions(data, result) -> None:
    t, e, r, lp = data["time"], data["event"], data["risk"], data["lp"]
    m = result.metrics
    flexible = ev.flexible_survival_calibration(t, e, r, t=5.0)
    brier = ev.ipcw_brier_score(t, e, r, 5.0)
    expected = {
        "harrell_c": ev.harrell_c(t, e, lp).estimate,
        "uno_c": ev.uno_c(t, e, lp, tau=5.0).estimate,
        "time_auc": ev.time_dependent_auc(t, e, r, 5.0).auc[0],
        "oe_ratio": ev.survival_oe_ratio(t, e, r, t=5.0).oe_ratio,
        "calibration_slope": ev.survival_calibration_slope(t, e, lp=lp, t=5.0).slope,
        "ici": flexible.ici,
        "e90": flexible.e90,
        "brier": brier.brier,
        "ipa": brier.ipa,
    }
    for name, value in expected.items():
        assert m[name].estimate == pytest.approx(value, rel=1e-12), name
    curve = ev.survival_decision_curve(t, e, r, t=5.0)
    assert [p["net_benefit"] for p in result.decision_curve] == pytest.approx(
        [p.net_benefit for p in curve.points]
    )


def test_intervals_contain_their_estimates(result) -> None:
    for name, estimate in result.metrics.items():
        assert estimate.ci_low <= estimate.estimate <= estimate.ci_high, name
    for point in result.decision_curve:
        assert point["ci_low"] <= point["net_benefit"] + 1e-12 <= point["ci_high"] + 2e-12


def test_replicates_equal_the_metrics_on_resampled_rows(data) -> None:
    """Case weights = the resampling counts: each replicate equals the metric on the rows."""
    t, e, r, lp = data["time"], data["event"].astype(bool), data["risk"], data["lp"]
    flexible = ev.flexible_survival_calibration(t, e, r, t=5.0)
    thresholds = np.array([0.3, 0.1, 0.5])
    prepared = prepare(
        t,
        e,
        r,
        lp,
        5.0,
        covariate=lp,
        knots=np.asarray(flexible.knots),
        curve_risk=np.asarray(flexible.predicted),
        thresholds=thresholds,
        groups=[data["sex"] == "F"],
    )
    patients = np.arange(t.shape[0]) // 2  # two rows per patient: whole patients are drawn
    for rows in list(ev.bootstrap_indices(t.shape[0], patient_ids=patients, n_boot=3))[:2]:
        weights = np.bincount(rows, minlength=t.shape[0]).astype(float)[None, :]
        out = replicate_batch(prepared, weights)
        tb, eb, rb, lb = t[rows], e[rows], r[rows], lp[rows]
        brier = ev.ipcw_brier_score(tb, eb, rb, 5.0)
        assert out["metrics"][0, :5] == pytest.approx(
            [
                ev.harrell_c(tb, eb, lb).estimate,
                ev.uno_c(tb, eb, lb, tau=5.0).estimate,
                ev.time_dependent_auc(tb, eb, rb, 5.0).auc[0],
                ev.survival_oe_ratio(tb, eb, rb, t=5.0).oe_ratio,
                ev.survival_calibration_slope(tb, eb, lp=lb, t=5.0).slope,
            ],
            rel=1e-7,
        )
        assert out["metrics"][0, 9:] == pytest.approx([brier.brier, brier.null_brier, brier.ipa])
        curve = ev.survival_decision_curve(tb, eb, rb, t=5.0, thresholds=thresholds)
        assert out["net_benefit"][0] == pytest.approx([p.net_benefit for p in curve.points])
        female = data["sex"][rows] == "F"
        assert out["groups"][0, 0, 0] == pytest.approx(
            ev.harrell_c(tb[female], eb[female], lb[female]).estimate
        )


def test_duplicated_patients_widen_nothing_when_clustered(data) -> None:
    """Every row twice under one id gives the same intervals as the rows once."""
    once = ev.evaluate_survival(data["time"], data["event"], data["risk"], horizon=5.0, n_boot=20)
    ids = np.tile(np.arange(data["time"].shape[0]), 2)
    twice = ev.evaluate_survival(
        np.tile(data["time"], 2),
        np.tile(data["event"], 2),
        np.tile(data["risk"], 2),
        horizon=5.0,
        patient_ids=ids,
        n_boot=20,
    )
    assert twice.n_patients == once.n_patients == data["time"].shape[0]
    for name in ("harrell_c", "oe_ratio", "brier"):
        one, two = once.metrics[name], twice.metrics[name]
        assert two.estimate == pytest.approx(one.estimate, rel=1e-9)
        assert two.ci_high - two.ci_low == pytest.approx(one.ci_high - one.ci_low, rel=0.5)


def test_json_is_plain_and_matches_the_schema(result) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from importlib.resources import files

    document = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    schema = json.loads(
        files("clinai.reporting").joinpath("schemas/survival_metrics.schema.json").read_text()
    )
    jsonschema.validate(document, schema)
    assert document["natural_frequency"]["per"] == 100
    assert {row["group"] for row in document["subgroups"]} == {"F", "M"}


def test_small_subgroups_are_suppressed(data) -> None:
    groups = pd.DataFrame({"site": np.where(np.arange(data["time"].shape[0]) < 4, "tiny", "big")})
    out = ev.evaluate_survival(
        data["time"], data["event"], data["risk"], horizon=5.0, groups=groups, n_boot=0
    )
    tiny = next(s for s in out.subgroups if s.group == "tiny")
    assert tiny.suppressed and tiny.n is None and math.isnan(tiny.harrell_c.estimate)


@pytest.mark.parametrize(
    ("change", "expect"),
    [
        ({"event": [2] + [0] * 299}, "event must hold only 0"),
        ({"risk": np.full(300, 1.5)}, "risk must lie in [0, 1]"),
        ({"horizon": 99.0}, "t must be a finite time within follow-up"),
    ],
)
def test_bad_input_is_one_line(data, change, expect) -> None:
    args = {"time": data["time"], "event": data["event"], "risk": data["risk"], "horizon": 5.0}
    args.update(change)
    with pytest.raises(DataError) as info:
        ev.evaluate_survival(
            args.pop("time"), args.pop("event"), args.pop("risk"), **args, n_boot=0
        )
    assert expect in str(info.value) and "\n" not in str(info.value)


def test_small_risk_groups_hide_counts_and_observed_risk(data) -> None:
    out = ev.evaluate_survival(
        data["time"], data["event"], data["risk"], horizon=5.0, n_boot=0, min_cell=25
    )
    # as many groups as hold min_cell events on average: 135 events by the horizon // 25
    assert len(out.risk_groups) == 5
    for row in out.risk_groups:
        assert row["suppressed"]
        assert row["n"] is row["events"] is row["observed"] is row["ci_low"] is None
        assert row["predicted"] is not None

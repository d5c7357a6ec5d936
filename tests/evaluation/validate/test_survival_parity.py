"""The survival run's comparison, integrated Brier interval and fairness tables (evaluation)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clinai import evaluation

#: The horizon of the risks (time unit of the synthetic data).
HORIZON = 1.0
compare_survival_models = evaluation.compare_survival_models
integrated_brier_with_interval = evaluation.integrated_brier_with_interval
survival_fairness = evaluation.survival_fairness


@pytest.fixture(scope="module")
def cohort() -> dict[str, np.ndarray]:
    """Exponential survival (log hazard lp), censored uniformly on 1.5-3; two models' risks."""
    rng = np.random.default_rng(3)
    lp = rng.normal(size=240)
    event_time, censor = rng.exponential(np.exp(-lp)), rng.uniform(1.5, 3.0, lp.size)
    noise = rng.normal(scale=1.5, size=lp.size)
    rare = rng.uniform(size=lp.size) < 0.02
    return {
        "time": np.minimum(event_time, censor),
        "event": (event_time <= censor).astype(int),
        "lp": lp,
        "good": 1 - np.exp(-HORIZON * np.exp(lp)),
        "noisy": 1 - np.exp(-HORIZON * np.exp(lp + noise)),
        "sex": rng.choice(["female", "male"], lp.size),
        "band": np.where(rare, "rare", rng.choice(["<60", ">=60"], lp.size)),
    }


def test_comparison_point_estimates_are_the_metrics_of_each_model(cohort: dict) -> None:
    t, e = cohort["time"], cohort["event"]
    result = compare_survival_models(
        t, e, cohort["good"], cohort["noisy"], horizon=HORIZON, n_boot=20, random_state=1
    )
    for risk, part in ((cohort["good"], "model"), (cohort["noisy"], "registered")):
        brier = evaluation.ipcw_brier_score(t, e, risk, HORIZON)
        expected = {
            "harrell_c": evaluation.harrell_c(t, e, risk).estimate,
            "uno_c": evaluation.uno_c(t, e, risk, tau=HORIZON).estimate,
            "brier": brier.brier,
            "ipa": brier.ipa,
        }
        for name, value in expected.items():
            assert getattr(result.metrics[name], part).estimate == pytest.approx(value)
    c = result.metrics["harrell_c"]
    assert c.difference.estimate == pytest.approx(c.model.estimate - c.registered.estimate)
    # the better model: higher C, lower Brier, with the paired interval excluding 0
    assert c.difference.ci_low > 0 and result.metrics["brier"].difference.ci_high < 0
    document = result.to_dict()
    assert set(document) == {"name", "horizon", "n_boot", "ci_level", "harrell_c", "uno_c"} | {
        "brier",
        "ipa",
    }


def test_comparison_of_a_model_with_itself_is_zero(cohort: dict) -> None:
    result = compare_survival_models(
        cohort["time"], cohort["event"], cohort["good"], cohort["good"], horizon=HORIZON, n_boot=5
    )
    for metric in result.metrics.values():
        assert (metric.difference.estimate, metric.difference.ci_high) == (0.0, 0.0)


def test_integrated_brier_interval_is_around_the_integrated_score(cohort: dict) -> None:
    times = np.linspace(0.2, HORIZON, 5)
    risks = 1 - np.exp(-np.outer(np.exp(cohort["lp"]), times))
    result = integrated_brier_with_interval(
        cohort["time"], cohort["event"], risks, times, n_boot=20, random_state=0
    )
    direct = evaluation.integrated_brier_score(cohort["time"], cohort["event"], risks, times)
    assert result.estimate == pytest.approx(direct.integrated)
    assert result.ci_low <= direct.integrated <= result.ci_high
    assert result.to_dict()["end"] == HORIZON and result.to_dict()["n_times"] == 5


def test_fairness_tables_per_group_with_gaps_and_suppression(cohort: dict) -> None:
    groups = pd.DataFrame({"sex": cohort["sex"], "band": cohort["band"]})
    tables = survival_fairness(
        cohort["time"],
        cohort["event"],
        cohort["good"],
        groups,
        horizon=HORIZON,
        score=cohort["lp"],
        intersections=[("sex", "band")],
        n_boot=20,
        random_state=0,
    )
    assert list(tables) == ["sex", "band", "sex_x_band"]
    sex = tables["sex"].to_dict()
    female = cohort["sex"] == "female"
    expected_c = evaluation.harrell_c(
        cohort["time"][female], cohort["event"][female], cohort["lp"][female]
    ).estimate
    assert sex["groups"][0]["group"] == "female"
    assert sex["groups"][0]["harrell_c"]["estimate"] == pytest.approx(expected_c)
    oe = [g["oe_ratio"]["estimate"] for g in sex["groups"]]
    assert sex["oe_ratio"]["ratio"]["estimate"] == pytest.approx(min(oe) / max(oe))
    assert sex["oe_ratio"]["difference"]["ci_low"] <= sex["oe_ratio"]["difference"]["estimate"]
    # the rare band (a handful of patients) is suppressed: no count, no number, not in the gap
    rare = next(g for g in tables["band"].to_dict()["groups"] if g["group"] == "rare")
    assert rare["suppressed"] and rare["n"] is None and rare["harrell_c"] is None
    assert tables["band"].to_dict()["harrell_c"]["n_groups"] == 2
    cells = tables["sex_x_band"].to_dict()
    assert cells["intersection"] and cells["groups"][0]["levels"].keys() == {"sex", "band"}

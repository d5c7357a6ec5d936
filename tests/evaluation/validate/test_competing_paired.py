"""Competing risks: paired comparison, fairness tables and acceptance names (issue 16).

Every number is checked against :func:`evaluate_competing` on the same rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clinai.evaluation import (
    compare_competing_models,
    competing_fairness,
    evaluate_acceptance,
    evaluate_competing,
    survival_acceptance_view,
)
from tests.evaluation.survival._simulation import fine_gray_cohort

T = 1.0
BOOT = 20


@pytest.fixture(scope="module")
def cohort() -> dict[str, np.ndarray]:
    data = fine_gray_cohort(5, n=300)
    rng = np.random.default_rng(2)
    risk = data.cif(T)
    noisy = np.clip(risk + rng.normal(0.0, 0.08, risk.shape), 0.0, 1.0)
    return {"time": data.time, "code": data.codes, "risk": risk, "noisy": noisy}


def _metrics(c: dict, risk: np.ndarray, rows: np.ndarray | None = None, **kw: object) -> dict:
    take = np.arange(c["time"].shape[0]) if rows is None else rows
    result = evaluate_competing(c["time"][take], c["code"][take], risk[take], horizon=T, **kw)
    return result.to_dict()["metrics"]


def test_comparison_is_the_difference_of_the_two_validations(cohort: dict) -> None:
    result = compare_competing_models(
        cohort["time"], cohort["code"], cohort["risk"], cohort["noisy"],
        horizon=T, n_boot=BOOT, random_state=3,
    )  # fmt: skip
    mine = _metrics(cohort, cohort["risk"], n_boot=BOOT, random_state=3)
    other = _metrics(cohort, cohort["noisy"], n_boot=BOOT, random_state=3)
    record = result.to_dict()
    for name in ("wolbers_c", "time_auc", "oe_ratio", "brier", "scaled_brier"):
        # the same draws as evaluate_competing with the same seed: the same intervals
        assert record[name]["model"] == pytest.approx(mine[name])
        assert record[name]["registered"] == pytest.approx(other[name])
        difference = record[name]["difference"]
        assert difference["estimate"] == pytest.approx(
            mine[name]["estimate"] - other[name]["estimate"]
        )
        assert difference["ci_low"] <= difference["estimate"] <= difference["ci_high"]
    assert record["wolbers_c"]["difference"]["estimate"] > 0  # the noise costs ranking


def test_fairness_groups_are_the_validation_of_their_rows(cohort: dict) -> None:
    n = cohort["time"].shape[0]
    rng = np.random.default_rng(4)
    groups = pd.DataFrame(
        {"sex": rng.choice(["female", "male"], n), "band": rng.choice(["<60", "60+"], n)}
    )
    groups.loc[:2, "band"] = "90+"  # three patients: suppressed
    tables = competing_fairness(
        cohort["time"], cohort["code"], cohort["risk"], groups,
        horizon=T, intersections=[("sex", "band")], n_boot=BOOT, random_state=1,
    )  # fmt: skip
    assert set(tables) == {"sex", "band", "sex_x_band"}
    record = tables["sex"].to_dict()
    for row in record["groups"]:
        rows = np.flatnonzero(groups["sex"].to_numpy() == row["group"])
        expected = _metrics(cohort, cohort["risk"], rows, n_boot=0)
        for name in ("wolbers_c", "oe_ratio"):
            assert row[name]["estimate"] == pytest.approx(expected[name]["estimate"])
            assert row[name]["ci_low"] <= row[name]["estimate"] <= row[name]["ci_high"]
    c = [row["wolbers_c"]["estimate"] for row in record["groups"]]
    assert record["wolbers_c"]["difference"]["estimate"] == pytest.approx(max(c) - min(c))
    oe = [row["oe_ratio"]["estimate"] for row in record["groups"]]
    assert record["oe_ratio"]["ratio"]["estimate"] == pytest.approx(min(oe) / max(oe))
    band = {row["group"]: row for row in tables["band"].to_dict()["groups"]}
    small = band["90+"]
    assert small["suppressed"] and small["n"] is None and small["wolbers_c"] is None
    assert tables["band"].n_groups == 2


def test_criteria_judge_competing_names(cohort: dict) -> None:
    document = evaluate_competing(
        cohort["time"], cohort["code"], cohort["risk"], horizon=T, n_boot=BOOT
    ).to_dict()
    view = survival_acceptance_view(document)
    assert view["ipa"] == document["metrics"]["scaled_brier"]
    assert view["td_auc"] == document["metrics"]["time_auc"]
    assert view["calibration_slope"] == document["competing"]["calibration_slope"]
    assert view["events"] == document["competing"]["follow_up"]["events_by_horizon"]
    criteria = [
        {"name": "c", "metric": "wolbers_c", "statistic": "ci_low", "min": 0.5},
        {"name": "ipa", "metric": "ipa", "statistic": "estimate", "min": 2.0},
    ]
    verdicts = [v.to_dict() for v in evaluate_acceptance(view, criteria)]
    assert [v["status"] for v in verdicts] == ["pass", "fail"]
    assert verdicts[0]["value"] == document["metrics"]["wolbers_c"]["ci_low"]

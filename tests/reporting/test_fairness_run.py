"""`clinai run` with fairness tables, an intersection, mitigation and a fairness criterion.

A synthetic CSV use case (not real people) whose pipeline has Danish texts; tracking off.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from clinai.reporting import get_strings
from tests.integration.conftest import synthetic_frame

from .conftest import use_case_run

# about 30 s: a whole run with three PDFs
pytestmark = [pytest.mark.integration, pytest.mark.slow]

CANARY = "CANARY-FAIR-5b1e"

PIPELINE = '''
"""Synthetic fairness test use case (synthetic data written by the test)."""

import pandas as pd

METADATA = {
    "title": "Synthetic fairness use case", "setting": "acute", "dataset": "synthetic CSV",
    "outcome": "synthetic event (0/1)", "prediction_time": "admission",
    "intended_use": "testing clinai only", "population": "synthetic patients",
    "not_for": ["any patient"], "limitations": ["synthetic data"],
}
METADATA_DA = {
    "title": "Syntetisk testanvendelse", "outcome": "syntetisk hændelse (0/1) til test",
    "prediction_time": "ved indlæggelse", "intended_use": "kun til test af clinai",
    "population": "syntetiske patienter", "not_for": ["enhver patient"],
    "limitations": ["syntetiske data"],
}


def exclusions(raw):
    return [("age under 18", raw["age"] < 18)]


def outcome(cohort):
    return cohort["event"].astype(int)


def features(cohort):
    return cohort[["age", "sex", "lactate"]]


def sensitive_attributes(cohort):
    band = pd.cut(cohort["age"], [0, 60, 200], labels=["<60", "60+"]).astype(str)
    return pd.DataFrame({"sex": cohort["sex"].astype(str), "age_band": band}, index=cohort.index)
'''


run_dir = use_case_run(
    "fair",
    pipeline=PIPELINE,
    frame=lambda: synthetic_frame(500, seed=3, canary=CANARY),
    csv="patients.csv",
    test_size=0.4,
    tuning={"n_trials": 2, "timeout_s": 60, "cv_folds": 3},
    evaluation={
        "n_boot": 40,
        "thresholds": [0.2, 0.4],
        "operating_threshold": 0.3,
        "sensitive_attributes": ["sex", "age_band"],
        "intersections": [["sex", "age_band"]],
        "mitigation": {"method": "threshold_optimizer", "attribute": "sex", "cv": 3},
        "shap_background": 20,
        "shap_max_rows": 40,
        "acceptance": [
            {"name": "discrimination", "metric": "auroc", "statistic": "ci_low", "min": 0.5},
            {
                "name": "sex AUROC gap",
                "metric": "fairness.sex.auroc.difference",
                "statistic": "ci_high",
                "max": 0.99,
            },
            {
                "name": "age sensitivity ratio",
                "metric": "fairness.age_band.sensitivity.ratio",
                "statistic": "estimate",
                "min": 0.0,
            },
        ],
    },
)


def test_metrics_hold_fairness_mitigation_and_fairness_verdicts(run_dir: Path) -> None:
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["operating_threshold"] == 0.3
    assert [t["threshold"] for t in metrics["thresholds"]] == [0.2, 0.4, 0.3]
    assert set(metrics["fairness"]) == {"sex", "age_band", "sex_x_age_band"}
    cross = metrics["fairness"]["sex_x_age_band"]
    assert cross["threshold"] == 0.3 and cross["intersection"] is True
    assert {g["group"] for g in cross["groups"]} == {
        f"{s} & {a}" for s in ("female", "male") for a in ("<60", "60+")
    }
    gap = metrics["fairness"]["sex"]["auroc"]["difference"]
    assert gap["ci_low"] <= gap["ci_high"]
    verdicts = {row["criterion"]: row for row in metrics["acceptance"]}
    assert verdicts["sex AUROC gap"]["status"] == "pass"
    assert verdicts["sex AUROC gap"]["value"] == gap["ci_high"]
    assert verdicts["age sensitivity ratio"]["status"] == "pass"
    mitigation = metrics["mitigation"]
    assert mitigation["applied_to_registered_model"] is False
    assert mitigation["fitted_on"].startswith("out-of-fold predictions of the training split")
    n_train = json.loads((run_dir / "data_manifest.json").read_text())["split"]["n_train"]
    assert mitigation["n_fit"] == n_train  # fitted on the training split, never the test split
    assert set(mitigation["overall"]) == {"unmitigated", "mitigated", "difference"}


def test_documents_show_fairness_and_danish_texts(run_dir: Path) -> None:
    card_da = (run_dir / "model_card.da.md").read_text(encoding="utf-8")
    assert "syntetisk hændelse (0/1) til test" in card_da
    assert get_strings("da")["english_only_note"] not in card_da
    assert "### sex × age_band" in card_da
    assert "](plots/fair.calibration.png)" in card_da
    assert (run_dir / "plots" / "fair.calibration.png").is_file()
    card_html = (run_dir / "model_card.html").read_text(encoding="utf-8")
    assert 'src="data:image/png;base64,' in card_html
    report_md = (run_dir / "validation_report.md").read_text(encoding="utf-8")
    assert "## Fairness across patient groups" in report_md
    assert "### Fairness mitigation (comparison only)" in report_md
    report_html = (run_dir / "validation_report.html").read_text(encoding="utf-8")
    assert "It is not applied to the registered model." in report_html
    audit = json.loads((run_dir / "audit.json").read_text(encoding="utf-8"))
    assert "validation_report.md" in audit["outputs"]
    for path in run_dir.rglob("*"):
        if path.is_file() and path.suffix in {".md", ".html", ".json"}:
            assert not re.search(CANARY, path.read_text(encoding="utf-8")), path

"""`clinai validate --config PLAN` with and without the plan's economics: section (issue 17).

Synthetic predictions (not real patients) with an existing toy score beside the model's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from clinai.cli import main
from tests._helpers import ECONOMICS_SECTION

pytestmark = pytest.mark.integration

ECONOMICS = {**ECONOMICS_SECTION, "comparator": "EWS", "comparator_thresholds": [5], "n_draws": 200}
PLAN = {"thresholds": [0.2, 0.4], "decision_curve": [0.05, 0.5, 0.05]}


def _files(tmp_path: Path, economics: dict | None) -> tuple[Path, Path]:
    rng = np.random.default_rng(4)
    risk = rng.beta(2, 6, 300)
    died = rng.binomial(1, risk)
    frame = pd.DataFrame({"died": died, "risk": risk, "ews": rng.integers(0, 7, 300) + 2 * died})
    frame.to_csv(tmp_path / "preds.csv", index=False)
    plan = {**PLAN, **({"economics": economics} if economics else {})}
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(plan), encoding="utf-8")
    return tmp_path / "preds.csv", tmp_path / "plan.yaml"


def _validate(tmp_path: Path, *extra: str) -> int:
    preds, plan = tmp_path / "preds.csv", tmp_path / "plan.yaml"
    args = [
        "validate",
        str(preds),
        "--outcome",
        "died",
        "--score",
        "risk",
        "--config",
        str(plan),
        "--out",
        str(tmp_path / "out"),
        "--bootstrap",
        "20",
        "--quiet",
        *extra,
    ]
    return main(args)


def test_plan_with_economics_writes_the_block_and_the_section(tmp_path: Path) -> None:
    _files(tmp_path, ECONOMICS)
    assert _validate(tmp_path, "--baseline", "ews") == 0
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    block = metrics["economics"]
    assert block["basis"] == "predictions" and block["currency"] == "DKK"
    labels = [row["label"] for row in block["sensitivity"]["strategies"]]
    assert labels[:2] == ["treat_none", "treat_all"] and "EWS >= 5" in labels
    assert "model >= 0.2" in labels and "model >= 0.4" in labels
    report = (tmp_path / "out" / "validation_report.html").read_text()
    assert "What would it cost and what would it save?" in report
    assert "EWS ≥ 5" in report and "gamma distribution (shape 16.00, scale 20.00)" in report
    assert (tmp_path / "out" / "plots" / "ceac.png").is_file()


def test_plan_without_economics_has_no_economic_number(tmp_path: Path) -> None:
    _files(tmp_path, None)
    assert _validate(tmp_path, "--baseline", "ews") == 0
    assert "economics" not in json.loads((tmp_path / "out" / "metrics.json").read_text())
    report = re.sub(
        r"data:image/png;base64,[A-Za-z0-9+/=]+",
        "",
        (tmp_path / "out" / "validation_report.html").read_text(),
    )
    for words in ("What would it cost", "DKK", "QALY", "NMB"):
        assert words not in report
    assert not (tmp_path / "out" / "plots" / "ceac.png").exists()


def test_comparator_without_baseline_column_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _files(tmp_path, ECONOMICS)
    assert _validate(tmp_path) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "economics.comparator is 'EWS'" in err
    assert not (tmp_path / "out").exists()


def test_negative_cost_in_the_plan_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _files(tmp_path, {**ECONOMICS, "cost_outcome": -5})
    assert _validate(tmp_path, "--baseline", "ews") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "economics.cost_outcome" in err


def test_patients_with_several_rows_are_counted_once(tmp_path: Path) -> None:
    # --patient with hourly prediction times (here 3 rows per patient): the economic analysis
    # counts admissions as patients, as the evaluate stage does; it counted each row before.
    _files(tmp_path, ECONOMICS)
    frame = pd.read_csv(tmp_path / "preds.csv")
    frame["pid"] = [f"{i // 3:07d}" for i in range(len(frame))]  # 100 patients
    frame.to_csv(tmp_path / "preds.csv", index=False)
    assert _validate(tmp_path, "--baseline", "ews", "--patient", "pid") == 0
    block = json.loads((tmp_path / "out" / "metrics.json").read_text())["economics"]
    assert block["admissions_basis"] == "patients"
    burden = block["alert_burden"]
    assert burden["n"] == 300 and burden["admissions"] == 100
    first = burden["thresholds"][0]
    assert first["alerts_per_100_admissions"] == pytest.approx(first["alerts"])  # per 100 patients
    (tmp_path / "out").rename(tmp_path / "with_patients")
    assert _validate(tmp_path, "--baseline", "ews") == 0  # without --patient: each row
    rows = json.loads((tmp_path / "out" / "metrics.json").read_text())["economics"]
    assert rows["admissions_basis"] == "rows" and rows["alert_burden"]["admissions"] == 300

"""``clinai run`` -> ``clinai score`` -> ``clinai monitor`` on the tiny use case (synthetic).

The real chain: the train stage fixes the plan and the drift reference, ``clinai score``
writes the predictions file, ``clinai monitor`` reads both. The tiny pipeline has no
prediction time, so the one period is the month of the scoring.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from clinai.cli import main
from clinai.data import PSEUDONYM_KEY_ENV

from ._monitoring import PLAN
from .conftest import CANARY_ID, FAST, synthetic_frame, tiny_config

pytestmark = pytest.mark.integration


def test_monitor_reads_what_run_and_score_wrote(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clinai.evaluation import auroc_score, oe_ratio

    monkeypatch.setenv(PSEUDONYM_KEY_ENV, "chain-test-key")
    config = tiny_config(
        tuning={"n_trials": 1, "timeout_s": 60, "cv_folds": 3},
        evaluation={"n_boot": 10, "thresholds": [0.2], "sensitive_attributes": ["sex"]},
        monitoring=PLAN,
        languages=["en"],
    )
    (workspace / "tiny.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    assert main(["run", "tiny.yaml", *FAST]) == 0
    # CPR-like identifiers with a leading zero (a person born on the 1st to 9th of a month):
    # score and the outcomes file must both read them as written, or no outcome matches
    new = synthetic_frame(200, seed=7).assign(patient=[f"0{i:09d}" for i in range(200)])
    new.to_csv(workspace / "new.csv", index=False)
    assert (
        main(
            [
                "score",
                "tiny.yaml",
                "--data",
                "new.csv",
                "--out",
                "p.parquet",
                "-q",
                "--alias",
                "candidate",
            ]
        )
        == 0
    )
    new[["patient", "event"]].rename(columns={"event": "outcome"}).to_csv(
        workspace / "outcomes.csv", index=False
    )
    args = ["--predictions", "p.parquet", "--outcomes", "outcomes.csv", "--out", "mon"]
    assert main(["monitor", "tiny.yaml", "--quiet", *args]) == 0
    document = json.loads((workspace / "mon" / "monitoring.json").read_text(encoding="utf-8"))
    (period,) = document["periods"]
    assert period["period"] == f"{datetime.now(UTC):%Y-%m}"
    import pandas as pd

    scored = pd.read_parquet(workspace / "p.parquet")
    y, p = scored["outcome"].to_numpy(dtype=float), scored["risk"].to_numpy()
    assert period["n"] == len(scored) and period["events"] == int(y.sum())
    assert period["performance"]["auroc"]["estimate"] == pytest.approx(auroc_score(y, p))
    assert period["performance"]["oe_ratio"]["estimate"] == pytest.approx(oe_ratio(y, p))
    assert {f["feature"] for f in period["drift"]["features"]} == {"age", "sex", "lactate"}
    assert period["drift"]["risk"] is not None
    assert document["development"]["alert_rate"] is not None  # from the run's metrics.json
    for path in (workspace / "mon").rglob("*"):
        if path.is_file():
            assert CANARY_ID not in path.read_text(errors="ignore")

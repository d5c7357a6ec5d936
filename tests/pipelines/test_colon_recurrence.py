"""colon_recurrence: recurrence with death as a competing event, from config to survival_metrics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from clinai.cli import main
from clinai.config import load_config, parse_config
from clinai.exceptions import ConfigError, DataError
from clinai.runs import load_pipeline
from clinai.runs._survival_outcome import competing_event_code, survival_outcome
from tests._helpers import ROOT

CONFIG = ROOT / "configs" / "extra" / "colon_recurrence.yaml"


@pytest.fixture(scope="module")
def outcome() -> pd.DataFrame:
    pipeline = load_pipeline("colon_recurrence", base_dir=ROOT)
    raw = pipeline.load()
    assert pipeline.exclusions(raw) == []  # every patient kept
    return pipeline.outcome(raw)


def test_outcome_definition_as_documented(outcome: pd.DataFrame) -> None:
    # docs/datasets.md: 929 patients; 468 recurrences (451 by 1826 days), 38 deaths without
    # recurrence (27 by 1826 days), 423 censored (14 before 1826 days)
    counts = outcome["event"].value_counts().to_dict()
    assert len(outcome) == 929 and counts == {1: 468, 2: 38, 0: 423}
    by = outcome["time"] <= 1826
    assert ((outcome["event"] == 1) & by).sum() == 451
    assert ((outcome["event"] == 2) & by).sum() == 27
    assert ((outcome["event"] == 0) & (outcome["time"] < 1826)).sum() == 14
    config = load_config(CONFIG)
    assert config.outcome.horizons == [1826.0] and config.outcome.codes.competing == [2]
    assert config.models == ["cause_specific_cox"]


def test_event_codes_are_mapped_and_checked(outcome: pd.DataFrame) -> None:
    config = load_config(CONFIG)
    _, event = survival_outcome(config, outcome, len(outcome))
    codes = competing_event_code(config, outcome)
    assert event.tolist() == (outcome["event"] == 1).astype(int).tolist()
    assert codes.tolist() == outcome["event"].tolist()
    # a code the config does not name: one line naming the column and the codes
    bad = outcome.assign(event=np.where(outcome["event"] == 2, 3, outcome["event"]))
    with pytest.raises(DataError) as info:
        survival_outcome(config, bad, len(bad))
    message = str(info.value)
    assert "outcome 'event'" in message and "holds 3" in message and "competing [2]" in message
    # a horizon with no recurrence before it
    early = config.model_copy(
        update={"outcome": config.outcome.model_copy(update={"horizons": [5.0]})}
    )
    with pytest.raises(DataError, match=r"no events up to outcome\.horizons 5"):
        survival_outcome(early, outcome, len(outcome))


@pytest.mark.parametrize(
    ("codes", "needle"),
    [
        ({"event": 1, "competing": [1]}, "competing must list codes distinct from censored (0)"),
        ({"event": 1, "competing": [0]}, "event (1) and each other; got [0]"),
        ({"event": 1, "competing": [2, 2]}, "got [2, 2]"),
    ],
)
def test_bad_competing_codes_are_one_config_error(codes: dict, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(
            {
                "experiment": "t",
                "pipeline": "p",
                "data": {"source": {"type": "bundled", "name": "x"}},
                "outcome": {"type": "survival", "horizons": [10], "event_codes": codes},
            }
        )
    assert needle in str(info.value) and "\n" not in str(info.value)


ENVIRONMENT = {"MLFLOW_DISABLE_TELEMETRY": "1", "CLINAI_PIPELINES_PATH": str(ROOT / "pipelines")}


def _run(
    root: Path, monkeypatch: pytest.MonkeyPatch, *args: str, competing: int = 2, horizon: int = 1826
) -> int:
    """``clinai run`` of the config in ``root`` (stores and runs stay there); its exit code."""
    monkeypatch.chdir(root)
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    config["outcome"]["event_codes"]["competing"] = [competing]
    config["outcome"]["horizons"] = [horizon]
    (root / CONFIG.name).write_text(yaml.safe_dump(config), encoding="utf-8")
    return main(["run", CONFIG.name, "--quiet", *args])


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"competing": 1}, "event_codes.competing must list codes distinct"),
        pytest.param(  # MLflow starts before the data are read: about 15 s
            {"horizon": 5},
            "no events up to outcome.horizons 5 in pipeline 'colon_recurrence'",
            marks=pytest.mark.slow,
        ),
    ],
)
def test_bad_codes_or_horizon_stop_the_run_in_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    change: dict,
    needle: str,
) -> None:
    assert _run(tmp_path, monkeypatch, **change) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err, err
    assert not list(tmp_path.glob("runs/*/*/survival_metrics.json"))


@pytest.mark.slow  # tuning, a bootstrap, MLflow registration: about 10 s on one core
def test_colon_recurrence_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--set", "tuning.n_trials=2", "--set", "evaluation.n_boot=20"]
    assert _run(tmp_path, monkeypatch, *args) == 0
    workspace = tmp_path
    line = capsys.readouterr().out
    assert "Wolbers' C" in line and "scaled Brier" in line
    (run_dir,) = [p for p in (workspace / "runs" / "colon_recurrence").iterdir() if p.is_dir()]
    metrics = json.loads((run_dir / "survival_metrics.json").read_text(encoding="utf-8"))
    assert set(metrics["metrics"]) == {
        "wolbers_c", "time_auc", "oe_ratio", "brier", "null_brier", "scaled_brier"
    }  # fmt: skip
    assert 0.5 < metrics["metrics"]["wolbers_c"]["estimate"] < 0.8
    assert 0.7 < metrics["metrics"]["oe_ratio"]["estimate"] < 1.3
    block = metrics["competing"]
    assert block["competing_codes"] == [2] and block["follow_up"]["competing_by_horizon"] > 0
    manifest = json.loads((run_dir / "data_manifest.json").read_text(encoding="utf-8"))
    assert manifest["outcome"]["competing_by_horizon"] == 27
    assert manifest["outcome"]["censored_before_horizon"] == 14
    card = (run_dir / "model_card.md").read_text(encoding="utf-8")
    assert "death without recurrence as a competing event" in card
    assert "konkurrerende" in (run_dir / "model_card.da.md").read_text(encoding="utf-8")
    page = (run_dir / "model_card.da.html").read_text(encoding="utf-8")  # and its PDF, if printed
    assert 'lang="da"' in page and "konkurrerende" in page and "<table>" in page
    training = json.loads((run_dir / "training.json").read_text(encoding="utf-8"))
    assert training["selected"] == "cause_specific_cox"

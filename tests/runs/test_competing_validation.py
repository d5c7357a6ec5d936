"""Competing-risk runs and ``clinai validate --competing-code``: criteria, cards, bad input.

Issue 16: the acceptance criteria of a competing-risk use case are checked when the
config loads (a misspelt name gets a did-you-mean), fixed at training and refused when
edited; ``clinai validate`` validates a predicted cumulative incidence with
:func:`evaluate_competing` (numbers checked against it on the same rows).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from clinai.cli import main
from clinai.config import load_config
from clinai.evaluation import evaluate_competing
from clinai.exceptions import ConfigError
from clinai.runs._acceptance_plan import write_acceptance_plan
from clinai.runs._rundir import resolve_run_dir
from tests.evaluation.survival._simulation import fine_gray_cohort

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "configs" / "extra" / "colon_recurrence.yaml"


def _config(path: Path, criteria: list[dict]) -> Path:
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    config["evaluation"]["acceptance"] = criteria
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_the_bundled_criteria_name_competing_metrics() -> None:
    criteria = load_config(CONFIG).evaluation.acceptance
    assert {c.metric for c in criteria} >= {"wolbers_c", "oe_ratio", "calibration_slope", "ipa"}


@pytest.mark.parametrize(
    ("criterion", "needle"),
    [
        ({"metric": "wolber_c"}, "did you mean 'wolbers_c'?"),
        ({"metric": "harrell_c"}, "outcome.type: survival, competing risks"),
        ({"metric": "fairness.sex.harrell_c.difference"}, "is not one of ('wolbers_c'"),
    ],
)
def test_a_wrong_criterion_is_one_config_line(tmp_path: Path, criterion: dict, needle: str) -> None:
    path = _config(tmp_path / "c.yaml", [{"name": "x", "min": 0.5, **criterion}])
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert needle in str(info.value), str(info.value)


def test_an_edited_plan_is_refused_before_anything_is_computed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLINAI_PIPELINES_PATH", str(ROOT / "pipelines"))
    criterion = {"name": "c", "metric": "wolbers_c", "statistic": "ci_low", "min": 0.6}
    config = load_config(_config(tmp_path / "c.yaml", [criterion]))
    run_dir = resolve_run_dir("runs", config.experiment, None, create=True)
    write_acceptance_plan(config, run_dir)
    _config(tmp_path / "c.yaml", [{**criterion, "min": 0.5}])  # moved after the fact
    assert main(["evaluate", "c.yaml", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "evaluation.acceptance in the config differs" in err
    assert not (run_dir.path / "survival_metrics.json").exists()


@pytest.fixture(scope="module")
def predictions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Predictions with codes 0 censored, 1 the event, 3 competing; sex; a patient column."""
    data = fine_gray_cohort(7, n=300)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "t": data.time,
            "e": np.where(data.codes == 2, 3, data.codes),
            "cif": data.cif(1.0),
            "sex": rng.choice(["female", "male"], data.time.shape[0]),
            "pid": np.arange(data.time.shape[0]) // 2,
        }
    )
    frame.loc[:2, "sex"] = "other"  # three patients: suppressed
    path = tmp_path_factory.mktemp("preds") / "preds.csv"
    frame.to_csv(path, index=False)
    return path


COMMAND = ["--time", "t", "--event", "e", "--horizon", "1", "--score", "cif", "--quiet"]


def test_validate_competing_predictions(
    predictions: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = ["--competing-code", "3", "--group", "sex", "--patient", "pid", "--bootstrap", "20"]
    assert main(["validate", str(predictions), *COMMAND, *args, "--out", str(out)]) == 0
    assert "Wolbers' C" in capsys.readouterr().out
    metrics = json.loads((out / "survival_metrics.json").read_text(encoding="utf-8"))
    frame = pd.read_csv(predictions)
    codes = np.where(frame["e"] == 3, 2, frame["e"])
    expected = evaluate_competing(frame["t"], codes, frame["cif"], horizon=1.0, n_boot=0)
    assert metrics["metrics"]["wolbers_c"]["estimate"] == pytest.approx(
        expected.metrics["wolbers_c"].estimate
    )
    assert metrics["competing"]["event_codes"] == {"censored": 0, "event": 1, "competing": [3]}
    groups = {row["group"]: row for row in metrics["fairness"]["sex"]["groups"]}
    female = (frame["sex"] == "female").to_numpy()
    alone = evaluate_competing(
        frame["t"][female], codes[female], frame["cif"][female], horizon=1.0, n_boot=0
    )
    assert groups["female"]["wolbers_c"]["estimate"] == pytest.approx(
        alone.metrics["wolbers_c"].estimate
    )
    assert groups["other"]["suppressed"] and groups["other"]["n"] is None
    documents = [f"validation_report{s}.{k}" for s in ("", ".da") for k in ("html", "md")]
    audit = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    # The PDFs are printed where WeasyPrint's libraries are installed, else one skipped line.
    pdfs = [] if audit["skipped"] else ["validation_report.da.pdf", "validation_report.pdf"]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["audit.json", "survival_metrics.json", *documents, *pdfs]
    )
    assert set(audit["outputs"]) == {"survival_metrics.json", *documents, *pdfs}
    page = (out / "validation_report.da.html").read_text(encoding="utf-8")
    assert 'lang="da"' in page and "<table>" in page
    report = (out / "validation_report.md").read_text(encoding="utf-8")
    assert (
        "## Fairness: sex" in report
        and "| other | suppressed (too few patients or events) | | | |" in report
    )
    assert "konkurrerende" in (out / "validation_report.da.md").read_text(encoding="utf-8")
    audit = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    assert audit["patient_clustered"] and "pid" not in json.dumps(audit)


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--competing-code", "4"], "--competing-code 4 does not occur in column 'e'"),
        (["--competing-code", "1"], "--competing-code 1 is also the censored or event code"),
        (["--competing-code", "3", "--lp", "cif"], "--lp is not used with --competing-code"),
        ([], "must hold only 0 (censored) and 1 (event); got 3"),
    ],
)
def test_bad_competing_input_is_one_line(
    predictions: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    needle: str,
) -> None:
    out = tmp_path / "out"
    assert main(["validate", str(predictions), *COMMAND, *extra, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err, err
    assert not out.exists()


def test_codes_without_time_are_one_line(
    predictions: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--outcome", "e", "--score", "cif", "--competing-code", "3", "--quiet"]
    assert main(["validate", str(predictions), *args, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--competing-code need --time" in err, err

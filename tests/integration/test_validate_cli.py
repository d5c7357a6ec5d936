"""`clinai validate` on a predictions file: outputs, privacy and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from clinai.cli import main

from .conftest import CANARY_ID

pytestmark = pytest.mark.integration


def _predictions(path: Path, n: int = 400, seed: int = 1) -> Path:
    """Synthetic predictions (not real patients), two rows per patient."""
    rng = np.random.default_rng(seed)
    risk = rng.beta(2, 6, n)
    frame = pd.DataFrame(
        {
            "patient": [f"{CANARY_ID}-{i // 2}" for i in range(n)],
            "died": rng.binomial(1, risk),
            "risk": risk,
            "sex": rng.choice(["female", "male"], n),
            "ward": "A",
        }
    )
    frame.to_csv(path, index=False)
    return path


def _run(tmp_path: Path, *extra: str, out: str = "out") -> int:
    args = [
        "validate",
        str(tmp_path / "preds.csv"),
        "--outcome",
        "died",
        "--score",
        "risk",
        "--out",
        str(tmp_path / out),
        "--bootstrap",
        "40",
        "--quiet",
        *extra,
    ]
    return main(args)


def test_validate_writes_metrics_report_and_plots(tmp_path: Path) -> None:
    _predictions(tmp_path / "preds.csv")
    plan = {
        "thresholds": [0.2, 0.4],
        "min_cell": 5,
        "acceptance": [{"name": "auc", "metric": "auroc", "statistic": "ci_low", "min": 0.5}],
    }
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(plan))
    assert (
        _run(
            tmp_path,
            "--group",
            "sex",
            "--patient",
            "patient",
            "--config",
            str(tmp_path / "plan.yaml"),
        )
        == 0
    )
    out = tmp_path / "out"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n"] == 400 and metrics["schema_version"] == 1
    assert [t["threshold"] for t in metrics["thresholds"]] == [0.2, 0.4]
    assert metrics["acceptance"][0]["status"] == "pass"
    assert set(metrics["subgroups"]) == {"sex"}
    assert (out / "validation_report.html").is_file() and (
        out / "plots" / "calibration.png"
    ).is_file()
    for path in out.rglob("*"):
        if path.is_file():
            assert CANARY_ID.encode() not in path.read_bytes(), path


def test_same_seed_same_numbers(tmp_path: Path) -> None:
    _predictions(tmp_path / "preds.csv")
    assert _run(tmp_path, "--seed", "3") == 0
    first = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert _run(tmp_path, "--seed", "3", out="again") == 0
    assert json.loads((tmp_path / "again" / "metrics.json").read_text()) == first


@pytest.mark.parametrize(
    ("mutate", "extra", "needle"),
    [
        (lambda f: f.assign(risk=f["risk"] * 3), (), "column 'risk' (--score) must hold"),
        (
            lambda f: f.assign(risk=np.where(f.index == 3, np.nan, f["risk"])),
            (),
            "column 'risk' (--score) has 1 missing value(s) (row 4)",
        ),
        (lambda f: f.assign(risk=f["risk"] * 100), (), "percentages? divide the column by 100"),
        (
            lambda f: f.assign(risk=f["risk"].astype(str).where(f.index != 1, "0,25")),
            (),
            "1 row(s) hold text (row 2): write decimals with a point",
        ),
        (
            lambda f: f.assign(died=np.where(f["died"] == 1, "Ja", "Nej")),
            (),
            "of predictions file 'preds.csv' must be binary 0/1 (or True/False), found 'Ja', "
            "'Nej': recode it in the file",
        ),
        (lambda f: f.assign(died=0), (), "one class"),
        (lambda f: f, ("--group", "ward"), "'ward' has only one level"),
        (lambda f: f.drop(columns=["risk"]), (), "'risk'"),
        (lambda f: f, ("--patient", "died"), "same column"),
    ],
    ids=[
        "score-above-1",
        "score-nan",
        "score-in-percent",
        "score-decimal-comma",
        "outcome-words",
        "one-class",
        "one-level-group",
        "missing-column",
        "same-column",
    ],
)
def test_bad_predictions_stop_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mutate, extra, needle: str
) -> None:
    path = _predictions(tmp_path / "preds.csv")
    mutate(pd.read_csv(path)).to_csv(path, index=False)
    assert _run(tmp_path, *extra) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and needle in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("plan", "needle"),
    [
        ({"thresholds": [0.2, 1.2]}, "strictly between 0 and 1"),
        ({"n_bootstrap": 5}, "did you mean 'n_boot'"),
        ({"n_boot": 0}, "n_boot"),
        (
            {"acceptance": [{"name": "typo", "metric": "no_such_metric", "min": 0.5}]},
            "'no_such_metric' is not one of n, events, prevalence, auroc",
        ),
    ],
    ids=["threshold-above-1", "misspelt-key", "no-replicates", "unknown-metric"],
)
def test_bad_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str], plan, needle: str) -> None:
    _predictions(tmp_path / "preds.csv")
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(plan))
    assert _run(tmp_path, "--config", str(tmp_path / "plan.yaml")) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err, err


def _nothing_written(tmp_path: Path, *keep: str) -> None:
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(["preds.csv", *keep]), names


def test_zero_bootstrap_replicates_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It used to finish, write every file and then fail with 'internal error: TypeError'."""
    _predictions(tmp_path / "preds.csv")
    assert _run(tmp_path, "--bootstrap", "0") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: --bootstrap must be at least 1")
    _nothing_written(tmp_path)


@pytest.mark.parametrize("where", ["file", "under-a-file"])
def test_out_that_is_a_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    """It used to fail with 'internal error: NotADirectoryError'."""
    _predictions(tmp_path / "preds.csv")
    (tmp_path / "notes.txt").write_text("keep me")
    out = tmp_path / "notes.txt" if where == "file" else tmp_path / "notes.txt" / "out"
    assert _run(tmp_path, "--out", str(out)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: --out "), err
    assert "notes.txt is a file, not a folder" in err
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    _nothing_written(tmp_path, "notes.txt")

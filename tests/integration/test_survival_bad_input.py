"""Issue 16's bad survival input through both paths: ``clinai run`` and ``clinai validate --time``.

Each case stops with one line that names the column or field and what to do, exit code 2,
and leaves nothing half-written: no run directory that is not marked ``.failed`` (and the
failed one holds no outputs), no MLflow run left RUNNING, no validation folder or staging
folder. The same synthetic patients go through both paths: the run reads them through the
tiny survival pipeline (``time``, ``event``), ``validate`` reads them with a predicted risk.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from clinai.cli import main

from .conftest import FIXTURES
from .test_survival_parity import survival_config, survival_frame

pytestmark = pytest.mark.integration

CONFIG = "bad_survival.yaml"
HORIZON = 365
#: What a failed run's directory may hold (no prepared split, manifest or model).
FAILED_RUN_FILES = {"error.txt", "audit_anchor.json"}
VALIDATE = ["--time", "time", "--event", "event", "--score", "risk", "--bootstrap", "2"]

Change = Callable[[pd.DataFrame], pd.DataFrame]


def _at_row_3(column: str, value: float) -> Change:
    return lambda f: f.assign(**{column: f[column].where(f.index != 3, value)})


def _swap(f: pd.DataFrame) -> pd.DataFrame:
    return f.assign(time=f["event"], event=f["time"])


#: (id, change of the patients, config outcome changes (None: not a run case), validate
#: arguments (None: not a validate case), words of the run's line, words of validate's line)
CASES: list[tuple[str, Change | None, dict | None, list | None, list, list]] = [
    (
        "negative time",
        _at_row_3("time", -5.0),
        {},
        [],
        ["outcome 'time'", "negative", "follow-up time >= 0"],
        ["'time'", "negative", "time origin"],
    ),
    (
        "missing time",
        _at_row_3("time", np.nan),
        {},
        [],
        ["outcome 'time'", "missing"],
        ["'time'", "missing value", "drop or complete"],
    ),
    (
        "missing event",
        _at_row_3("event", np.nan),
        {},
        [],
        ["outcome 'event'", "1 missing", "needs an event code"],
        ["'event'", "missing value", "drop or complete"],
    ),
    (
        "event code not configured",
        _at_row_3("event", 2),
        {},
        [],
        ["outcome 'event'", "holds 2", "set outcome.event_codes"],
        ["'event'", "got 2", "--event-codes"],
    ),
    (
        "data 0/1, codes 1/2",
        None,
        {"event_codes": {"censored": 1, "event": 2}},
        ["--event-codes", "1,2"],
        ["outcome 'event'", "holds 0", "(censored 1, event 2)"],
        ["'event'", "1 (censored) and 2 (event)"],
    ),
    (
        "horizon beyond the last follow-up",
        None,
        {"horizons": [5000]},
        ["--horizon", "5000"],
        ["outcome.horizons 5000", "last follow-up", "within follow-up"],
        ["--horizon 5000", "last follow-up", "'time'"],
    ),
    (
        "horizon beyond a split's follow-up",
        None,
        {"horizons": [999.6]},  # the cohort's last follow-up is 999.7: one patient past it
        None,
        ["outcome.horizons 999.6", "split", "well within follow-up"],
        [],
    ),
    (
        "no events before the horizon",
        lambda f: f.assign(event=np.where(f["time"] <= HORIZON, 0, f["event"])),
        {},
        [],
        ["no events up to outcome.horizons 365", "later"],
        ["no events up to --horizon 365", "'event'"],
    ),
    (
        "every patient censored at time zero",
        lambda f: f.assign(time=0.0, event=0),
        {},
        [],
        ["outcome 'time'", "0 for every patient", "time unit and origin"],
        ["'time'", "follow-up 0", "time unit and origin"],
    ),
    (
        "time and event swapped",
        _swap,
        {},
        [],
        ["outcome 'time'", "look swapped"],
        ["look swapped", "--time event --event time"],
    ),
    (
        "time and event swapped, codes 1/2",
        lambda f: _swap(f.assign(event=f["event"] + 1)),
        {"event_codes": {"censored": 1, "event": 2}},
        None,  # validate's swap check knows only 0/1 (reported to the owner)
        ["outcome 'time'", "event codes (1/2)", "look swapped"],
        [],
    ),
    (
        "horizon not a number",
        None,
        {"horizons": ["1 year"]},
        None,  # typer refuses a non-number --horizon itself
        ["outcome.horizons", "valid number", "'1 year'"],
        [],
    ),
]
RUN_CASES = [pytest.param(*case[1:3], case[4], id=case[0]) for case in CASES if case[2] is not None]
VALIDATE_CASES = [
    pytest.param(case[1], case[3], case[5], id=case[0]) for case in CASES if case[3] is not None
]


def patients() -> pd.DataFrame:
    """The tiny survival patients with a predicted 1-year risk (the true model's)."""
    frame = survival_frame(n=120)
    hazard = 0.0015 * np.exp(0.04 * (frame["age"] - 65) + 0.4 * (frame["lactate"] - 2))
    return frame.assign(risk=1 - np.exp(-hazard * HORIZON))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One folder (and one MLflow store, created once) for every case of the module."""
    folder = tmp_path_factory.mktemp("bad_survival")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setenv("MLFLOW_DISABLE_TELEMETRY", "1")
        patch.setenv("CLINAI_PIPELINES_PATH", str(FIXTURES))
        yield folder


def _write(workspace: Path, change: Change | None, outcome: dict | None = None) -> Path:
    frame = patients()
    (change or (lambda f: f))(frame).to_csv(workspace / "survival.csv", index=False)
    config: dict[str, Any] = survival_config()
    config["evaluation"].pop("acceptance")
    config["outcome"] = {**config["outcome"], **(outcome or {})}
    (workspace / CONFIG).write_text(yaml.safe_dump(config), encoding="utf-8")
    return workspace / "survival.csv"


def _one_line(capsys: pytest.CaptureFixture[str], needles: list[str]) -> None:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    for needle in needles:
        assert needle in err, (needle, err)


def _mlflow_statuses(workspace: Path) -> list[str]:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{workspace / 'mlruns.db'}")
    experiment = client.get_experiment_by_name("tiny_survival")
    if experiment is None:
        return []
    return [r.info.status for r in client.search_runs([experiment.experiment_id])]


def _run_folders(workspace: Path) -> set[Path]:
    runs = workspace / "runs" / "tiny_survival"
    return {p for p in runs.iterdir() if p.is_dir()} if runs.exists() else set()


@pytest.mark.parametrize(("change", "outcome", "needles"), RUN_CASES)
def test_run_stops_with_one_line_and_leaves_nothing_half_written(
    workspace: Path,
    capsys: pytest.CaptureFixture[str],
    change: Change | None,
    outcome: dict,
    needles: list[str],
) -> None:
    _write(workspace, change, outcome)
    before = _run_folders(workspace)
    assert main(["run", CONFIG, "--quiet"]) == 2
    _one_line(capsys, needles)
    folders = _run_folders(workspace)
    for folder in folders - before:  # this case's run: marked failed, no outputs in it
        assert folder.name.endswith(".failed"), folder
        assert {p.name for p in folder.iterdir()} <= FAILED_RUN_FILES, folder
    statuses = _mlflow_statuses(workspace)
    assert "RUNNING" not in statuses and len(statuses) == len(folders), statuses


@pytest.mark.parametrize(("change", "args", "needles"), VALIDATE_CASES)
def test_validate_stops_with_one_line_and_writes_nothing(
    workspace: Path,
    capsys: pytest.CaptureFixture[str],
    change: Change | None,
    args: list[str],
    needles: list[str],
) -> None:
    path = _write(workspace, change)
    out = workspace / "validation"
    horizon = [] if "--horizon" in args else ["--horizon", str(HORIZON)]
    argv = ["validate", str(path), *VALIDATE, *horizon, *args, "--quiet", "--out", str(out)]
    assert main(argv) == 2
    _one_line(capsys, needles)
    assert not out.exists()
    assert not [p for p in os.listdir(workspace) if p.startswith(".validation")]


def test_split_check_finds_what_the_cohort_check_cannot() -> None:
    """A horizon within the cohort's follow-up but past the training split's is refused."""
    from clinai.config import parse_config
    from clinai.exceptions import DataError
    from clinai.runs._survival_outcome import check_split_follow_up

    config = parse_config(survival_config())  # horizon 365
    time = np.array([100.0, 400.0, 200.0, 300.0, 500.0])
    event = np.array([1, 0, 1, 1, 0])
    check_split_follow_up(config, time, event, {"training": [0, 1], "test": [2, 4], "x": []})
    with pytest.raises(DataError, match=r"^outcome.horizons 365 .* training split \(300\)"):
        check_split_follow_up(config, time, event, {"training": [0, 3], "test": [1, 4]})
    with pytest.raises(DataError, match=r"^no events up to outcome.horizons 365 in the test split"):
        check_split_follow_up(config, time, event, {"training": [0, 1], "test": [1, 4]})


def _awkward(frame: pd.DataFrame, events: int | None = None) -> pd.DataFrame:
    """Integer patient ids, follow-up as floats with many ties, optionally ``events`` events."""
    awkward = frame.assign(
        patient=np.arange(len(frame)) + 1000,
        time=np.round(frame["time"] / 50) * 50 + 0.25,  # about 20 distinct times
    )
    if events is not None:  # the first `events` patients by follow-up had the event
        first = awkward["time"].rank(method="first") <= events
        awkward["event"] = first.astype(int)
    return awkward


@pytest.mark.slow  # printing the two reports' PDFs takes most of its 5 s
def test_validate_takes_a_tiny_sample_with_integer_ids_and_tied_float_times(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """30 patients, 8 events, integer ids, tied float follow-up: validated, not refused."""
    path = _write(workspace, lambda f: _awkward(f.head(30), events=8))
    out = workspace / "tiny_validation"
    argv = ["validate", str(path), *VALIDATE, "--horizon", str(HORIZON), "--patient", "patient"]
    assert main([*argv, "--quiet", "--out", str(out)]) == 0, capsys.readouterr().err
    metrics = yaml.safe_load((out / "survival_metrics.json").read_text(encoding="utf-8"))
    assert metrics["n"] == 30 and metrics["n_patients"] == 30
    assert metrics["follow_up"]["events_by_horizon"] == 8
    assert "1000" not in (out / "validation_report.md").read_text(encoding="utf-8")


@pytest.mark.slow  # a whole survival run (tuning, bootstrap, PDFs): about 10 s on 2 cores
def test_run_takes_integer_ids_tied_float_times_and_a_horizon_written_as_text(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(workspace, _awkward, {"horizons": [str(HORIZON)]})
    assert main(["run", CONFIG, "--quiet", "--set", "evaluation.n_boot=5"]) == 0, (
        capsys.readouterr().err
    )
    (run,) = [p for p in _run_folders(workspace) if not p.name.endswith(".failed")]
    training = yaml.safe_load((run / "training.json").read_text(encoding="utf-8"))
    assert training["outcome"]["horizons"] == [float(HORIZON)]
    assert training["small_data"]["outcome"] == "survival"

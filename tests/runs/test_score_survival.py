"""`clinai score` with a registered survival model (issue 16): risks at every horizon.

Real parts throughout: the bundled WHAS500 data through the real ami_1y_mortality
pipeline, a real Cox model (out-of-fold style recalibration fitted in-sample, to keep the
test short) wrapped as the survival run saves it, registered in a real MLflow SQLite
store; real Parquet files, the real audit log and `clinai validate --time`. One slow
test scores a whole `clinai run` of the tiny survival use case and checks the scored
risk of each test-split patient against the risk the run evaluated.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from clinai.cli import main
from clinai.data import PSEUDONYM_KEY_ENV, pseudonymise
from clinai.exceptions import DataError
from clinai.runs import score
from clinai.runs._score_table import FIXED_COLUMNS, as_follow_up, survival_horizons_of_file
from tests._helpers import ROOT

KEY = "score-survival-key-41c7"
CANARY = "CANARY-PATIENT-score-surv"
HORIZONS = [365.0, 730.0]
CONFIG = "ami.yaml"
CONFIG_MODEL = "ami_1y_mortality"  # the registered model's name (the experiment's)
FEATURES = [f"feature:{name}" for name in ("age", "gender", "bmi", "hr", "sysbp", "diasbp")]


def _env(mp: pytest.MonkeyPatch, root: Path) -> None:
    mp.chdir(root)
    mp.setenv("MLFLOW_DISABLE_TELEMETRY", "1")
    mp.setenv("CLINAI_PIPELINES_PATH", str(ROOT / "pipelines"))
    mp.setenv(PSEUDONYM_KEY_ENV, KEY)


def whas500() -> pd.DataFrame:
    """WHAS500 as a CSV source would hold it: features, follow-up and a patient id."""
    from sksurv.datasets import load_whas500

    x, y = load_whas500()
    frame = x.astype({c: str for c in x.columns if x[c].dtype.name == "category"})
    frame["lenfol"], frame["fstat"] = y["lenfol"], y["fstat"].astype(int)
    frame.insert(0, "patient", [f"{CANARY}-{i:03d}" for i in range(len(frame))])
    return frame


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace: the ami config at two horizons, a Cox model registered as v1 @approved."""
    from clinai import models
    from clinai.runs import load_pipeline
    from clinai.runs._survival_model import HorizonRiskModel
    from clinai.tracking import MlflowTracker

    root = tmp_path_factory.mktemp("score_survival")
    with pytest.MonkeyPatch.context() as mp:
        _env(mp, root)
        config = yaml.safe_load((ROOT / "configs" / "ami_1y_mortality.yaml").read_text())
        config["data"] = {"source": {"type": "csv", "path": "whas500.csv"}, "patient_id": "patient"}
        config["outcome"]["horizons"] = HORIZONS
        (root / CONFIG).write_text(yaml.safe_dump(config), encoding="utf-8")
        frame = whas500()
        frame.to_csv(root / "whas500.csv", index=False)
        pipeline = load_pipeline("ami_1y_mortality")
        X = pipeline.features(frame)[[f.removeprefix("feature:") for f in FEATURES]]
        follow = pipeline.outcome(frame)
        y = models.survival_target(follow["time"].to_numpy(), follow["event"].to_numpy())
        fitted = models.get_model("cox_net", numeric=list(X.columns), categorical=[]).fit(X, y)
        recalibration = models.fit_survival_recalibration(
            fitted.predict_risk(X, [HORIZONS[0]])[:, 0],
            y["time"],
            y["event"],
            horizon=HORIZONS[0],
        )
        model = HorizonRiskModel(fitted, HORIZONS, recalibration)
        tracker = MlflowTracker(f"sqlite:///{root / 'mlruns.db'}", "ami_1y_mortality")
        tracker.start("fitted-for-score-test")
        info = tracker.log_model(
            model,
            input_example=models.synthetic_input_example(X),
            registered_model_name=CONFIG_MODEL,
        )
        tracker.end("FINISHED")
        tracker.registry.set_alias(CONFIG_MODEL, "approved", info["version"])
    return root


@pytest.fixture
def ws(registered: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    _env(monkeypatch, registered)
    return registered


def _audit(root: Path) -> list[str]:
    path = root / "runs" / "audit.jsonl"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def test_survival_model_scores_the_absolute_risk_at_every_horizon(ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "scored.parquet"
    args = ["score", CONFIG, "--data", "whas500.csv", "--out", str(out), "--quiet"]
    assert main(args) == 0
    table = pd.read_parquet(out)
    survival = ["outcome_type", "horizon", "risk_365", "risk_730"]
    follow_up = ["outcome_time", "outcome_event"]
    groups = ["group:sex", "group:age_band"]
    head = [c for c in table.columns if not c.startswith("feature:")]
    assert head == [*FIXED_COLUMNS, *survival, *follow_up, *groups]
    assert "outcome" not in table.columns  # a survival risk is never a binary outcome's
    assert set(table["outcome_type"]) == {"survival"} and set(table["horizon"]) == {365.0}
    dtypes = {c: str(t) for c, t in table.dtypes.items()}
    assert dtypes["risk_730"] == dtypes["outcome_time"] == "float64"
    assert dtypes["outcome_event"] == "Int8" and dtypes["outcome_type"] == "string"
    # risk is the first horizon's; risks are absolute and grow with the horizon
    np.testing.assert_array_equal(table["risk"], table["risk_365"])
    assert (table["risk_730"] >= table["risk_365"]).all() and table["risk"].between(0, 1).all()
    from clinai.tracking import ModelRegistry

    found = ModelRegistry(f"sqlite:///{ws / 'mlruns.db'}").load_version(CONFIG_MODEL, version=1)
    assert found is not None
    model = found["model"]
    X = table[[c for c in table.columns if c.startswith("feature:")]]
    X = X.rename(columns=lambda c: c.removeprefix("feature:"))
    np.testing.assert_array_equal(table[["risk_365", "risk_730"]], model.predict_risk(X))
    np.testing.assert_array_equal(table["risk"], model.predict_proba(X)[:, 1])
    # the follow-up kept as binary scoring keeps a derivable outcome; identifiers pseudonymised
    frame = whas500()
    np.testing.assert_array_equal(table["outcome_time"], frame["lenfol"].astype(float))
    np.testing.assert_array_equal(table["outcome_event"], frame["fstat"])
    expected = pseudonymise(frame["patient"], key=KEY.encode())
    assert table["patient_id"].tolist() == expected.tolist()
    assert CANARY.encode() not in out.read_bytes()
    assert survival_horizons_of_file(out) == HORIZONS
    record = json.loads(_audit(ws)[-1])
    assert record["kind"] == "score" and record["outcome_type"] == "survival"
    assert record["horizons"] == HORIZONS and record["outcome_available"] is True
    text = "\n".join(_audit(ws))
    assert CANARY not in text and not any(p in text for p in table["patient_id"])


def test_follow_up_joined_later_validates_with_clinai_validate(ws: Path, tmp_path: Path) -> None:
    from clinai.runs._validate_survival import validate_survival_file

    frame = whas500()
    frame.drop(columns=["lenfol", "fstat"]).to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "scored.parquet"
    args = {"data": tmp_path / "new.csv", "out": out, "show_progress": False}
    first = score(CONFIG, **args)
    assert not first["outcome_available"] and first["n_scored"] == len(frame)
    table = pd.read_parquet(out)
    assert "outcome_time" not in table.columns and "risk_730" in table.columns
    # incremental as for binary models: a rerun on the same data adds nothing
    again = score(CONFIG, **args)
    assert again["n_scored"] == 0 and again["n_already_scored"] == len(frame)
    pd.testing.assert_frame_equal(pd.read_parquet(out), table)
    # once follow-up is complete: join it by pseudonym, validate the risk at the horizon
    follow = pd.DataFrame(
        {
            "patient_id": pseudonymise(frame["patient"], key=KEY.encode()),
            "days": frame["lenfol"],
            "died": frame["fstat"],
        }
    )
    joined = table.merge(follow, on="patient_id", validate="one_to_one")
    joined.to_parquet(tmp_path / "joined.parquet")
    metrics = validate_survival_file(
        tmp_path / "joined.parquet",
        time="days",
        event="died",
        horizon=365.0,
        score="risk",
        patient="patient_id",
        n_boot=10,
        out_dir=tmp_path / "validation",
        show_progress=False,
        pdf=False,
    )
    assert metrics["n"] == len(frame) and metrics["horizon"] == 365.0
    assert 0.6 < metrics["metrics"]["harrell_c"]["estimate"] < 0.9


@pytest.mark.parametrize(
    ("edit", "extra", "needle"),
    [
        (None, ["--set", "outcome.horizons=[365]"], "outcome.horizons [365] of the config differ"),
        (
            None,
            ["--set", "outcome.type=binary", "--set", "outcome.horizons=[]"],
            "is a survival model, but the config's outcome.type is binary",
        ),
        ("drop_hr", [], "column hr not found by features()"),
        ("pipeline_without_hr", [], "column 'hr', an input of version 1"),
        ("negative_time", [], "negative or non-numeric 'time'"),
        ("unknown_event", [], "'event' not in outcome.event_codes"),
    ],
)
def test_bad_input_stops_with_one_line_and_writes_nothing(
    ws: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    edit: str | None,
    extra: list[str],
    needle: str,
) -> None:
    frame = whas500()
    if edit == "drop_hr":
        frame = frame.drop(columns=["hr"])
    elif edit == "pipeline_without_hr":  # the data have it, the pipeline no longer makes it
        source = (ROOT / "pipelines" / "ami_1y_mortality.py").read_text(encoding="utf-8")
        patched = source + '\nFEATURES = [f for f in FEATURES if f != "hr"]\n'
        (tmp_path / "no_hr.py").write_text(patched, encoding="utf-8")
        extra = ["--set", f"pipeline={tmp_path / 'no_hr.py'}"]
    elif edit == "negative_time":
        frame.loc[3, "lenfol"] = -5
    elif edit == "unknown_event":
        frame.loc[3, "fstat"] = 7
    frame.to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "scored.parquet"
    before = _audit(ws)
    args = ["score", CONFIG, "--data", str(tmp_path / "new.csv"), "--out", str(out), "--quiet"]
    assert main([*args, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err, err
    assert not out.exists() and _audit(ws) == before


def test_follow_up_keeps_unknown_rows_missing_and_codes_competing_events() -> None:
    raw = pd.DataFrame({"time": [10.0, None, 30.0, 40.0], "event": [2, 1, None, 3]})
    follow = as_follow_up(raw, pipeline="p", censored=2, event=3, competing=[1])
    assert follow["outcome_time"].tolist()[0] == 10.0
    assert follow["outcome_time"].isna().tolist() == [False, True, True, False]
    assert follow["outcome_event"].tolist() == [0, pd.NA, pd.NA, 1]
    one = pd.DataFrame({"time": [5.0], "event": [1]})
    competing = as_follow_up(one, pipeline="p", censored=2, event=3, competing=[1])
    assert competing["outcome_event"].tolist() == [2]
    with pytest.raises(DataError, match="columns 'time' and 'event'"):
        as_follow_up(pd.DataFrame({"time": [1.0]}), pipeline="p")


def test_monitor_refuses_survival_before_anything_is_written(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow import MlflowClient

    out = tmp_path / "scored.parquet"
    score(CONFIG, data="whas500.csv", out=out, show_progress=False)
    needle = "clinai monitor does not support survival models"
    advice = "clinai validate PREDS --time outcome_time --event outcome_event --horizon"
    # a survival use case (whatever its monitoring section)
    monitoring = tmp_path / "monitoring"
    assert main(["monitor", CONFIG, "--predictions", str(out), "--out", str(monitoring)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and advice in err, err
    assert not monitoring.exists()
    uri = f"sqlite:///{ws / 'mlruns.db'}"
    assert MlflowClient(uri).get_experiment_by_name("ami_1y_mortality-monitoring") is None
    # survival predictions under a binary use case's monitoring plan: no store is even opened
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    monkeypatch.chdir(fresh)
    config = ROOT / "configs" / "acute_deterioration.yaml"
    pattern = str(tmp_path / "scored*.parquet")  # a quoted glob is expanded too
    assert main(["monitor", str(config), "--predictions", pattern, "--out", "m"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "holds survival risks" in err, err
    assert list(fresh.iterdir()) == []


@pytest.mark.slow  # a whole tiny survival run (tuning, recalibration, bootstrap, PDFs): ~15-40 s
def test_scored_risk_of_a_test_split_patient_is_the_risk_the_run_evaluated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clinai.runs._prepare import read_split
    from clinai.runs._rundir import RunDir
    from clinai.runs._validate_survival import validate_survival_file
    from clinai.tracking import load_model_dir
    from tests.integration.conftest import FIXTURES
    from tests.integration.test_survival_parity import survival_config, survival_frame

    _env(monkeypatch, tmp_path)
    monkeypatch.setenv("CLINAI_PIPELINES_PATH", str(FIXTURES))
    survival_frame().to_csv(tmp_path / "survival.csv", index=False)
    config = survival_config()
    config["outcome"]["horizons"] = HORIZONS
    config["evaluation"].pop("acceptance")
    (tmp_path / "tiny_survival.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    quick = ["--quiet", "--set", "tuning.n_trials=1", "--set", "evaluation.n_boot=10"]
    assert main(["run", "tiny_survival.yaml", *quick]) == 0
    out = tmp_path / "scored.parquet"
    data = {"data": tmp_path / "survival.csv", "out": out, "show_progress": False}
    score("tiny_survival.yaml", alias="candidate", **data)
    table = pd.read_parquet(out).set_index("patient_id")
    (metrics_file,) = (tmp_path / "runs" / "tiny_survival").glob("*/survival_metrics.json")
    run = metrics_file.parent
    # the risk the run's evaluate stage computed for each test-split patient
    X, _, _, patients = read_split(RunDir(run), "test")
    evaluated = load_model_dir(run / "model").predict_proba(X)[:, 1]
    np.testing.assert_array_equal(table.loc[list(patients), "risk"].to_numpy(), evaluated)
    # and the test split's validation from the scored file is the run's, number for number
    test = table.loc[list(patients)].reset_index()
    test.to_parquet(tmp_path / "test.parquet")
    metrics = validate_survival_file(
        tmp_path / "test.parquet",
        time="outcome_time",
        event="outcome_event",
        horizon=HORIZONS[0],
        score="risk",
        n_boot=10,
        out_dir=tmp_path / "validation",
        show_progress=False,
        pdf=False,
    )
    run_metrics = json.loads(metrics_file.read_text())["metrics"]
    for name in ("harrell_c", "uno_c", "time_auc", "oe_ratio", "brier", "ici"):
        assert metrics["metrics"][name]["estimate"] == run_metrics[name]["estimate"], name

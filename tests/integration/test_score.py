"""`clinai score`: new patients through the use case's pipeline and the registered model.

Real MLflow SQLite stores, real registered models and real files: the tiny CSV use case
(one `clinai run` with one trial, shared by the module) and the SYNTHETIC
acute_deterioration use case from a folder of minute-level vitals (a logistic model
fitted on a few generated stays and registered directly, to keep the test short).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from clinai.cli import main
from clinai.data import PSEUDONYM_KEY_ENV, generate_ward_stays, pseudonymise
from clinai.runs import score
from clinai.runs._score import BAD_TIMES, FUTURE_TIMES, NO_KEY, NO_MODEL
from clinai.runs._score_table import (
    BAD_OUTCOME,
    FEATURE_MISSING,
    FEATURE_TYPE,
    FIXED_COLUMNS,
    OTHER_VERSION,
    UNREADABLE,
)

from .conftest import CANARY_ID, FAST, FIXTURES, ROOT, synthetic_frame, tiny_config

pytestmark = pytest.mark.integration

KEY = "score-test-key-5d1c"
NEW_IDS = "NEWPATIENT-93b1"
# The tiny pipeline with a prediction time per row (PREDICTION_TIME names the column).
TIMED_PIPELINE = (FIXTURES / "tiny_pipeline.py").read_text(encoding="utf-8") + (
    '\nPREDICTION_TIME = "admitted"\n'
)


def _env(mp: pytest.MonkeyPatch, root: Path) -> None:
    mp.chdir(root)
    mp.setenv("MLFLOW_DISABLE_TELEMETRY", "1")
    mp.setenv("CLINAI_PIPELINES_PATH", str(FIXTURES))
    mp.setenv(PSEUDONYM_KEY_ENV, KEY)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace whose tiny model is registered as v1 with the aliases candidate and approved."""
    root = tmp_path_factory.mktemp("score")
    with pytest.MonkeyPatch.context() as mp:
        _env(mp, root)
        synthetic_frame().to_csv(root / "patients.csv", index=False)
        config = tiny_config(
            tuning={"n_trials": 1, "timeout_s": 60, "cv_folds": 3},
            evaluation={"n_boot": 10, "shap_background": 20, "shap_max_rows": 40},
            languages=["en"],
        )
        (root / "tiny.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
        assert main(["run", "tiny.yaml", *FAST]) == 0
        _client(root).set_registered_model_alias("tiny", "approved", "1")
    return root


@pytest.fixture
def ws(trained: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    _env(monkeypatch, trained)
    return trained


def _client(root: Path) -> Any:
    from mlflow import MlflowClient

    uri = f"sqlite:///{root / 'mlruns.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _new_patients(path: Path, n: int = 40, seed: int = 5, **columns: Any) -> pd.DataFrame:
    frame = synthetic_frame(n, seed=seed, canary=NEW_IDS)
    for name, values in columns.items():
        frame[name] = values
    frame.to_csv(path, index=False)
    return frame


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out.strip(), captured.err.strip()


def test_predictions_file_columns_dtypes_and_pseudonyms(ws: Path, tmp_path: Path) -> None:
    frame = _new_patients(tmp_path / "new.csv")
    out = tmp_path / "predictions.parquet"
    args = ["score", "tiny.yaml", "--data", str(tmp_path / "new.csv"), "--out", str(out)]
    assert main([*args, "--quiet"]) == 0
    table = pd.read_parquet(out)
    features = ["feature:age", "feature:sex", "feature:lactate"]
    assert list(table.columns) == [*FIXED_COLUMNS, "outcome", "group:sex", *features]
    kept = frame[frame["age"] >= 18]  # the pipeline's exclusion applies to new data too
    assert len(table) == len(kept)
    dtypes = {c: str(t) for c, t in table.dtypes.items()}
    assert dtypes["risk"] == "float64" and dtypes["outcome"] == "Int8"
    assert dtypes["prediction_time"] == "datetime64[us]"
    assert dtypes["scored_at"] == "datetime64[us, UTC]"
    assert dtypes["patient_id"] == dtypes["model_version"] == dtypes["group:sex"] == "string"
    assert table["prediction_time"].isna().all()  # the tiny use case has no prediction time
    assert ((table["risk"] > 0) & (table["risk"] < 1)).all()
    assert set(table["model_name"]) == {"tiny"} and set(table["model_version"]) == {"1"}
    # the same keyed HMAC as at training; no raw identifier anywhere in the file
    expected = pseudonymise(kept["patient"].astype(str), key=KEY.encode())
    assert table["patient_id"].tolist() == expected.tolist()
    assert NEW_IDS.encode() not in out.read_bytes()
    np.testing.assert_array_equal(table["outcome"].to_numpy(), kept["event"].to_numpy())
    # the risk is the registered model's on the features as fed
    model = _registered(ws)
    X = table[features].rename(columns=lambda c: c.removeprefix("feature:"))
    np.testing.assert_allclose(table["risk"], model.predict_proba(X)[:, 1], rtol=0, atol=0)


def _registered(root: Path) -> Any:
    import mlflow.sklearn

    mlflow.set_tracking_uri(f"sqlite:///{root / 'mlruns.db'}")
    return mlflow.sklearn.load_model("models:/tiny/1")


def test_audit_record_holds_counts_and_hashes_never_an_identifier(ws: Path, tmp_path: Path) -> None:
    _new_patients(tmp_path / "new.csv")
    out = tmp_path / "predictions.parquet"
    result = score("tiny.yaml", data=tmp_path / "new.csv", out=out, show_progress=False)
    lines = (ws / "runs" / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[-1])
    assert record["seq"] == result["audit_seq"]
    assert record["kind"] == "score"
    assert (record["model_name"], record["model_version"], record["alias"]) == (
        "tiny",
        "1",
        "approved",
    )
    assert record["n_scored"] == result["n_scored"] > 0
    table = pd.read_parquet(out)
    assert record["data_sha256"] == table["data_sha256"].iloc[0]
    assert record["config_sha256"] == table["config_sha256"].iloc[0]
    text = "\n".join(lines)
    assert NEW_IDS not in text and CANARY_ID not in text
    assert not any(pseudonym in text for pseudonym in table["patient_id"])


def test_rerun_adds_nothing_and_new_patients_are_appended(ws: Path, tmp_path: Path) -> None:
    first = _new_patients(tmp_path / "new.csv", n=30, seed=1)
    out = tmp_path / "predictions.parquet"
    args = {"data": tmp_path / "new.csv", "out": out, "show_progress": False}
    done = score("tiny.yaml", **args)
    before = pd.read_parquet(out)
    again = score("tiny.yaml", **args)
    assert again["n_scored"] == 0 and again["n_already_scored"] == done["n_scored"]
    pd.testing.assert_frame_equal(pd.read_parquet(out), before)
    # the next extract holds the same patients and new ones: only the new are scored
    more = synthetic_frame(20, seed=2, canary="LATER")
    pd.concat([first, more]).to_csv(tmp_path / "new.csv", index=False)
    added = score("tiny.yaml", **args)
    assert added["n_scored"] == int((more["age"] >= 18).sum())
    after = pd.read_parquet(out)
    assert len(after) == len(before) + added["n_scored"] == added["n_total"]
    assert not after.duplicated(["patient_id", "prediction_time"]).any()
    pd.testing.assert_frame_equal(after.iloc[: len(before)], before)


def test_since_scores_only_later_prediction_times(ws: Path, tmp_path: Path) -> None:
    (tmp_path / "timed.py").write_text(TIMED_PIPELINE, encoding="utf-8")
    times = pd.date_range("2025-01-01", periods=40, freq="D")
    frame = _new_patients(tmp_path / "new.csv", admitted=times.strftime("%Y-%m-%dT%H:%M"))
    out = tmp_path / "predictions.parquet"
    args = {"data": tmp_path / "new.csv", "out": out, "show_progress": False}
    overrides = [f"pipeline={tmp_path / 'timed.py'}"]
    result = score("tiny.yaml", since="2025-01-31", overrides=overrides, **args)
    table = pd.read_parquet(out)
    adults = frame["age"] >= 18
    later = adults & (times > pd.Timestamp("2025-01-31"))
    assert result["n_scored"] == len(table) == int(later.sum())
    assert (table["prediction_time"] > pd.Timestamp("2025-01-31")).all()
    assert result["n_before_since"] == int(adults.sum() - later.sum())
    # without --since, the earlier times are scored now, and none twice
    rest = score("tiny.yaml", overrides=overrides, **args)
    assert rest["n_scored"] == int(adults.sum() - later.sum())
    table = pd.read_parquet(out)
    assert len(table) == int(adults.sum())
    assert not table.duplicated(["patient_id", "prediction_time"]).any()


def test_future_prediction_times_are_refused(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "timed.py").write_text(TIMED_PIPELINE, encoding="utf-8")
    admitted = ["2025-01-01T08:00"] * 39 + ["2099-01-01T08:00"]
    _new_patients(tmp_path / "new.csv", admitted=admitted)
    out = tmp_path / "predictions.parquet"
    args = ["score", "tiny.yaml", "--data", str(tmp_path / "new.csv"), "--out", str(out)]
    code, _, err = _cli([*args, "--quiet", "--set", f"pipeline={tmp_path / 'timed.py'}"], capsys)
    assert code == 2
    (line,) = err.splitlines()
    prefix = FUTURE_TIMES.split("{latest}")[0].format(count=1)
    assert line.startswith(f"error: {prefix}") and "2099-01-01T08:00:00" in line
    assert not out.exists()


def test_times_without_a_zone_are_checked_against_the_local_clock(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "timed.py").write_text(TIMED_PIPELINE, encoding="utf-8")
    monkeypatch.setenv("TZ", "Etc/GMT-2")  # a ward two hours ahead of UTC (POSIX sign)
    time.tzset()
    try:
        # ten minutes ago on the ward's clock: after "now" in UTC, but not in the future
        just_now = (pd.Timestamp.now() - pd.Timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M")
        _new_patients(tmp_path / "new.csv", admitted=[just_now] * 40)
        out = tmp_path / "predictions.parquet"
        timed = [f"pipeline={tmp_path / 'timed.py'}"]
        result = score(
            "tiny.yaml", data=tmp_path / "new.csv", out=out, overrides=timed, show_progress=False
        )
        assert result["n_scored"] > 0
        assert (pd.read_parquet(out)["prediction_time"] == pd.Timestamp(just_now)).all()
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_prediction_times_that_are_not_times_are_refused(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    timed = tmp_path / "timed.py"
    timed.write_text(TIMED_PIPELINE, encoding="utf-8")
    _new_patients(tmp_path / "new.csv", admitted=["2025-01-01T08:00"] * 39 + ["soon"])
    out = tmp_path / "predictions.parquet"
    args = ["score", "tiny.yaml", "--data", str(tmp_path / "new.csv"), "--out", str(out)]
    code, _, err = _cli([*args, "-q", "--set", f"pipeline={timed}"], capsys)
    assert code == 2
    assert err.splitlines() == [
        f"error: {BAD_TIMES.format(column='admitted', pipeline=str(timed))}"
    ]
    assert not out.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("missing", FEATURE_MISSING.format(column="lactate", version="1", name="tiny")),
        (
            "text",
            FEATURE_TYPE.format(
                column="lactate", got="text", expected="numeric", version="1", name="tiny"
            ),
        ),
    ],
)
def test_schema_mismatch_stops_with_one_line(
    change: str,
    message: str,
    ws: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    frame = _new_patients(tmp_path / "new.csv")
    extra = []
    if change == "missing":  # a pipeline version that no longer derives the model's feature
        source = (FIXTURES / "tiny_pipeline.py").read_text(encoding="utf-8")
        (tmp_path / "older.py").write_text(
            source.replace('[["age", "sex", "lactate"]]', '[["age", "sex"]]'), encoding="utf-8"
        )
        extra = ["--set", f"pipeline={tmp_path / 'older.py'}"]
    else:  # the laboratory now exports the lactate as a text band
        frame["lactate"] = np.where(frame["lactate"] > 2, "high", "normal")
        frame.to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "predictions.parquet"
    args = ["score", "tiny.yaml", "--data", str(tmp_path / "new.csv"), "--out", str(out)]
    code, _, err = _cli([*args, "--quiet", *extra], capsys)
    assert code == 2
    assert err.splitlines() == [f"error: {message}"]
    assert not out.exists()


def test_outcome_values_other_than_0_and_1_are_refused_not_dropped(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a recoded outcome (2 = transferred) once vanished from the file without a word
    _new_patients(tmp_path / "new.csv", event=[2] + [0] * 39)
    out = tmp_path / "predictions.parquet"
    args = ["score", "tiny.yaml", "--data", str(tmp_path / "new.csv"), "--out", str(out)]
    code, _, err = _cli([*args, "--quiet"], capsys)
    assert code == 2 and err.splitlines() == [
        f"error: {BAD_OUTCOME.format(pipeline='tiny_pipeline')}"
    ]
    assert not out.exists()


@pytest.mark.parametrize(
    ("option", "what"),
    [(["--alias", "retired"], "alias @retired"), (["--version", "9"], "version 9")],
)
def test_unknown_alias_or_version_is_refused(
    option: list[str], what: str, ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _new_patients(tmp_path / "new.csv")
    out = tmp_path / "predictions.parquet"
    args = ["score", "tiny.yaml", "--data", str(tmp_path / "new.csv"), "--out", str(out)]
    code, _, err = _cli([*args, "--quiet", *option], capsys)
    assert code == 2
    assert err.splitlines() == [f"error: {NO_MODEL.format(name='tiny', what=what)}"]
    assert not out.exists()


def test_debug_after_the_command_shows_the_error_itself(ws: Path, tmp_path: Path) -> None:
    from clinai.exceptions import TrackingError

    _new_patients(tmp_path / "new.csv")
    args = ["score", "tiny.yaml", "--data", str(tmp_path / "new.csv"), "--out", "x.parquet"]
    level = logging.getLogger().level
    try:
        with pytest.raises(TrackingError, match="has no alias @retired"):
            main([*args, "-q", "--alias", "retired", "--debug"])
    finally:  # --debug turns on debug logs for the whole process
        logging.getLogger().setLevel(level)


def test_key_missing_and_another_versions_file_are_refused(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _new_patients(tmp_path / "new.csv")
    out = tmp_path / "predictions.parquet"
    args = ["score", "tiny.yaml", "--data", str(tmp_path / "new.csv"), "--out", str(out), "-q"]
    pd.DataFrame({"model_name": ["tiny"], "model_version": ["7"]}).to_parquet(out)
    before = out.read_bytes()
    code, _, err = _cli(args, capsys)
    assert code == 2
    message = OTHER_VERSION.format(path=out, found="tiny v7", name="tiny", version="1")
    assert err.splitlines() == [f"error: {message}"]
    assert out.read_bytes() == before  # nothing half-written
    out.write_text("patient,risk\n", encoding="utf-8")  # not Parquet
    code, _, err = _cli(args, capsys)
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith(f"error: {UNREADABLE.split('(')[0].format(path=out)}")
    monkeypatch.delenv(PSEUDONYM_KEY_ENV)
    code, _, err = _cli(args, capsys)
    assert (code, err.splitlines()) == (2, [f"error: {NO_KEY}"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(ws: Path) -> Iterator[str]:
    """``mlflow models serve`` of tiny@approved (a real subprocess); its base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{ws / 'mlruns.db'}",
        # the server starts uvicorn from PATH: the one installed beside this Python
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = [Path(sys.executable).parent / "mlflow", "models", "serve"]
    args = ["-m", "models:/tiny@approved", "--env-manager", "local", "-p", str(port)]
    log = (ws / f"serve-{port}.log").open("wb")
    process = subprocess.Popen([*map(str, command), *args], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, (ws / f"serve-{port}.log").read_text()
            try:
                with urllib.request.urlopen(f"{url}/ping", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_served_model_gives_the_same_risk_over_http(ws: Path, served: str, tmp_path: Path) -> None:
    _new_patients(tmp_path / "new.csv", n=5)
    out = tmp_path / "predictions.parquet"
    score("tiny.yaml", data=tmp_path / "new.csv", out=out, show_progress=False)
    table = pd.read_parquet(out)
    features = [c for c in table.columns if c.startswith("feature:")]
    row = table.iloc[0]
    body = {
        "dataframe_split": {
            "columns": [c.removeprefix("feature:") for c in features],
            "data": [[row[c] for c in features]],
        }
    }
    request = urllib.request.Request(
        f"{served}/invocations",
        data=json.dumps(body, default=float).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    ((_, risk),) = answer["predictions"]  # predict_proba: [P(no event), P(event)]
    assert risk == pytest.approx(row["risk"], rel=1e-12)


# The SYNTHETIC acute_deterioration use case, scored from a folder of minute-level vitals.


@pytest.fixture(scope="module")
def acute(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with a logistic acute_deterioration model registered as @approved."""
    from clinai import models
    from clinai.runs import load_pipeline
    from clinai.tracking import MlflowTracker

    root = tmp_path_factory.mktemp("acute")
    with pytest.MonkeyPatch.context() as mp:
        _env(mp, root)
        pipeline = load_pipeline(str(ROOT / "pipelines" / "acute_deterioration.py"))
        cohort = pipeline.load(n_stays=20, seed=3)
        X, y = pipeline.features(cohort), pipeline.outcome(cohort)
        model = models.get_model(
            "logistic",
            numeric=[c for c in X.columns if c != "ward"],
            categorical=["ward"],
            C=0.1,
        )
        with warnings.catch_warnings():  # columns never observed in 20 stays: imputed away
            warnings.simplefilter("ignore", UserWarning)
            model.fit(X, y)
            tracker = MlflowTracker(f"sqlite:///{root / 'mlruns.db'}", "acute_deterioration")
            tracker.start("fitted-for-score-test")
            info = tracker.log_model(
                model,
                input_example=models.synthetic_input_example(X),
                registered_model_name="acute_deterioration",
            )
            tracker.end("FINISHED")
        tracker.registry.set_alias("acute_deterioration", "approved", info["version"])
        generate_ward_stays(4, seed=11, out_dir=root / "ward", minutes_per_row=5, event_rate=0.5)
    return root


def test_acute_deterioration_from_a_vitals_folder(
    acute: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch, acute)
    config = ROOT / "configs" / "acute_deterioration.yaml"
    monkeypatch.setenv("CLINAI_PIPELINES_PATH", str(ROOT / "pipelines"))
    out = tmp_path / "ward.parquet"
    result = score(config, data=acute / "ward", out=out, show_progress=False)
    table = pd.read_parquet(out)
    stays = pd.read_parquet(acute / "ward" / "synthetic_stays.parquet")
    assert result["n_scored"] == len(table) > 50
    assert set(table["patient_id"]) <= set(
        pseudonymise(stays["patient_id"].astype(str), key=KEY.encode())
    )
    assert (table["prediction_time"] == table["prediction_time"].dt.floor("h")).all()
    assert {"outcome", "baseline", "group:sex", "group:age_band", "group:ward"} <= set(table)
    assert table["outcome"].sum() > 0  # event times are in the folder: retrospective scoring
    assert "feature:spo2_24h_min" in table.columns
    # incremental: a rerun adds nothing; --since scores only the hours after it
    assert score(config, data=acute / "ward", out=out, show_progress=False)["n_scored"] == 0
    cut = table["prediction_time"].quantile(0.5)
    later = tmp_path / "later.parquet"
    since = score(config, data=acute / "ward", out=later, since=str(cut), show_progress=False)
    assert since["n_scored"] == int((table["prediction_time"] > cut).sum())
    pd.testing.assert_series_equal(
        pd.read_parquet(later)["risk"],
        table.loc[table["prediction_time"] > cut, "risk"].reset_index(drop=True),
    )


def test_acute_deterioration_without_events_scores_without_outcome(
    acute: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch, acute)
    monkeypatch.setenv("CLINAI_PIPELINES_PATH", str(ROOT / "pipelines"))
    folder = tmp_path / "ward"
    folder.mkdir()
    stays = pd.read_parquet(acute / "ward" / "synthetic_stays.parquet")
    # stays still on the ward: no event, no end yet (scored up to their newest vital sign)
    stays.drop(columns=["event", "event_time", "end_time"]).to_parquet(
        folder / "synthetic_stays.parquet"
    )
    (folder / "synthetic_vitals.parquet").write_bytes(
        (acute / "ward" / "synthetic_vitals.parquet").read_bytes()
    )
    out = tmp_path / "ward.parquet"
    config = ROOT / "configs" / "acute_deterioration.yaml"
    result = score(config, data=folder, out=out, show_progress=False)
    table = pd.read_parquet(out)
    assert not result["outcome_available"] and "outcome" not in table.columns
    assert len(table) > 50 and table["risk"].between(0, 1).all()

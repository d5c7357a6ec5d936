"""`clinai update`: an update proposed on monitored periods, validated on a later one and
registered as @candidate with its change log (issue 15, item 4). Real SQLite MLflow store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.special import expit, logit

from clinai.cli import main

from .conftest import (
    CANARY_ID,
    FAST,
    FIXTURES,
    repoint_store,
    synthetic_frame,
    write_workspace,
)

pytestmark = pytest.mark.integration

PLAN = {"period": "month", "operating_threshold": 0.3, "min_events": 20, "n_boot": 20}
EASY = [
    "--set",
    "evaluation.acceptance=[{name: discrimination, metric: auroc, statistic: estimate, min: 0.1}]",
]
#: Rows scored per month; the first month is small (too few events to fit on alone).
MONTHS = {"2025-01": 30, "2025-02": 300, "2025-03": 300, "2025-04": 300}
#: The planted miscalibration: every patient's log-odds of the event is 1.0 higher than predicted.
SHIFT = 1.0
#: The pseudonymisation key of the tests (CLINAI_PSEUDONYM_KEY).
KEY = "update-test-key"


def _client(workspace: Path) -> Any:
    from mlflow import MlflowClient

    uri = f"sqlite:///{workspace / 'mlruns.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _aliases(workspace: Path) -> dict[str, str]:
    return {k: str(v) for k, v in _client(workspace).get_registered_model("tiny").aliases.items()}


def _predictions(
    workspace: Path, *, outcome: bool = True, shift: float = SHIFT
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What `clinai score` writes (MONITORING.md section 3) for new synthetic patients.

    Also returns the outcomes as a hospital would deliver them: raw patient id,
    prediction time and outcome (the predictions file holds the keyed pseudonym only).
    """
    import mlflow.sklearn

    from clinai.data import pseudonymise

    # Both URIs: an earlier command in this process may have left the registry URI elsewhere.
    mlflow.set_tracking_uri(f"sqlite:///{workspace / 'mlruns.db'}")
    mlflow.set_registry_uri(f"sqlite:///{workspace / 'mlruns.db'}")
    model = mlflow.sklearn.load_model("models:/tiny@approved")
    new = synthetic_frame(sum(MONTHS.values()), seed=7, canary=f"{CANARY_ID}-NEW")
    X = new[["age", "sex", "lactate"]].astype({"age": "float64"})
    risk = model.predict_proba(X)[:, 1]
    rng = np.random.default_rng(3)
    times = np.concatenate(
        [pd.date_range(f"{m}-02", periods=k, freq="50min") for m, k in MONTHS.items()]
    )
    frame = pd.DataFrame(
        {
            "patient_id": pseudonymise(new["patient"], key=KEY.encode()).to_numpy(),
            "prediction_time": pd.to_datetime(times).astype("datetime64[us]"),
            "risk": risk,
            "model_name": "tiny",
            "model_version": "1",
            "config_sha256": "0" * 64,
            "data_sha256": "1" * 64,
            "scored_at": pd.Timestamp("2025-06-01").as_unit("us"),
            "clinai_version": "test",
            **{f"feature:{c}": X[c] for c in X.columns},
        }
    )
    events = rng.binomial(1, expit(logit(risk) + shift))
    if outcome:
        frame["outcome"] = pd.array(events, dtype="Int8")
    delivered = pd.DataFrame(
        {"patient": new["patient"], "prediction_time": frame["prediction_time"], "outcome": events}
    )
    return frame, delivered


def _monitoring_folder(workspace: Path, frame: pd.DataFrame, name: str) -> Path:
    """A `clinai monitor` folder as the contract describes it (MONITORING.md section 4)."""
    from clinai._utils import sha256_file
    from clinai.config import load_config
    from clinai.runs._plan import monitoring_plan

    folder = workspace / "monitoring" / name
    folder.mkdir(parents=True)
    path = folder / "predictions.parquet"
    frame.to_parquet(path, index=False)
    plan = monitoring_plan(load_config(workspace / "tiny.yaml"))
    assert plan is not None
    report = {
        "schema_version": 1,
        "model": {"name": "tiny", "version": "1", "alias": "approved", "run_id": None},
        "plan": {**plan["plan"], "sha256": plan["sha256"]},
        "period_unit": "month",
        "inputs": {
            "predictions": [
                {"file_name": path.name, "sha256": sha256_file(path), "rows": len(frame)}
            ],
            "outcomes": None,
        },
        "periods": [],
    }
    (folder / "monitoring.json").write_text(json.dumps(report), encoding="utf-8")
    return folder


#: The session's trained template, by the id of its TempPathFactory (one per session).
_TEMPLATES: dict[int, Path] = {}


def _train_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Kept: the fixture below is also imported by test_approve_update, which makes pytest
    # hold a second session fixture of the same name; both share this one training.
    if id(tmp_path_factory) in _TEMPLATES:
        return _TEMPLATES[id(tmp_path_factory)]
    root = tmp_path_factory.mktemp("approved")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setenv("MLFLOW_DISABLE_TELEMETRY", "1")
        mp.setenv("CLINAI_PIPELINES_PATH", str(FIXTURES))
        mp.setenv("CLINAI_PSEUDONYM_KEY", KEY)
        write_workspace(root)
        config = yaml.safe_load((root / "tiny.yaml").read_text(encoding="utf-8"))
        (root / "tiny.yaml").write_text(
            yaml.safe_dump({**config, "monitoring": PLAN}), encoding="utf-8"
        )
        assert main(["run", "tiny.yaml", *FAST, *EASY]) == 0
        (run,) = [p for p in (root / "runs" / "tiny").iterdir() if p.is_dir()]
        review = ["--reviewer", "Jane Doe", "--role", "CMO", "--comment", "Meets the plan."]
        assert main(["approve", str(run), *review, "--decision", "approve"]) == 0
    _TEMPLATES[id(tmp_path_factory)] = root
    return root


@pytest.fixture(scope="session")
def trained_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model trained with a monitoring plan and approved as v1, once per session.

    A template only: each test gets its own copy (``approved``), since the tests register,
    approve, reject and delete versions and append to the audit log.
    """
    return _train_template(tmp_path_factory)


@pytest.fixture
def approved(
    trained_once: Path,
    workspace: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """The tiny model trained with a monitoring plan, registered and approved as version 1.

    A private copy of the session's template, its MLflow store re-pointed at the copy.
    """
    monkeypatch.setenv("CLINAI_PSEUDONYM_KEY", KEY)
    shutil.copytree(trained_once, workspace, dirs_exist_ok=True)
    repoint_store(workspace / "mlruns.db", trained_once, workspace)
    capsys.readouterr()
    return workspace


def test_the_copied_store_names_no_path_of_its_template(approved: Path, trained_once: Path) -> None:
    # Every artifact location in the copy's MLflow store points into the copy itself: a test
    # that registers or deletes a version cannot touch the template or another test's copy.
    assert str(trained_once).encode() not in (approved / "mlruns.db").read_bytes()
    assert str(approved).encode() in (approved / "mlruns.db").read_bytes()
    assert _client(approved).get_model_version("tiny", "1").source.count(str(approved)) <= 1


def test_update_is_registered_as_candidate_with_change_log_and_audit_record(
    approved: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The monitoring folder is the one `clinai monitor` writes (MONITORING.md section 4).
    # Outcomes arrive in their own file, matched to the predictions by keyed pseudonym.
    scored, delivered = _predictions(approved, outcome=False)
    scored.to_parquet(approved / "scored.parquet", index=False)
    delivered.to_csv(approved / "outcomes.csv", index=False)
    folder = approved / "monitoring" / "m1"
    monitor = ["monitor", "tiny.yaml", "--predictions", "scored.parquet", "--out", str(folder)]
    monitor += ["--outcomes", "outcomes.csv"]
    assert main([*monitor, "--quiet"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    code = main(["update", "tiny.yaml", "--monitoring", str(folder), "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "registered v2 as @candidate" in out
    assert _aliases(approved) == {"approved": "1", "candidate": "2"}

    record = json.loads((folder / "update" / "update.json").read_text(encoding="utf-8"))
    assert record["proposal"]["method"] in ("recalibration_in_the_large", "logistic_recalibration")
    assert record["proposal"]["intercept"] == pytest.approx(SHIFT, abs=0.5)
    assert record["periods"] == {
        "unit": "month",
        "fit": ["2025-01", "2025-02", "2025-03"],
        "validation": ["2025-04"],
    }
    validation = record["validation"]
    assert validation["n"] == MONTHS["2025-04"]
    # The update corrects the planted under-prediction on the later, unseen period.
    original, updated = validation["original"]["oe_ratio"], validation["update"]["oe_ratio"]
    assert abs(updated["estimate"] - 1) < abs(original["estimate"] - 1)
    assert validation["update"]["auroc"]["ci_low"] is not None

    version = _client(approved).get_model_version("tiny", "2")
    assert version.tags["clinai.update_of"] == "1"
    assert version.tags["approval.decision"] == "pending"
    artifacts = {a.path for a in _client(approved).list_artifacts(version.run_id)}
    assert {"update.json", "change_log.md"} <= artifacts
    change_log = (folder / "update" / "change_log.md").read_text(encoding="utf-8")
    assert "Update of tiny version 1" in change_log
    for text in (change_log, json.dumps(record)):
        assert CANARY_ID not in text
        assert not any(p in text for p in scored["patient_id"])

    # The update's signature is the approved version's: the same inputs.
    from mlflow.models import get_model_info

    inputs = [get_model_info(f"models:/tiny/{v}").signature.inputs for v in (1, 2)]
    assert inputs[0] == inputs[1]

    last = json.loads(
        (approved / "runs" / "audit.jsonl").read_text(encoding="utf-8").splitlines()[-1]
    )
    assert last["kind"] == "update" and last["version"] == "2" and last["base_version"] == "1"
    assert main(["audit", "verify", "runs/audit.jsonl"]) == 0


def test_a_calibrated_model_is_kept_and_nothing_is_registered(
    approved: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Outcomes drawn from the model's own risks: the procedure keeps the original model.
    folder = _monitoring_folder(approved, _predictions(approved, shift=0.0)[0], "calibrated")
    code = main(["update", "tiny.yaml", "--monitoring", str(folder), "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "proposed none; nothing registered" in out
    assert _aliases(approved) == {"approved": "1", "candidate": "1"}
    record = json.loads((folder / "update" / "update.json").read_text(encoding="utf-8"))
    assert record["registered"] is None and len(record["proposal"]["tests"]) == 1
    assert record["validation"]["update"] == record["validation"]["original"]
    last = json.loads(
        (approved / "runs" / "audit.jsonl").read_text(encoding="utf-8").splitlines()[-1]
    )
    assert (last["kind"], last["method"], last["version"]) == ("update", "none", None)
    # again: the default folder exists; the message no longer names an --out never given
    assert main(["update", "tiny.yaml", "--monitoring", str(folder), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {folder / 'update'} exists (the default folder of an update")
    assert "pass --out with a new folder" in err


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("no outcomes", "hold no outcomes"),
        ("one period", "a later period to validate on"),
        ("few events", "fewer than the plan's min_events (20)"),
        ("edited plan", "was edited after version 1 of tiny was registered"),
        ("risks differ", "column 'risk' of the predictions is not what version 1 of 'tiny' gives"),
    ],
)
def test_bad_input_stops_with_one_line_and_registers_nothing(
    approved: Path, capsys: pytest.CaptureFixture[str], case: str, expected: str
) -> None:
    frame, _ = _predictions(approved, outcome=case != "no outcomes")
    extra: list[str] = []
    if case == "one period":
        frame = frame[frame["prediction_time"] < pd.Timestamp("2025-02-01")]
    if case == "few events":
        extra = ["--validate-from", "2025-02"]  # only January (30 rows) is left to fit on
    if case == "risks differ":
        frame["risk"] = frame["risk"] * 0.9
    folder = _monitoring_folder(approved, frame, "bad")
    if case == "edited plan":
        config = yaml.safe_load((approved / "tiny.yaml").read_text(encoding="utf-8"))
        config["monitoring"]["min_events"] = 5
        (approved / "tiny.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    code = main(["update", "tiny.yaml", "--monitoring", str(folder), "--quiet", *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and expected in err, err
    assert _aliases(approved) == {"approved": "1", "candidate": "1"}
    assert not (folder / "update").exists()


def test_a_failure_after_registration_leaves_nothing_registered(
    approved: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The audit log cannot be written (a folder stands in its place): the version the update
    # registered is deleted again, its MLflow run is FAILED, and no update folder is left.
    folder = _monitoring_folder(approved, _predictions(approved)[0], "failing")
    log = approved / "runs" / "audit.jsonl"
    log.rename(approved / "audit.kept")
    log.mkdir()
    code = main(["update", "tiny.yaml", "--monitoring", str(folder), "--quiet"])
    assert code == 1, capsys.readouterr().err
    assert _aliases(approved) == {"approved": "1", "candidate": "1"}
    versions = _client(approved).search_model_versions("name = 'tiny'")
    assert sorted(str(v.version) for v in versions) == ["1"]
    experiment = _client(approved).get_experiment_by_name("tiny-update")
    (run,) = _client(approved).search_runs([experiment.experiment_id])
    assert run.info.status == "FAILED"
    assert not (folder / "update").exists() and not (folder / ".update.tmp").exists()

"""A registered tiny model version and its predictions, for the ``clinai monitor`` tests.

The version is registered in a real SQLite MLflow store with the artifacts the train
stage logs for monitoring (``monitoring_plan.json``, ``drift_reference.json``,
``metrics.json``) and the plan-hash tag; no estimator is needed, because monitoring
reads the risks from the predictions. The predictions follow MONITORING.md section 3
(synthetic patients, not real people).
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .conftest import CANARY_ID

KEY = "monitor-test-key"
PLAN = {
    "period": "month",
    "operating_threshold": 0.2,
    "min_events": 5,
    "n_boot": 20,
    "subgroups": ["sex"],
    "limits": [
        {"metric": "oe_ratio", "min": 0.8, "max": 1.25, "action": "recalibrate"},
        {"metric": "auroc", "statistic": "ci_high", "min": 0.55, "action": "suspend"},
        {"metric": "psi", "max": 0.2, "action": "investigate"},
        {"metric": "alert_rate_change", "max": 0.5, "action": "investigate"},
    ],
    "cusum": {"odds_ratio": 1.5, "limit": 4.5, "action": "investigate"},
}
MONTHS = ("2025-01", "2025-02", "2025-03")


def _risk(age: np.ndarray, lactate: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(-4.0 + 0.035 * age + 0.5 * lactate)))


def development_frame(n: int = 600, seed: int = 1) -> pd.DataFrame:
    """Synthetic development features (the reference of the drift)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 95, n).astype(float),
            "sex": rng.choice(["female", "male"], n),
            "lactate": rng.gamma(2.0, 1.0, n),
        }
    )


def reference() -> Any:
    """The drift reference the registered version carries (development features and risks)."""
    from clinai.evaluation.monitoring import drift_reference

    frame = development_frame()
    risk = _risk(frame["age"].to_numpy(), frame["lactate"].to_numpy())
    return drift_reference(frame, risk=risk, categorical=["sex"])


def register_version(
    workspace: Path,
    config_path: Path,
    *,
    plan_tag: bool = True,
    plan_sha256: str | None = None,
) -> str:
    """Register a version of ``tiny`` with the monitoring artifacts; return its number."""
    from mlflow import MlflowClient

    from clinai.config import load_config
    from clinai.runs._plan import MONITORING_PLAN_TAG, monitoring_plan

    uri = f"sqlite:///{workspace / 'mlruns.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.get_experiment_by_name("tiny")
    experiment_id = experiment.experiment_id if experiment else client.create_experiment("tiny")
    run = client.create_run(experiment_id, run_name="train")
    frame = development_frame()
    risk = _risk(frame["age"].to_numpy(), frame["lactate"].to_numpy())
    plan = monitoring_plan(load_config(config_path))
    assert plan is not None
    files = {
        "monitoring_plan.json": plan,
        "drift_reference.json": reference().to_dict(),
        "metrics.json": {
            "n": len(frame),
            "prevalence": 0.2,
            "thresholds": [
                {"threshold": 0.2, "flag_rate": {"estimate": float((risk >= 0.2).mean())}}
            ],
        },
    }
    folder = workspace / "artifacts-to-log"
    folder.mkdir(exist_ok=True)
    for name, content in files.items():
        (folder / name).write_text(json.dumps(content), encoding="utf-8")
        client.log_artifact(run.info.run_id, str(folder / name))
    client.set_terminated(run.info.run_id)
    with contextlib.suppress(Exception):  # registered by an earlier call
        client.create_registered_model("tiny")
    version = client.create_model_version("tiny", run.info.artifact_uri, run.info.run_id)
    if plan_tag:
        tag = plan_sha256 or plan["sha256"]
        client.set_model_version_tag("tiny", version.version, MONITORING_PLAN_TAG, tag)
    client.set_registered_model_alias("tiny", "approved", version.version)
    return str(version.version)


def raw_predictions(n_patients: int = 300, seed: int = 2) -> pd.DataFrame:
    """Raw-id prediction rows over three months (one or two per patient), with outcomes."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_patients):
        for _ in range(int(rng.integers(1, 3))):
            month = MONTHS[int(rng.integers(0, len(MONTHS)))]
            day, hour = int(rng.integers(1, 28)), int(rng.integers(0, 24))
            rows.append((f"{CANARY_ID}-{i:04d}", pd.Timestamp(f"{month}-{day:02d} {hour:02d}:00")))
    frame = pd.DataFrame(rows, columns=["patient", "prediction_time"])
    frame = frame.drop_duplicates(["patient", "prediction_time"]).reset_index(drop=True)
    n = len(frame)
    frame["age"] = rng.integers(18, 95, n).astype(float)
    frame["sex"] = rng.choice(["female", "male"], n)
    frame["lactate"] = rng.gamma(2.0, 1.0, n)
    frame["risk"] = _risk(frame["age"].to_numpy(), frame["lactate"].to_numpy())
    frame["outcome"] = rng.binomial(1, frame["risk"].to_numpy()).astype("int8")
    return frame


def write_predictions(
    raw: pd.DataFrame, path: Path, *, version: str = "1", drop: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Write ``raw`` as ``clinai score`` would (pseudonymised ids); return the written frame."""
    from clinai.data import pseudonymise

    out = pd.DataFrame(
        {
            "patient_id": pseudonymise(raw["patient"].astype(str), key=KEY.encode()),
            "prediction_time": raw["prediction_time"].astype("datetime64[us]"),
            "risk": raw["risk"].astype(float),
            "model_name": "tiny",
            "model_version": version,
            "config_sha256": "0" * 64,
            "data_sha256": "1" * 64,
            "scored_at": pd.Timestamp(datetime.now(UTC)).floor("s"),
            "clinai_version": "test",
            "outcome": raw["outcome"].astype("Int8"),
            "group:sex": raw["sex"].astype(str),
            **{f"feature:{c}": raw[c] for c in ("age", "sex", "lactate")},
        }
    )
    out = out.drop(columns=list(drop))
    out.to_parquet(path, index=False)
    return out


def period_of(raw: pd.DataFrame) -> pd.Series:
    """The calendar month of each prediction time, as monitoring.json labels it."""
    return raw["prediction_time"].dt.strftime("%Y-%m")


def outcomes_file(raw: pd.DataFrame, path: Path, **changes: Any) -> Path:
    """The outcomes CSV (raw ids) of ``raw``; ``changes`` replace columns."""
    frame = raw[["patient", "prediction_time", "outcome"]].assign(**changes)
    frame.to_csv(path, index=False)
    return path

"""A survival use case added the way the README says, on a public dataset none bundled uses.

flchain (scikit-survival: serum free light chains, Olmsted County) written to CSV with integer
patient ids, a pipeline file and a config in a folder outside the repository, then ``clinai
run``, ``clinai score`` and ``clinai validate`` of held-out patients, as a new user would (H2,
twelfth session). Checks what that user met: the report's times in the pipeline's unit, and no
patient id (integers, read as written) in any document, record or log line.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clinai.cli import main

PIPELINE = """
import pandas as pd
from clinai.data import age_band, attribute_frame

METADATA = {
    "title": "Serum free light chains: death within five years",
    "setting": "acute",
    "event_phrase": "will have died",
    "time_unit": "days",
    "dataset": "sksurv/flchain",
    "outcome": "Death from any cause after the serum sample.",
    "prediction_time": "When the assay result is known.",
    "population": "Olmsted County residents aged 50 or more.",
    "intended_use": "Test.",
    "not_for": ["Clinical decisions."],
    "limitations": ["One county."],
}


def exclusions(raw):
    return []


def outcome(cohort):
    return pd.DataFrame({"time": cohort["futime"].astype(float), "event": cohort["death"]})


def features(cohort):
    X = cohort[["age", "kappa", "lambda"]].astype(float)
    X["female"] = (cohort["sex"] == "F").astype(int)
    return X


def sensitive_attributes(cohort):
    return attribute_frame(cohort, sex=cohort["sex"], age_band=age_band(cohort["age"]))
"""

CONFIG = """
experiment: flchain_5y
pipeline: flchain_mortality
data:
  source: {type: csv, path: ../data/dev.csv}
  patient_id: patient_id
outcome: {type: survival, horizons: [1826]}
split: {method: stratified, test_size: 0.3}
models: [cox_net]
tuning: {n_trials: 2, timeout_s: 600, cv_folds: 3, storage: "sqlite:///optuna.db"}
evaluation: {n_boot: 20, sensitive_attributes: [sex, age_band]}
tracking: {uri: "sqlite:///mlruns.db", register_model: true}
languages: [en, da]
seed: 42
"""
TEXT_SUFFIXES = {".md", ".html", ".json", ".yaml", ".txt", ".log", ".jsonl"}


def _write_use_case(root: Path) -> pd.DataFrame:
    """flchain as CSV with 7-digit integer patient ids; return the held-out rows."""
    from sksurv.datasets import load_flchain

    X, y = load_flchain()
    table = X[["age", "kappa", "lambda", "sex"]].copy()
    table["futime"], table["death"] = y["futime"], y["death"].astype(int)
    rng = np.random.default_rng(3)
    table = table.iloc[rng.permutation(len(table))[:800]].reset_index(drop=True)
    table.insert(0, "patient_id", 4_100_000 + rng.permutation(800))
    for folder in ("data", "pipelines", "configs"):
        (root / folder).mkdir()
    table.iloc[:600].to_csv(root / "data" / "dev.csv", index=False)
    table.iloc[600:].to_csv(root / "data" / "holdout.csv", index=False)
    (root / "pipelines" / "flchain_mortality.py").write_text(PIPELINE, encoding="utf-8")
    (root / "configs" / "flchain.yaml").write_text(CONFIG, encoding="utf-8")
    return table.iloc[600:].reset_index(drop=True)


def _ids_in_outputs(root: Path, ids: set[str]) -> list[str]:
    found = []
    for path in (root / "runs").rglob("*"):
        if path.is_file() and path.suffix in TEXT_SUFFIXES:
            tokens = set(re.findall(r"\d{7}", path.read_text(encoding="utf-8", errors="ignore")))
            found += [f"{path.name}: {token}" for token in sorted(tokens & ids)]
    return found


@pytest.mark.slow  # a run (tuning, bootstrap, MLflow), scoring and a validation: about 25 s
def test_flchain_from_csv_with_integer_ids_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    held_out = _write_use_case(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("CLINAI_PSEUDONYM_KEY", "test-key-not-secret")
    assert main(["run", "configs/flchain.yaml", "--quiet"]) == 0
    (run_dir,) = [p for p in (tmp_path / "runs" / "flchain_5y").iterdir() if p.is_dir()]
    report = (run_dir / "validation_report.md").read_text(encoding="utf-8")
    assert "had the event within 1,826 days; the model predicted" in report
    assert "time unit of the data" not in report

    scored = tmp_path / "runs" / "scored.parquet"
    args = ["--data", "data/holdout.csv", "--alias", "candidate", "--out", str(scored)]
    assert main(["score", "configs/flchain.yaml", *args]) == 0
    predictions = pd.read_parquet(scored)
    # a site's file: the integer ids as its own system writes them, beside the scores
    predictions["patient_id"] = held_out["patient_id"].to_numpy()
    site_file = tmp_path / "runs" / "site.csv"
    predictions.to_csv(site_file, index=False)
    options = ["--time", "outcome_time", "--event", "outcome_event", "--horizon", "1826"]
    options += ["--score", "risk", "--patient", "patient_id", "--group", "group:sex"]
    out = tmp_path / "runs" / "validation"
    assert main(["validate", str(site_file), *options, "--bootstrap", "20", "--out", str(out)]) == 0
    assert (out / "validation_report.md").is_file()

    everyone = set(pd.read_csv(tmp_path / "data" / "dev.csv")["patient_id"].astype(str))
    everyone |= set(held_out["patient_id"].astype(str))
    site_file.unlink()  # the site's own file holds them by design; nothing else may
    assert _ids_in_outputs(tmp_path, everyone) == []

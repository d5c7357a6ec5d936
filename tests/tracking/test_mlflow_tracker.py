from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from clinai._utils import redact_url
from clinai.exceptions import TrackingError
from clinai.tracking import MlflowTracker, flatten_metrics, mark_orphan_runs, pip_requirements_for
from clinai.tracking._artifacts import is_excluded
from clinai.tracking._client import artifact_location


def _client(uri: str) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _runs(uri: str, experiment: str, filter_string: str = "") -> list[Any]:
    client = _client(uri)
    exp = client.get_experiment_by_name(experiment)
    return list(client.search_runs([exp.experiment_id], filter_string=filter_string))


def _pipeline() -> tuple[Any, Any]:
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(80, 3)), columns=["age", "systolic", "hrtrate"])
    y = (X["age"] + rng.normal(size=80) > 0).astype(int)
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y), X


def test_parent_run_with_nested_trials(mlflow_db: str, experiment: str) -> None:
    tracker = MlflowTracker(mlflow_db, experiment)
    with tracker.run("icu-run", tags={"clinai.config_sha256": "abc"}) as run_id:
        tracker.log_params(
            {
                "tuning": {"n_trials": 3, "metric": "roc_auc"},
                "models": ["a", "b"],
                "long": "x" * 7000,
            }
        )
        tracker.log_metrics({"auroc": 0.81, "skipped": None, "subgroup_age_<50_auroc": 0.7})
        children = [
            tracker.log_trial("logistic", 0, {"C": 1.0, "penalty": "l2"}, 0.79, "COMPLETE"),
            tracker.log_trial("logistic", 1, {"C": 0.1}, None, "PRUNED"),
            tracker.log_trial("lightgbm", 0, {"num_leaves": 15}, None, "FAIL"),
        ]
    assert tracker.run_id == run_id

    parent = _client(mlflow_db).get_run(run_id)
    assert parent.info.status == "FINISHED"
    assert parent.info.run_name == "icu-run"
    assert parent.data.tags["clinai.config_sha256"] == "abc"
    assert parent.data.params["tuning.n_trials"] == "3"
    assert parent.data.params["models"] == '["a", "b"]'
    assert len(parent.data.params["long"]) == 6000
    assert parent.data.metrics == {"auroc": 0.81, "subgroup_age_lt50_auroc": 0.7}

    nested = _runs(mlflow_db, experiment, f"tags.mlflow.parentRunId = '{run_id}'")
    assert sorted(r.info.run_id for r in nested) == sorted(children)
    by_name = {r.info.run_name: r for r in nested}
    assert set(by_name) == {"logistic-trial-0", "logistic-trial-1", "lightgbm-trial-0"}
    first = by_name["logistic-trial-0"]
    assert first.data.tags["clinai.kind"] == "trial"
    assert first.data.tags["clinai.model_family"] == "logistic"
    assert first.data.tags["clinai.trial_state"] == "COMPLETE"
    assert first.data.params == {"C": "1.0", "penalty": "l2"}
    assert first.data.metrics == {"cv_score": 0.79}
    assert by_name["logistic-trial-1"].info.status == "FINISHED"
    assert by_name["logistic-trial-1"].data.metrics == {}
    assert by_name["lightgbm-trial-0"].info.status == "FAILED"


def test_artifacts_live_beside_the_database(mlflow_db: str, experiment: str) -> None:
    tracker = MlflowTracker(mlflow_db, experiment)
    tracker.start("r")
    tracker.end()
    exp = _client(mlflow_db).get_experiment_by_name(experiment)
    db_dir = Path(mlflow_db.removeprefix("sqlite:///")).parent
    assert exp.artifact_location == (db_dir / "mlartifacts" / experiment).as_uri()


def test_log_model_register_alias_and_reload(
    mlflow_db: str, experiment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    monkeypatch.chdir(tmp_path)  # nothing may land in the working directory
    model, X = _pipeline()
    name = f"{experiment}-model"
    tracker = MlflowTracker(mlflow_db, experiment)
    with tracker.run("train"):
        info = tracker.log_model(model, input_example=X.head(3), registered_model_name=name)
        assert info["version"] == 1
        tracker.registry.set_alias(name, "candidate", info["version"])
        tracker.registry.set_version_tags(name, info["version"], {"clinai.verdict": "accepted"})
    assert list(tmp_path.iterdir()) == []

    loaded = mlflow.pyfunc.load_model(f"models:/{name}@candidate")
    proba = loaded.predict(X.head(5))
    assert proba.shape == (5, 2)
    assert proba.sum(axis=1) == pytest.approx(1.0)
    assert proba == pytest.approx(model.predict_proba(X.head(5)))

    client = _client(mlflow_db)
    version = client.get_model_version_by_alias(name, "candidate")
    assert str(version.version) == "1" and version.tags == {"clinai.verdict": "accepted"}
    logged = client.get_logged_model(info["model_id"])
    assert logged.source_run_id == tracker.run_id
    assert logged.experiment_id == tracker.experiment_id
    db_dir = Path(mlflow_db.removeprefix("sqlite:///")).parent
    assert logged.artifact_location.startswith((db_dir / "mlartifacts" / experiment).as_uri())
    local = Path(
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"{logged.artifact_location}/requirements.txt",
            dst_path=str(tmp_path / "dl"),
        )
    )
    requirements = local.read_text()
    assert "scikit-learn==" in requirements and "cloudpickle==" in requirements
    assert "torch" not in requirements and "pytest" not in requirements


def test_log_model_without_registration(mlflow_db: str, experiment: str) -> None:
    model, X = _pipeline()
    tracker = MlflowTracker(mlflow_db, experiment)
    with tracker.run("train"):
        info = tracker.log_model(model, input_example=X.head(2), registered_model_name=None)
    assert info["version"] is None and info["model_uri"].startswith("models:/")


def test_exception_in_block_marks_run_failed(mlflow_db: str, experiment: str) -> None:
    tracker = MlflowTracker(mlflow_db, experiment)
    with pytest.raises(RuntimeError, match="boom"), tracker.run("doomed"):
        raise RuntimeError("boom")
    assert _client(mlflow_db).get_run(tracker.run_id).info.status == "FAILED"
    # The tracker can start again after a failure.
    with tracker.run("retry") as second:
        pass
    assert _client(mlflow_db).get_run(second).info.status == "FINISHED"


def test_keyboard_interrupt_marks_run_killed(mlflow_db: str, experiment: str) -> None:
    tracker = MlflowTracker(mlflow_db, experiment)
    with pytest.raises(KeyboardInterrupt), tracker.run("interrupted"):
        raise KeyboardInterrupt
    assert _client(mlflow_db).get_run(tracker.run_id).info.status == "KILLED"


def test_mark_orphan_runs(mlflow_db: str, experiment: str) -> None:
    assert mark_orphan_runs(mlflow_db, f"{experiment}-missing") == 0
    orphan = MlflowTracker(mlflow_db, experiment)
    orphan_id = orphan.start("killed-process")  # never ended, as if the process died
    orphan.log_trial("logistic", 0, {"C": 1.0}, 0.7, "COMPLETE")
    assert mark_orphan_runs(mlflow_db, experiment, min_age_s=3600) == 0
    assert mark_orphan_runs(mlflow_db, experiment) == 1
    run = _client(mlflow_db).get_run(orphan_id)
    assert run.info.status == "FAILED" and run.data.tags["clinai.orphaned"] == "true"
    assert mark_orphan_runs(mlflow_db, experiment) == 0


def test_log_artifacts_respects_exclude(mlflow_db: str, experiment: str, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    for relative in (
        "metrics.json",
        "predictions.parquet",
        "model_card.md",
        "plots/roc.png",
        "prepared/train.parquet",
        "prepared/test.parquet",
        "audit.json",
        "plots/.roc.png.123.tmp",
    ):
        path = run_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    tracker = MlflowTracker(mlflow_db, experiment)
    with tracker.run("artifacts"):
        logged = tracker.log_artifacts(
            run_dir, artifact_path="run", exclude=("predictions.parquet", "prepared/", "*.tmp")
        )
    assert logged == ["audit.json", "metrics.json", "model_card.md", "plots/roc.png"]
    client = _client(mlflow_db)
    top = sorted(a.path for a in client.list_artifacts(tracker.run_id, "run"))
    assert top == ["run/audit.json", "run/metrics.json", "run/model_card.md", "run/plots"]
    assert [a.path for a in client.list_artifacts(tracker.run_id, "run/plots")] == [
        "run/plots/roc.png"
    ]


@pytest.mark.parametrize(
    ("relative", "patterns", "excluded"),
    [
        ("predictions.parquet", ("predictions.parquet",), True),
        ("sub/predictions.parquet", ("predictions.parquet",), True),
        ("prepared/train.parquet", ("prepared/",), True),
        ("prepared/train.parquet", ("prepared",), True),
        ("a/prepared/x.csv", ("prepared/",), True),
        ("preparedness.txt", ("prepared/",), False),
        ("plots/roc.png", ("*.parquet",), False),
        ("plots/roc.png", ("plots/*.png",), True),
    ],
)
def test_exclude_patterns(relative: str, patterns: tuple[str, ...], excluded: bool) -> None:
    assert is_excluded(relative, patterns) is excluded


def test_errors_are_wrapped_with_context(mlflow_db: str, experiment: str) -> None:
    tracker = MlflowTracker(mlflow_db, experiment)
    with pytest.raises(TrackingError, match=re.escape("no run is active while logging params")):
        tracker.log_params({"a": 1})
    with tracker.run("r"):
        tracker.log_params({"a": 1})
        with pytest.raises(TrackingError) as info:
            tracker.log_params({"a": 2})  # MLflow refuses to change a logged param
        expected = f"MLflow tracking at {mlflow_db} failed while logging params: "
        assert str(info.value).startswith(expected)
        assert info.value.__cause__ is not None
        with pytest.raises(TrackingError, match="is still active"):
            tracker.start("second")
    with pytest.raises(ValueError, match="'status' parameter"):
        tracker.end("DONE")  # type: ignore[arg-type]


def test_unreachable_store_raises_tracking_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    uri = f"sqlite:///{tmp_path}/a-file/mlruns.db"
    with pytest.raises(TrackingError, match=re.escape(f"MLflow tracking at {uri} failed while")):
        MlflowTracker(uri, "x").start("r")


def test_flatten_metrics() -> None:
    est = {"estimate": 0.8, "ci_low": 0.7, "ci_high": 0.9}
    metrics = {
        "schema_version": 1,
        "n": 60,
        "events": 12,
        "prevalence": 0.2,
        "auroc": est,
        "brier": {"estimate": 0.12, "ci_low": None, "ci_high": float("nan")},
        "calibration": {"slope": est, "intercept": {"estimate": None}, "curve": [{"p": 0.1}]},
        "thresholds": [{"threshold": 0.2, "sensitivity": est, "ppv": None}],
        "decision_curve": [{"threshold": 0.1, "net_benefit": 0.05}],
        "roc_curve": [{"fpr": 0, "tpr": 0}],
        "subgroups": {
            "age": [
                {"group": "<50", "n": None, "events": None, "suppressed": True, "auroc": None},
                {"group": "70+", "n": 27, "events": 6, "suppressed": False, "auroc": est},
            ]
        },
        "baseline_comparison": {"name": "score", "auroc_diff": est, "p_value": 0.3},
        "acceptance": [{"status": "pass"}, {"status": "fail"}, {"status": "pass"}],
    }
    flat = flatten_metrics(metrics)
    assert flat == {
        "n": 60.0,
        "events": 12.0,
        "prevalence": 0.2,
        "auroc": 0.8,
        "auroc_ci_low": 0.7,
        "auroc_ci_high": 0.9,
        "brier": 0.12,
        "calibration_slope": 0.8,
        "calibration_slope_ci_low": 0.7,
        "calibration_slope_ci_high": 0.9,
        "sensitivity_at_0.2": 0.8,
        "sensitivity_at_0.2_ci_low": 0.7,
        "sensitivity_at_0.2_ci_high": 0.9,
        "subgroup_age_70plus_n": 27.0,
        "subgroup_age_70plus_events": 6.0,
        "subgroup_age_70plus_auroc": 0.8,
        "subgroup_age_70plus_auroc_ci_low": 0.7,
        "subgroup_age_70plus_auroc_ci_high": 0.9,
        "baseline_auroc_diff": 0.8,
        "baseline_auroc_diff_ci_low": 0.7,
        "baseline_auroc_diff_ci_high": 0.9,
        "baseline_p_value": 0.3,
        "acceptance_n_pass": 2.0,
        "acceptance_n_fail": 1.0,
        "acceptance_n_not_applicable": 0.0,
    }
    assert not any("lt50" in key for key in flat)


def test_helpers() -> None:
    assert redact_url("postgresql+psycopg2://user:secret@db:5432/mlflow") == (
        "postgresql+psycopg2://user:***@db:5432/mlflow"
    )
    assert redact_url("sqlite:///mlruns.db") == "sqlite:///mlruns.db"
    assert artifact_location("http://localhost:5000", "x") is None
    assert artifact_location("sqlite:///:memory:", "x") is None
    assert artifact_location("sqlite:////data/m.db", "exp") == "file:///data/mlartifacts/exp"
    model, _ = _pipeline()
    pins = pip_requirements_for(model)
    assert any(p.startswith("scikit-learn==") for p in pins)
    assert not any(p.startswith(("torch==", "lightgbm==")) for p in pins)
    assert "MlflowTracker(tracking_uri='postgresql://u:***@h/db'" in repr(
        MlflowTracker("postgresql://u:pw@h/db", "e")
    )


def test_importing_tracking_and_reporting_is_cheap() -> None:
    code = (
        "import sys, clinai.tracking, clinai.reporting; "
        "print(sorted(m for m in ('mlflow', 'jinja2', 'matplotlib', 'pandas', 'sklearn') "
        "if m in sys.modules))"
    )
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert time.perf_counter() - start < 10


def test_save_and_load_model_dir(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from clinai.tracking import load_model_dir, save_model_dir

    model, X = _pipeline()
    path = save_model_dir(model, tmp_path / "model", input_example=X.head(2))
    assert (path / "MLmodel").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no staging folder left
    assert load_model_dir(path).predict_proba(X.head(3)) == pytest.approx(
        model.predict_proba(X.head(3))
    )
    assert "pickle" not in caplog.text  # MLflow's skops advice does not apply here
    with pytest.raises(TrackingError, match="no MLmodel file"):
        load_model_dir(tmp_path / "missing")


@pytest.fixture
def two_versions(
    mlflow_db: str, experiment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[MlflowTracker, str]:
    """A finished run that registered versions 1 and 2 of ``<experiment>-model``."""
    monkeypatch.chdir(tmp_path)  # nothing may land in the working directory
    model, X = _pipeline()
    name = f"{experiment}-model"
    tracker = MlflowTracker(mlflow_db, experiment)
    with tracker.run("train"):
        for _ in range(2):
            tracker.log_model(model, input_example=X.head(2), registered_model_name=name)
    return tracker, name


def test_delete_version_leaves_nothing_registered(
    mlflow_db: str, two_versions: tuple[MlflowTracker, str]
) -> None:
    from mlflow.exceptions import MlflowException

    tracker, name = two_versions
    tracker.registry.set_alias(name, "candidate", 2)
    assert tracker.registry.model_version(name, 2) == {
        "run_id": tracker.run_id,
        "tags": {},
        "aliases": ["candidate"],
    }
    tracker.registry.delete_version(name, 2)
    client = _client(mlflow_db)
    assert [str(v.version) for v in client.search_model_versions(f"name = '{name}'")] == ["1"]
    assert tracker.registry.model_version(name, 2) is None
    assert client.get_registered_model(name).aliases == {}  # the alias went with its version
    tracker.registry.delete_version(name, 1)  # the last one: the model goes too
    with pytest.raises(MlflowException):
        client.get_registered_model(name)


def test_alias_removed_only_from_its_version(
    mlflow_db: str, two_versions: tuple[MlflowTracker, str]
) -> None:
    tracker, name = two_versions
    tracker.registry.set_alias(name, "approved", 1)
    assert tracker.registry.delete_alias_of(name, "approved", 2) is False
    assert _client(mlflow_db).get_registered_model(name).aliases == {"approved": 1}
    assert tracker.registry.delete_alias_of(name, "approved", 1) is True
    assert _client(mlflow_db).get_registered_model(name).aliases == {}


def test_audit_anchors_as_run_tags(mlflow_db: str, experiment: str) -> None:
    from clinai.tracking import find_audit_anchors

    tracker = MlflowTracker(mlflow_db, experiment)
    with tracker.run("anchored") as run_id:
        pass
    # Set after the run ended, as for a failed run or a later approval.
    tracker.set_run_tags({"x.seq": "7", "x.sha": "ab" * 32, "x.chain": "cd" * 32})
    with tracker.run("not anchored"):
        pass
    found = find_audit_anchors(mlflow_db, seq_tag="x.seq", sha_tag="x.sha", chain_tag="x.chain")
    assert found == [
        (f"MLflow run anchored ({run_id})", {"seq": 7, "sha256": "ab" * 32, "chain": "cd" * 32})
    ]
    fresh = MlflowTracker(mlflow_db, experiment)
    with pytest.raises(TrackingError, match="no run is active while setting run tags"):
        fresh.set_run_tags({"a": "b"})


def test_orphan_runs_leave_no_registered_version(
    mlflow_db: str, experiment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process killed after registering its model: the version goes when its run is failed."""
    from mlflow.exceptions import MlflowException

    monkeypatch.chdir(tmp_path)
    model, X = _pipeline()
    name = f"{experiment}-model"
    finished = MlflowTracker(mlflow_db, experiment)
    with finished.run("finished"):
        finished.log_model(model, input_example=X.head(2), registered_model_name=name)
    orphan = MlflowTracker(mlflow_db, experiment)
    orphan.start("killed-after-registration")
    orphan.log_model(model, input_example=X.head(2), registered_model_name=name)
    assert mark_orphan_runs(mlflow_db, experiment, alive=lambda tags: None) == 1
    versions = _client(mlflow_db).search_model_versions(f"name = '{name}'")
    assert [(str(v.version), v.run_id) for v in versions] == [("1", finished.run_id)]
    # The only version of a model gone: the model goes too.
    lone = MlflowTracker(mlflow_db, experiment)
    lone.start("killed-alone")
    lone.log_model(model, input_example=X.head(2), registered_model_name=f"{name}-lone")
    assert mark_orphan_runs(mlflow_db, experiment) == 1
    with pytest.raises(MlflowException):
        _client(mlflow_db).get_registered_model(f"{name}-lone")


def test_registry_from_a_uri_loads_the_aliased_version_and_the_latest_metrics(
    mlflow_db: str, tmp_path: Path, two_versions: tuple[MlflowTracker, str]
) -> None:
    """A ModelRegistry made from the URI alone (as the registered-model comparison does)."""
    from clinai.tracking import ModelRegistry

    tracker, name = two_versions
    registry = ModelRegistry(mlflow_db)
    assert "secret" not in repr(ModelRegistry("postgresql://u:secret@h/db"))
    assert registry.load_model(name) is None  # no alias points at a version yet
    assert registry.latest_metrics(name) is None  # the run kept no metrics.json
    registry.set_alias(name, "candidate", 1)
    registry.set_version_tags(name, 1, {"clinai_run_id": "run-1"})
    found = registry.load_model(name)
    assert found is not None and (found["version"], found["alias"]) == ("1", "candidate")
    assert found["run_id_tag"] == "run-1" and hasattr(found["model"], "predict_proba")
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "metrics.json").write_text('{"auroc": {"estimate": 0.8}}')
    tracker.resume(str(tracker.run_id))
    tracker.log_artifacts(folder)
    tracker.end()
    assert registry.latest_metrics(name) == {
        "version": "2",
        "metrics": {"auroc": {"estimate": 0.8}},
    }
    assert registry.load_model(f"{name}-missing") is None
    assert registry.latest_metrics(f"{name}-missing") is None

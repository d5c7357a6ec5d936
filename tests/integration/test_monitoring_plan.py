"""The monitoring plan is fixed and hashed at training and refused once edited (issue 15, 2).

A real run of the tiny use case (real MLflow SQLite store, real files): the run
directory holds ``monitoring_plan.json`` and ``drift_reference.json``, audit.json
and the registered version carry the plan's hash, and ``check_monitoring_plan``
refuses the plan after an edit. The plan changes no number of ``metrics.json``.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from clinai.cli import main
from clinai.config import load_config
from clinai.runs import MonitoringPlanError, check_monitoring_plan
from clinai.runs._plan import (
    MONITORING_PLAN_TAG,
    NO_PLAN_MSG,
    NO_PLAN_TAG_MSG,
    PLAN_EDITED_MSG,
)

from ._monitoring import PLAN
from .conftest import CANARY_ID, FAST

pytestmark = pytest.mark.integration


def _with_plan(workspace: Path, plan: dict[str, Any] | None) -> Path:
    """Write ``tiny.yaml`` with the plan (None: without a monitoring section)."""
    path = workspace / "tiny.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config.pop("monitoring", None)
    if plan is not None:
        config["monitoring"] = plan
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _only_run(workspace: Path) -> Path:
    (run,) = [p for p in (workspace / "runs" / "tiny").iterdir() if p.is_dir()]
    return run


def _client(workspace: Path) -> Any:
    from mlflow import MlflowClient

    uri = f"sqlite:///{workspace / 'mlruns.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def test_plan_is_fixed_hashed_tagged_and_refused_once_edited(workspace: Path) -> None:
    config_path = _with_plan(workspace, PLAN)
    assert main(["run", "tiny.yaml", *FAST]) == 0
    run = _only_run(workspace)

    fixed = json.loads((run / "monitoring_plan.json").read_text(encoding="utf-8"))
    config = load_config(config_path)
    assert config.monitoring is not None
    assert fixed["plan"] == config.monitoring.model_dump(mode="json")
    canonical = json.dumps(fixed["plan"], sort_keys=True, separators=(",", ":"))
    assert fixed["sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    audit = json.loads((run / "audit.json").read_text(encoding="utf-8"))
    assert audit["monitoring_plan_sha256"] == fixed["sha256"]

    client = _client(workspace)
    tags = client.get_model_version("tiny", "1").tags
    assert tags[MONITORING_PLAN_TAG] == fixed["sha256"]
    # Logged with the run's artifacts (after the PHI guard passed them).
    logged = {item.path for item in client.list_artifacts(audit["registry"]["mlflow_run_id"])}
    assert {"monitoring_plan.json", "drift_reference.json", "predictor_drift.json"} <= logged

    # The development distributions: bins of the model's inputs and out-of-fold risks, no row.
    reference_text = (run / "drift_reference.json").read_text(encoding="utf-8")
    assert CANARY_ID not in reference_text
    reference = json.loads(reference_text)
    assert [f["feature"] for f in reference["features"]] == ["age", "sex", "lactate"]
    assert reference["risk"]["kind"] == "numeric" and "out-of-fold" in reference["risk_source"]
    manifest = json.loads((run / "data_manifest.json").read_text(encoding="utf-8"))
    assert reference["risk"]["n"] == manifest["split"]["n_train"]
    drift = json.loads((run / "predictor_drift.json").read_text(encoding="utf-8"))
    assert drift["n_current"] == manifest["split"]["n_test"]
    assert {row["feature"] for row in drift["features"]} == {"age", "sex", "lactate"}
    assert drift["others"]["count"] == 0 and drift["risk"]["psi"] is not None

    # The validation report: Annex IV 9 points to the plan, TRIPOD+AI 20c to the predictors.
    report = (run / "validation_report.md").read_text(encoding="utf-8")
    assert "## Post-market monitoring plan" in report and fixed["sha256"] in report
    assert "### Predictors in development and evaluation data" in report
    assert "partly answered here; to be completed by the provider" in report.split("| 9 |")[1]

    # The registered plan passes; the same plan edited after registration is refused.
    assert check_monitoring_plan(config, tags, version=1) == fixed
    edited = {**PLAN, "limits": [{**PLAN["limits"][0], "max": 1.5}, *PLAN["limits"][1:]]}
    expected = PLAN_EDITED_MSG.format(config=config_path, version="version 1", model="tiny")
    with pytest.raises(MonitoringPlanError, match=re.escape(expected)):
        check_monitoring_plan(
            load_config(_with_plan(workspace, edited)),
            tags,
            config_path=config_path,
            model_name="tiny",
            version=1,
        )
    # Key order and layout of the YAML do not matter: the hash is of the plan's content.
    reordered = dict(reversed(list(PLAN.items())))
    assert check_monitoring_plan(load_config(_with_plan(workspace, reordered)), tags) == fixed
    with pytest.raises(MonitoringPlanError, match=re.escape(NO_PLAN_MSG.format(config="x.yaml"))):
        check_monitoring_plan(load_config(_with_plan(workspace, None)), tags, config_path="x.yaml")
    untagged = {k: v for k, v in tags.items() if k != MONITORING_PLAN_TAG}
    message = NO_PLAN_TAG_MSG.format(version="version 1", model="tiny", tag=MONITORING_PLAN_TAG)
    with pytest.raises(MonitoringPlanError, match=re.escape(message)):
        check_monitoring_plan(config, untagged, version=1)


def test_a_plan_changes_no_number_of_the_validation(
    workspace: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The same run with and without a plan: metrics.json byte-identical; no plan, no file."""
    _with_plan(workspace, None)
    assert main(["run", "tiny.yaml", *FAST, "--set", "tracking.enabled=false"]) == 0
    run = _only_run(workspace)
    without = (run / "metrics.json").read_bytes()
    assert not (run / "monitoring_plan.json").exists()
    audit = json.loads((run / "audit.json").read_text(encoding="utf-8"))
    assert audit["monitoring_plan_sha256"] is None
    # The features are summarised in any case (TRIPOD+AI 20c); risks only for a plan.
    assert json.loads((run / "drift_reference.json").read_text(encoding="utf-8"))["risk"] is None

    _with_plan(workspace, PLAN)
    assert main(["run", "tiny.yaml", *FAST, "--set", "tracking.enabled=false"]) == 0
    latest = (workspace / "runs" / "tiny" / "LATEST").read_text(encoding="utf-8").strip()
    assert latest != run.name
    assert (workspace / "runs" / "tiny" / latest / "metrics.json").read_bytes() == without

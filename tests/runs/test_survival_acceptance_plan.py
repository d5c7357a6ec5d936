"""A survival run's acceptance plan: fixed at training, an edited one refused (exit 2, one line)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from clinai.cli import main
from clinai.config import load_config
from clinai.runs._acceptance_plan import (
    AcceptancePlanError,
    check_acceptance_plan,
    write_acceptance_plan,
)
from clinai.runs._rundir import resolve_run_dir

CRITERION = {"name": "discrimination", "metric": "harrell_c", "statistic": "ci_low", "min": 0.6}


def _config(path: Path, minimum: float) -> Path:
    config = {
        "experiment": "surv",
        "pipeline": "ami_1y_mortality",
        "data": {"source": {"type": "bundled", "name": "sksurv/whas500"}},
        "outcome": {"type": "survival", "horizons": [365]},
        "models": ["cox_net"],
        "evaluation": {"acceptance": [{**CRITERION, "min": minimum}]},
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture
def trained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A run directory whose train stage fixed the plan of ``surv.yaml`` (min 0.6)."""
    monkeypatch.chdir(tmp_path)
    config = load_config(_config(tmp_path / "surv.yaml", 0.6))
    run_dir = resolve_run_dir("runs", "surv", None, create=True)
    write_acceptance_plan(config, run_dir)
    return run_dir.path


def test_the_fixed_plan_passes_its_check(trained: Path) -> None:
    plan = json.loads((trained / "acceptance_plan.json").read_text())
    assert plan["criteria"] == [{**CRITERION, "max": None}]
    check_acceptance_plan(load_config(Path("surv.yaml")), plan)


def test_criteria_edited_in_the_config_are_refused(
    trained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _config(Path("surv.yaml"), 0.5)
    assert main(["evaluate", "surv.yaml", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "evaluation.acceptance in the config differs from the criteria" in err
    assert not (trained / "survival_metrics.json").exists()


def test_plan_edited_in_the_run_directory_is_refused(trained: Path) -> None:
    path = trained / "acceptance_plan.json"
    plan = json.loads(path.read_text())
    plan["criteria"][0]["min"] = 0.5
    with pytest.raises(AcceptancePlanError, match=r"acceptance_plan\.json was edited"):
        check_acceptance_plan(load_config(Path("surv.yaml")), plan)

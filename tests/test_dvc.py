"""dvc.yaml: a stage per bundled use case, each calling the clinai CLI on an existing config."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_one_stage_per_bundled_use_case() -> None:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    configs = sorted(p.stem for p in (ROOT / "configs").glob("*.yaml"))
    assert sorted(stages) == configs
    for name, stage in stages.items():
        assert stage["cmd"].startswith(f"clinai run configs/{name}.yaml ")
        assert f"pipelines/{name}.py" in stage["deps"]
        outs = [next(iter(out)) for out in stage["outs"]]
        assert outs == [
            f"model_cards/{name}.md",
            f"model_cards/{name}.da.md",
            f"model_cards/plots/{name}.calibration.png",
        ]


def test_every_stage_declares_its_metrics_and_params() -> None:
    # Issue 13 (14): without metrics: and params:, `dvc metrics diff` and `dvc params diff`
    # showed nothing. Each stage's headline file is a committed metric (cache: false) and each
    # params key is a section of its config.
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        assert stage["metrics"] == [{f"model_cards/{name}.metrics.json": {"cache": False}}]
        [params] = stage["params"]
        [(path, keys)] = params.items()
        assert path == f"configs/{name}.yaml"
        config = yaml.safe_load((ROOT / path).read_text())
        assert {"models", "tuning", "split", "evaluation", "seed"} <= set(keys)
        missing = [key for key in keys if key not in config]
        assert not missing, f"{name}: {missing} not in {path}"


def test_headline_metrics_are_flat_numbers_copied_from_metrics_json() -> None:
    from clinai.runs._report import headline_metrics

    from .reporting.conftest import METRICS

    headline = headline_metrics(METRICS)
    assert headline["auroc"] == METRICS["auroc"]["estimate"]
    assert headline["auroc_ci_low"] == METRICS["auroc"]["ci_low"]
    assert headline["calibration_slope"] == METRICS["calibration"]["slope"]["estimate"]
    assert headline["oe_ratio"] == METRICS["calibration"]["oe_ratio"]["estimate"]
    assert headline["brier"] == METRICS["brier"]["estimate"] and headline["n"] == 60
    assert (headline["criteria_passed"], headline["criteria_failed"]) == (3, 1)
    assert all(v is None or isinstance(v, int | float) for v in headline.values())
    assert headline_metrics({})["auroc"] is None


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=clinai", "-c", "user.email=clinai@example.org", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def test_dvc_diff_shows_a_changed_param_and_metric(tmp_path: Path) -> None:
    dvc = shutil.which("dvc", path=str(Path(sys.executable).parent))
    if dvc is None or shutil.which("git") is None:
        pytest.skip("dvc (dev extra) and git are needed")
    for item in ("dvc.yaml", ".dvc", "configs"):
        source = ROOT / item
        if source.is_dir():
            shutil.copytree(source, tmp_path / item, ignore=shutil.ignore_patterns("tmp", "cache"))
        else:
            shutil.copy(source, tmp_path / item)
    card = tmp_path / "model_cards" / "icu_mortality.metrics.json"
    card.parent.mkdir()
    card.write_text('{"auroc": 0.80, "brier": 0.1}\n')
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "first model")
    config = tmp_path / "configs" / "icu_mortality.yaml"
    settings = yaml.safe_load(config.read_text())
    settings["tuning"]["n_trials"] = 7
    config.write_text(yaml.safe_dump(settings))
    card.write_text('{"auroc": 0.82, "brier": 0.1}\n')
    env = {"DVC_NO_ANALYTICS": "1", "PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    params = subprocess.run(
        [dvc, "params", "diff"], cwd=tmp_path, capture_output=True, text=True, env=env, check=False
    )
    assert params.returncode == 0, params.stderr
    assert re.search(r"configs/icu_mortality\.yaml\s+tuning\.n_trials\s+\d+\s+7", params.stdout)
    metrics = subprocess.run(
        [dvc, "metrics", "diff"], cwd=tmp_path, capture_output=True, text=True, env=env, check=False
    )
    assert metrics.returncode == 0, metrics.stderr
    assert re.search(
        r"icu_mortality\.metrics\.json\s+auroc\s+0\.8\s+0\.82\s+0\.02", metrics.stdout
    ), metrics.stdout


def test_dvc_understands_the_pipeline(tmp_path: Path) -> None:
    dvc = shutil.which("dvc", path=str(Path(sys.executable).parent))
    if dvc is None:
        pytest.skip("dvc is part of the dev extra")
    for item in ("dvc.yaml", ".dvc", "configs", "pipelines", "src", "model_cards"):
        source = ROOT / item
        if source.is_dir():
            shutil.copytree(source, tmp_path / item, ignore=shutil.ignore_patterns("tmp", "cache"))
        else:
            shutil.copy(source, tmp_path / item)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    env = {"DVC_NO_ANALYTICS": "1", "PATH": str(Path(sys.executable).parent)}
    result = subprocess.run(
        [dvc, "repro", "--dry", "--force"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**env, "HOME": str(tmp_path)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for name in yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]:
        assert f"clinai run configs/{name}.yaml" in result.stdout

"""dvc.yaml: a stage per bundled use case, each calling the clinai CLI on an existing config."""

from __future__ import annotations

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
        assert outs == [f"model_cards/{name}.md", f"model_cards/plots/{name}.calibration.png"]


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

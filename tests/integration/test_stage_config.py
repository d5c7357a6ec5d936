"""The stages of one run keep what the earlier stages were given (config.resolved.yaml).

Before: ``clinai evaluate tiny.yaml --set evaluation.n_boot=40`` on a run prepared with 30
replicates wrote metrics from 40 beside a resolved config saying 30, and an evaluate with
another split validated the prepared split under a config that never made it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from clinai.cli import main

pytestmark = pytest.mark.integration


def _resolved(workspace: Path) -> dict:
    (run,) = (workspace / "runs" / "tiny").glob("*/config.resolved.yaml")
    return yaml.safe_load(run.read_text(encoding="utf-8"))


def test_a_stage_may_set_its_own_sections_but_not_earlier_ones(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["prepare", "tiny.yaml"]) == 0
    # the tuning budget is the train stage's own: allowed, and recorded
    assert main(["train", "tiny.yaml", "--quiet", "--set", "tuning.n_trials=2"]) == 0
    assert _resolved(workspace)["tuning"]["n_trials"] == 2
    capsys.readouterr()

    # the evaluate stage may not change what prepare or train used
    assert main(["evaluate", "tiny.yaml", "--quiet", "--set", "tuning.n_trials=2",
                 "--set", "split.test_size=0.2"]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "was prepared with another config: split.test_size is 0.3 there and 0.2 here" in err
    assert err.count("\n") == 1
    assert main(["evaluate", "tiny.yaml", "--quiet"]) == 2  # the YAML's 3 trials, not the 2
    assert "was trained with another config: tuning.n_trials is 2 there and 3 here" in (
        capsys.readouterr().err
    )
    assert not list((workspace / "runs" / "tiny").glob("*/metrics.json"))  # nothing written

    # its own section it may set; the report then keeps it
    args = ["tiny.yaml", "--set", "tuning.n_trials=2", "--set", "evaluation.n_boot=40"]
    assert main(["evaluate", *args, "--quiet"]) == 0
    assert _resolved(workspace)["evaluation"]["n_boot"] == 40
    assert main(["report", "tiny.yaml", "--set", "tuning.n_trials=2"]) == 2
    assert "was evaluated with another config: evaluation.n_boot is 40 there and 30 here" in (
        capsys.readouterr().err
    )
    # tracking, languages and description change no number
    assert main(["report", *args, "--set", "languages=[en]", "--set", "description=x"]) == 0
    assert _resolved(workspace)["languages"] == ["en"]

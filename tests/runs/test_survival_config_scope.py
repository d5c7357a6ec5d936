"""A survival config asking for what survival runs do not do stops before anything is written.

Found on flchain: ``--set validation.method=optimism`` gave a run with the same numbers as
without it and a card silent about the correction asked for; an ``economics:`` section was
dropped the same way.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from clinai.cli import main
from clinai.runs._survival_run import SURVIVAL_IGNORES
from tests._helpers import ROOT

AMI = ROOT / "configs" / "ami_1y_mortality.yaml"
ECONOMICS = yaml.safe_load((ROOT / "configs" / "acute_deterioration.yaml").read_text())["economics"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"validation": {"method": "optimism"}}, "validation.method"),
        ({"economics": ECONOMICS}, "economics"),
    ],
)
def test_a_part_survival_runs_do_not_carry_out_is_refused_up_front(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    change: dict,
    field: str,
) -> None:
    config = {**yaml.safe_load(AMI.read_text(encoding="utf-8")), **change}
    (tmp_path / "survival.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["run", "survival.yaml", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    head = SURVIVAL_IGNORES.split("{what}")[0].format(field=field)
    assert len(err.splitlines()) == 1 and head in err, err
    assert not (tmp_path / "runs").exists() and not (tmp_path / "mlruns.db").exists()

"""A survival config asking for what survival runs do not do stops before anything is written.

Found on flchain: ``--set validation.method=optimism`` gave a run with the same numbers as
without it and a card silent about the correction asked for; an ``economics:`` section was
dropped the same way. And a horizon beyond most follow-up is said on the console too.
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


def test_a_horizon_beyond_most_follow_up_is_said_on_the_console(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # flchain with a 5,000-day horizon: the run printed its O/E as if nothing were amiss
    from clinai.runs._survival_run import warn_follow_up

    follow = {"n": 600, "censored_before_horizon": 413, "events_by_horizon": 172}
    with caplog.at_level("WARNING", logger="clinai.runs._survival_run"):
        warn_follow_up("flchain", {"horizon": 5000.0, "follow_up": follow})
        warn_follow_up(
            "flchain", {"horizon": 1826.0, "follow_up": {**follow, "censored_before_horizon": 10}}
        )
    (record,) = caplog.records
    assert "413 of 600 test patients (69%) were censored before the horizon 5000" in record.message
    assert "15 followed to it without the event" in record.message

"""The fairness bootstrap's bar ends full, also when no group is large enough to resample."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from clinai.config import ExperimentConfig
from clinai.runs import _progress
from clinai.runs._fairness import fairness_blocks


def test_the_bar_is_full_when_every_group_is_suppressed(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(_progress, "console", Console(file=screen, force_terminal=True, width=100))
    config = ExperimentConfig.model_validate(
        {
            "experiment": "x",
            "pipeline": "icu_mortality",
            "data": {"source": {"type": "bundled", "name": "vcdExtra/ICU"}},
            "evaluation": {"n_boot": 50, "sensitive_attributes": ["sex"]},
        }
    )
    rng = np.random.default_rng(0)
    y, risk = np.array([0, 1] * 6), rng.uniform(0.05, 0.6, 12)  # 12 patients: every cell < 5
    blocks = fairness_blocks(
        config,
        None,  # type: ignore[arg-type]  # no mitigation configured: the run directory is unused
        model=None,
        y=y,
        y_prob=risk,
        sensitive=pd.DataFrame({"sex": ["female", "male"] * 6}),
        patients=np.arange(12),
    )
    assert all(g["suppressed"] for g in blocks["fairness"]["sex"]["groups"])
    assert "50/50" in screen.getvalue().split("\r")[-1]  # the bar as it stays on the terminal

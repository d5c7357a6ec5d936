"""`clinai validate`: an option the chosen form does not honour is refused; console intervals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clinai.cli import _BINARY_ONLY, _SURVIVAL_ONLY, EXIT_BAD_INPUT, _with_ci, main

SURVIVAL = ["--time", "days", "--event", "died", "--horizon", "365", "--score", "risk"]
BINARY = ["--outcome", "died", "--score", "risk"]


@pytest.fixture(scope="module")
def predictions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 rows a validation of either form could read (the refusal comes before reading)."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "days": rng.integers(30, 800, 60),
            "died": rng.integers(0, 2, 60),
            "risk": rng.uniform(0.05, 0.6, 60).round(3),
            "lp": rng.normal(size=60).round(3),
            "old_score": rng.uniform(size=60).round(3),
        }
    )
    path = tmp_path_factory.mktemp("preds") / "predictions.csv"
    frame.to_csv(path, index=False)
    return path


def _refused(argv: list[str], out: Path, capsys: pytest.CaptureFixture[str], line: str) -> None:
    """Exit code 2, exactly ``line`` on stderr, and no output folder."""
    assert main([*argv, "--out", str(out), "--bootstrap", "5", "--quiet"]) == EXIT_BAD_INPUT
    assert capsys.readouterr().err.strip().splitlines() == [f"error: {line}"]
    assert not out.exists()


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--baseline", "old_score"),
        ("--config", "plan.yaml"),
        ("--summary", "summary.json"),
        ("--site", "B"),
        ("--model-name", "vendor"),
        ("--model-version", "2"),
        ("--model-sha256", "0" * 64),
    ],
)
def test_survival_form_refuses_a_binary_only_option(
    option: str, value: str, predictions: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["validate", str(predictions), *SURVIVAL, option, value]
    _refused(argv, tmp_path / "v", capsys, _BINARY_ONLY.format(options=option))


def test_survival_form_names_every_binary_only_option_given(
    predictions: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["validate", str(predictions), *SURVIVAL, "--summary", "s.json", "--site", "B"]
    _refused(argv, tmp_path / "v", capsys, _BINARY_ONLY.format(options="--summary, --site"))


@pytest.mark.parametrize(
    ("extra", "options"),
    [
        (["--event", "died"], "--event"),
        (["--horizon", "365"], "--horizon"),
        (["--lp", "lp", "--horizon", "365"], "--horizon, --lp"),
    ],
)
def test_binary_form_refuses_a_survival_only_option(
    extra: list[str],
    options: str,
    predictions: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["validate", str(predictions), *BINARY, *extra]
    _refused(argv, tmp_path / "v", capsys, _SURVIVAL_ONLY.format(options=options))


@pytest.mark.parametrize(
    ("low", "high", "text"),
    [
        (0.771, 0.850, "0.812 (0.771-0.850)"),
        (-0.265, 1.463, "0.812 (-0.265 to 1.463)"),
        (-0.4, -0.1, "0.812 (-0.400 to -0.100)"),
        (-0.0001, 0.9, "0.812 (-0.000 to 0.900)"),
        (None, 0.9, "0.812 (no interval)"),
    ],
    ids=["positive", "negative-low", "both-negative", "rounds-to-minus-zero", "missing"],
)
def test_console_interval_is_unambiguous(low: float | None, high: float, text: str) -> None:
    assert _with_ci({"estimate": 0.812, "ci_low": low, "ci_high": high}) == text

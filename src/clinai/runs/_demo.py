"""``clinai demo``: every bundled use case end to end on the embedded defaults."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from clinai.exceptions import ConfigError
from clinai.runs._console_text import estimate_text
from clinai.runs._experiment import RunResult, run_experiment

__all__ = ["demo_configs", "demo_row", "run_demo"]

_NO_CONFIGS = (
    "no configs found in {path}: run `clinai demo` from the clinai repository root "
    "(it holds configs/ and pipelines/) or pass --configs DIR"
)


def demo_configs(configs_dir: Path) -> list[Path]:
    """Return the bundled use-case configs in ``configs_dir``, sorted by name."""
    paths = sorted(configs_dir.glob("*.yaml"))
    if not paths:
        raise ConfigError(_NO_CONFIGS.format(path=configs_dir))
    return paths


def run_demo(
    configs_dir: Path = Path("configs"),
    *,
    overrides: Iterable[str] = (),
    publish_dir: Path | None = Path("model_cards"),
    show_progress: bool = True,
) -> list[tuple[RunResult, float]]:
    """Run every config in ``configs_dir``; return each result with its wall time in seconds."""
    results = []
    for path in demo_configs(configs_dir):
        start = time.perf_counter()
        result = run_experiment(
            path, overrides=overrides, publish_dir=publish_dir, show_progress=show_progress
        )
        results.append((result, time.perf_counter() - start))
    return results


def demo_row(metrics: Mapping[str, Any]) -> dict[str, str]:
    """Return the demo table's figures of one run: n, events, discrimination, calibration slope.

    A binary run (metrics.json) shows its AUROC and events; a survival run
    (survival_metrics.json) shows Harrell's C (prefixed ``C``) and the events by its
    horizon.
    """
    if "auroc" in metrics:
        return {
            "n": str(metrics["n"]),
            "events": str(metrics["events"]),
            "discrimination": estimate_text(metrics["auroc"]),
            "slope": f"{metrics['calibration']['slope']['estimate']:.2f}",
        }
    survival = metrics["metrics"]
    return {
        "n": str(metrics["n"]),
        "events": f"{metrics['follow_up']['events_by_horizon']} by {metrics['horizon']:g}",
        "discrimination": "C " + estimate_text(survival["harrell_c"]),
        "slope": f"{survival['calibration_slope']['estimate']:.2f}",
    }

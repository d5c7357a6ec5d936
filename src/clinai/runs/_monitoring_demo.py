"""``clinai demo --monitoring``: after approval, score, monitor and update, on SYNTHETIC data.

The whole loop of issue 15 on the ``acute_deterioration`` use case, with no real
patient anywhere (the stays come from :func:`clinai.data.generate_ward_stays`):

1. a registered ``acute_deterioration`` model: the newest finished run of the config
   that registered a model under the config's current monitoring plan is reused,
   otherwise the use case is run (``clinai run``);
2. it is approved by the demo reviewer (:data:`DEMO_REVIEWER`), so that the loop has
   an ``approved`` version to score with (a real approval names a person);
3. twelve months of new SYNTHETIC stays are generated with a drift scenario (default:
   a new monitor brand reads SpO2 2 points low from month 4) and cut into one folder
   per admission month, as a monthly extract would arrive;
4. each month is scored with the approved model (:func:`clinai.runs.score`);
5. the twelve predictions files are monitored against the pre-registered plan
   (:func:`clinai.runs.monitor`), which raises the alarm;
6. :func:`clinai.runs.update` proposes the least extensive adequate update, validates
   it on a later period and registers it as a ``candidate`` version.

A step whose entry point is missing from this build is left out with a message in
:attr:`MonitoringDemoResult.skipped`, and the steps after it that need its output too.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clinai.exceptions import ClinaiError, ConfigError
from clinai.runs._console_text import estimate_text

__all__ = [
    "DEMO_REVIEWER",
    "DEMO_SCENARIO",
    "MonitoringDemoResult",
    "new_synthetic_stays",
    "run_monitoring_demo",
]

logger = logging.getLogger(__name__)

#: The use case the monitoring demo follows after approval.
DEMO_CONFIG = "acute_deterioration.yaml"
#: Who approves in the demo: no person, and the record says so.
DEMO_REVIEWER = "demo (synthetic data)"
DEMO_ROLE = "demonstration only, no clinical decision"
DEMO_COMMENT = (
    "SYNTHETIC data: approved by the monitoring demo only to show scoring, monitoring and "
    "updating; not a clinical decision"
)
#: The drift planted in the new stays: a new monitor brand reads SpO2 2 points low from month 4.
DEMO_SCENARIO: dict[str, Any] = {"kind": "spo2_offset", "onset_month": 4, "size": -2.0}
#: The first admission month of the new stays (in the past: scoring refuses future times).
DEMO_START = "2025-01-01"
#: The update is fitted on the months before this one and validated on it and later ones
#: (the last quarter: enough events, and a later period than the fit, as the issue asks).
VALIDATE_FROM = "2025-10"
#: The generator settings of acute_deterioration's development data (its data.source.options).
GENERATOR_SETTINGS: dict[str, Any] = {"minutes_per_row": 5, "event_rate": 0.3}
#: The pseudonymisation key the demo uses when none is set (SYNTHETIC patients only).
DEMO_KEY = "clinai-monitoring-demo-key-synthetic-data-only"

NO_CONFIG = (
    "{path} not found: run the monitoring demo from the clinai repository root (it holds "
    "configs/ and pipelines/) or pass --configs DIR"
)
OUT_NOT_EMPTY = "the monitoring demo's folder {path} is not empty: remove it or pass another --out"
STEP_MISSING = "{step} is left out: {entry} is not in this build of clinai ({error})"
NOT_AFTER = "{step} is left out: it needs the {before} step, which was left out"


@dataclass(frozen=True)
class MonitoringDemoResult:
    """What the monitoring demo did (every patient behind it is SYNTHETIC).

    Attributes
    ----------
    run_dir : pathlib.Path
        The ``acute_deterioration`` run whose model was approved and monitored.
    reused : bool
        Whether that run existed before the demo (else the demo ran it).
    model_name, model_version : str
        The approved registered model version.
    scenario : dict
        The drift planted in the new stays.
    stays_dir : pathlib.Path
        The new SYNTHETIC stays, one folder per admission month.
    predictions : tuple of pathlib.Path
        One predictions file per month (``clinai score``).
    monitoring : dict or None
        ``monitoring.json`` plus ``out_dir`` (``clinai monitor``).
    update : dict or None
        ``update.json`` plus ``folder`` (``clinai update``).
    skipped : tuple of str
        Steps left out, each with the reason.
    """

    run_dir: Path
    reused: bool
    model_name: str
    model_version: str
    scenario: dict[str, Any]
    stays_dir: Path
    predictions: tuple[Path, ...] = ()
    monitoring: dict[str, Any] | None = None
    update: dict[str, Any] | None = None
    skipped: tuple[str, ...] = field(default_factory=tuple)
    synthetic: bool = True

    def period_rows(self) -> list[dict[str, Any]]:
        """One row per monitored month: volume, O/E, AUROC, the most drifted feature, verdict."""
        if self.monitoring is None:
            return []
        rows = []
        for period in self.monitoring.get("periods", []):
            features = (period.get("drift") or {}).get("features") or []
            finite = [f for f in features if f.get("psi") is not None]
            top = max(finite, key=lambda f: f["psi"], default=None)
            performance = period.get("performance") or {}
            verdict = period.get("verdict") or {}
            reasons = [
                r.get("metric", "?")
                for r in verdict.get("reasons", [])
                if r.get("kind") == "breach"
            ]
            rows.append(
                {
                    "period": period.get("period"),
                    "n": period.get("n"),
                    "events": period.get("events"),
                    "oe_ratio": _estimate(performance.get("oe_ratio")),
                    "auroc": _estimate(performance.get("auroc")),
                    "top_feature": None if top is None else top["feature"],
                    "top_psi": None if top is None else top["psi"],
                    "verdict": verdict.get("level"),
                    "reasons": sorted(set(reasons)),
                }
            )
        return rows

    def validation_rows(self) -> list[dict[str, Any]]:
        """Return the update's validation beside the approved model, as text with CIs."""
        if self.update is None or self.update.get("validation") is None:
            return []
        validation = self.update["validation"]
        original, updated = validation.get("original") or {}, validation.get("update") or {}
        return [
            {
                "metric": metric,
                "original": estimate_text(original.get(metric)),
                "update": estimate_text(updated.get(metric)),
            }
            for metric in original
        ]

    def first_alarm(self) -> dict[str, Any] | None:
        """Return the first month whose verdict is not ``in_control`` (None if none)."""
        return next((r for r in self.period_rows() if r["verdict"] != "in_control"), None)


def _estimate(value: Any) -> float | None:
    if isinstance(value, Mapping):
        value = value.get("estimate")
    return None if value is None else float(value)


def _newest_registered_run(config_path: Path) -> Path | None:
    """Return the newest finished run of the config registered under its current plan."""
    import json

    from clinai.config import load_config
    from clinai.runs._plan import MONITORING_PLAN_FILE, monitoring_plan

    config = load_config(config_path)
    plan = monitoring_plan(config)
    folder = Path(config.output_dir) / config.experiment
    if plan is None or not folder.is_dir():
        return None
    runs = sorted(
        (
            p
            for p in folder.iterdir()
            if (p / "audit.json").is_file() and not p.name.endswith(".failed")
        ),
        key=lambda p: (p / "audit.json").stat().st_mtime,
        reverse=True,
    )
    for run in runs:
        fixed = run / MONITORING_PLAN_FILE
        if fixed.is_file() and json.loads(fixed.read_text()).get("sha256") == plan["sha256"]:
            return run
    return None


def _approved_run(
    config_path: Path, overrides: Iterable[str], reuse: bool, show_progress: bool
) -> tuple[Any, bool]:
    """Approve the newest usable run (running the use case first when there is none)."""
    from clinai.runs._approve import ApprovalError, approve_run
    from clinai.runs._experiment import run_experiment

    def approve(run: Path) -> Any:
        return approve_run(
            run, reviewer=DEMO_REVIEWER, role=DEMO_ROLE, decision="approve", comment=DEMO_COMMENT
        )

    existing = _newest_registered_run(config_path) if reuse else None
    if existing is not None:
        try:
            return approve(existing), True
        except ApprovalError as exc:  # not registered or not accepted: run it afresh
            logger.info("monitoring demo: %s; running the use case again", exc)
    result = run_experiment(config_path, overrides=overrides, show_progress=show_progress)
    return approve(result.run_dir), False


def new_synthetic_stays(
    n_stays: int,
    *,
    seed: int,
    out_dir: Path,
    start: str = DEMO_START,
    scenario: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> Any:
    """Generate SYNTHETIC stays with acute_deterioration's settings (5-minute rows, 30 % events).

    The same generator settings as the development data (``data.source.options`` of
    ``configs/acute_deterioration.yaml``), so that only the planted ``scenario`` and the
    seed differ from it; admissions over the 12 months from ``start``.
    """
    from clinai.data import generate_ward_stays

    return generate_ward_stays(
        n_stays,
        seed=seed,
        out_dir=out_dir,
        start=start,
        scenario=scenario,
        progress=progress,
        **GENERATOR_SETTINGS,
    )


def _monthly_folders(source: Path, target: Path) -> list[Path]:
    """Cut the generated stays into one folder per admission month (files written atomically)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    stays = pq.read_table(source / "synthetic_stays.parquet")
    vitals = pq.read_table(source / "synthetic_vitals.parquet")
    months = pc.strftime(stays["admission_time"], format="%Y-%m")
    folders = []
    for month in sorted(set(months.to_pylist())):
        chosen = stays.filter(pc.equal(months, month))
        folder = target / month
        folder.mkdir(parents=True, exist_ok=True)
        for name, table in (
            ("synthetic_stays.parquet", chosen),
            (
                "synthetic_vitals.parquet",
                vitals.filter(pc.is_in(vitals["stay_id"], chosen["stay_id"])),
            ),
        ):
            tmp = folder / (name + ".tmp")
            pq.write_table(table, tmp)  # the schema keeps its synthetic=true metadata
            tmp.replace(folder / name)
        folders.append(folder)
    return folders


def _entry(name: str) -> tuple[Any, str | None]:
    """Return a ``clinai.runs`` entry point, or the reason it is missing from this build."""
    import importlib

    module = {"score": "_score", "monitor": "_monitor", "update": "_update"}[name]
    try:
        return getattr(importlib.import_module(f"clinai.runs.{module}"), name), None
    except (ImportError, AttributeError) as exc:
        return None, f"{type(exc).__name__}: {exc}"


def run_monitoring_demo(
    configs_dir: Path = Path("configs"),
    *,
    out_dir: Path = Path("monitoring_demo"),
    overrides: Iterable[str] = (),
    n_stays: int = 600,
    seed: int = 2030,
    scenario: Mapping[str, Any] | None = None,
    reuse: bool = True,
    show_progress: bool = True,
) -> MonitoringDemoResult:
    """Approve ``acute_deterioration``, then score, monitor and update it on SYNTHETIC stays.

    Parameters
    ----------
    configs_dir : pathlib.Path, default "configs"
        Folder holding ``acute_deterioration.yaml``.
    out_dir : pathlib.Path, default "monitoring_demo"
        Folder for the new stays, predictions, monitoring output and update; it must
        not exist or be empty.
    overrides : iterable of str
        ``key=value`` overrides for the ``acute_deterioration`` run (when one is run).
    n_stays : int, default 600
        New SYNTHETIC stays, admitted over the 12 months from 2025-01-01.
    seed : int, default 2030
        Seed of the new stays (not the development seed).
    scenario : mapping, optional
        The planted drift (default :data:`DEMO_SCENARIO`: SpO2 2 points low from month 4).
    reuse : bool, default True
        Reuse the newest registered run of the config (with the current monitoring
        plan) instead of running the use case again.
    show_progress : bool, default True
        Rich progress bars.

    Returns
    -------
    MonitoringDemoResult

    Raises
    ------
    ConfigError
        If the config is not in ``configs_dir`` or ``out_dir`` is not empty.
    ClinaiError
        From any step, with its one-line message.
    """
    from clinai.data import PSEUDONYM_KEY_ENV

    config_path = Path(configs_dir) / DEMO_CONFIG
    if not config_path.is_file():
        raise ConfigError(NO_CONFIG.format(path=config_path))
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise ConfigError(OUT_NOT_EMPTY.format(path=out))
    planted = dict(DEMO_SCENARIO if scenario is None else scenario)
    if not os.environ.get(PSEUDONYM_KEY_ENV):
        # scoring pseudonymises patient ids with a keyed hash; these patients are synthetic
        os.environ[PSEUDONYM_KEY_ENV] = DEMO_KEY
    approval, reused = _approved_run(config_path, overrides, reuse, show_progress)

    generated = out / "synthetic_stays_generated"
    new_synthetic_stays(
        n_stays, seed=seed, out_dir=generated, scenario=planted, progress=show_progress
    )
    stays_dir = out / "synthetic_stays_by_month"
    months = _monthly_folders(generated, stays_dir)

    skipped: list[str] = []
    done: dict[str, Any] = {"run_dir": approval.run_dir, "reused": reused}
    predictions: list[Path] = []
    score, missing = _entry("score")
    if score is None:
        skipped.append(
            STEP_MISSING.format(step="scoring", entry="clinai.runs.score", error=missing)
        )
    else:
        for folder in months:
            path = out / "predictions" / f"{folder.name}.parquet"
            score(
                config_path,
                data=folder,
                out=path,
                alias="approved",
                overrides=overrides,
                show_progress=show_progress,
            )
            predictions.append(path)
    monitoring = _monitor_step(config_path, out, predictions, skipped, show_progress)
    updated = _update_step(config_path, monitoring, skipped, show_progress)
    return MonitoringDemoResult(
        model_name=approval.model_name,
        model_version=str(approval.version),
        scenario={**planted, "synthetic": True},
        stays_dir=stays_dir,
        predictions=tuple(predictions),
        monitoring=monitoring,
        update=updated,
        skipped=tuple(skipped),
        **done,
    )


def _monitor_step(
    config_path: Path, out: Path, predictions: list[Path], skipped: list[str], show_progress: bool
) -> dict[str, Any] | None:
    monitor, missing = _entry("monitor")
    if monitor is None:
        skipped.append(
            STEP_MISSING.format(step="monitoring", entry="clinai.runs.monitor", error=missing)
        )
        return None
    if not predictions:
        skipped.append(NOT_AFTER.format(step="monitoring", before="scoring"))
        return None
    try:
        return dict(
            monitor(
                config_path,
                predictions=predictions,
                out=out / "monitoring",
                show_progress=show_progress,
            )
        )
    except ImportError as exc:  # a statistic it needs has not landed in this build yet
        skipped.append(STEP_MISSING.format(step="monitoring", entry="a statistic", error=exc))
        return None


def _update_step(
    config_path: Path,
    monitoring: dict[str, Any] | None,
    skipped: list[str],
    show_progress: bool,
) -> dict[str, Any] | None:
    update, missing = _entry("update")
    if update is None:
        skipped.append(
            STEP_MISSING.format(step="updating", entry="clinai.runs.update", error=missing)
        )
        return None
    if monitoring is None:
        skipped.append(NOT_AFTER.format(step="updating", before="monitoring"))
        return None
    try:
        return dict(
            update(
                config_path,
                monitoring=monitoring["out_dir"],
                validate_from=VALIDATE_FROM,
                show_progress=show_progress,
            )
        )
    except ClinaiError as exc:  # e.g. too few periods with outcomes to fit and validate
        skipped.append(f"updating stopped: {exc}")
        return None

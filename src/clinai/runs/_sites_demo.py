"""``clinai demo --sites``: develop at one hospital, validate at the others, pool (SYNTHETIC).

Validation across hospitals without moving patient data (issue 17, item 2), on the
``acute_deterioration`` use case with six SYNTHETIC hospitals (A-F,
:mod:`clinai.data._synthetic_sites`: different age, wards, event rates, nursing
rhythms and SpO2 monitors; no real hospital or patient):

1. hospital A develops the model: ``configs/extra/acute_deterioration_sites.yaml`` is
   run (``clinai run``; ``split: {method: site, site_column: site, test_sites: [B..F]}``),
   which trains at A only and registers the model;
2. each other hospital gets its own extract (the same seeded stays, cut by ``site``),
   scores it with the registered version (``clinai score``) and validates the
   predictions locally, writing a site summary that holds no row-level data
   (``clinai validate PREDS ... --summary FILE --site LABEL``), against one shared
   validation plan;
3. the summaries, and nothing else, travel to the coordinator, who pools them
   (``clinai meta-analyse SUMMARY... --out DIR``): random-effects estimates, the
   prediction interval for a new hospital, tau^2 and I^2, forest plots, reports.

A step whose entry point is missing from this build is left out with a message in
:attr:`SitesDemoResult.skipped`, and the steps after it that need its output too.
"""

from __future__ import annotations

import importlib
import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clinai.exceptions import ConfigError

__all__ = ["SITES_CONFIG", "SitesDemoResult", "run_sites_demo", "site_folders"]

#: The multi-site use case, relative to the configs folder.
SITES_CONFIG = Path("extra") / "acute_deterioration_sites.yaml"
#: The generator options a config's ``data.source.options`` may pass on to the extracts.
_GENERATOR_OPTIONS = ("n_stays", "seed", "minutes_per_row", "event_rate", "sites")
#: The validation plan every hospital validates against (one plan: one plan SHA-256).
PLAN_FILE = "validation_plan.yaml"

NO_CONFIG = (
    "{path} not found: run the sites demo from the clinai repository root (it holds "
    "configs/ and pipelines/) or pass --configs DIR"
)
NOT_A_SITE_SPLIT = (
    "{path}: the sites demo needs split.method site with split.test_sites (the hospitals "
    "that validate); got split.method {method!r}"
)
OUT_NOT_EMPTY = "the sites demo's folder {path} is not empty: remove it or pass another --out"
STEP_MISSING = "{step} is left out: {entry} is not in this build of clinai ({error})"
NOT_AFTER = "{step} is left out: it needs the {before} step, which was left out"


@dataclass(frozen=True)
class SitesDemoResult:
    """What the sites demo did (every hospital and patient behind it is SYNTHETIC).

    Attributes
    ----------
    run_dir : pathlib.Path
        The development run (trained at the training sites).
    model_name, model_version : str
        The registered version every hospital scored with.
    training_sites, validation_sites : tuple of str
        Where the model was developed and where it was validated.
    development : dict
        The run's own validation on all held-out hospitals together: ``auroc`` with its
        bootstrap interval, ``n``, ``events``.
    sites : tuple of dict
        Per validating hospital: ``site``, ``n``, ``events``, ``auroc`` (estimate,
        ci_low, ci_high; patient bootstrap), ``predictions``, ``summary`` (paths).
    meta : dict or None
        ``meta_analysis.json`` of ``clinai meta-analyse`` plus ``out_dir``.
    seconds : dict
        Wall time per step (``develop``, ``extracts``, ``validate``, ``pool``, ``total``).
    skipped : tuple of str
        Steps left out, each with the reason.
    """

    run_dir: Path
    model_name: str
    model_version: str = "-"
    training_sites: tuple[str, ...] = ()
    validation_sites: tuple[str, ...] = ()
    development: dict[str, Any] = field(default_factory=dict)
    sites: tuple[dict[str, Any], ...] = ()
    meta: dict[str, Any] | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()
    synthetic: bool = True

    def pooled(self, metric: str = "auroc") -> dict[str, Any] | None:
        """Return one pooled metric of ``meta_analysis.json`` (None when not pooled)."""
        if self.meta is None:
            return None
        pooled = self.meta.get("metrics", self.meta.get("pooled"))
        if isinstance(pooled, Mapping):
            found = pooled.get(metric)
            return dict(found) if isinstance(found, Mapping) else None
        for entry in pooled or ():
            if isinstance(entry, Mapping) and entry.get("metric") == metric:
                return dict(entry)
        return None

    def pooled_rows(self) -> list[dict[str, Any]]:
        """One row per pooled metric: estimate, CI, prediction interval, tau^2, I^2, k."""
        rows = []
        for metric in ("auroc", "oe_ratio", "calibration_intercept", "calibration_slope"):
            pooled = self.pooled(metric)
            if pooled is None:
                continue
            analysis = pooled.get("analysis") or {}
            rows.append(
                {
                    "metric": metric,
                    **{
                        name: pooled.get(name)
                        for name in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")
                    },
                    **{name: analysis.get(name) for name in ("k", "tau2", "i2", "method")},
                    "ci_method": analysis.get("ci_method"),
                }
            )
        return rows

    def tables(self) -> list[Any]:
        """Rich tables for the console: each hospital's AUROC, then every pooled metric."""
        from rich.table import Table

        title = (
            f"{self.model_name} v{self.model_version}: developed at "
            f"{', '.join(self.training_sites)}, validated at each other SYNTHETIC hospital"
        )
        sites = Table(title=title)
        for column in ("hospital", "n", "events", "AUROC (95% CI)"):
            sites.add_column(column)
        together = ", ".join(self.validation_sites) + " together (the run's test split)"
        for row in (*self.sites, {"site": together, **self.development}):
            sites.add_row(
                row["site"], str(row.get("n")), str(row.get("events")), _text(row.get("auroc", {}))
            )
        auroc = self.pooled("auroc")
        if auroc is not None:
            sites.add_row("pooled (random effects)", "", "", _text(auroc))
            interval = {"estimate": None, "ci_low": auroc["pi_low"], "ci_high": auroc["pi_high"]}
            sites.add_row("a new hospital (95% prediction interval)", "", "", _text(interval))
        pooled = Table(title="Pooled across hospitals (site summaries only; no patient row moved)")
        for column in ("metric", "pooled (95% CI)", "95% prediction interval", "tau^2", "I^2", "k"):
            pooled.add_column(column)
        for row in self.pooled_rows():
            interval = {"estimate": None, "ci_low": row["pi_low"], "ci_high": row["pi_high"]}
            pooled.add_row(
                row["metric"],
                _text(row),
                _text(interval),
                _number(row["tau2"], "{:.4f}"),
                _number(row["i2"], "{:.0%}"),
                str(row["k"]),
            )
        return [sites, pooled] if self.pooled_rows() else [sites]


def _number(value: Any, pattern: str) -> str:
    return "-" if value is None else pattern.format(float(value))


def _text(value: Mapping[str, Any]) -> str:
    """Return ``0.781 (0.742-0.818)``; an interval alone as ``0.701-0.850``.

    A negative bound reads ``-0.154 to 0.448`` (a dash would read as a minus sign).
    """
    low, high = value.get("ci_low"), value.get("ci_high")
    interval = ""
    if low is not None and high is not None:
        dash = " to " if float(low) < 0 else "-"
        interval = f"{float(low):.3f}{dash}{float(high):.3f}"
    if value.get("estimate") is None:
        return interval or "-"
    return f"{float(value['estimate']):.3f}" + (f" ({interval})" if interval else "")


def site_folders(source: Path, target: Path, sites: Iterable[str]) -> list[Path]:
    """Cut generated multi-site stays into one extract folder per hospital.

    Each folder holds the hospital's ``synthetic_stays.parquet`` and its stays' vitals
    (the layout ``clinai score --data`` reads), written atomically; the Parquet schema
    keeps its ``synthetic=true`` metadata.
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    stays = pq.read_table(source / "synthetic_stays.parquet")
    vitals = pq.read_table(source / "synthetic_vitals.parquet")
    folders = []
    for site in sites:
        own = stays.filter(pc.equal(stays["site"], site))
        parts = {
            "synthetic_stays.parquet": own,
            "synthetic_vitals.parquet": vitals.filter(pc.is_in(vitals["stay_id"], own["stay_id"])),
        }
        folder = target / site
        folder.mkdir(parents=True, exist_ok=True)
        for name, table in parts.items():
            pq.write_table(table, folder / f"{name}.tmp")
            (folder / f"{name}.tmp").replace(folder / name)
        folders.append(folder)
    return folders


def _entry(module: str, name: str) -> tuple[Any, str | None]:
    """Return an entry point of ``clinai.runs``, or the reason it is missing from this build."""
    try:
        return getattr(importlib.import_module(f"clinai.runs.{module}"), name), None
    except (ImportError, AttributeError) as exc:
        return None, f"{type(exc).__name__}: {exc}"


def _write_plan(config: Any, path: Path) -> Path:
    """Write the development run's validation plan for the hospitals (atomically)."""
    import yaml

    from clinai._utils import atomic_write_text

    evaluation = config.evaluation
    plan = {
        "n_boot": evaluation.n_boot,
        "thresholds": list(evaluation.thresholds),
        "min_cell": evaluation.min_cell,
        "acceptance": [c.model_dump(exclude_none=True) for c in evaluation.acceptance],
    }
    atomic_write_text(path, yaml.safe_dump(plan, sort_keys=False))
    return path


def _with_ci(value: Any) -> dict[str, Any]:
    value = value if isinstance(value, Mapping) else {"estimate": value}
    return {name: value.get(name) for name in ("estimate", "ci_low", "ci_high")}


def run_sites_demo(
    configs_dir: Path = Path("configs"),
    *,
    out_dir: Path = Path("sites_demo"),
    overrides: Iterable[str] = (),
    show_progress: bool = True,
) -> SitesDemoResult:
    """Develop at hospital A, validate at B-F on their own data, pool the site summaries.

    Parameters
    ----------
    configs_dir : pathlib.Path, default "configs"
        Folder holding ``extra/acute_deterioration_sites.yaml``.
    out_dir : pathlib.Path, default "sites_demo"
        Folder for the hospitals' extracts, predictions, validations, summaries and the
        pooled analysis; it must not exist or be empty.
    overrides : iterable of str
        ``key=value`` overrides of the config (e.g. a smaller tuning budget).
    show_progress : bool, default True
        Rich progress bars.

    Returns
    -------
    SitesDemoResult

    Raises
    ------
    ConfigError
        If the config is missing, is not a site split, or ``out_dir`` is not empty.
    ClinaiError
        From any step, with its one-line message.
    """
    from clinai.config import load_config
    from clinai.data import PSEUDONYM_KEY_ENV, generate_ward_stays
    from clinai.runs._experiment import run_experiment
    from clinai.runs._monitoring_demo import DEMO_KEY

    started = time.perf_counter()
    config_path = Path(configs_dir) / SITES_CONFIG
    if not config_path.is_file():
        raise ConfigError(NO_CONFIG.format(path=config_path))
    config = load_config(config_path, overrides=overrides)
    if config.split.method != "site" or not config.split.test_sites:
        raise ConfigError(NOT_A_SITE_SPLIT.format(path=config_path, method=config.split.method))
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise ConfigError(OUT_NOT_EMPTY.format(path=out))
    if not os.environ.get(PSEUDONYM_KEY_ENV):
        # scoring pseudonymises patient ids with a keyed hash; these patients are synthetic
        os.environ[PSEUDONYM_KEY_ENV] = DEMO_KEY
    seconds: dict[str, float] = {}

    # 1. hospital A develops and registers the model
    result = run_experiment(config_path, overrides=overrides, show_progress=show_progress)
    manifest = json.loads((result.run_dir / "data_manifest.json").read_text())
    split = manifest["split"]
    registry = result.registry or {}
    seconds["develop"] = time.perf_counter() - started

    # 2. each other hospital's own extract (the same seeded stays the run held out)
    options = dict(config.data.source.options or {})
    generated = out / "synthetic_stays_generated"
    generate_ward_stays(
        out_dir=generated,
        progress=show_progress,
        **{k: options[k] for k in _GENERATOR_OPTIONS if k in options},
    )
    validation_sites = tuple(str(site) for site in split["test_sites"])
    extracts = site_folders(generated, out / "hospitals", validation_sites)
    plan = _write_plan(config, out / PLAN_FILE)
    seconds["extracts"] = time.perf_counter() - started - sum(seconds.values())

    skipped: list[str] = []
    sites = _validate_sites(
        config_path,
        extracts,
        out,
        version=registry.get("version"),
        model_sha256=_model_sha256(result.run_dir),
        plan=plan,
        overrides=overrides,
        skipped=skipped,
        show_progress=show_progress,
    )
    seconds["validate"] = time.perf_counter() - started - sum(seconds.values())
    meta = _pool(sites, out, skipped, show_progress)
    seconds["pool"] = time.perf_counter() - started - sum(seconds.values())
    seconds["total"] = time.perf_counter() - started
    return SitesDemoResult(
        run_dir=result.run_dir,
        model_name=str(registry.get("model_name", config.experiment)),
        model_version=str(registry.get("version", "-")),
        training_sites=tuple(split["train_sites"]),
        validation_sites=validation_sites,
        development={
            "auroc": _with_ci(result.metrics.get("auroc")),
            "n": result.metrics.get("n"),
            "events": result.metrics.get("events"),
        },
        sites=tuple(sites),
        meta=meta,
        seconds=seconds,
        skipped=tuple(skipped),
    )


def _model_sha256(run_dir: Path) -> str:
    """Return the SHA-256 of the run's saved model folder (as the run's own site summary)."""
    from clinai.runs._score import _folder_sha256

    return _folder_sha256(run_dir / "model")


def _validate_sites(
    config_path: Path,
    extracts: list[Path],
    out: Path,
    *,
    version: str | None,
    model_sha256: str | None,
    plan: Path,
    overrides: Iterable[str],
    skipped: list[str],
    show_progress: bool,
) -> list[dict[str, Any]]:
    """Score and validate each hospital's extract there, writing its site summary."""
    score, missing = _entry("_score", "score")
    if score is None or version is None:
        reason = missing or "the development run registered no model version"
        skipped.append(STEP_MISSING.format(step="scoring", entry="clinai.runs.score", error=reason))
        return []
    from clinai.runs import validate_predictions_file

    common: dict[str, Any] = {"overrides": overrides, "show_progress": show_progress}
    sites = []
    for folder in extracts:
        site = folder.name
        predictions = out / "predictions" / f"{site}.parquet"
        score(config_path, data=folder, out=predictions, version=int(version), **common)
        summary = out / "summaries" / f"{site}.site_summary.json"
        summary.parent.mkdir(parents=True, exist_ok=True)
        metrics = validate_predictions_file(
            predictions,
            outcome="outcome",
            score="risk",
            out_dir=out / "validation" / site,
            patient="patient_id",
            plan_path=plan,
            show_progress=show_progress,
            summary=summary,
            site=site,
            model={"sha256": model_sha256},
        )
        sites.append(
            {
                "site": site,
                "n": metrics.get("n"),
                "events": metrics.get("events"),
                "auroc": _with_ci(metrics.get("auroc")),
                "predictions": predictions,
                "summary": summary,
            }
        )
    return sites


def _pool(
    sites: list[dict[str, Any]], out: Path, skipped: list[str], show_progress: bool
) -> dict[str, Any] | None:
    """Pool the site summaries with ``clinai meta-analyse`` (only the summaries travel)."""
    meta_analyse, missing = _entry("_meta", "meta_analyse")
    summaries = [s["summary"] for s in sites if s["summary"] is not None]
    if meta_analyse is None:
        skipped.append(
            STEP_MISSING.format(step="pooling", entry="clinai.runs.meta_analyse", error=missing)
        )
        return None
    if len(summaries) < 2:
        skipped.append(NOT_AFTER.format(step="pooling", before="site summaries"))
        return None
    return dict(meta_analyse(summaries, out_dir=out / "pooled", show_progress=show_progress))

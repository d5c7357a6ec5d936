"""Helpers several test folders (and the benchmarks) share: use case names, SHAP, whole runs.

Plain functions and constants, no fixtures: a test module imports what it needs, as
``from tests._helpers import TABULAR_USE_CASES``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]

#: The bundled tabular use cases with a binary outcome, in the order the quality benchmark
#: reports them.
BINARY_USE_CASES = (
    "icu_mortality",
    "medpar_mortality",
    "cabg_ptca_prolonged_los",
    "postop_sore_throat",
)
#: The bundled survival use cases (``outcome.type: survival``, every patient kept); measured by
#: benchmarks/bench_survival.py.
SURVIVAL_USE_CASES = ("ami_1y_mortality", "colon_5y_mortality")
#: Every bundled tabular use case in pipelines/ (acute_deterioration, on hourly vitals, is not
#: one of them).
TABULAR_USE_CASES = BINARY_USE_CASES + SURVIVAL_USE_CASES

#: The top-level keys every metrics.json (schema v1, DESIGN.md) has, whatever the options.
METRICS_JSON_KEYS = frozenset(
    {
        "schema_version",
        "n",
        "events",
        "prevalence",
        "auroc",
        "auprc",
        "brier",
        "scaled_brier",
        "calibration",
        "thresholds",
        "decision_curve",
        "subgroups",
        "baseline_comparison",
        "acceptance",
    }
)

#: An economics: section (issue 17) with gamma, beta and fixed parameters; made-up figures.
ECONOMICS_SECTION: dict[str, Any] = {
    "cost_alert": {"distribution": "gamma", "shape": 16, "scale": 20},
    "cost_outcome": {"distribution": "gamma", "shape": 9, "scale": 13333.33},
    "relative_risk_reduction": {"distribution": "beta", "alpha": 6, "beta": 24},
    "qalys_lost_per_event": {"distribution": "gamma", "shape": 4, "scale": 0.25},
    "willingness_to_pay": 750000,
    "minutes_per_alert": 20,
    "currency": "DKK",
}


def shap_of(inputs: Any, **kwargs: Any) -> Any:
    """``shap_values`` of what ``explain_inputs`` prepared: its model, rows, names and background.

    ``kind`` defaults to the one ``explain_inputs`` chose; other keywords go to ``shap_values``.
    """
    from clinai.evaluation import shap_values

    kwargs.setdefault("kind", inputs.kind)
    kwargs.setdefault("background", inputs.background)
    return shap_values(
        inputs.estimator, inputs.X_transformed, feature_names=inputs.feature_names, **kwargs
    )


def run_use_case(
    root: Path,
    name: str,
    *,
    pipeline: str,
    frame: pd.DataFrame,
    csv: str,
    test_size: float,
    tuning: dict[str, Any],
    **sections: Any,
) -> Path:
    """``clinai run`` of a synthetic use case written under ``root``; its one run folder.

    Writes ``<name>_pipeline.py`` (the source ``pipeline``), the CSV ``csv`` (``frame``) and
    ``<name>.yaml``: one logistic model, sigmoid calibration, grouped split, Optuna storage
    in ``root``, tracking off, English and Danish, plus the extra config ``sections``.
    """
    from clinai.cli import main

    (root / f"{name}_pipeline.py").write_text(pipeline, encoding="utf-8")
    frame.to_csv(root / csv, index=False)
    config = {
        "experiment": name,
        "pipeline": str(root / f"{name}_pipeline.py"),
        "data": {"source": {"type": "csv", "path": str(root / csv)}, "patient_id": "patient"},
        "split": {"method": "grouped", "test_size": test_size},
        "models": ["logistic"],
        "tuning": {**tuning, "storage": f"sqlite:///{root / 'optuna.db'}"},
        "calibration": {"method": "sigmoid", "cv": 3},
        **sections,
        "tracking": {"enabled": False},
        "languages": ["en", "da"],
        "output_dir": str(root / "runs"),
    }
    (root / f"{name}.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    previous = Path.cwd()
    os.chdir(root)
    try:
        assert main(["run", str(root / f"{name}.yaml"), "--quiet"]) == 0
    finally:
        os.chdir(previous)
    runs = [p for p in (root / "runs" / name).iterdir() if p.is_dir()]
    assert len(runs) == 1
    return runs[0]


def write_reports(
    out: Path,
    context: dict[str, Any],
    metrics: dict[str, Any],
    importance: dict[str, Any],
    *,
    plots: dict[str, Any],
    stem: str = "validation_report",
    markdown: bool = True,
) -> dict[str, tuple[Path, Path | None]]:
    """The validation report in English and Danish: ``<stem>[.da].html`` (and ``.md``).

    Returns, per language, the paths of the HTML and the Markdown report (None without it).
    """
    from clinai.reporting import write_validation_report, write_validation_report_markdown

    written = {}
    for language in ("en", "da"):
        suffix = "" if language == "en" else f".{language}"
        common = {"plots": plots, "importance": importance, "language": language}
        html = write_validation_report(
            context, metrics, out_path=out / f"{stem}{suffix}.html", **common
        )
        md = None
        if markdown:
            md = write_validation_report_markdown(
                context, metrics, out_path=out / f"{stem}{suffix}.md", **common
            )
        written[language] = (Path(html), None if md is None else Path(md))
    return written


def write_documents(
    out: Path,
    context: dict[str, Any],
    metrics: dict[str, Any],
    importance: dict[str, Any],
    *,
    markdown: bool = True,
) -> None:
    """The plots, the model card and the validation reports (English and Danish) in ``out``."""
    from clinai.reporting import build_model_card, render_plots, write_model_card

    plots = render_plots(metrics, importance=importance, out_dir=out / "plots")
    card = build_model_card(context, metrics, importance=importance)
    write_model_card(card, out, languages=("en", "da"), images=plots)
    write_reports(out, context, metrics, importance, plots=plots, markdown=markdown)


def made_up_shap(values: Any, X_rows: Any, feature_names: tuple[str, ...]) -> Any:
    """``ShapValues`` of given contributions on log-odds (base value -1), one row per value row."""
    import numpy as np

    from clinai.evaluation import ShapValues

    return ShapValues(
        values=values,
        X_rows=X_rows,
        rows=np.arange(len(values)),
        base_value=-1.0,
        method="test",
        scale="log-odds",
        feature_names=feature_names,
    )


#: The JavaScript that lists a page's images as ``[complete, naturalWidth, alt]``.
IMAGES_JS = "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])"


@dataclass
class PageVisit:
    """What a browser saw of a document: its problems, its requests and the evaluated values."""

    #: Console errors and warnings, page errors and failed requests; empty when it opened cleanly.
    problems: list[str]
    #: Every URL the page asked for (first 80 characters).
    requests: list[str]
    #: The value of each JavaScript expression, in the order given.
    values: list[Any]


def visit_page(browser: Any, path: Path, shot: Path, *expressions: str) -> PageVisit:
    """Open ``path`` in a new page, evaluate ``expressions``, save a screenshot to ``shot``."""
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    problems: list[str] = []
    requests: list[str] = []
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text}")
            if msg.type in {"error", "warning"}
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("requestfailed", lambda req: problems.append(f"request failed: {req.url[:80]}"))
    page.on("request", lambda req: requests.append(req.url[:80]))
    try:
        page.goto(path.as_uri(), wait_until="load")
        values = [page.evaluate(expression) for expression in expressions]
        page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()
    return PageVisit(problems, requests, values)


def keep_screenshot(shot: Path, name: str) -> None:
    """Copy a screenshot to ``test-artifacts/<name>`` at the repository root.

    Only with ``CLINAI_TEST_ARTIFACTS`` set (CI keeps them for a reader to look at).
    """
    if os.environ.get("CLINAI_TEST_ARTIFACTS"):
        folder = Path(__file__).resolve().parents[1] / "test-artifacts"
        folder.mkdir(exist_ok=True)
        shutil.copyfile(shot, folder / name)

"""A realistic run context, metrics.json (schema v1) and SHAP importance for reporting tests.

The numbers resemble a logistic regression on vcdExtra ICU (in-hospital death);
they are made up but internally consistent (n, events, prevalence, counts).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from clinai.evaluation.fairness._fairness_metrics import FAIRNESS_METRICS
from tests._helpers import run_use_case

from ..conftest import require_chromium

#: Headless Chromium that reaches nothing outside the document (no updates, sync or first run).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _est(estimate: float | None, low: float | None = None, high: float | None = None) -> dict:
    return {"estimate": estimate, "ci_low": low, "ci_high": high}


def _decision_curve() -> list[dict[str, float]]:
    rows = []
    prevalence = 0.2
    for i in range(1, 51):
        t = i / 100
        odds = t / (1 - t)
        treat_all = prevalence - (1 - prevalence) * odds
        model = max(0.0, 0.17 - 0.35 * t) if t < 0.45 else -0.005
        rows.append(
            {
                "threshold": t,
                "net_benefit": round(model, 4),
                "net_benefit_treat_all": round(treat_all, 4),
            }
        )
    return rows


SUBGROUP_METRICS = ("auroc", "calibration_intercept", "oe_ratio", "sensitivity", "specificity")


def _subgroup(
    group: str,
    n: int | None = None,
    events: int | None = None,
    *estimates: tuple[float, float, float],
) -> dict[str, Any]:
    """A subgroup row: (estimate, ci_low, ci_high) of each of SUBGROUP_METRICS, in order.

    Without n, events and estimates the row is a suppressed (small) cell: every value None.
    """
    values = [_est(*e) for e in estimates] or [None] * len(SUBGROUP_METRICS)
    return {
        "group": group,
        "n": n,
        "events": events,
        "suppressed": not estimates,
        **dict(zip(SUBGROUP_METRICS, values, strict=True)),
    }


METRICS: dict[str, Any] = {
    "schema_version": 1,
    "n": 60,
    "events": 12,
    "prevalence": 0.2,
    "auroc": _est(0.812, 0.693, 0.917),
    "auprc": _est(0.534, 0.322, 0.761),
    "brier": _est(0.1291, 0.0934, 0.1662),
    "scaled_brier": _est(0.193, -0.041, 0.377),
    "calibration": {
        "intercept": _est(-0.08, -0.71, 0.55),
        "slope": _est(0.91, 0.42, 1.53),
        "oe_ratio": _est(0.96, 0.55, 1.38),
        "ici": _est(0.031, 0.012, 0.078),
        "e50": _est(0.024, 0.008, 0.066),
        "e90": _est(0.061, 0.021, 0.152),
        "curve": [
            {
                "p": p,
                "observed": round(p * 0.95 + 0.005, 4),
                "ci_low": round(max(0.0, p * 0.95 - 0.08), 4),
                "ci_high": round(min(1.0, p * 0.95 + 0.09), 4),
            }
            for p in (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
        ],
    },
    "thresholds": [
        {
            "threshold": 0.2,
            "sensitivity": _est(0.75, 0.47, 0.92),
            "specificity": _est(0.79, 0.65, 0.89),
            "ppv": _est(0.47, 0.27, 0.68),
            "npv": _est(0.93, 0.81, 0.98),
            "flag_rate": _est(0.32, 0.21, 0.45),
        },
        {
            "threshold": 0.3,
            "sensitivity": _est(0.58, 0.32, 0.81),
            "specificity": _est(0.88, 0.75, 0.95),
            "ppv": _est(0.54, 0.29, 0.77),
            "npv": _est(0.89, 0.77, 0.96),
            "flag_rate": _est(0.22, 0.12, 0.33),
        },
        {
            "threshold": 0.5,
            "sensitivity": _est(0.33, 0.14, 0.61),
            "specificity": _est(0.96, 0.86, 0.99),
            "ppv": _est(None),
            "npv": _est(0.85, 0.73, 0.93),
            "flag_rate": _est(0.08, 0.03, 0.18),
        },
    ],
    "decision_curve": _decision_curve(),
    "subgroups": {
        "sex": [
            _subgroup(
                "female",
                24,
                5,
                (0.78, 0.55, 0.95),
                (0.12, -0.9, 1.1),
                (1.05, 0.4, 1.8),
                (0.8, 0.38, 0.96),
                (0.74, 0.51, 0.88),
            ),
            _subgroup(
                "male",
                36,
                7,
                (0.83, 0.66, 0.96),
                (-0.2, -1.0, 0.6),
                (0.9, 0.45, 1.4),
                (0.71, 0.36, 0.92),
                (0.83, 0.65, 0.93),
            ),
        ],
        "age_band": [
            _subgroup("<50"),
            _subgroup(
                "50-69",
                22,
                5,
                (0.76, 0.52, 0.94),
                (0.3, -0.6, 1.2),
                (1.1, 0.5, 1.9),
                (0.6, 0.23, 0.88),
                (0.82, 0.59, 0.94),
            ),
            _subgroup(
                "70+",
                27,
                6,
                (0.8, 0.6, 0.95),
                (-0.1, -0.9, 0.7),
                (0.95, 0.45, 1.5),
                (0.83, 0.44, 0.97),
                (0.71, 0.5, 0.86),
            ),
        ],
    },
    "roc_curve": [
        {"fpr": f, "tpr": t}
        for f, t in (
            (0.0, 0.0),
            (0.02, 0.25),
            (0.06, 0.42),
            (0.12, 0.58),
            (0.21, 0.75),
            (0.33, 0.83),
            (0.48, 0.92),
            (0.65, 0.96),
            (0.83, 1.0),
            (1.0, 1.0),
        )
    ],
    "baseline_comparison": {
        "name": "SAPS-like score",
        "auroc_diff": _est(0.04, -0.05, 0.13),
        "p_value": 0.381,
    },
    "acceptance": [
        {
            "criterion": "AUROC lower CI bound at least 0.65",
            "metric": "auroc.ci_low",
            "value": 0.693,
            "passed": True,
            "status": "pass",
            "rule": ">= 0.65",
        },
        {
            "criterion": "Calibration slope between 0.8 and 1.2",
            "metric": "calibration.slope",
            "value": 0.91,
            "passed": True,
            "status": "pass",
            "rule": "0.8 <= x <= 1.2",
        },
        {
            "criterion": "O/E ratio between 0.8 and 1.25",
            "metric": "calibration.oe_ratio",
            "value": 0.96,
            "passed": True,
            "status": "pass",
            "rule": "0.8 <= x <= 1.25",
        },
        {
            "criterion": "Sensitivity at 0.2 at least 0.8",
            "metric": "thresholds[0.2].sensitivity",
            "value": 0.75,
            "passed": False,
            "status": "fail",
            "rule": ">= 0.8",
        },
        {
            "criterion": "Subgroup AUROC <50 at least 0.7",
            "metric": "subgroups.age_band[<50].auroc",
            "value": None,
            "passed": None,
            "status": "not_applicable",
            "rule": ">= 0.7",
        },
    ],
}

IMPORTANCE: dict[str, Any] = {
    "method": "SHAP (linear explainer)",
    "n_rows": 60,
    "variables": [
        {"variable": "age", "mean_abs_shap": 0.612, "direction": "higher -> higher risk"},
        {"variable": "type", "mean_abs_shap": 0.488, "direction": "emergency -> higher risk"},
        {"variable": "coma", "mean_abs_shap": 0.402, "direction": "present -> higher risk"},
        {"variable": "systolic", "mean_abs_shap": 0.251, "direction": "lower -> higher risk"},
        {"variable": "cancer", "mean_abs_shap": 0.133, "direction": "yes -> higher risk"},
        {"variable": "infection", "mean_abs_shap": 0.0812, "direction": "mixed"},
    ],
}

CONTEXT: dict[str, Any] = {
    "experiment": "icu_mortality",
    "run_id": "20260801T101500-3f2a9c",
    "created_at": "2026-08-01T10:15:00+00:00",
    "use_case": {
        "name": "icu_mortality",
        "title": "In-hospital death after ICU admission",
        "setting": "acute",
        "outcome": "Death before discharge from hospital.",
        "prediction_time": "At ICU admission, using data available within the first hour.",
        "intended_use": (
            "Support the ICU team's early identification of adults at high risk of in-hospital "
            "death, to prompt senior review."
        ),
        "not_for": [
            "Decisions to withhold or withdraw treatment.",
            "Children or patients admitted after cardiac surgery.",
        ],
        "limitations": [
            "Developed on 200 admissions from one US hospital in the 1980s.",
            "Small test set: wide confidence intervals.",
        ],
        "population": "Adults admitted to one adult ICU.",
        "citation": "Hosmer DW, Lemeshow S. Applied Logistic Regression. 2nd ed. Wiley; 2000.",
        "translations": {
            "da": {
                "title": "Død under indlæggelsen efter indlæggelse på intensivafdeling",
                "outcome": "Død før udskrivelse fra hospitalet.",
                "intended_use": (
                    "Støtte intensivteamets tidlige identifikation af voksne med høj risiko for "
                    "død under indlæggelsen, så en speciallæge vurderer patienten."
                ),
                "not_for": ["Beslutninger om at undlade eller afbryde behandling."],
            },
        },
    },
    "dataset": {
        "name": "ICU",
        "title": "ICU admissions (vcdExtra)",
        "package": "vcdExtra",
        "licence": "GPL-2 | GPL-3",
        "citation": "Friendly M. vcdExtra: vcd extensions and additions. R package.",
        "url": "https://cran.r-project.org/package=vcdExtra",
        "n_rows": 200,
    },
    "cohort_flow": [  # nobody excluded
        {"step": step, "excluded": 0, "remaining": 200}
        for step in ("source", "age under 18", "missing outcome")
    ],
    "population_summary": {
        "n": 200,
        "age": {"median (IQR)": {"median": 63.0, "q1": 46.0, "q3": 72.0}},
        "sex": {"female": {"n": 76, "pct": 38.0}, "male": {"n": 124, "pct": 62.0}},
        "died": {"yes": {"n": 40, "pct": 20.0}},
    },
    "split": {"method": "stratified", "test_size": 0.3, "n_train": 140, "n_test": 60},
    "model": {
        "family": "logistic",
        "best_params": {"C": 0.3162, "penalty": "l2"},
        "calibration": "sigmoid",
        "selection_metric": "roc_auc",
        "cv_score": 0.7934,
        "candidates": [
            {"family": "logistic", "cv_score": 0.7934, "n_trials": 20},
            {"family": "lightgbm", "cv_score": 0.7612, "n_trials": 20},
        ],
    },
    "features": {"numeric": ["age", "systolic", "hrtrate"], "categorical": ["sex", "type", "coma"]},
    "lineage": {
        "config_sha256": "a" * 64,
        "data_sha256": "b" * 64,
        "code_version": "1a2b3c4",
        "git_dirty": False,
        "python": "3.11.9",
        "packages": {"scikit-learn": "1.9.1", "numpy": "2.4.6", "pandas": "2.3.3"},
    },
    "acceptance_verdict": "not accepted",
    "registry": {"model_name": "icu_mortality", "version": 3, "alias": "candidate"},
}


@pytest.fixture
def metrics() -> dict[str, Any]:
    return copy.deepcopy(METRICS)


@pytest.fixture
def context() -> dict[str, Any]:
    return copy.deepcopy(CONTEXT)


@pytest.fixture
def importance() -> dict[str, Any]:
    return copy.deepcopy(IMPORTANCE)


@pytest.fixture(scope="session")
def all_plots(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Every plot of the example (the CEAC from CEAC_EXAMPLE), rendered once per session (~2 s)."""
    from clinai.reporting import render_plots

    return render_plots(
        {**METRICS, "economics": CEAC_EXAMPLE},
        importance=IMPORTANCE,
        out_dir=tmp_path_factory.mktemp("plots"),
    )


#: A made-up cost-effectiveness acceptability curve in the shape of metrics.json's economics.
CEAC_EXAMPLE: dict[str, Any] = {
    "currency": "DKK",
    "assumptions": {
        "willingness_to_pay": {
            "distribution": "point",
            "value": 750000.0,
            "expected_value": 750000.0,
        }
    },
    "sensitivity": {
        "acceptability": {
            "willingness_to_pay": [0.0, 750000.0, 1500000.0],
            "probability_best": {"treat_none": [0.6, 0.1, 0.0], "model >= 0.2": [0.4, 0.9, 1.0]},
        }
    },
}


# ------------------------------------------------------------- fairness and mitigation blocks
# Made-up but consistent numbers in the shape of clinai.evaluation.fairness_metrics().to_dict()
# and threshold_optimizer_mitigation().to_dict(); "male & oldest" is a planted tiny cell.


def _fair_group(
    label: str, levels: dict, n: int | None, events: int | None, base: float
) -> dict[str, Any]:
    return {
        "group": label,
        "levels": levels,
        "n": n,
        "events": events,
        "suppressed": False,
        "auroc": _est(base, base - 0.11, base + 0.09),
        "calibration_in_the_large": _est(base - 0.75, base - 1.2, base - 0.3),
        "sensitivity": _est(base - 0.02, base - 0.2, base + 0.1),
        "specificity": _est(base - 0.04, base - 0.18, base + 0.08),
        "net_benefit": _est(0.051, 0.012, 0.094),
    }


def _fair_table(attributes: list[str], groups: list[dict[str, Any]]) -> dict[str, Any]:
    table: dict[str, Any] = {
        "attributes": attributes,
        "intersection": len(attributes) > 1,
        "threshold": 0.2,
        "min_cell": 5,
        "groups": groups,
    }
    for metric in FAIRNESS_METRICS:
        block: dict[str, Any] = {"difference": _est(0.07, 0.01, 0.19)}
        if metric in ("auroc", "sensitivity", "specificity"):
            block["ratio"] = _est(0.91, 0.78, 0.99)
        table[metric] = {
            **block,
            "n_groups": sum(not g["suppressed"] for g in groups),
            "n_skipped": 0,
        }
    return table


def _suppressed(label: str, levels: dict) -> dict[str, Any]:
    return {
        "group": label,
        "levels": levels,
        "n": None,
        "events": None,
        "suppressed": True,
        **dict.fromkeys(FAIRNESS_METRICS),
    }


FAIRNESS: dict[str, Any] = {
    "sex": _fair_table(
        ["sex"],
        [
            _fair_group("female", {"sex": "female"}, 24, 5, 0.78),
            _fair_group("male", {"sex": "male"}, 36, 7, 0.83),
        ],
    ),
    "sex_x_age_band": _fair_table(
        ["sex", "age_band"],
        [
            _fair_group(
                "female & younger", {"sex": "female", "age_band": "younger"}, None, None, 0.76
            ),
            _fair_group("male & younger", {"sex": "male", "age_band": "younger"}, None, None, 0.81),
            _fair_group(
                "female & oldest", {"sex": "female", "age_band": "oldest"}, None, None, 0.8
            ),
            _suppressed("male & oldest", {"sex": "male", "age_band": "oldest"}),
        ],
    ),
}

MITIGATION: dict[str, Any] = {
    "method": "threshold_optimizer",
    "attribute": "sex",
    "constraint": "equalized_odds",
    "objective": "balanced_accuracy_score",
    "fitted_on": "out-of-fold predictions of the training split (5-fold cross-validation)",
    "n_fit": 140,
    "threshold": 0.2,
    "applied_to_registered_model": False,
    "overall": {
        "unmitigated": {
            "sensitivity": _est(0.75, 0.47, 0.92),
            "specificity": _est(0.79, 0.65, 0.89),
            "flag_rate": _est(0.32, 0.21, 0.45),
            "net_benefit": _est(0.062, 0.011, 0.118),
        },
        "mitigated": {
            "sensitivity": _est(0.71, 0.43, 0.9),
            "specificity": _est(0.8, 0.66, 0.9),
            "flag_rate": _est(0.3, 0.19, 0.43),
            "net_benefit": _est(0.055, 0.004, 0.109),
        },
        "difference": {
            "sensitivity": _est(-0.04, -0.12, 0.0),
            "specificity": _est(0.01, -0.03, 0.05),
            "flag_rate": _est(-0.02, -0.05, 0.01),
            "net_benefit": _est(-0.007, -0.021, 0.004),
        },
    },
    "disparities": {
        "unmitigated": {"flag_rate": 0.09, "sensitivity": 0.11, "specificity": 0.09},
        "mitigated": {"flag_rate": 0.03, "sensitivity": 0.02, "specificity": 0.03},
    },
    "groups": [
        {
            "group": "female",
            "n": 24,
            "events": 5,
            "suppressed": False,
            "unmitigated": {"flag_rate": 0.29, "sensitivity": 0.8, "specificity": 0.74},
            "mitigated": {"flag_rate": 0.3, "sensitivity": 0.72, "specificity": 0.78},
        },
        {
            "group": "male",
            "n": 36,
            "events": 7,
            "suppressed": False,
            "unmitigated": {"flag_rate": 0.38, "sensitivity": 0.71, "specificity": 0.83},
            "mitigated": {"flag_rate": 0.33, "sensitivity": 0.71, "specificity": 0.81},
        },
        {
            "group": "other",
            "n": None,
            "events": None,
            "suppressed": True,
            "unmitigated": None,
            "mitigated": None,
        },
    ],
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for a module's browser tests; skips without playwright or Chromium."""
    binary = require_chromium()
    from playwright.sync_api import sync_playwright

    # Playwright gives the browser a fresh temporary profile (it refuses --user-data-dir).
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=binary, args=CHROMIUM_ARGS, timeout=60_000
        )
        try:
            yield launched
        finally:
            launched.close()


def use_case_run(name: str, frame: Callable[[], pd.DataFrame], **options: Any) -> Any:
    """A module-scoped ``run_dir`` fixture: ``clinai run`` of the synthetic use case ``name``.

    The run is written once per test module under a temporary ``<name>_run`` folder, on the
    data ``frame()`` returns (built only when a test asks for the run); ``options`` go to
    :func:`tests._helpers.run_use_case`.
    """

    @pytest.fixture(scope="module")
    def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
        return run_use_case(tmp_path_factory.mktemp(f"{name}_run"), name, frame=frame(), **options)

    return run_dir

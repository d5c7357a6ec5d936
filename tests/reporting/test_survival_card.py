"""The survival model card: every section in English and Danish, from real survival_metrics.json.

survival_metrics_example.json is the evaluate stage's output of a real ``ami_1y_mortality``
run (WHAS500, horizon 365 days, test split of 150; numbers rounded to 4 decimals).
"""

from __future__ import annotations

import copy
import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from clinai.reporting import get_strings
from clinai.reporting._format import NumberFormatter
from clinai.reporting._survival_card import (
    build_survival_card,
    horizon_words,
    write_survival_card,
)
from clinai.runs._survival_card import survival_headline_metrics

METRICS: dict[str, Any] = json.loads(
    (Path(__file__).with_name("survival_metrics_example.json")).read_text(encoding="utf-8")
)
PATIENT = "PID-0042-SECRET"
CONTEXT: dict[str, Any] = {
    "experiment": "ami_1y_mortality",
    "run_id": "r1",
    "created_at": "2026-12-04T16:00:00+00:00",
    "languages": ["en", "da"],
    "use_case": {
        "title": "Acute myocardial infarction: time to death",
        "setting": "acute",
        "outcome": "Time from admission to death from any cause.",
        "prediction_time": "During the index admission.",
        "intended_use": "Demonstration.",
        "population": "500 patients.",
        "not_for": ["Treatment decisions."],
        "limitations": ["One US region."],
        "event_phrase": "will have died",
        "time_unit": "days",
        "translations": {
            "da": {
                "title": "Akut myokardieinfarkt: tid til død",
                "outcome": "Tid fra indlæggelse til død.",
                "event_phrase": "være døde",
                "time_unit": "dage",
                "not_for": ["Behandlingsbeslutninger."],
                "limitations": ["Én amerikansk region."],
            }
        },
        "patient_id": PATIENT,  # not whitelisted: must never be rendered
    },
    "dataset": {"name": "whas500", "title": "WHAS500", "package": "sksurv", "citation": "Hosmer."},
    "model": {
        "family": "cox_net",
        "families": ["cox_net", "gradient_boosted_survival"],
        "tuning": {"n_trials": 10, "cv_folds": 5},
        "small_data": None,
    },
    "split": {"n_train": 350, "n_test": 150, "events_train": 151, "events_test": 64},
    "cohort": {"n": 500, "events": 215, "events_by_horizon": 138, "censored_before_horizon": 0},
    "lineage": {"config_sha256": "c" * 64, "data_sha256": "d" * 64, "code_version": "clinai 0.1"},
    "registry": {"model_name": "ami_1y_mortality", "version": 2, "alias": "candidate"},
    "acceptance_verdict": "no criteria",
}


def _write(
    tmp_path: Path,
    metrics: dict[str, Any] | None = None,
    *,
    english_only: bool = False,
    **context: Any,
) -> dict:
    card = build_survival_card({**CONTEXT, **context}, metrics or METRICS)
    return write_survival_card(card, tmp_path, languages=("en",) if english_only else ("en", "da"))


def _text(files: dict[str, Path]) -> str:
    return "\n".join(
        html.unescape(p.read_text(encoding="utf-8"))
        for n, p in files.items()
        if "." in n[-5:] and not n.endswith(".png")
    )


def test_card_has_every_section_in_english_and_danish(tmp_path: Path) -> None:
    files = _write(tmp_path)
    assert {
        "model_card.md",
        "model_card.html",
        "model_card.da.md",
        "model_card.da.html",
        "model_card.json",
    } <= set(files)
    plots = sorted(n for n in files if n.startswith("plots/"))
    assert plots == sorted(
        f"plots/ami_1y_mortality.{name}{suffix}.png"
        for name in ("calibration", "risk_groups", "decision_curve")
        for suffix in ("", ".da")
    )
    english = files["model_card.md"].read_text(encoding="utf-8")
    # natural frequencies at the horizon, in years for a reader
    assert "Of 100 patients like these, about 29 will have died within 1 year" in english
    assert "the model predicted about 26" in english
    # discrimination and calibration with intervals; the follow-up (reverse Kaplan-Meier)
    assert "| Harrell's C | 0.804 | 0.759–0.854 |" in english
    assert "| Calibration slope | 0.92 | 0.61–1.49 |" in english
    assert "| Median follow-up (reverse Kaplan-Meier) |  | 1,298 days |" in english
    assert "| Censored before the horizon | 0 | 0 (0.0%) |" in english
    # observed against predicted by risk group: a group with too few events (not a small
    # group: 15 patients) shows no observed risk or size, and says why
    assert (
        "| 1 | 1.8%–6.3% | 4.4% | suppressed (too few events or event-free patients) | n/a |"
        " suppressed |"
    ) in english
    assert "| 7 | 48.1%–98.2% | 71.0% | 76.2% | 51.9%–89.3% | 21 |" in english
    assert "| 10% | 0.219 (0.151–0.299) | 0.207 |" in english  # decision curve
    # the TRIPOD+AI items of a time-to-event model, numbered as in TRIPOD+AI 2024
    for item in ("8a", "10", "12c", "12e", "12g", "15", "20a", "21", "23a"):
        assert re.search(rf"^\| {item} \| ", english, re.MULTILINE), item
    assert "Breslow's baseline cumulative hazard" in english
    for name in ("calibration", "risk_groups", "decision_curve"):
        assert f"(plots/ami_1y_mortality.{name}.png)" in english
    danish = files["model_card.da.md"].read_text(encoding="utf-8")
    assert "Af 100 patienter som disse vil omkring 29 være døde inden for 1 år" in danish
    assert "| Harrells C | 0,804 | 0,759–0,854 |" in danish
    assert "(plots/ami_1y_mortality.calibration.da.png)" in danish
    assert "Tid fra indlæggelse til død." in danish
    page = files["model_card.html"].read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 3  # self-contained for the PDF
    assert json.loads(files["model_card.json"].read_text())["schema"] == "clinai.survival_card/1"


def _est(estimate: float, low: float, high: float) -> dict[str, float]:
    return {"estimate": estimate, "ci_low": low, "ci_high": high}


def test_acceptance_comparison_and_fairness_are_rendered_when_present(tmp_path: Path) -> None:
    # The blocks a survival run's evaluate stage adds (shapes in /work/notes/WAVE9.md).
    metrics = copy.deepcopy(METRICS)
    metrics["acceptance_verdict"] = "not accepted"
    metrics["acceptance"] = [
        {
            "criterion": "discrimination",
            "metric": "harrell_c",
            "statistic": "ci_low",
            "min": 0.7,
            "max": None,
            "value": 0.7588,
            "passed": True,
            "status": "pass",
        },
        {
            "criterion": "calibration slope",
            "metric": "calibration_slope",
            "statistic": "estimate",
            "min": 0.8,
            "max": 1.2,
            "value": 0.7801,
            "passed": False,
            "status": "fail",
        },
        {
            "criterion": "time-dependent AUC",
            "metric": "td_auc",
            "statistic": "estimate",
            "min": 0.7,
            "max": None,
            "value": 0.81,
            "passed": True,
            "status": "pass",
        },
        {
            "criterion": "no worse",
            "metric": "comparison.harrell_c.difference",
            "statistic": "ci_low",
            "min": -0.05,
            "max": None,
            "value": -0.01,
            "passed": True,
            "status": "pass",
        },
        {
            "criterion": "equal calibration",
            "metric": "fairness.sex.oe_ratio.ratio",
            "statistic": "estimate",
            "min": 0.7,
            "max": None,
            "value": 0.77,
            "passed": True,
            "status": "pass",
        },
    ]
    metrics["comparison"] = {
        "name": "registered version 1 (candidate)",
        "version": "1",
        "alias": "candidate",
        "horizon": 365.0,
        "n_boot": 200,
        "ci_level": 0.95,
        "harrell_c": {
            "model": _est(0.804, 0.759, 0.854),
            "registered": _est(0.792, 0.74, 0.84),
            "difference": _est(0.012, -0.01, 0.03),
        },
    }
    metrics["fairness"] = {
        "sex": {
            "attributes": ["sex"],
            "intersection": False,
            "min_cell": 5,
            "groups": [
                {
                    "group": "female",
                    "levels": {"sex": "female"},
                    "n": 55,
                    "events": 23,
                    "suppressed": False,
                    "harrell_c": _est(0.687, 0.578, 0.797),
                    "oe_ratio": _est(1.25, 0.9, 1.69),
                },
                {
                    "group": "other",
                    "levels": {"sex": "other"},
                    "n": None,
                    "events": None,
                    "suppressed": True,
                    "harrell_c": None,
                    "oe_ratio": None,
                },
            ],
            "harrell_c": {"difference": _est(0.181, 0.05, 0.3), "n_groups": 2},
            "oe_ratio": {
                "difference": _est(0.29, -0.2, 0.8),
                "ratio": _est(0.77, 0.5, 1.0),
                "n_groups": 2,
            },
        }
    }
    metrics["integrated_brier"] = {
        **_est(0.121, 0.1, 0.14),
        "start": 1.0,
        "end": 365.0,
        "n_times": 100,
    }
    model = {
        **CONTEXT["model"],
        "recalibration": {
            "method": "cox_cloglog",
            "slope": 0.81,
            "fitted_on": "out-of-fold",
            "cv_folds": 5,
            "oof_slope_before": 0.79,
            "reason": None,
        },
    }
    files = _write(tmp_path, metrics, acceptance_verdict="not accepted", model=model)
    english = files["model_card.md"].read_text(encoding="utf-8")
    assert "**Verdict:** not accepted" in english
    assert "| discrimination | Harrell's C, lower bound of the 95% CI | 0.76 | ≥ 0.70 | pass |" in (
        english
    )
    assert "| calibration slope | Calibration slope | 0.78 | 0.80 to 1.20 | fail |" in english
    assert "| time-dependent AUC | AUC at the horizon | 0.81 |" in english
    assert (
        "Harrell's C, this model minus the registered version, lower bound of the 95% CI" in english
    )
    assert "O/E ratio, smallest over largest group (sex)" in english
    assert "## Compared with the registered version" in english
    assert (
        "| Harrell's C | 0.804 (0.759–0.854) | 0.792 (0.740–0.840) | 0.012 (−0.010 to 0.030) |"
        in english
    )
    assert "| sex | female | 55 | 23 | 0.687 (0.578–0.797) | 1.25 (0.90–1.69) |" in english
    assert "| sex | other | suppressed (too few patients or events) |  |  |  |" in english
    assert "sex: Harrell's C differs by 0.181 (0.050–0.300)" in english
    assert "| Integrated Brier score (up to the horizon) | 0.121 | 0.100–0.140 |" in english
    assert "multiplied by 0.81" in english and re.search(r"^\| 12f \| ", english, re.MULTILINE)
    danish = files["model_card.da.md"].read_text(encoding="utf-8")
    assert "## Sammenlignet med den registrerede version" in danish
    assert get_strings("da")["verdict_not_accepted"] in danish
    assert "ganget med 0,81" in danish


def test_no_patient_identifier_or_row_reaches_the_card(tmp_path: Path) -> None:
    metrics = copy.deepcopy(METRICS)
    metrics["patient_ids"] = [PATIENT]
    metrics["risk_groups"][0]["patients"] = [PATIENT]
    metrics["risk_groups"][0].update(n=3, observed=0.33)  # suppressed: hidden whatever it holds
    metrics["subgroups"][2].update(n=4, harrell_c={"estimate": 0.9, "ci_low": 0.1, "ci_high": 1})
    files = _write(tmp_path, metrics)
    text = _text(files)
    assert PATIENT not in text
    assert "33.0%" not in text
    card = json.loads(files["model_card.json"].read_text())
    assert card["validation"]["risk_groups"][0]["n"] is None
    assert "n" not in card["validation"]["subgroups"][2]


def test_small_data_section_is_shown_when_the_criteria_were_not_met(tmp_path: Path) -> None:
    model = {
        **CONTEXT["model"],
        "small_data": {
            "criteria_met": False,
            "n_parameters": 13,
            "n_required": 900,
            "events_required": 390,
            "n_available": 350,
            "events_available": 151,
            "shrinkage": 0.8,
        },
    }
    files = _write(tmp_path, model=model, english_only=True)
    english = files["model_card.md"].read_text(encoding="utf-8")
    assert get_strings("en")["small_data_title"] in english
    assert "900" in english and "0.80" in english


@pytest.mark.parametrize(
    ("horizon", "unit", "language", "expected"),
    [
        (365.0, "days", "en", "1 year"),
        (1826.0, "days", "en", "5 years"),
        (1825.0, "days", "da", "5 år"),
        (100.0, "days", "en", "100 days"),
        (365.0, None, "en", "365 (time unit of the data)"),
    ],
)
def test_horizon_is_said_in_years_when_it_is_whole_years_of_days(
    horizon: float, unit: str | None, language: str, expected: str
) -> None:
    strings = get_strings(language)
    assert horizon_words(horizon, unit, strings, NumberFormatter(language)) == expected


def test_a_binary_metrics_file_is_refused_with_one_line() -> None:
    with pytest.raises(ValueError, match=re.escape("must be survival_metrics.json")):
        build_survival_card(CONTEXT, {"schema_version": 1, "auroc": {"estimate": 0.8}})


def test_headline_metrics_are_copied_without_a_run_id() -> None:
    headline = survival_headline_metrics({**METRICS, "acceptance": [{"status": "fail"}]})
    assert headline["harrell_c"] == METRICS["metrics"]["harrell_c"]["estimate"]
    assert headline["calibration_slope_ci_low"] == METRICS["metrics"]["calibration_slope"]["ci_low"]
    assert headline["events_by_horizon"] == 43 and headline["horizon"] == 365.0
    assert (headline["criteria_passed"], headline["criteria_failed"]) == (0, 1)
    assert "run_id" not in headline
    assert all(v is None or isinstance(v, int | float) for v in headline.values())

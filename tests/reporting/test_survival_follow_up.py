"""Survival documents when most follow-up ended before the horizon, and the run's time unit.

Found on flchain (scikit-survival) with a horizon of 5,000 days: 413 of 600 test patients were
censored before it and only 15 followed to it event-free, yet the card and the report gave the
Kaplan-Meier headline and O/E without a word of caution; and a run's validation report wrote
"within 1,826 (in the time unit of the data)" and "4,655.00" where its card said "1,826 days".
"""

from __future__ import annotations

import copy
import html
from pathlib import Path
from typing import Any

import pytest

from clinai.reporting import get_strings
from clinai.reporting._format import NumberFormatter
from clinai.reporting._survival_card import build_survival_card, write_survival_card
from clinai.reporting._survival_report import follow_up_caution, render_survival_report
from tests.reporting.test_survival_card import CONTEXT, METRICS

REPORT_CONTEXT = {"title": "WHAS500", "source": "ami", "created": "2026-12-05"}


def _censored(share_censored: int) -> dict[str, Any]:
    """The example metrics (150 test patients, 43 events by 365 days) with more censoring."""
    metrics = copy.deepcopy(METRICS)
    follow = metrics["follow_up"]
    follow["censored_before_horizon"] = share_censored
    follow["share_censored_before_horizon"] = share_censored / follow["n"]
    return metrics


def _read(folder: Path, name: str) -> str:
    return html.unescape((folder / name).read_text(encoding="utf-8"))


def _english_report(folder: Path, metrics: dict[str, Any] = METRICS) -> str:
    """Render the English report of ``clinai validate`` (no unit, no PDF); return its Markdown."""
    render_survival_report(metrics, folder, context=REPORT_CONTEXT, languages=("en",), pdf=False)
    return _read(folder, "validation_report.md")


@pytest.mark.parametrize(("censored", "warned"), [(74, False), (75, True), (100, True)])
def test_caution_from_half_of_the_patients_censored_before_the_horizon(
    censored: int, warned: bool
) -> None:
    follow = _censored(censored)["follow_up"]
    text = follow_up_caution(follow, get_strings("en"), NumberFormatter("en"))
    assert (text is not None) is warned
    if warned:
        # 150 patients, 43 with the event by the horizon: the rest were followed to it
        assert f"{censored} of 150 patients" in text
        assert f"only {150 - censored - 43} were followed to the horizon" in text


def test_report_and_card_warn_in_both_languages(tmp_path: Path) -> None:
    metrics = _censored(100)
    render_survival_report(metrics, tmp_path / "report", context=REPORT_CONTEXT, pdf=False)
    card = build_survival_card(CONTEXT, metrics)
    write_survival_card(card, tmp_path / "card", languages=("en", "da"))
    for folder, stem in (
        (tmp_path / "report", "validation_report"),
        (tmp_path / "card", "model_card"),
    ):
        english = _read(folder, f"{stem}.md")
        assert "> **Caution:** the follow-up of 100 of 150 patients (66.7%)" in english
        assert "only 7 were followed to the horizon without it" in english
        assert "> **Forsigtig:** opfølgningen af 100 af 150 patienter (66,7 %)" in _read(
            folder, f"{stem}.da.md"
        )
        assert '<p class="note"><strong>Caution:</strong> the follow-up of 100' in _read(
            folder, f"{stem}.html"
        )


def test_follow_up_within_the_horizon_gives_no_caution(tmp_path: Path) -> None:
    assert "Caution:** the follow-up of" not in _english_report(tmp_path)


def test_a_runs_report_writes_times_in_the_units_of_its_pipeline(tmp_path: Path) -> None:
    render_survival_report(
        METRICS,
        tmp_path,
        context=REPORT_CONTEXT,
        pdf=False,
        time_units={"en": "days", "da": "dage"},
    )
    english = _read(tmp_path, "validation_report.md")
    assert "about 29 had the event within 365 days; the model predicted about 26." in english
    assert "- **Horizon:** 365 days" in english
    assert "- **Median follow-up (reverse Kaplan-Meier):** 1,298 days" in english
    assert "- **Longest follow-up:** 2,353 days" in english
    assert "time unit of the data" not in english
    danish = _read(tmp_path, "validation_report.da.md")
    assert "inden for 365 dage; modellen forudsagde omkring 26." in danish
    assert "- **Median opfølgning (omvendt Kaplan-Meier):** 1.298 dage" in danish


def test_clinai_validate_without_a_unit_says_the_data_have_one(tmp_path: Path) -> None:
    english = _english_report(tmp_path)
    assert "within 365 (in the time unit of the data)" in english
    assert "- **Median follow-up (reverse Kaplan-Meier):** 1,298.00" in english
    # the source and the count of predictions: "Predictions: flchain_5y" above "Predictions: 600"
    assert "- **Source of the predictions:** ami\n" in english
    assert "- **Predictions:** 150\n" in english


def test_risk_groups_say_why_they_show_no_observed_risk(tmp_path: Path) -> None:
    # flchain, heavy censoring: 9 of 10 groups of 60 patients read "suppressed (small group)";
    # horizon 5,000 days: a group of 60 with nobody followed that long read a bare "n/a"
    metrics = copy.deepcopy(METRICS)
    shown = next(row for row in metrics["risk_groups"] if not row["suppressed"])
    shown.update(observed=None, ci_low=None, ci_high=None)
    render_survival_report(metrics, tmp_path, context=REPORT_CONTEXT, pdf=False)
    english = _read(tmp_path, "validation_report.md")
    assert "| suppressed (too few events or event-free patients) | n/a | suppressed |" in english
    assert "small group" not in english.split("## Calibration curve")[0]
    row = f"| not estimable (no one followed to the horizon) | n/a | {shown['n']} |"
    assert row in english
    danish = _read(tmp_path, "validation_report.da.md")
    assert "| undertrykt (for få hændelser eller patienter uden hændelse) |" in danish
    assert "| kan ikke estimeres (ingen fulgt til horisonten) |" in danish


def test_a_horizon_in_years_is_neither_rounded_nor_called_the_data_unit(tmp_path: Path) -> None:
    # flchain with follow-up in years (futime / 365.25) and horizons [2.5, 5]: the card said
    # "Horizon: 2.50 (time unit of the data) (2 years)" and "13 years" for 12.75
    metrics = copy.deepcopy(METRICS)
    metrics["horizon"] = 2.5
    metrics["follow_up"].update(median_follow_up=12.746, max_follow_up=14.16)
    use_case = copy.deepcopy(CONTEXT["use_case"])
    use_case["time_unit"] = "years"
    use_case["translations"]["da"]["time_unit"] = "år"
    card = build_survival_card({**CONTEXT, "use_case": use_case}, metrics)
    write_survival_card(card, tmp_path, languages=("en", "da"))
    english = _read(tmp_path, "model_card.md")
    assert "- **Horizon:** 2.5 years\n" in english
    assert "within 2.5 years (observed, Kaplan-Meier)" in english
    assert "| Median follow-up (reverse Kaplan-Meier) |  | 12.75 years |" in english
    assert "time unit of the data" not in english and "(2 years)" not in english
    assert "- **Horisont:** 2,5 år\n" in _read(tmp_path, "model_card.da.md")


def test_a_suppressed_subgroup_says_patients_or_events_were_too_few(tmp_path: Path) -> None:
    # 60 flchain patients, about 30 of each sex with 3-4 events: "suppressed (small group)"
    metrics = copy.deepcopy(METRICS)
    for row in metrics["subgroups"]:
        row.update(suppressed=True, n=None, harrell_c=None, oe_ratio=None)
    render_survival_report(metrics, tmp_path, context=REPORT_CONTEXT, pdf=False)
    english = _read(tmp_path, "validation_report.md")
    assert "| suppressed (too few patients or events) | n/a | n/a |" in english
    assert "small group" not in english
    danish = _read(tmp_path, "validation_report.da.md")
    assert "| undertrykt (for få patienter eller hændelser) |" in danish


def test_fairness_without_two_groups_to_compare_says_so(tmp_path: Path) -> None:
    # 150 flchain patients (45 in the test split): both sexes suppressed, and the card read
    # "sex: Harrell's C differs by n/a between the best and the worst group; O/E by n/a"
    metrics = copy.deepcopy(METRICS)
    hidden = dict.fromkeys(("n", "events", "harrell_c", "oe_ratio"))
    groups = [{"group": sex, "levels": {"sex": sex}, "suppressed": True, **hidden} for sex in "fm"]
    metrics["fairness"] = {"sex": dict(attributes=["sex"], intersection=False, min_cell=5)}
    metrics["fairness"]["sex"]["groups"] = groups
    card = build_survival_card(CONTEXT, metrics)
    write_survival_card(card, tmp_path, languages=("en", "da"))
    english = _read(tmp_path, "model_card.md")
    assert "- sex: too few patients or events in its groups to compare them." in english
    assert "differs by n/a" not in english
    assert "- sex: for få patienter eller hændelser i grupperne" in _read(
        tmp_path, "model_card.da.md"
    )

"""The competing-risk card and report say the data's time unit and what a card must say.

Found with flchain (scikit-survival), circulatory death with other deaths competing: the
validation of predictions whose times were in months read "within 60 days", and the run's card
had no "not for use", no limitations, no data and code hashes, no privacy statement and, with
no acceptance criteria, no verdict at all.
"""

from __future__ import annotations

import pytest

from clinai.evaluation import evaluate_competing
from clinai.reporting._competing_card import competing_card, competing_report
from tests.evaluation.survival._simulation import fine_gray_cohort

TEXTS = {
    "title": "Circulatory death",
    "outcome": "Death from a circulatory cause; other deaths compete.",
    "intended_use": "Teaching.",
    "competing_event": "death from another cause",
    "time_unit": "months",
    "population": "Residents aged 50 or more.",
    "prediction_time": "When the assay result is known.",
    "not_for": ["Decisions about one patient."],
    "limitations": ["One county."],
}
LINEAGE = {
    "experiment": "flchain_circ",
    "run_id": "r1",
    "dataset": "dev.csv",
    "config_sha256": "c" * 64,
    "data_sha256": "d" * 64,
    "code_version": "clinai 0.1.0",
    "git_dirty": False,
    "pipeline": "flchain_circulatory",
    "pipeline_sha256": "e" * 64,
}


@pytest.fixture(scope="module")
def metrics() -> dict:
    data = fine_gray_cohort(5, n=200)
    document = evaluate_competing(data.time, data.codes, data.cif(1.0), horizon=1.0, n_boot=0)
    # a run's record: the horizon in the data's months, judged against no criteria
    return {**document.to_dict(), "horizon": 12.0, "acceptance": [], "acceptance_verdict": None}


def test_validate_report_names_no_unit_the_data_may_not_have(metrics: dict) -> None:
    for language, words in (
        ("en", "within 12 (in the time unit of the data)"),
        ("da", "inden for 12 (i dataenes tidsenhed)"),
    ):
        report = competing_report(metrics, language, source="p.csv", created="2026-12-05")
        assert words in report
        assert "days" not in report and "dage" not in report


def test_card_writes_the_horizon_in_the_pipelines_unit(metrics: dict) -> None:
    card = competing_card(metrics, TEXTS, "en", selected="cause_specific_cox", lineage=LINEAGE)
    assert "risk of the event within 12 months, with death from another cause" in card
    assert "By 12 months there were" in card and "days" not in card


def test_card_has_the_sections_a_reader_needs(metrics: dict) -> None:
    card = competing_card(metrics, TEXTS, "en", selected="cause_specific_cox", lineage=LINEAGE)
    for text in (
        "**Population:** Residents aged 50 or more.",
        "**Prediction time:** When the assay result is known.",
        "**Not for use:**\n\n- Decisions about one patient.",
        "## Limitations\n\n- One county.",
        "Verdict: **no criteria**.",
        "- **Config SHA-256:** `" + "c" * 64 + "`",
        "- **Pipeline module (SHA-256):** `flchain_circulatory` `" + "e" * 64 + "`",
        "## Privacy",
        "Experiment flchain_circ · Run r1",
    ):
        assert text in card, text
    assert "\n\n\n" not in card and card.endswith("r1\n")
    bare = {key: TEXTS[key] for key in ("title", "outcome", "intended_use", "competing_event")}
    danish = competing_card(metrics, bare, "da", selected="cause_specific_cox")
    assert "**Ikke til brug:**\n\n- ikke tilgængelig" in danish  # a missing list says so
    assert "(i dataenes tidsenhed)" in danish


def test_a_runs_report_is_headed_by_its_use_case_and_says_its_unit(metrics: dict) -> None:
    report = competing_report(
        metrics, "en", source="flchain_circ", created="2026-12-05", unit="months", title="Deaths"
    )
    assert report.startswith("# Validation on the test split (competing risks): Deaths\n")
    assert "within 12 months" in report and "Verdict: **no criteria**." in report


def test_most_follow_up_ending_before_the_horizon_is_cautioned(metrics: dict) -> None:
    follow = metrics["competing"]["follow_up"]
    # a competing event ends follow-up as the event does: 1 + 1 of them, 1 patient followed
    censored = {**follow, "censored_before_horizon": follow["n"] - 3}
    censored.update(events_by_horizon=1, competing_by_horizon=1)
    heavy = {**metrics, "competing": {**metrics["competing"], "follow_up": censored}}
    card = competing_card(heavy, TEXTS, "en", selected="cause_specific_cox", lineage=LINEAGE)
    assert f"> **Caution:** the follow-up of {follow['n'] - 3} of {follow['n']} patients" in card
    assert "only 1 were followed to the horizon" in card
    plain = competing_card(metrics, TEXTS, "en", selected="c", lineage=LINEAGE)
    assert "Caution:** the follow-up of" not in plain


@pytest.mark.parametrize("language", ["en", "da"])
def test_card_and_report_show_observed_against_predicted_risk_by_group(
    metrics: dict, language: str
) -> None:
    """They showed no calibration by risk group at all; the survival documents do."""
    from clinai.reporting._render import translator

    t, fmt = translator(language)  # the documents' words and number format
    groups = metrics["competing"]["risk_groups"]
    assert len(groups) >= 2
    card = competing_card(metrics, TEXTS, language, selected="c", lineage=LINEAGE)
    report = competing_report(metrics, language, source="p.csv", created="2026-12-05")
    for document in (card, report):
        assert t["ccard_observed"] in document and "Aalen-Johansen" in document
        rows = [line for line in document.splitlines() if line.startswith("| ") and "% |" in line]
        assert len(rows) == len(groups)
        for row, group in zip(rows, groups, strict=True):
            cells = [cell.strip() for cell in row.strip("|").split("|")]
            assert cells[2] == fmt.pct(group["predicted"])
            if group["suppressed"]:  # neither its observed risk nor its size
                assert cells[5] == t["surv_suppressed_size"]
            else:
                assert cells[3] == fmt.pct(group["observed"])
                assert cells[5] == fmt.count(group["n"])
    no_groups = {**metrics, "competing": {**metrics["competing"], "risk_groups": []}}
    plain = competing_card(no_groups, TEXTS, language, selected="c", lineage=LINEAGE)
    assert t["ccard_observed"] not in plain

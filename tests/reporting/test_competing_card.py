"""The competing-risk card and report name the compared model in the reader's language."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clinai.evaluation import compare_competing_models, competing_fairness, evaluate_competing
from clinai.reporting._competing_card import competing_body, competing_report
from tests.evaluation.survival._simulation import fine_gray_cohort

T = 1.0


@pytest.fixture(scope="module")
def metrics() -> dict:
    data = fine_gray_cohort(5, n=200)
    risk = data.cif(T)
    other = np.clip(risk + np.random.default_rng(1).normal(0.0, 0.08, risk.shape), 0.0, 1.0)
    outcome = (data.time, data.codes)
    document = evaluate_competing(*outcome, risk, horizon=T, n_boot=10).to_dict()
    compared = compare_competing_models(
        *outcome, risk, other, horizon=T, n_boot=10, name="registered version 3 (approved)"
    )
    # as a competing-risk run records it: the English name, the version and its alias
    document["comparison"] = {**compared.to_dict(), "version": "3", "alias": "approved"}
    return document


def test_the_registered_version_is_named_in_each_language(metrics: dict) -> None:
    english = competing_report(metrics, "en", source="test.csv", created="2026-12-04")
    danish = competing_report(metrics, "da", source="test.csv", created="2026-12-04")
    assert "## Compared with registered version 3 (approved)" in english
    assert "## Sammenlignet med den registrerede version 3 (approved)" in danish
    assert "registered version 3" not in danish.replace("registrerede version 3", "")
    # the paired differences' intervals and a missing number read in Danish as well
    assert " til " in danish and " to " not in danish
    missing = {**metrics, "metrics": {**metrics["metrics"], "time_auc": None}}
    assert "- tidsafhængig AUC: ikke tilgængelig" in competing_report(
        missing, "da", source="test.csv", created="2026-12-04"
    )


def test_a_comparison_without_a_version_keeps_its_recorded_name(metrics: dict) -> None:
    named = {**metrics, "comparison": {**metrics["comparison"], "name": "the old score"}}
    del named["comparison"]["version"]
    danish = competing_report(named, "da", source="test.csv", created="2026-12-04")
    assert "## Sammenlignet med the old score" in danish


@pytest.mark.parametrize("language", ["en", "da"])
def test_the_template_keeps_the_markdown_layout(metrics: dict, language: str) -> None:
    """One blank line around each heading, one line break at the end, the body shared."""
    report = competing_report(metrics, language, source="test.csv", created="2026-12-04")
    body = competing_body(metrics, language)
    assert report.endswith(body) and report.startswith("# ") and body.endswith(".\n")
    assert "\n\n\n" not in report and not report.endswith("\n\n")
    lines = report.split("\n")
    for at, line in enumerate(lines):
        if line.startswith("## "):
            assert lines[at - 1] == "" and lines[at + 1] == "", line


def test_texts_from_the_inputs_are_escaped_for_markdown(metrics: dict) -> None:
    # a pipe in a group label would split the table row; a tag would reach the HTML
    table = metrics["comparison"] | {"name": "score <b>v2</b>"}
    del table["version"]
    named = {**metrics, "comparison": table}
    data = fine_gray_cohort(5, n=200)
    labels = pd.DataFrame({"ward": np.where(np.arange(200) % 2 == 0, "A|B", "C")})
    tables = competing_fairness(data.time, data.codes, data.cif(T), labels, horizon=T, n_boot=0)
    named["fairness"] = {name: table.to_dict() for name, table in tables.items()}
    report = competing_report(named, "en", source="a|b <i>.csv", created="2026-12-04")
    assert "## Compared with score &lt;b>v2&lt;/b>" in report
    assert "a|b &lt;i>.csv" in report and "<i>" not in report
    assert "| A\\|B |" in report  # the group's pipe is escaped inside the cell

"""The survival validation report of a run: acceptance verdict, comparison, fairness (EN/DA)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clinai import evaluation
from clinai.reporting._survival_report import render_survival_report

HORIZON = 1.0


@pytest.fixture(scope="module")
def document() -> dict:
    """survival_metrics.json of a run on synthetic patients, with the run's blocks."""
    rng = np.random.default_rng(0)
    n = 200
    lp = rng.normal(size=n)
    event_time = rng.exponential(np.exp(-lp))
    time, event = np.minimum(event_time, 2.5), (event_time <= 2.5).astype(int)
    risk = 1 - np.exp(-np.exp(lp))
    other = 1 - np.exp(-np.exp(0.5 * lp))
    sex = pd.DataFrame({"sex": rng.choice(["female", "male"], n)})
    kwargs = {"horizon": HORIZON, "n_boot": 10, "random_state": 0}
    doc = evaluation.evaluate_survival(time, event, risk, lp=lp, **kwargs).to_dict()
    doc["integrated_brier"] = evaluation.integrated_brier_with_interval(
        time, event, 1 - np.exp(-np.outer(np.exp(lp), [0.5, HORIZON])), [0.5, HORIZON], n_boot=10
    ).to_dict()
    comparison = evaluation.compare_survival_models(
        time, event, risk, other, name="registered version 1 (approved)", **kwargs
    )
    doc["comparison"] = {**comparison.to_dict(), "version": "1", "alias": "approved"}
    tables = evaluation.survival_fairness(time, event, risk, sex, score=lp, **kwargs)
    doc["fairness"] = {name: table.to_dict() for name, table in tables.items()}
    criteria = [
        {"name": "discrimination", "metric": "harrell_c", "statistic": "ci_low", "min": 0.6},
        {"name": "vs registered", "metric": "comparison.ipa.difference", "min": 0.0},
        {"name": "impossible", "metric": "integrated_brier", "max": 0.0},
    ]
    view = evaluation.survival_acceptance_view(doc)
    doc["acceptance"] = [v.to_dict() for v in evaluation.evaluate_acceptance(view, criteria)]
    doc["acceptance_verdict"] = "not accepted"
    return doc


def test_report_shows_the_verdict_comparison_and_fairness(document: dict, tmp_path: Path) -> None:
    context = {"title": "Synthetic", "source": "test", "created": "2026-01-01"}
    render_survival_report(document, tmp_path, context=context, pdf=False)
    english = (tmp_path / "validation_report.md").read_text(encoding="utf-8")
    assert "## Acceptance criteria" in english and "**Verdict:** not accepted" in english
    assert "Harrell's C, lower bound of the 95% CI" in english
    assert "| impossible |" in english and "| fail |" in english
    assert "registered version 1 (approved)" in english
    assert "Integrated Brier score (up to the horizon)" in english
    assert "### By sex" in english and "C index difference (largest − smallest)" in english
    assert "## Subgroups" not in english  # the fairness table replaces the subgroup table
    danish = (tmp_path / "validation_report.da.md").read_text(encoding="utf-8")
    assert "## Acceptkriterier" in danish and "ikke godkendt" in danish
    assert "Sammenligning med den registrerede version" in danish and "### Efter sex" in danish
    # the compared model is named in Danish from the recorded version and alias
    assert "Denne model og den registrerede version 1 (approved) er vurderet" in danish
    assert "registered version" not in danish
    html = (tmp_path / "validation_report.html").read_text(encoding="utf-8")
    assert 'id="acceptance"' in html and 'id="comparison"' in html and 'id="fairness"' in html


def test_run_blocks_are_in_the_survival_metrics_schema(document: dict) -> None:
    import json
    from importlib import resources

    jsonschema = pytest.importorskip("jsonschema")
    schema = resources.files("clinai.reporting").joinpath("schemas/survival_metrics.schema.json")
    jsonschema.validate(document, json.loads(schema.read_text(encoding="utf-8")))


def test_report_without_the_run_blocks_is_as_before(document: dict) -> None:
    from clinai.reporting._render import translator
    from clinai.reporting._survival_report import _view

    plain = {
        key: value
        for key, value in document.items()
        if key not in {"acceptance", "acceptance_verdict", "comparison", "fairness"}
    }
    view = _view(plain, *translator("en"))
    assert (view["acceptance"], view["comparison"], view["fairness"]) == (None, None, [])


def test_report_says_the_data_were_too_small_as_the_card_does(
    document: dict, tmp_path: Path
) -> None:
    import html

    from clinai.reporting._render import get_strings
    from tests.runs.test_small_data_survival import BINARY_WORDS, SURVIVAL_RECORD, SURVIVAL_WORDS

    context = {"title": "Synthetic", "source": "test", "created": "2026-01-01"}
    render_survival_report(document, tmp_path / "unmet", context=context, pdf=False,
                           small_data=SURVIVAL_RECORD)  # fmt: skip
    for language, suffix in (("en", ""), ("da", ".da")):
        title = get_strings(language)["small_data_title"]
        for kind in ("md", "html"):
            path = tmp_path / "unmet" / f"validation_report{suffix}.{kind}"
            text = html.unescape(path.read_text(encoding="utf-8"))
            assert title in text and all(w in text for w in SURVIVAL_WORDS[language]), path
            assert not any(word in text for word in BINARY_WORDS), path
    met = {**SURVIVAL_RECORD, "criteria_met": True}
    for record in (met, None):  # criteria met, or `clinai validate` (no training record)
        render_survival_report(document, tmp_path / "met", context=context, pdf=False,
                               small_data=record)  # fmt: skip
        english = (tmp_path / "met" / "validation_report.md").read_text(encoding="utf-8")
        assert get_strings("en")["small_data_title"] not in english

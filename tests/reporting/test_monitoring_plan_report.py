"""Annex IV point 9 points to the pre-registered monitoring plan; TRIPOD+AI 20c to the predictors.

The validation report (HTML and Markdown, English and Danish) renders the run's
``monitoring_plan.json`` and ``predictor_drift.json`` as they are; it computes nothing.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from clinai.reporting import write_validation_report
from clinai.reporting._report_md import write_validation_report_markdown

from .conftest import CONTEXT, METRICS

SHA = "ab" * 32
PLAN = {
    "plan": {
        "period": "month",
        "operating_threshold": 0.2,
        "min_events": 20,
        "n_boot": 200,
        "subgroups": ["sex", "age_band"],
        "limits": [
            {
                "metric": "oe_ratio",
                "statistic": "estimate",
                "min": 0.8,
                "max": 1.25,
                "action": "recalibrate",
            },
            {
                "metric": "auroc",
                "statistic": "ci_high",
                "min": 0.65,
                "max": None,
                "action": "suspend",
            },
            {
                "metric": "psi",
                "statistic": "estimate",
                "min": None,
                "max": 0.2,
                "action": "investigate",
            },
        ],
        "cusum": {
            "odds_ratio": 1.5,
            "false_alarm_rate": 0.01,
            "limit": None,
            "action": "investigate",
        },
    },
    "sha256": SHA,
}
DRIFT = {
    "reference": "training split",
    "current": "test split",
    "n_reference": 700,
    "n_current": 300,
    "n_features": 13,
    "features": [
        {
            "feature": "lactate",
            "kind": "numeric",
            "psi": 0.0412,
            "missing_reference": 0.02,
            "missing_current": 0.05,
            "reference": {"mean": 2.1, "sd": 1.4},
            "current": {"mean": 2.3, "sd": 1.5},
        },
        {
            "feature": "sex",
            "kind": "categorical",
            "psi": 0.0031,
            "missing_reference": 0.0,
            "missing_current": 0.0,
            "reference": {},
            "current": {
                "levels": [
                    {
                        "level": "female",
                        "share_reference": 0.48,
                        "share_current": 0.51,
                        "suppressed": False,
                    },
                    {
                        "level": "other",
                        "share_reference": 0.0,
                        "share_current": None,
                        "suppressed": True,
                    },
                ]
            },
        },
    ],
    "others": {"count": 11, "max_psi": 0.0029},
    "risk": {
        "psi": 0.0123,
        "ks": 0.05,
        "wasserstein": 0.01,
        "mean_reference": 0.12,
        "mean_current": 0.13,
    },
}

# Per language: Annex IV 9 with a plan, without one, and the 20c heading.
WORDS = {
    "en": (
        "Post-market monitoring plan",
        "partly answered here; to be completed by the provider",
        "No post-market monitoring plan is pre-registered",
        "Predictors in development and evaluation data",
    ),
    "da": (
        "Plan for overvågning efter markedsføring",
        "delvist besvaret her; udfyldes af udbyderen",
        "Der er ingen forhåndsregistreret plan for overvågning efter markedsføring",
        "Prædiktorer i udviklings- og valideringsdata",
    ),
}


def _documents(tmp_path: Path, language: str, **extra: Any) -> tuple[str, str]:
    context = {**copy.deepcopy(CONTEXT), **extra}
    html = write_validation_report(
        context, METRICS, plots={}, out_path=tmp_path / f"r.{language}.html", language=language
    ).read_text("utf-8")
    md = write_validation_report_markdown(
        context, METRICS, plots={}, out_path=tmp_path / f"r.{language}.md", language=language
    ).read_text("utf-8")
    return html, md


def _annex_row(html: str, point: str) -> str:
    body = html.split('<h2 id="annex-iv">', 1)[1].split("</section>", 1)[0]
    return next(
        r
        for r in re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S)
        if f'<th scope="row">{point}</th>' in r
    )


def _tripod_row(html: str, item: str) -> str:
    body = html.split('<h2 id="tripod">', 1)[1].split("</section>", 1)[0]
    return next(
        r
        for r in re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S)
        if f'<th scope="row">{item}</th>' in r
    )


@pytest.mark.parametrize("language", ["en", "da"])
def test_annex_iv_9_points_to_the_registered_plan(tmp_path: Path, language: str) -> None:
    heading, partly, _, drift_heading = WORDS[language]
    html, md = _documents(tmp_path, language, monitoring_plan=PLAN, predictor_drift=DRIFT)
    row = _annex_row(html, "9")
    assert 'href="#monitoring-plan"' in row and partly in row
    assert "<code>monitoring_plan.json</code>" in row
    section = html.split('<h2 id="monitoring-plan">', 1)[1].split("</section>", 1)[0]
    assert heading in html and SHA in section
    # The limits table: one row per limit, the range and the action in the reader's language.
    assert len(re.findall(r"<tr>", section)) == 1 + len(PLAN["plan"]["limits"])
    assert ("0.80" if language == "en" else "0,80") in section
    assert ("suspend" if language == "en" else "suspendér") in section
    assert ("false-alarm rate of 1.0%" if language == "en" else "falsk-alarm-rate på 1,0 %") in (
        section
    )
    for document in (html, md):
        assert SHA in document and heading in document
    # TRIPOD+AI 20c: answered by the predictors' table, the largest PSI first, the rest counted.
    assert 'href="#predictor-drift"' in _tripod_row(html, "20c")
    assert drift_heading in html and drift_heading in md
    table = html.split('id="predictor-drift"', 1)[1].split("</table>", 1)[0]
    assert table.index("lactate") < table.index("female")
    assert ("0.041" if language == "en" else "0,041") in table
    assert "11" in html.split('id="predictor-drift"', 1)[1].split("</section>", 1)[0]


@pytest.mark.parametrize("language", ["en", "da"])
def test_annex_iv_9_says_no_plan_is_pre_registered(tmp_path: Path, language: str) -> None:
    _, _, none, drift_heading = WORDS[language]
    html, md = _documents(tmp_path, language)
    row = _annex_row(html, "9")
    assert 'href="#monitoring-plan"' in row and "monitoring_plan.json" not in row
    assert "partly" not in row and "delvist" not in row
    assert none in html and none in md
    # No predictor table without predictor_drift.json; 20c stays with the study team.
    assert drift_heading not in html and 'id="predictor-drift"' not in html
    assert "#predictor-drift" not in _tripod_row(html, "20c")

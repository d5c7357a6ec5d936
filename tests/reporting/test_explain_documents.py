"""Explanations in the documents: "why the model flags a patient", synthetic profiles,
rank intervals, subgroup importance and dependence plots, in HTML, Markdown and PDF,
in English and Danish, checked in a real Chromium; no planted identifier leaks.
"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from clinai.reporting import (
    build_model_card,
    model_card_schema,
    render_plots,
    write_pdf,
)
from tests._helpers import IMAGES_JS, keep_screenshot, visit_page, write_documents

from ..conftest import require_pdftotext, require_weasyprint
from .conftest import CONTEXT, IMPORTANCE, METRICS

CANARY = "CANARY-PATIENT-4411"
SECTIONS = {
    "en": (
        "Why the model flags a patient",
        "Worked examples (synthetic patients)",
        "Example at the 90th percentile of risk: predicted risk 59.1%",
        "highest predicted risk when emergency, lowest when elective",
        "higher values give a higher predicted risk",
        "raises the risk",
        "lowers the risk",
    ),
    "da": (
        "Hvorfor modellen markerer en patient",
        "Gennemregnede eksempler (syntetiske patienter)",
        "Eksempel ved 90. percentil af risikoen: forudsagt risiko 59,1 %",
        "højest forudsagt risiko ved emergency, lavest ved elective",
        "højere værdier giver en højere forudsagt risiko",
        "øger risikoen",
        "sænker risikoen",
    ),
}
REPORT_SECTIONS = {
    "en": (
        "Stability of the importance ranking",
        "Variable importance by subgroup",
        "Mean absolute SHAP value by sex",
        "How each variable moves the prediction",
    ),
    "da": (
        "Stabilitet af vigtighedsrækkefølgen",
        "Variablenes vigtighed i undergrupper",
        "Gennemsnitlig absolut SHAP-værdi efter sex",
        "Hvordan hver variabel flytter forudsigelsen",
    ),
}


def _box(mean: float) -> dict[str, float]:
    return {
        "mean_shap": mean,
        "q1": mean - 0.1,
        "median": mean,
        "q3": mean + 0.1,
        "whisker_low": mean - 0.3,
        "whisker_high": mean + 0.3,
    }


def explained_importance() -> dict[str, Any]:
    """importance.json of the example with every explanation block (made-up, synthetic)."""
    out: dict[str, Any] = copy.deepcopy(IMPORTANCE)
    out["scale"] = "log-odds"
    out["rank_intervals"] = {
        "n_boot": 200,
        "ci_level": 0.95,
        "n_rows": 60,
        "variables": [
            {
                "variable": v["variable"],
                "mean_abs_shap": v["mean_abs_shap"],
                "rank": float(i + 1),
                "rank_low": float(max(1, i)),
                "rank_high": float(min(6, i + 2)),
            }
            for i, v in enumerate(IMPORTANCE["variables"])
        ],
    }
    out["subgroup_importance"] = [
        {
            "attribute": "sex",
            "min_cell": 5,
            "groups": [
                {
                    "group": "female",
                    "n": 24,
                    "suppressed": False,
                    "importance": {"age": 0.655, "type": 0.471, "coma": 0.398},
                },
                {
                    "group": "male",
                    "n": 36,
                    "suppressed": False,
                    "importance": {"age": 0.584, "type": 0.5, "coma": 0.405},
                },
            ],
        },
        {
            "attribute": "age_band",
            "min_cell": 5,
            "groups": [
                {"group": "<50", "n": None, "suppressed": True, "importance": {}},
                {
                    "group": "50-69",
                    "n": None,
                    "suppressed": False,
                    "importance": {"age": 0.41, "type": 0.52},
                },
            ],
        },
    ]
    out["dependence"] = [
        {
            "variable": "age",
            "kind": "numeric",
            "rank": 1,
            "direction": "positive",
            "points": [[30 + i, round(-0.9 + 0.03 * i, 4)] for i in range(0, 60, 2)],
            "n_missing": 0,
        },
        {
            "variable": "type",
            "kind": "categorical",
            "rank": 2,
            "direction": "levels",
            "levels": [
                {"level": "elective", "n": None, "suppressed": False, **_box(-0.6)},
                {"level": "emergency", "n": None, "suppressed": False, **_box(0.45)},
                {
                    "level": "transfer",
                    "n": None,
                    "suppressed": True,
                    "mean_shap": None,
                    "q1": None,
                    "median": None,
                    "q3": None,
                    "whisker_low": None,
                    "whisker_high": None,
                },
            ],
            "highest_level": "emergency",
            "lowest_level": "elective",
        },
    ]
    out["profiles"] = [
        {
            "percentile": p,
            "target_risk": risk,
            "n_rows": 6,
            "predicted_risk": risk + 0.004,
            "base_value": -1.4,
            "scale": "log-odds",
            "synthetic": True,
            "profile": {"age": age, "type": kind, "coma": "none"},
            "contributions": [
                {
                    "variable": "age",
                    "value": age,
                    "contribution": age_c,
                    "direction": "raises" if age_c > 0 else "lowers",
                },
                {
                    "variable": "type",
                    "value": kind,
                    "contribution": type_c,
                    "direction": "raises" if type_c > 0 else "lowers",
                },
            ],
        }
        for p, risk, age, kind, age_c, type_c in (
            (10.0, 0.041, 41.5, "elective", -0.912, -0.61),
            (50.0, 0.152, 63.0, "emergency", 0.084, 0.43),
            (90.0, 0.587, 79.5, "emergency", 0.731, 0.47),
        )
    ]
    return out


def _plant_canaries(importance: dict[str, Any]) -> None:
    """Identifiers under keys no document may render."""
    importance["profiles"][0]["patient_id"] = CANARY
    importance["profiles"][1]["profile"]["id"] = CANARY
    importance["profiles"][2]["contributions"][0]["patient"] = CANARY
    importance["dependence"][0]["patients"] = [CANARY]
    importance["dependence"][1]["levels"][0]["rows"] = [CANARY]
    importance["subgroup_importance"][0]["groups"][0]["ids"] = [CANARY]
    importance["rank_intervals"]["replicate_rows"] = [[CANARY]]


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> Path:
    importance = explained_importance()
    _plant_canaries(importance)
    out = tmp_path_factory.mktemp("explained")
    write_documents(out, CONTEXT, METRICS, importance, markdown=False)
    return out


def _document(folder: Path, stem: str, language: str, extension: str) -> str:
    suffix = "" if language == "en" else f".{language}"
    return (folder / f"{stem}{suffix}.{extension}").read_text("utf-8")


@pytest.mark.parametrize("language", ["en", "da"])
def test_card_html_and_markdown_explain_why_a_patient_is_flagged(
    documents: Path, language: str
) -> None:
    html = _document(documents, "model_card", language, "html")
    markdown = _document(documents, "model_card", language, "md")
    for text in SECTIONS[language]:
        assert text in html, text
        assert text in markdown, text
    section = html.split('<h2 id="why-flags">', 1)[1].split("</section>", 1)[0]
    assert section.count("<table>") == 3  # one per synthetic profile
    assert section.count('<img src="data:image/png;base64,') == 2  # age and type
    assert ("−0.912" if language == "en" else "−0,912") in section  # decimal mark per language
    assert "1–2" in section  # age's rank interval


@pytest.mark.parametrize("language", ["en", "da"])
def test_report_has_rank_intervals_subgroup_importance_and_dependence_plots(
    documents: Path, language: str
) -> None:
    html = _document(documents, "validation_report", language, "html")
    section = html.split('<h2 id="explainability">', 1)[1].split("</section>", 1)[0]
    for text in REPORT_SECTIONS[language]:
        assert text in section, text
    ranks = section.split("<caption>", 2)[2].split("</table>", 1)[0]  # after the SHAP table
    # ranks are whole places as a clinician writes them (issue 13, item 8c)
    assert (
        '<th scope="row">age</th><td class="num">0,612</td>'.replace(
            "0,612", "0.612" if language == "en" else "0,612"
        )
        in ranks
    )
    assert '<td class="num">1</td><td class="num">1–2</td>' in ranks
    # the suppressed age band shows no number; its attribute shows no counts
    age_band = section.split("<caption>", 5)
    assert any("&lt;50</th><td colspan" in part for part in age_band)
    # the importance bar chart and the two dependence plots
    assert section.count('<img src="data:image/png;base64,') == 3
    assert "Dependence plot of age" in section or "Afhængighedsdiagram for age" in section


def test_card_json_carries_the_explanations_and_validates(documents: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    card = json.loads((documents / "model_card.json").read_text("utf-8"))
    explanations = card["clinai"]["explanations"]
    assert [row["variable"] for row in explanations["top"]] == ["age", "type"]
    assert explanations["top"][0]["rank_low"] == 1.0
    assert [p["percentile"] for p in explanations["profiles"]] == [10.0, 50.0, 90.0]
    suppressed = explanations["subgroups"][1]["groups"][0]
    assert suppressed == {"group": "<50", "suppressed": True, "n": None, "cells": []}
    validator = jsonschema.Draft202012Validator(model_card_schema())
    assert [e.message for e in validator.iter_errors(card)] == []
    bad = copy.deepcopy(card)
    bad["clinai"]["explanations"]["subgroups"][1]["groups"][0]["cells"] = [0.3]
    assert not validator.is_valid(bad)  # a suppressed cell may carry no number
    # an importance.json without the new blocks (older runs) still gives a valid card
    plain = build_model_card(CONTEXT, METRICS, importance=IMPORTANCE)
    assert plain["clinai"]["explanations"] is None and validator.is_valid(plain)


def test_dependence_plots_are_drawn_for_each_entry(documents: Path) -> None:
    plots = sorted(p.name for p in (documents / "plots").glob("dependence_*.png"))
    assert plots == ["dependence_1.png", "dependence_2.png"]
    empty = explained_importance()
    empty["dependence"][0]["points"] = [[1.0, None]]  # nothing to draw: skipped, not empty
    for level in empty["dependence"][1]["levels"]:
        level["suppressed"] = True
    assert not any(
        name.startswith("dependence_")
        for name in render_plots({}, importance=empty, out_dir=documents / "empty")
    )


def test_canary_appears_in_no_explained_document(documents: Path) -> None:
    files = [p for p in documents.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} >= {".html", ".md", ".json", ".png"}
    for path in files:
        assert CANARY.encode() not in path.read_bytes(), path.name


def _pdftotext(path: Path) -> str:
    binary = require_pdftotext()
    result = subprocess.run(
        [binary, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, timeout=60
    )
    return " ".join(result.stdout.decode("utf-8").split())


@pytest.mark.integration
def test_pdf_text_holds_the_explanations_in_both_languages(documents: Path) -> None:
    require_weasyprint()
    texts = {}
    for name in ("model_card.html", "model_card.da.html", "validation_report.html"):
        pdf = write_pdf(documents / name, documents / name.replace(".html", ".pdf"))
        texts[name] = _pdftotext(pdf)
        assert CANARY not in texts[name]
    for text in SECTIONS["en"][:3]:
        assert text in texts["model_card.html"], text
    for text in SECTIONS["da"][:3]:
        assert text in texts["model_card.da.html"], text
    for text in REPORT_SECTIONS["en"]:
        assert text in texts["validation_report.html"], text


@pytest.mark.integration
@pytest.mark.parametrize(
    "name",
    [
        "model_card.html",
        "model_card.da.html",
        "validation_report.html",
        "validation_report.da.html",
    ],
)
def test_explained_documents_open_cleanly_in_chromium(
    browser: Any, documents: Path, name: str, tmp_path: Path
) -> None:
    shot = tmp_path / f"{name}.png"
    seen = visit_page(browser, documents / name, shot, IMAGES_JS)
    assert seen.problems == []
    [images] = seen.values
    dependence = [
        image
        for image in images
        if image[2].startswith(("Dependence plot of", "Afhængighedsdiagram for"))
    ]
    assert len(dependence) == 2
    for complete, width, alt in images:
        assert complete and width > 0 and alt.strip()
    assert shot.read_bytes().startswith(b"\x89PNG")
    keep_screenshot(shot, f"explained-{shot.name}")

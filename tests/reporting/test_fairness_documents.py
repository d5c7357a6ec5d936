"""Fairness, mitigation, calibration plot and Danish use-case texts in the card and the report.

Checked in HTML, Markdown and PDF text (pdftotext), in English and Danish; a planted tiny
intersection cell ("male & oldest") must never appear with a number.
"""

from __future__ import annotations

import copy
import html
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from clinai.reporting import (
    build_model_card,
    get_strings,
    model_card_schema,
    write_model_card,
    write_pdf,
)
from clinai.reporting._card import _render_card
from clinai.reporting._fairness_view import fairness_view, mitigation_view
from clinai.runs._plugins import find_pipeline_names, load_pipeline
from tests._helpers import write_documents

from ..conftest import require_pdftotext, require_weasyprint
from .conftest import CONTEXT, FAIRNESS, IMPORTANCE, METRICS, MITIGATION

ROOT = Path(__file__).resolve().parents[2]
TINY_CELL = "male & oldest"
DANISH_KEYS = (
    "title",
    "outcome",
    "prediction_time",
    "population",
    "intended_use",
    "not_for",
    "limitations",
)


def _inputs() -> tuple[dict[str, Any], dict[str, Any]]:
    context, metrics = copy.deepcopy(CONTEXT), copy.deepcopy(METRICS)
    metrics["operating_threshold"] = 0.3  # the second threshold row: natural frequencies use it
    metrics["fairness"] = copy.deepcopy(FAIRNESS)
    metrics["mitigation"] = copy.deepcopy(MITIGATION)
    icu = load_pipeline("icu_mortality", base_dir=ROOT)
    context["use_case"]["translations"] = {"da": dict(icu.METADATA_DA)}
    return context, metrics


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    context, metrics = _inputs()
    out = tmp_path_factory.mktemp("fairness_docs")
    write_documents(out, context, metrics, IMPORTANCE)
    return out


def _read(folder: Path, name: str) -> str:
    return (folder / name).read_text(encoding="utf-8")


def _assert_phrases(folder: Path, phrases: dict[str, tuple[str, ...]]) -> None:
    """Assert that each document holds its phrases; name the ones it lacks."""
    for name, wanted in phrases.items():
        text = _read(folder, name)
        missing = [phrase for phrase in wanted if phrase not in text]
        assert not missing, (name, missing)


@pytest.fixture(scope="module")
def pdf_texts(docs: Path) -> dict[str, str]:
    require_weasyprint()
    require_pdftotext()
    texts = {}
    for name in (
        "model_card.html",
        "model_card.da.html",
        "validation_report.html",
        "validation_report.da.html",
    ):
        pdf = write_pdf(docs / name, docs / name.replace(".html", ".pdf"))
        texts[name] = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
    return texts


# ---------------------------------------------------------------------- card: plot, frequencies


def test_card_embeds_the_calibration_plot(docs: Path) -> None:
    for suffix, language in (("", "en"), (".da", "da")):
        alt = get_strings(language)["calibration_plot_alt"]
        page = _read(docs, f"model_card{suffix}.html")
        assert re.search(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]{200,}" alt="', page)
        assert html.escape(alt, quote=True) in page
        markdown = _read(docs, f"model_card{suffix}.md")
        assert f"![{alt}](plots/calibration.png)" in markdown
        assert (docs / "plots" / "calibration.png").is_file()


def test_natural_frequencies_are_at_the_operating_threshold(docs: Path) -> None:
    # threshold 0.3 of METRICS: flag rate 0.22, PPV 0.54, sensitivity 0.58
    _assert_phrases(
        docs,
        {
            "model_card.md": (
                "At a risk threshold of 0.30:",
                "of 100 flagged patients, about 54 have the outcome;",
                "it finds about 6 of every 10 patients who have the outcome.",
            ),
            "model_card.da.md": (
                "Ved en risikotærskel på 0,30:",
                "har omkring 54 ud af 100 markerede patienter udfaldet;",
            ),
        },
    )


# ---------------------------------------------------------------------- card: fairness tables


def test_card_shows_subgroups_and_intersections_with_cis(docs: Path) -> None:
    _assert_phrases(
        docs,
        {
            "model_card.md": (
                "### sex × age_band",
                "Performance by sex × age_band at the risk threshold 0.20",
                "| female | 24 | 5 | 0.78 (0.67–0.87) | 0.03 (−0.42 to 0.48) |",
                "| female & younger | hidden | hidden | 0.76 (0.65–0.85) |",
            ),
            "model_card.da.html": (
                "Modelpræstation efter sex × age_band ved risikotærsklen 0,20",
                '<td class="num">0,78 (0,67–0,87)</td>',
                '<td class="num">skjult</td>',
                get_strings("da")["fairness_counts_hidden"],
            ),
        },
    )


def _html_row(page: str, label: str) -> str:
    match = re.search(
        rf'<tr><th scope="row">{re.escape(html.escape(label))}</th>(.*?)</tr>', page, re.S
    )
    assert match, label
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1)))  # the cells' text


def _md_row(text: str, label: str) -> str:
    rows = [line for line in text.splitlines() if line.startswith(f"| {label} |")]
    assert rows, label
    return rows[0][len(label) + 2 :]


def test_planted_tiny_cell_is_never_rendered_as_a_number(
    docs: Path, pdf_texts: dict[str, str]
) -> None:
    for stem in ("model_card", "model_card.da", "validation_report", "validation_report.da"):
        name = f"{stem}.html"
        row = _html_row(_read(docs, name), TINY_CELL)
        assert not re.search(r"\d", row), (name, row)
        assert get_strings("da" if ".da." in name else "en")["suppressed"] in row
        name = f"{stem}.md"
        row = _md_row(_read(docs, name), TINY_CELL)
        assert not re.search(r"\d", row), (name, row)
    # PDF text: the label may wrap ("male &" then "oldest" on the next line of the cell),
    # in print even inside the word, by the language's hyphenation ("old-est", Danish
    # "ol-dest"): narrow cells of wide tables
    row = re.compile(r"(?<!fe)male &( o[a-z]*‐?)?([^\n]*)(?:\n\s*([a-z]*est)([^\n]*))?")
    for name, text in pdf_texts.items():
        found = [m for m in row.finditer(text) if m.group(1) or m.group(3)]
        assert found, name
        for match in found:
            assert not re.search(r"\d", match.group(2) + (match.group(4) or "")), (name, match)
    # the mitigation table's small group too
    assert not re.search(r"\d", _md_row(_read(docs, "validation_report.md"), "other"))


def test_views_drop_every_number_of_a_suppressed_group() -> None:
    metrics = {"fairness": copy.deepcopy(FAIRNESS), "mitigation": copy.deepcopy(MITIGATION)}
    tiny = metrics["fairness"]["sex_x_age_band"]["groups"][3]
    tiny.update(n=3, events=1, auroc={"estimate": 0.5, "ci_low": 0.1, "ci_high": 0.9})
    metrics["fairness"]["sex"]["groups"][0]["suppressed"] = None  # unclear: treated as suppressed
    metrics["mitigation"]["groups"][2].update(n=2, unmitigated={"flag_rate": 0.5})
    view = fairness_view(metrics)
    assert view[1]["groups"][3] == {"group": TINY_CELL, "suppressed": True}
    assert view[0]["groups"][0] == {"group": "female", "suppressed": True}
    assert view[1]["counts_hidden"] is True and view[0]["counts_hidden"] is False
    assert mitigation_view(metrics)["groups"][2] == {"group": "other", "suppressed": True}


# ---------------------------------------------------------------------- validation report


@pytest.mark.parametrize("language", ["en", "da"])
def test_report_has_disparities_intersections_and_mitigation(docs: Path, language: str) -> None:
    t = get_strings(language)
    suffix = "" if language == "en" else ".da"
    for name in (f"validation_report{suffix}.html", f"validation_report{suffix}.md"):
        text = html.unescape(_read(docs, name))
        for key in (
            "fairness_heading",
            "fairness_difference",
            "fairness_ratio",
            "mitigation_heading",
            "mitigation_not_applied",
            "mitigation_unmitigated",
            "mitigation_mitigated",
            "mitigation_difference",
            "fairness_no_ratio",
        ):
            assert t[key] in text, (name, key)
        assert t["fairness_disparity_caption"].format(attribute="sex × age_band") in text
        assert t["mitigation_fitted_on_oof"].format(cv=5) in text
    english = _read(docs, "validation_report.md")
    if language == "en":
        assert "| Net benefit | 0.070 (0.010–0.190) | not defined" in english
        assert "| AUROC | 0.07 (0.01–0.19) | 0.91 (0.78–0.99) | 2 |" in english
        assert "| Net benefit | 0.062 (0.011–0.118) | 0.055 (0.004–0.109) | " in english


def test_markdown_report_is_complete_and_its_tables_are_well_formed(docs: Path) -> None:
    for name in (
        "validation_report.md",
        "validation_report.da.md",
        "model_card.md",
        "model_card.da.md",
    ):
        text = _read(docs, name)
        table: list[int] = []
        for line in [*text.splitlines(), ""]:
            if line.startswith("|"):
                table.append(len(re.findall(r"(?<!\\)\|", line)))
            elif table:
                assert len(set(table)) == 1, (name, table)
                table = []
    report = _read(docs, "validation_report.md")
    for heading in (
        "## Summary",
        "## Discrimination",
        "## Calibration",
        "## Subgroups",
        "## Fairness across patient groups",
        "## Cohort flow",
        "## Data provenance and lineage",
        "## TRIPOD+AI checklist",
        "## EU AI Act technical documentation (Annex IV)",
    ):
        assert heading in report
    assert "](plots/calibration.png)" in report


def test_pdf_text_holds_the_new_sections_in_both_languages(pdf_texts: dict[str, str]) -> None:
    expected = {
        "model_card.html": ["Calibration", "sex × age_band", "suppressed"],
        "model_card.da.html": [
            "Kalibrering",
            "sex × age_band",
            "skjult",
            "Død af enhver årsag før udskrivelse",
        ],
        "validation_report.html": [
            "Fairness across patient groups",
            "Fairness mitigation (comparison only)",
            "It is not applied to the registered model.",
        ],
        "validation_report.da.html": [
            "Ligeværdig modelpræstation",
            "Justering for ulighed (kun til sammenligning)",
            "Justeringen anvendes ikke på den registrerede model.",
        ],
    }
    for name, needles in expected.items():
        text = " ".join(pdf_texts[name].split())
        for needle in needles:
            assert needle in text, (name, needle)


def test_card_with_fairness_validates_against_the_schema(docs: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import json

    card = json.loads(_read(docs, "model_card.json"))
    assert card["clinai"]["fairness"][1]["groups"][3] == {"group": TINY_CELL, "suppressed": True}
    jsonschema.Draft202012Validator(model_card_schema()).validate(card)


# ---------------------------------------------------------------------- Danish use-case texts


def test_every_bundled_pipeline_has_reviewed_danish_texts() -> None:
    names = find_pipeline_names(ROOT)
    assert len(names) >= 6
    for name in names:
        pipeline = load_pipeline(name, base_dir=ROOT)
        english, danish = pipeline.METADATA, getattr(pipeline, "METADATA_DA", None)
        assert isinstance(danish, dict), f"{name} lacks METADATA_DA"
        for key in DANISH_KEYS:
            assert danish.get(key), (name, key)
            assert danish[key] != english[key], (name, key)  # translated, not copied
        for key in ("not_for", "limitations"):
            assert len(danish[key]) == len(english[key]), (name, key)
        # the Danish card of this use case holds the Danish outcome text
        context = copy.deepcopy(CONTEXT)
        context["use_case"] = {**english, "name": name, "translations": {"da": danish}}
        card = build_model_card(context, METRICS)
        markdown, page = _render_card(card, "da")  # in memory; nothing is written
        assert danish["outcome"] in markdown, name
        assert danish["title"] in html.unescape(page), name
        assert get_strings("da")["english_only_note"] not in markdown, name


def test_danish_card_falls_back_to_english_with_a_visible_note(tmp_path: Path) -> None:
    context = copy.deepcopy(CONTEXT)
    context["use_case"].pop("translations", None)
    files = write_model_card(build_model_card(context, METRICS), tmp_path, languages=("da",))
    danish = files["model_card.da.md"].read_text(encoding="utf-8")
    assert get_strings("da")["english_only_note"] in danish
    assert CONTEXT["use_case"]["outcome"] in danish


def test_report_stage_reads_the_pipelines_danish_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    from clinai.config import ExperimentConfig
    from clinai.runs._report import use_case_translations

    base = {"experiment": "x", "data": {"source": {"type": "bundled", "name": "vcdExtra/ICU"}}}
    monkeypatch.chdir(ROOT)
    icu = ExperimentConfig.model_validate({**base, "pipeline": "icu_mortality"})
    translations = use_case_translations(icu)
    assert translations["da"]["outcome"].startswith("Død af enhver årsag")
    tiny = ROOT / "tests" / "integration" / "fixtures" / "tiny_pipeline.py"
    without = ExperimentConfig.model_validate({**base, "pipeline": str(tiny)})
    assert use_case_translations(without) == {}  # no METADATA_DA: English with a note
    english_only = ExperimentConfig.model_validate(
        {**base, "pipeline": "icu_mortality", "languages": ["en"]}
    )
    assert use_case_translations(english_only) == {}

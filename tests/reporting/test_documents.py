"""The documents as a reader gets them: PDF text, a real browser, accessibility, schema, privacy.

PDF tests need WeasyPrint (and pdftotext from poppler-utils for the text);
browser tests need the ``playwright`` package and a Chromium binary
(Debian's ``chromium``; ``CLINAI_CHROMIUM`` overrides the path). Each skips with
the reason when its tool is missing. With ``CLINAI_TEST_ARTIFACTS`` set, the
screenshots are also copied to ``test-artifacts/`` at the repository root.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from clinai.reporting import (
    build_model_card,
    model_card_schema,
    write_pdf,
    write_validation_report,
)
from clinai.reporting._regulatory import ANNEX_IV_POINTS, TRIPOD_AI_ITEMS
from tests._helpers import IMAGES_JS, keep_screenshot, visit_page, write_documents

from ..conftest import require_pdftotext, require_weasyprint
from .conftest import CONTEXT, FAIRNESS, IMPORTANCE, METRICS, MITIGATION
from .test_explain_documents import explained_importance

CANARY = "CANARY-PATIENT-987"
DOCUMENTS = (
    "validation_report.html",
    "validation_report.da.html",
    "model_card.html",
    "model_card.da.html",
)
PDFS = {
    "validation_report.html": "validation_report.pdf",
    "model_card.html": "model_card.pdf",
    "model_card.da.html": "model_card.da.pdf",
}


def _extras(metrics: dict[str, Any], context: dict[str, Any]) -> None:
    """Add the optional blocks: internal validation, sample size, baseline, previous version."""
    metrics["auroc_delong"] = {"estimate": 0.812, "ci_low": 0.701, "ci_high": 0.893}
    metrics["internal_validation"] = {
        "method": "bootstrap_optimism",
        "n_replicates": 50,
        "n_done": 48,
        "n_skipped": 2,
        "random_state": 42,
        "resampling": "patients",
        "metrics": {
            "auroc": {
                "apparent": 0.861,
                "optimism": 0.043,
                "corrected": 0.818,
                "optimism_sd": 0.021,
                "n_replicates": 48,
            },
            "calibration_slope": {
                "apparent": 1.0,
                "optimism": 0.137,
                "corrected": 0.863,
                "optimism_sd": 0.08,
                "n_replicates": 48,
            },
        },
    }
    metrics["sample_size"] = {
        "criteria": [
            {"criterion": "shrinkage", "n_required": 912, "events_required": 183},
            {"criterion": "overall_risk", "n_required": 246, "events_required": 50},
        ],
        "n_required": 912,
        "n_available": 140,
        "events_per_parameter": 1.6,
        "adequate": False,
        "warning": "The development data hold 140 participants; at least 912 are needed.",
    }
    metrics["baseline_comparison"].update(
        baseline_auroc={"estimate": 0.772, "ci_low": 0.64, "ci_high": 0.88},
        brier_diff={"estimate": -0.0123, "ci_low": -0.03, "ci_high": 0.004},
        net_benefit_diff=[{"threshold": 0.2, "estimate": 0.021, "ci_low": -0.01, "ci_high": 0.05}],
        notes=["Baseline is a points score: no Brier score difference."],
    )
    previous = copy.deepcopy(METRICS)
    previous.update(n=55, events=11, auroc={"estimate": 0.774, "ci_low": 0.65, "ci_high": 0.88})
    context["previous"] = {"version": 2, "metrics": previous}
    context["split"]["train_period"] = {"start": "1985-01-01", "end": "1986-06-30"}
    context["split"]["test_period"] = ["1986-07-01", "1986-12-31"]
    context["split"]["events_train"] = 28
    context["split"]["events_test"] = 12
    metrics["operating_threshold"] = 0.2
    metrics["fairness"] = copy.deepcopy(FAIRNESS)
    metrics["mitigation"] = copy.deepcopy(MITIGATION)


def _plant_canaries(
    context: dict[str, Any], metrics: dict[str, Any], importance: dict[str, Any]
) -> None:
    """Put a patient identifier under keys no document may render."""
    context["patient_ids"] = [CANARY]
    context["previous"]["patients"] = [CANARY]
    context["previous"]["metrics"]["predictions"] = [{"patient_id": CANARY}]
    context["previous"]["metrics"]["calibration"]["rows"] = [CANARY]
    context["split"]["test_ids"] = [CANARY]
    context["split"]["train_period"]["patient"] = CANARY
    context["model"]["tuning"] = {"n_trials": 20, "storage": f"postgresql://{CANARY}@db/x"}
    context["lineage"]["debug"] = CANARY
    context["cohort_flow"][1]["patient_id"] = CANARY
    context["use_case"]["example_patient"] = {"id": CANARY}
    context["features"]["rows"] = [{"id": CANARY}]
    metrics["predictions"] = [{"patient_id": CANARY, "y_prob": 0.3}]
    metrics["internal_validation"]["replicate_ids"] = [CANARY]
    metrics["internal_validation"]["metrics"]["auroc"]["patients"] = [CANARY]
    metrics["sample_size"]["criteria"][0]["patients"] = [CANARY]
    metrics["sample_size"]["ids"] = [CANARY]
    metrics["baseline_comparison"]["net_benefit_diff"][0]["patient"] = CANARY
    metrics["baseline_comparison"]["rows"] = [{"patient_id": CANARY}]
    importance["rows"] = [{"patient_id": CANARY}]
    metrics["fairness"]["sex"]["patients"] = [CANARY]
    metrics["fairness"]["sex"]["groups"][0]["patient_ids"] = [CANARY]
    metrics["mitigation"]["decisions"] = [{"patient_id": CANARY}]
    metrics["mitigation"]["groups"][0]["ids"] = [CANARY]


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Cards (en, da) and reports (en, da) of the example with every optional block and canaries."""
    context, metrics, importance = (copy.deepcopy(x) for x in (CONTEXT, METRICS, IMPORTANCE))
    _extras(metrics, context)
    importance.update(explained_importance())  # rank intervals, subgroups, dependence, profiles
    _plant_canaries(context, metrics, importance)
    out = tmp_path_factory.mktemp("documents")
    write_documents(out, context, metrics, importance, markdown=False)
    return out


def _weasyprint_or_skip() -> None:
    require_weasyprint()


@pytest.fixture(scope="module")
def pdfs(documents: Path) -> dict[str, Path]:
    _weasyprint_or_skip()
    written = {}
    for html, pdf in PDFS.items():
        started = time.perf_counter()
        written[pdf] = write_pdf(documents / html, documents / pdf)
        print(f"{pdf}: {time.perf_counter() - started:.2f} s")
    return written


def _pdftotext(path: Path) -> str:
    binary = require_pdftotext()
    result = subprocess.run(
        [binary, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, timeout=60
    )
    return result.stdout.decode("utf-8")


# ---------------------------------------------------------------- PDF


@pytest.mark.integration
def test_pdfs_are_written(pdfs: dict[str, Path], documents: Path) -> None:
    assert set(pdfs) == {"validation_report.pdf", "model_card.pdf", "model_card.da.pdf"}
    for path in pdfs.values():
        data = path.read_bytes()
        assert data.startswith(b"%PDF-"), path.name
        assert len(data) > 5_000, path.name
    assert not list(documents.glob("*.tmp*"))  # written atomically


@pytest.mark.integration
def test_pdf_text_holds_key_sections_in_both_languages(pdfs: dict[str, Path]) -> None:
    english = _pdftotext(pdfs["model_card.pdf"])
    danish = _pdftotext(pdfs["model_card.da.pdf"])
    report = _pdftotext(pdfs["validation_report.pdf"])
    for term in (
        "Intended use",
        "Calibration",
        "Not for use",
        "Limitations",
        "0.81 (0.69–0.92)",
        "Why the model flags a patient",
        "Worked examples (synthetic patients)",
    ):
        assert term in english, term
    for term in (
        "Tilsigtet brug",
        "Kalibrering",
        "Ikke til brug",
        "Begrænsninger",
        "0,81 (0,69–0,92)",
        "Hvorfor modellen markerer en patient",
        "Gennemregnede eksempler (syntetiske patienter)",
    ):
        assert term in danish, term
    for term in (
        "Validation report",
        "Calibration",
        "TRIPOD+AI checklist",
        "Stability of the importance ranking",
        "Variable importance by subgroup",
        "EU AI Act technical documentation (Annex IV)",
        "Change log",
        "Internal validation",
        "Sample size",
        "Cohort flow",
        "to be completed by the study team",
        "to be completed by the provider",
    ):
        assert term in report, term
    assert re.search(r"\b1 / \d+\b", report)  # page numbers from the print stylesheet


def test_write_pdf_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must be an existing HTML file"):
        write_pdf(tmp_path / "missing.html", tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()


@pytest.mark.integration
def test_pdf_loads_nothing_from_outside(tmp_path: Path) -> None:
    _weasyprint_or_skip()
    html = tmp_path / "remote.html"
    html.write_text(
        '<!DOCTYPE html><html lang="en"><body><h1>x</h1>'
        '<img src="http://127.0.0.1:9/x.png" alt="x"></body></html>',
        "utf-8",
    )
    import logging

    logging.getLogger("weasyprint").setLevel(logging.CRITICAL)  # the refusal is logged
    path = write_pdf(html, tmp_path / "remote.pdf")
    assert path.read_bytes().startswith(b"%PDF-")


# ---------------------------------------------------------------- real browser


_HEADINGS = {
    "validation_report.html": ("Validation report", "Calibration", "TRIPOD+AI checklist"),
    "validation_report.da.html": ("Valideringsrapport", "Kalibrering", "TRIPOD+AI-tjekliste"),
    "model_card.html": ("Model card", "Intended use", "Not for use"),
    "model_card.da.html": ("Modelkort", "Tilsigtet brug", "Ikke til brug"),
}


@pytest.mark.integration
@pytest.mark.parametrize("name", DOCUMENTS)
def test_documents_open_cleanly_in_chromium(
    browser: Any, documents: Path, name: str, tmp_path: Path
) -> None:
    shot = tmp_path / f"{name}.png"
    seen = visit_page(
        browser,
        documents / name,
        shot,
        IMAGES_JS,
        "document.documentElement.lang",
        "Array.from(document.querySelectorAll('h1,h2,h3')).map(h => h.textContent.trim())",
    )
    images, lang, headings = seen.values
    assert seen.problems == []
    # Only the document itself (and its data: URIs) is loaded: nothing from outside.
    assert all(url.startswith(("file://", "data:")) for url in seen.requests), seen.requests
    # the report's five plots; the card's calibration plot; two dependence plots in each
    expected_images = 7 if name.startswith("validation_report") else 3
    assert len(images) == expected_images
    for complete, width, alt in images:
        assert complete and width > 0 and alt.strip()
    assert lang == ("da" if ".da." in name else "en")
    for heading in _HEADINGS[name]:
        assert any(h.startswith(heading) for h in headings), (heading, headings)
    assert shot.read_bytes().startswith(b"\x89PNG")
    keep_screenshot(shot, shot.name)


# ---------------------------------------------------------------- accessibility


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.headings: list[int] = []
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self.th_scopes: list[str | None] = []
        self.tables: list[dict[str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag == "html":
            self.lang = a.get("lang")
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        elif tag == "a" and a.get("href"):
            self.links.append(str(a["href"]))
        elif tag == "img":
            self.images.append(a)
        elif tag == "table":
            self.tables.append({"th": 0, "caption": 0})
        elif tag == "th":
            self.th_scopes.append(a.get("scope"))
            self.tables[-1]["th"] += 1
        elif tag == "caption":
            self.tables[-1]["caption"] += 1


@pytest.mark.parametrize("name", DOCUMENTS)
def test_documents_are_accessible(documents: Path, name: str) -> None:
    page = _Page()
    page.feed((documents / name).read_text("utf-8"))
    assert page.lang in {"en", "da"}
    assert page.headings[0] == 1 and page.headings.count(1) == 1
    for previous, current in zip(page.headings, page.headings[1:], strict=False):
        assert current <= previous + 1, page.headings  # no skipped heading level
    assert page.tables, name
    for table in page.tables:
        assert table["th"] > 0 and table["caption"] == 1, table  # every table has headers
    assert page.th_scopes and all(scope in {"col", "row"} for scope in page.th_scopes)
    for image in page.images:
        assert (image.get("alt") or "").strip(), image.get("src", "")[:40]
    for link in page.links:  # every in-page link has a target
        assert link.startswith("#") and link[1:] in page.ids, link


# ---------------------------------------------------------------- regulator sections


@pytest.fixture(scope="module")
def report_html(documents: Path) -> str:
    return (documents / "validation_report.html").read_text("utf-8")


def _rows(html: str, section: str) -> list[str]:
    body = html.split(f'<h2 id="{section}">', 1)[1].split("</section>", 1)[0]
    return re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S)[1:]


def test_tripod_checklist_lists_every_item_honestly(report_html: str) -> None:
    rows = _rows(report_html, "tripod")
    items = [re.search(r'<th scope="row">(\w+)</th>', row).group(1) for row in rows]  # type: ignore[union-attr]
    assert items == [item for item, _, _ in TRIPOD_AI_ITEMS]
    assert len(items) == 52
    by_item = dict(zip(items, rows, strict=True))
    for item in ("2", "17", "18a", "18b", "18c", "18d", "19", "25", "27a"):
        assert "to be completed by the study team" in by_item[item], item
        assert "<a href" not in by_item[item], item
    assert 'href="#cohort-flow"' in by_item["20a"] and "to be completed" not in by_item["20a"]
    assert 'href="#sample-size"' in by_item["10"]
    assert 'href="#provenance"' in by_item["5b"]  # dates given in the split
    assert "BMJ 2024;385:e078378" in report_html


def test_tripod_dates_item_is_open_without_periods(tmp_path: Path) -> None:
    context, metrics = copy.deepcopy(CONTEXT), copy.deepcopy(METRICS)
    html = write_validation_report(
        context, metrics, plots={}, out_path=tmp_path / "r.html"
    ).read_text("utf-8")
    row = next(r for r in _rows(html, "tripod") if '<th scope="row">5b</th>' in r)
    assert "to be completed by the study team" in row
    row = next(r for r in _rows(html, "tripod") if '<th scope="row">10</th>' in r)
    assert "to be completed by the study team" in row and "sample-size" not in html


def test_annex_iv_map_covers_points_1_to_9(report_html: str) -> None:
    rows = _rows(report_html, "annex-iv")
    points = [re.search(r'<th scope="row">(\d)</th>', row).group(1) for row in rows]  # type: ignore[union-attr]
    assert points == [p for p, _ in ANNEX_IV_POINTS] == [str(i) for i in range(1, 10)]
    for row in rows[6:]:  # standards, declaration of conformity, post-market monitoring
        assert "to be completed by the provider" in row
    assert 'href="#change-log"' in rows[5]
    assert "<code>audit.json</code>" in rows[1]
    assert "Regulation (EU) 2024/1689" in report_html


def test_change_log_shows_previous_version_side_by_side(report_html: str) -> None:
    rows = _rows(report_html, "change-log")
    assert "Version 2" in report_html
    auroc = next(r for r in rows if "AUROC" in r)
    assert "0.77 (0.65–0.88)" in auroc and "0.81 (0.69–0.92)" in auroc
    assert any("Patients" in r and ">55<" in r and ">60<" in r for r in rows)
    for label in (
        "Brier score",
        "Calibration slope",
        "Calibration intercept",
        "Observed/expected ratio",
    ):
        assert any(label in r for r in rows), label


def test_change_log_of_a_first_version(tmp_path: Path) -> None:
    html = write_validation_report(
        CONTEXT, METRICS, plots={}, out_path=tmp_path / "r.html"
    ).read_text("utf-8")
    section = html.split('<h2 id="change-log">', 1)[1].split("</section>", 1)[0]
    assert "First registered version" in section and "<table" not in section
    assert "No internal validation" in html


def test_internal_validation_sample_size_and_baseline(report_html: str) -> None:
    rows = _rows(report_html, "internal-validation")
    auroc = next(r for r in rows if "AUROC" in r)
    assert all(v in auroc for v in ("0.861", "0.043", "0.818", ">48<"))
    assert "48 of 50 bootstrap replicates done; 2 skipped" in report_html
    sample = report_html.split('<h2 id="sample-size">', 1)[1].split("</section>", 1)[0]
    assert "at least 912 are needed" in sample and ">912<" in sample and ">183<" in sample
    assert "shrinkage" in sample and "<dd>no</dd>" in sample
    discrimination = report_html.split('<h2 id="discrimination">', 1)[1].split("</section>")[0]
    assert "0.77 (0.64–0.88)" in discrimination  # baseline AUROC
    assert "0.04 (−0.05 to 0.13)" in discrimination  # AUROC difference
    assert "0.381" in discrimination  # DeLong p
    assert "−0.012 (−0.030 to 0.004)" in discrimination  # Brier difference
    assert "0.021 (−0.010 to 0.050)" in discrimination  # net benefit difference
    assert "AUROC with DeLong" in discrimination


def test_cohort_flow_diagram_and_provenance(report_html: str) -> None:
    flow = report_html.split('<h2 id="cohort-flow">', 1)[1].split("</section>", 1)[0]
    assert "Source data: 200" in flow
    assert flow.count('class="flow-excluded"') == 2
    assert "Training: 140 (28 events)" in flow and "Test: 60 (12 events)" in flow
    provenance = report_html.split('<h2 id="provenance">', 1)[1].split("</section>", 1)[0]
    assert "1985-01-01 – 1986-06-30" in provenance and "1986-07-01 – 1986-12-31" in provenance
    assert "b" * 64 in provenance and "1a2b3c4" in provenance
    model = report_html.split('<h2 id="model">', 1)[1].split("</section>", 1)[0]
    assert "Training and tuning procedure" in model and "<dd>20</dd>" in model
    assert "postgresql" not in report_html  # storage URLs may hold credentials


# ---------------------------------------------------------------- schema and privacy


def test_every_generated_card_validates_against_the_schema(documents: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = model_card_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    cards = [
        json.loads((documents / "model_card.json").read_text("utf-8")),
        build_model_card(CONTEXT, METRICS, importance=IMPORTANCE),
        build_model_card(CONTEXT, METRICS),
        build_model_card({}, {}),
    ]
    for card in cards:
        errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(card)]
        assert errors == []
    bad = copy.deepcopy(cards[1])
    bad["clinai"]["subgroups"]["age_band"][0]["n"] = 3  # a number in a suppressed cell
    assert not validator.is_valid(bad)
    del bad["model_details"]
    assert not validator.is_valid(bad)


def test_canary_appears_in_no_document(documents: Path) -> None:
    files = [p for p in documents.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} >= {".html", ".md", ".json", ".png"}
    for path in files:
        assert CANARY.encode() not in path.read_bytes(), path.name


@pytest.mark.integration
def test_canary_appears_in_no_pdf_text(pdfs: dict[str, Path]) -> None:
    for path in pdfs.values():
        assert CANARY not in _pdftotext(path), path.name
        assert CANARY.encode() not in path.read_bytes(), path.name

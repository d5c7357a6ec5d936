"""The printed documents as a reader holds them: tables within the A4 page, a one-page summary.

Issue 13 (item 8): in the validation report's PDF the acceptance-criteria table ran off the
right edge of the page, cutting the pass/fail column; the card's PDF started its performance
on page 2. The layout is read from WeasyPrint's own boxes (no system tool needed) and the
text from the written PDF with pypdf (the dev extra), so these tests run on a machine with
Python and PyPI only. Each skips with the reason when WeasyPrint or pypdf is missing.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clinai.evaluation import evaluate_acceptance
from clinai.reporting import get_strings
from tests._helpers import write_documents

from .conftest import CONTEXT, IMPORTANCE, METRICS
from .test_documents import _extras
from .test_explain_documents import explained_importance

pytestmark = pytest.mark.integration

# A plan with the long metric paths a fairness plan has: the rule text that pushed the result
# column off the page.
PLAN = [
    {"name": "discrimination", "metric": "auroc", "statistic": "ci_low", "min": 0.70},
    {"name": "calibration slope", "metric": "calibration.slope", "min": 0.7, "max": 1.3},
    {
        "name": "calibration-in-the-large",
        "metric": "calibration.intercept",
        "min": -0.3,
        "max": 0.3,
    },
    {
        "name": "sensitivity at the operating threshold",
        "metric": "thresholds.0.sensitivity",
        "statistic": "ci_low",
        "min": 0.6,
    },
    {
        "name": "AUROC gap across sex and age band",
        "metric": "fairness.sex_x_age_band.auroc.difference",
        "statistic": "ci_high",
        "max": 0.1,
    },
    {
        "name": "calibration_in_the_large_gap_between_the_sexes_at_the_operating_threshold",
        "metric": "fairness.sex.calibration_in_the_large.difference",
        "statistic": "ci_high",
        "max": 0.5,
    },
    {
        "name": "net benefit gap",
        "metric": "fairness.sex_x_age_band.net_benefit.difference",
        "statistic": "estimate",
        "max": 0.05,
    },
    {
        "name": "a criterion on a metric this run did not compute",
        "metric": "ici",
        "statistic": "ci_high",
        "max": 0.05,
    },
]
LANGUAGES = ("en", "da")
HTML_DOCUMENTS = (
    "validation_report.html",
    "validation_report.da.html",
    "model_card.html",
    "model_card.da.html",
)


def _weasyprint() -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # optional system libraries (HarfBuzz subset)
            import weasyprint
    except (ImportError, OSError) as exc:  # OSError: pango missing
        pytest.skip(f"WeasyPrint is not usable here: {exc}")
    return weasyprint


def _pypdf() -> Any:
    return pytest.importorskip("pypdf", reason="pypdf (dev extra) reads the PDFs' text")


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """Cards and reports (en, da) with every optional block, long criteria and four not-for uses."""
    context, metrics, importance = (copy.deepcopy(x) for x in (CONTEXT, METRICS, IMPORTANCE))
    _extras(metrics, context)
    importance.update(explained_importance())
    metrics["calibration"]["ici"] = None  # one criterion not applicable
    metrics["acceptance"] = [r.to_dict() for r in evaluate_acceptance(metrics, PLAN)]
    context["use_case"]["not_for"] += [
        "Patients receiving end-of-life care, whose goals of care make escalation inappropriate.",
        "Transfers from another hospital's intensive care unit.",
    ]
    out = tmp_path_factory.mktemp("layout")
    write_documents(out, context, metrics, importance, markdown=False)
    return out, metrics


@pytest.fixture(scope="module")
def rendered(documents: tuple[Path, dict[str, Any]]) -> dict[str, tuple[Any, Path]]:
    """Lay out each document once with WeasyPrint: its pages (boxes) and the PDF from them."""
    weasyprint = _weasyprint()
    folder, _ = documents
    out = {}
    for name in HTML_DOCUMENTS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            document = weasyprint.HTML(filename=folder / name).render()
            pdf = folder / name.replace(".html", ".pdf")
            document.write_pdf(pdf)
        out[name] = (document, pdf)
    return out


def _boxes(box: Any) -> Iterator[Any]:
    yield box
    for child in getattr(box, "children", None) or []:
        yield from _boxes(child)


def tables_off_the_page(document: Any) -> tuple[int, list[str]]:
    """Count a laid-out document's tables; list each piece of them that ends right of the page."""
    from weasyprint.formatting_structure import boxes

    outside = []
    n_tables = 0
    for number, page in enumerate(document.pages, start=1):
        page_box = page._page_box
        right = page_box.margin_width() - page_box.margin_right  # the content area's edge
        for table in (b for b in _boxes(page_box) if isinstance(b, boxes.TableBox)):
            n_tables += 1
            # the table itself and every piece of text in it (a cell's text may overflow)
            for box in _boxes(table):
                if isinstance(box, boxes.TableBox | boxes.TextBox):
                    edge = box.position_x + box.margin_width()
                    if edge > right + 0.5:
                        text = getattr(box, "text", "<table>")
                        outside.append(f"page {number}: {text!r} ends {edge - right:.0f}px out")
    return n_tables, outside


@pytest.mark.parametrize("name", HTML_DOCUMENTS)
def test_every_table_fits_the_page(rendered: dict[str, tuple[Any, Path]], name: str) -> None:
    document, _ = rendered[name]
    n_tables, outside = tables_off_the_page(document)
    assert n_tables >= 5
    assert not outside, "\n".join(outside[:20])


def _fragments(pdf: Path) -> list[list[tuple[float, float, str]]]:
    """Each page's text pieces with their position in points: (x, y from the bottom, text)."""
    reader = _pypdf().PdfReader(pdf)
    pages = []
    for page in reader.pages:
        found: list[tuple[float, float, str]] = []

        def visit(
            text: str,
            cm: list[float],
            tm: list[float],
            *_: Any,
            found: list[tuple[float, float, str]] = found,
        ) -> None:
            if text.strip():
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                found.append((x, y, text.strip()))

        page.extract_text(visitor_text=visit)
        pages.append(found)
    return pages


@pytest.mark.parametrize(
    ("name", "language"),
    [
        ("validation_report.html", "en"),
        ("validation_report.da.html", "da"),
        ("model_card.html", "en"),
        ("model_card.da.html", "da"),
    ],
)
def test_pdf_shows_the_result_of_every_criterion(
    documents: tuple[Path, dict[str, Any]],
    rendered: dict[str, tuple[Any, Path]],
    name: str,
    language: str,
) -> None:
    _, metrics = documents
    _, pdf = rendered[name]
    t = get_strings(language)
    expected = [t[f"status_{row['status']}"] for row in metrics["acceptance"]]
    assert {"pass", "fail", "not_applicable"} == {row["status"] for row in metrics["acceptance"]}
    width = float(_pypdf().PdfReader(pdf).pages[0].mediabox.width)
    pages = _fragments(pdf)
    first = next(
        i
        for i, page in enumerate(pages)
        if any(t["criteria_caption"] in text for _, _, text in page)
    )
    caption_y = next(y for _, y, text in pages[first] if t["criteria_caption"] in text)
    # the table may continue on the next page; its rightmost column holds the status words
    below = [(n, x, y, text) for x, y, text in pages[first] if y < caption_y for n in [first]]
    below += [
        (n, x, y, text) for n in (first + 1, first + 2) if n < len(pages) for x, y, text in pages[n]
    ]
    # words in the right part of the page; the lines of one cell (same x, next line) are joined
    cells: list[tuple[float, str]] = []
    last: tuple[int, float, float] | None = None
    for n, x, y, text in below:
        if x < 0.6 * width or not text.replace(" ", "").isalpha():
            continue
        if last and last[0] == n and abs(last[1] - x) < 1 and 0 < last[2] - y < 20:
            cells[-1] = (cells[-1][0], f"{cells[-1][1]} {text}")
        else:
            cells.append((x, text))
        last = (n, x, y)
    results = [(x, text) for x, text in cells if text in expected][: len(expected)]
    assert [text for _, text in results] == expected
    for x, text in results:
        assert x + len(text) * 3 < width - 30, f"{text!r} at x={x:.0f} pt is off the page"


@pytest.mark.parametrize("language", LANGUAGES)
def test_card_pdf_opens_with_a_one_page_summary(
    rendered: dict[str, tuple[Any, Path]], language: str
) -> None:
    suffix = "" if language == "en" else f".{language}"
    _, pdf = rendered[f"model_card{suffix}.html"]
    t = get_strings(language)
    pages = _fragments(pdf)
    first = " ".join(text for _, _, text in pages[0])
    # what it predicts, how well (natural frequencies), against today's score, when not to
    # use it and who approved it, all on page 1 ...
    for label in (
        "model_facts",
        "facts_predicts",
        "facts_how_well",
        "facts_compared",
        "not_for",
        "approval",
    ):
        assert " ".join(t[label].split()[:2]) in first, label
    assert " ".join(t["facts_sensitivity"].split()[:4]) in first
    # ... and the details begin on page 2, so the summary fits one page
    assert pages[1][0][2] == t["intended_use"], pages[1][:3]
    print(f"model_card{suffix}.pdf: {len(pages)} pages")

"""The monitoring report (issue 15) as its readers get it: English and Danish, HTML, Markdown, PDF.

The input is a realistic monitoring.json (tests/reporting/monitoring_example.py): twelve
months, a month with too few events, a drifting SpO2 and a rising O/E, one month whose
outcomes are not yet known, a suppressed subgroup with a planted count and a planted
patient id. HTML and Markdown need no system library; the PDF tests skip with the reason
when WeasyPrint (pango), pdftotext or Chromium is missing.
"""

from __future__ import annotations

import copy
import html as html_lib
import re
from pathlib import Path
from typing import Any

import pytest

from clinai.reporting import get_strings, render_monitoring_report
from clinai.reporting._format import NumberFormatter
from clinai.reporting._monitoring_report import write_monitoring_documents
from clinai.reporting._monitoring_view import monitoring_view

from ..conftest import require_weasyprint
from .monitoring_example import CANARY, HIDDEN_COUNT, monitoring_example
from .test_documents import _pdftotext
from .test_pdf_layout import _weasyprint, tables_off_the_page

LANGUAGES = ("en", "da")
SUFFIX = {"en": "", "da": ".da"}
# The latest month with outcomes, December 2025, in words (MONITORING.md section 4's example).
HEADLINE = {
    "en": "O/E 1.34 (1.18–1.52) is above the plan's limit 1.25: recalibrate.",
    "da": "O/E 1,34 (1,18–1,52) ligger over planens grænse på 1,25: rekalibrér.",
}
CUSUM_SIGNAL = {
    "en": "Highest CUSUM in the period 6.30 is above the plan's limit 4.62: investigate.",
    "da": "Højeste CUSUM i perioden 6,30 ligger over planens grænse på 4,62: undersøg.",
}
_DATA_URI = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")


def _text(path: Path) -> str:
    """A document's readable text: HTML unescaped, images' base64 left out."""
    return html_lib.unescape(_DATA_URI.sub("", path.read_text("utf-8")))


def _write(monitoring: dict[str, Any], folder: Path) -> dict[str, str]:
    texts = {}
    for language in LANGUAGES:
        html, markdown, plots = write_monitoring_documents(monitoring, folder, language)
        assert {p.name for p in plots} == {
            f"{n}{SUFFIX[language]}.png" for n in ("performance", "calibration", "cusum")
        }
        texts[html.name], texts[markdown.name] = _text(html), _text(markdown)
    return texts


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Twelve months with outcomes: the latest verdict is "recalibrate"."""
    return _write(monitoring_example(), tmp_path_factory.mktemp("monitoring"))


@pytest.fixture(scope="module")
def pending(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One more month whose outcomes are not yet known: estimates only."""
    return _write(monitoring_example(pending=1), tmp_path_factory.mktemp("pending"))


def _name(kind: str, language: str) -> str:
    return f"monitoring_report{SUFFIX[language]}.{kind}"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", ["html", "md"])
def test_headline_verdict_is_in_words(documents: dict[str, str], language: str, kind: str) -> None:
    t = get_strings(language)
    text = documents[_name(kind, language)]
    assert t["monitoring_report"] in text
    start, end = (
        ('id="verdict"', 'id="overview"')
        if kind == "html"
        else (f"## {t['monitoring_headline']}", f"## {t['monitoring_overview']}")
    )
    headline = text[text.index(start) : text.index(end)]
    assert t["monitoring_level_recalibrate"] in headline
    assert HEADLINE[language] in headline
    # the control chart's signal (clinai monitor judges its highest value in the period) and the
    # drift that also breached, with the variable it concerns
    assert CUSUM_SIGNAL[language] in headline
    assert "(spo2_min_6h)" in headline
    assert t["monitoring_level_investigate"] in headline


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_period_appears_with_its_verdict(documents: dict[str, str], language: str) -> None:
    t = get_strings(language)
    monitoring = monitoring_example()
    html, markdown = documents[_name("html", language)], documents[_name("md", language)]
    for period in monitoring["periods"]:
        label, level = period["period"], period["verdict"]["level"]
        heading = t["monitoring_period_heading"].format(period=label)
        assert f'id="period-{label}"' in html
        assert f"### {heading}: {t[f'monitoring_level_{level}']}" in markdown
        assert re.search(rf"\| {label} \|.*\| {t[f'monitoring_level_{level}']} \|", markdown)
    assert html.count('class="period"') == len(monitoring["periods"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_too_few_events_is_not_assessable(documents: dict[str, str], language: str) -> None:
    t = get_strings(language)
    markdown = documents[_name("md", language)]
    july = markdown[markdown.index("2025-07", markdown.index(t["monitoring_periods"])) :]
    july = july[: july.index("###")]
    assert (
        t["monitoring_reason_few_events"].format(
            events=16,
            min_events=20,
            metrics=", ".join(
                [
                    t["monitoring_metric_oe_ratio"],
                    t["monitoring_metric_calibration_slope"],
                    t["monitoring_metric_auroc"],
                ]
            ),
        )
        in july
    )
    assert f"| AUROC | {t['monitoring_not_assessable']} |" in july
    assert "0.77" not in july and "0,77" not in july  # July's AUROC from 16 events is not shown


@pytest.mark.parametrize("language", LANGUAGES)
def test_estimates_before_outcomes_are_labelled(pending: dict[str, str], language: str) -> None:
    t = get_strings(language)
    fmt = NumberFormatter.from_strings(language, t)
    markdown = pending[_name("md", language)]
    section = markdown[
        markdown.index(f"### {t['monitoring_period_heading'].format(period='2026-01')}") :
    ]
    assert " ".join(t["monitoring_estimated_note"].split()) in section
    estimated = f"{t['monitoring_metric_auroc']} {t['monitoring_estimated_suffix']}"
    auroc = monitoring_example(pending=1)["periods"][-1]["estimated"]["auroc"]
    assert f"| {estimated} | {fmt.est(auroc)} |" in section
    assert t["monitoring_reason_no_outcomes"].split(",")[0] in section
    assert (
        f"| 2026-01 | 1{'.' if language == 'da' else ','}230 | {t['monitoring_events_unknown']} |"
        in markdown
    )


def test_suppressed_subgroup_never_shows_its_count(documents: dict[str, str]) -> None:
    counts = {str(HIDDEN_COUNT), f"{HIDDEN_COUNT:,}", f"{HIDDEN_COUNT:,}".replace(",", ".")}
    for name, text in documents.items():
        assert not [c for c in counts if c in text], name
        language = "da" if ".da." in name else "en"
        suppressed = get_strings(language)["suppressed"]
        row = next(line for line in text.splitlines() if "18-39" in line)
        assert suppressed in row, (name, row)


def test_no_patient_identifier_in_any_document(
    documents: dict[str, str], pending: dict[str, str]
) -> None:
    for name, text in [*documents.items(), *pending.items()]:
        assert CANARY not in text, name


def test_the_example_follows_the_monitoring_schema() -> None:
    """The example is what ``clinai monitor`` writes: valid against its JSON schema."""
    import json
    from importlib import resources

    import jsonschema

    schema = resources.files("clinai.reporting").joinpath("schemas/monitoring.schema.json")
    for pending in (0, 1):
        jsonschema.validate(
            monitoring_example(pending=pending, canaries=False),
            json.loads(schema.read_text(encoding="utf-8")),
        )


def test_drift_tables_stay_twelve_periods_wide() -> None:
    monitoring = monitoring_example(pending=2)  # 14 months: two tables of 7
    t = get_strings("en")
    view = monitoring_view(monitoring, t, NumberFormatter.from_strings("en", t))
    assert [len(table["periods"]) for table in view["drift"]] == [7, 7]
    first = view["drift"][0]["rows"]
    assert first[0]["name"] == t["monitoring_drift_risk"]  # the predicted risks come first
    assert first[1]["name"] == "spo2_min_6h"  # then the variable that drifted most
    assert len(first) == 1 + 8


def test_bad_input_is_refused_with_one_line(tmp_path: Path) -> None:
    monitoring = monitoring_example()
    with pytest.raises(ValueError, match=r"schema_version 1.*Got schema_version 2"):
        render_monitoring_report({**monitoring, "schema_version": 2}, tmp_path)
    with pytest.raises(ValueError, match="get_language_names"):
        render_monitoring_report(monitoring, tmp_path, languages=("en", "xx"))
    assert not list(tmp_path.iterdir())  # nothing written


# ---------------------------------------------------------------- PDF and browser


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """The public entry point, as ``clinai monitor`` calls it (PDF included)."""
    require_weasyprint()
    folder = tmp_path_factory.mktemp("rendered")
    return folder, render_monitoring_report(monitoring_example(pending=1), folder)


@pytest.mark.integration
def test_render_writes_every_document(rendered: tuple[Path, list[Path]]) -> None:
    folder, written = rendered
    names = [p.relative_to(folder).as_posix() for p in written]
    documents = [
        f"monitoring_report{s}.{kind}" for s in ("", ".da") for kind in ("html", "md", "pdf")
    ]
    assert names[:6] == documents
    assert sorted(names[6:]) == sorted(
        f"plots/{n}{s}.png" for s in ("", ".da") for n in ("performance", "calibration", "cusum")
    )
    for path in written:
        assert path.stat().st_size > 1000, path
    assert (folder / "monitoring_report.pdf").read_bytes().startswith(b"%PDF-")
    assert not list(folder.rglob("*.tmp*"))  # written atomically


@pytest.mark.integration
@pytest.mark.parametrize("language", LANGUAGES)
def test_pdf_text_holds_the_verdict_and_no_patient(
    rendered: tuple[Path, list[Path]], language: str
) -> None:
    folder, _ = rendered
    text = " ".join(_pdftotext(folder / _name("pdf", language)).split())
    t = get_strings(language)
    assert t["monitoring_report"] in text
    assert t["monitoring_reason_no_outcomes"].split(",")[0] in text  # the latest: no outcomes
    assert HEADLINE[language].replace(" ", "") in text.replace(" ", "")  # December's reason
    assert CANARY not in text
    assert re.search(r"\b1 / \d+\b", text)  # page numbers from the print stylesheet


@pytest.mark.integration
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_table_fits_the_a4_page(rendered: tuple[Path, list[Path]], language: str) -> None:
    import warnings

    weasyprint = _weasyprint()
    folder, _ = rendered
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optional system libraries (HarfBuzz subset)
        document = weasyprint.HTML(filename=folder / _name("html", language)).render()
    n_tables, outside = tables_off_the_page(document)
    assert n_tables >= 13 + 5  # a table per period, the overview, plan, drift, subgroups, files
    assert not outside, "\n".join(outside[:20])


@pytest.mark.integration
@pytest.mark.parametrize("language", LANGUAGES)
def test_html_opens_cleanly_in_chromium(
    browser: Any,
    rendered: tuple[Path, list[Path]],
    language: str,
) -> None:
    folder, _ = rendered
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on(
        "console",
        lambda msg: problems.extend(
            [f"{msg.type}: {msg.text}"] if msg.type in {"error", "warning"} else []
        ),
    )
    requests: list[str] = []
    page.on("request", lambda req: requests.append(req.url[:80]))
    try:
        page.goto((folder / _name("html", language)).as_uri(), wait_until="load")
        state = page.evaluate("""() => ({lang: document.documentElement.lang,
            images: Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])})""")
    finally:
        page.close()
    assert problems == []
    assert all(url.startswith(("file://", "data:")) for url in requests), requests
    assert state["lang"] == language
    assert len(state["images"]) == 3
    assert all(done and width > 0 and alt for done, width, alt in state["images"])


def test_renderer_reads_only_named_fields(tmp_path: Path) -> None:
    """Unknown keys anywhere (a newer monitoring.json) change nothing in the documents."""
    plain = monitoring_example()
    extra = copy.deepcopy(plain)
    extra["periods"][-1]["performance"]["auroc"]["bootstrap"] = [0.1, 0.2]
    extra["periods"][-1]["drift"]["rows"] = [{"spo2": 91}]
    first = _write(plain, tmp_path / "a")
    second = _write(extra, tmp_path / "b")
    assert first == second


def test_no_outcomes_and_no_control_chart(tmp_path: Path) -> None:
    """Scores only (outcomes not given) under a plan without a CUSUM: estimates, no chart."""
    monitoring = monitoring_example(pending=2, canaries=False)
    monitoring["periods"] = monitoring["periods"][-2:]
    monitoring["inputs"]["outcomes"] = None
    monitoring["cusum"] = None
    monitoring["plan"].pop("cusum")
    for period in monitoring["periods"]:
        period["cusum"] = None
    html, markdown, plots = write_monitoring_documents(monitoring, tmp_path, "en")
    t = get_strings("en")
    text = _text(markdown)
    assert t["monitoring_cusum"] not in _text(html) + text  # no section for a chart not kept
    assert sorted(p.name for p in plots) == ["performance.png"]  # no O/E, no CUSUM to draw
    assert t["monitoring_no_outcomes_file"] in text
    assert text.count(" ".join(t["monitoring_estimated_note"].split())) == 2
    assert "CUSUM at the end" not in text

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from clinai.reporting import write_validation_report


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.headings: list[int] = []
        self.tables = 0
        self.captions = 0
        self.html_lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "html":
            self.html_lang = attributes.get("lang")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "table":
            self.tables += 1
        if tag == "caption":
            self.captions += 1


@pytest.fixture
def report(
    tmp_path: Path, context: dict, metrics: dict, importance: dict, all_plots: dict[str, Path]
) -> tuple[str, _Collector]:
    path = write_validation_report(
        context,
        metrics,
        plots=all_plots,
        importance=importance,
        out_path=tmp_path / "validation_report.html",
    )
    assert path == tmp_path / "validation_report.html"
    assert [p.name for p in tmp_path.iterdir()] == ["validation_report.html"]  # no temp left
    html = path.read_text("utf-8")
    collector = _Collector()
    collector.feed(html)
    return html, collector


def test_report_is_self_contained(report: tuple[str, _Collector]) -> None:
    html, collector = report
    for tag, attrs in collector.tags:
        for name in ("src", "href", "srcset", "data", "action"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith(("data:", "#")), (tag, name, value[:60])
        assert tag not in {"link", "script", "iframe", "object", "embed"}
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    assert "@import" not in html


def test_images_are_embedded_with_alt_text(report: tuple[str, _Collector]) -> None:
    _, collector = report
    images = [attrs for tag, attrs in collector.tags if tag == "img"]
    assert len(images) == 5
    for attrs in images:
        assert (attrs.get("src") or "").startswith("data:image/png;base64,")
        assert (attrs.get("alt") or "").strip()


def test_report_is_accessible(report: tuple[str, _Collector]) -> None:
    _, collector = report
    assert collector.html_lang == "en"
    assert collector.headings[0] == 1 and collector.headings.count(1) == 1
    for previous, current in zip(collector.headings, collector.headings[1:], strict=False):
        assert current <= previous + 1, collector.headings  # no skipped level
    assert collector.tables > 5 and collector.tables == collector.captions
    for tag, attrs in collector.tags:
        if tag == "th":
            assert attrs.get("scope") in {"col", "row"}


def test_every_acceptance_criterion_and_status_is_shown(
    report: tuple[str, _Collector], metrics: dict[str, Any]
) -> None:
    html, _ = report
    for row in metrics["acceptance"]:
        criterion = row["criterion"].replace("<", "&lt;").replace(">", "&gt;")
        assert f'<th scope="row">{criterion}</th>' in html
    assert html.count('class="status-pass"') == 3
    assert html.count('class="status-fail"') == 1
    assert '<span class="status-not_applicable">not applicable</span>' in html
    assert 'class="verdict verdict-not_accepted">not accepted<' in html


def test_numbers_are_shown_with_confidence_intervals(report: tuple[str, _Collector]) -> None:
    html, _ = report
    assert "0.81 (0.69–0.92)" in html  # AUROC
    assert "0.91 (0.42–1.53)" in html  # calibration slope
    assert "0.031 (0.012–0.078)" in html  # ICI
    assert "−0.08 (−0.71 to 0.55)" in html  # intercept with negative limit
    assert "0.04 (−0.05 to 0.13)" in html  # baseline AUROC difference


def test_suppressed_subgroup_shows_no_numbers(report: tuple[str, _Collector]) -> None:
    html, _ = report
    rows = [r for r in re.findall(r"<tr>.*?</tr>", html, flags=re.S) if "&lt;50</th>" in r]
    assert len(rows) == 1
    row = rows[0]
    assert "suppressed (&lt; min cell)" in row
    assert 'class="num"' not in row
    assert not re.search(r"\d", row.replace("&lt;50", "").replace('colspan="7"', ""))


def test_sections_are_present(report: tuple[str, _Collector]) -> None:
    html, _ = report
    for section in (
        "summary",
        "discrimination",
        "calibration",
        "thresholds",
        "decision-curve",
        "subgroups",
        "explainability",
        "cohort-flow",
        "provenance",
        "model",
        "limitations",
    ):
        assert f'<h2 id="{section}">' in html
    assert "a" * 64 in html and "b" * 64 in html  # config and data hashes
    assert "1a2b3c4" in html  # code version
    assert "<code>1.9.1</code>" in html  # package versions
    assert "median (IQR)" in html and "63.0 (46.0–72.0)" in html  # population summary
    assert "76 (38.0%)" in html
    assert "Small test set: wide confidence intervals." in html


def test_report_in_danish_and_with_missing_data(
    tmp_path: Path, context: dict, metrics: dict
) -> None:
    path = write_validation_report(
        context, metrics, plots={}, out_path=tmp_path / "r.da.html", language="da"
    )
    html = path.read_text("utf-8")
    assert '<html lang="da">' in html and "Følsomhed" in html and "0,81 (0,69–0,92)" in html
    assert "<img" not in html
    bare = write_validation_report({}, {}, plots={}, out_path=tmp_path / "bare.html")
    text = bare.read_text("utf-8")
    assert "n/a" in text and "No data." in text


@pytest.mark.parametrize("language", ["en", "da"])
def test_acceptance_rows_name_the_compared_statistic(
    tmp_path: Path, context: dict, metrics: dict, language: str
) -> None:
    # Issue 13 (15d): the report showed "discrimination ... 0.69 fail" without saying that the
    # value is the lower bound of the AUROC's interval; both renderings now name it.
    from clinai.reporting import get_strings, write_validation_report_markdown

    from .test_model_card import judged

    judged(metrics)
    t = get_strings(language)
    html = write_validation_report(
        context, metrics, plots={}, out_path=tmp_path / "r.html", language=language
    ).read_text("utf-8")
    markdown = write_validation_report_markdown(
        context, metrics, plots={}, out_path=tmp_path / "r.md", language=language
    ).read_text("utf-8")
    measure = f"{t['auroc']}, {t['statistic_ci_low']}"
    value, required = ("0.69", "≥ 0.70") if language == "en" else ("0,69", "≥ 0,70")
    assert (
        f"| discrimination | {measure} (`auroc ci_low`) | {value} | {required} | "
        f"{t['status_fail']} |"
    ) in markdown
    assert f"<td>{measure}<br><code>auroc ci_low</code></td>" in html
    assert f'<td class="num">{required}</td>' in html
    threshold = t["criterion_at_threshold"].format(
        metric=t["sensitivity"], threshold="0.20" if language == "en" else "0,20"
    )
    assert f"{threshold}, {t['statistic_ci_low']}" in markdown


def test_a_temporal_splits_periods_are_in_both_renderings(
    tmp_path: Path, context: dict, metrics: dict
) -> None:
    # The HTML report gave the training and test periods of a temporal split; the Markdown
    # one left them out (an approval board reading the .md could not tell the split's dates).
    from clinai.reporting import write_validation_report_markdown

    context["split"].update(
        method="temporal",
        train_period={"start": "2019-01-02", "end": "2020-05-25"},
        test_period={"start": "2020-05-25", "end": "2020-11-29"},
    )
    html = write_validation_report(
        context, metrics, plots={}, out_path=tmp_path / "r.html"
    ).read_text("utf-8")
    markdown = write_validation_report_markdown(
        context, metrics, plots={}, out_path=tmp_path / "r.md"
    ).read_text("utf-8")
    for text in (html, markdown):
        assert "2019-01-02 – 2020-05-25" in text and "2020-05-25 – 2020-11-29" in text
    line = next(row for row in markdown.splitlines() if "**Split method:**" in row)
    assert "**Test period:** 2020-05-25 – 2020-11-29" in line
    assert "**Config SHA-256:**" not in line  # the next item keeps its own line

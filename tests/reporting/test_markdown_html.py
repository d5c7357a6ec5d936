"""HTML of the documents composed as Markdown (competing-risk card and report)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from clinai.reporting._markdown_html import markdown_to_html, write_markdown_document

DOCUMENT = """# Model card: recurrence

Some **bold** text and <script>alert(1)</script> typed by hand.

| metric | estimate |
| --- | ---: |
| Wolbers' C | 0.613 |
"""


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: dict[str, dict[str, str | None]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.setdefault(tag, dict(attrs))


def _parse(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    return parser


def test_tables_headings_and_language_become_html() -> None:
    page = markdown_to_html(DOCUMENT, language="da")
    tags = _parse(page)
    assert tags.attrs["html"]["lang"] == "da"
    assert {"h1", "table", "th", "td", "strong", "style"} <= set(tags.tags)
    assert "<title>Model card: recurrence</title>" in page
    assert '<td style="text-align:right">0.613</td>' in page


def test_raw_html_in_the_source_is_shown_as_text() -> None:
    page = markdown_to_html(DOCUMENT, language="en", title="t")
    assert "script" not in _parse(page).tags
    assert "&lt;script&gt;" in page


def test_both_files_are_written(tmp_path: Path) -> None:
    html, markdown = write_markdown_document(tmp_path, "report.da", DOCUMENT, language="da")
    assert markdown.read_text(encoding="utf-8") == DOCUMENT
    assert html.name == "report.da.html" and 'lang="da"' in html.read_text(encoding="utf-8")

"""HTML and PDF of a document written first as Markdown (the competing-risk card and report).

The competing-risk documents are composed as Markdown (``reporting/_competing_card.py``);
regulators and approval boards read HTML and PDF. markdown-it-py (CommonMark with
tables; already installed with Rich) turns the Markdown into HTML inside the
house style, with raw HTML in the source escaped rather than passed through.
"""

from __future__ import annotations

from pathlib import Path

from markdown_it import MarkdownIt

from clinai._utils import atomic_write_text
from clinai.reporting._render import render

__all__ = ["markdown_to_html", "write_markdown_document"]

_PARSER = MarkdownIt("commonmark", {"html": False}).enable("table")


def markdown_to_html(markdown: str, *, language: str, title: str | None = None) -> str:
    """Return a standalone HTML page (house style, ``lang`` set) of a Markdown document.

    Parameters
    ----------
    markdown : str
        CommonMark with pipe tables; raw HTML in it is shown as text.
    language : str
        The document's language code (``html lang``: screen readers and hyphenation).
    title : str, optional
        The page title; default the document's first heading.
    """
    if title is None:
        headings = (line.lstrip("#").strip() for line in markdown.splitlines())
        starts = (line.startswith("#") for line in markdown.splitlines())
        title = next((h for h, s in zip(headings, starts, strict=True) if s), "")
    body = _PARSER.render(markdown)
    return render("markdown_document.html.j2", body=body, lang=language, title=title)


def write_markdown_document(
    folder: Path, name: str, markdown: str, *, language: str, title: str | None = None
) -> tuple[Path, Path]:
    """Write ``folder/<name>.md`` and its HTML ``folder/<name>.html`` (atomically).

    Returns
    -------
    tuple of Path
        ``(html, markdown)``, the order :func:`write_languages` takes.
    """
    page = markdown_to_html(markdown, language=language, title=title)
    md_path = atomic_write_text(folder / f"{name}.md", markdown)
    return atomic_write_text(folder / f"{name}.html", page), md_path

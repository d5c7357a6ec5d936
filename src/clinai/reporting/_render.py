"""The Jinja2 environment of clinai's templates and the filters they share.

HTML templates (``*.html.j2``) are autoescaped; Markdown templates (``*.md.j2``)
are not, and escape text that could open an HTML tag with the ``md`` filter
instead, because Markdown renderers pass inline HTML through.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinai._utils import atomic_write_text
from clinai.reporting._format import NumberFormatter
from clinai.reporting._locales import get_strings

if TYPE_CHECKING:
    from jinja2 import Environment

__all__ = [
    "embedded_image",
    "environment",
    "md_cell",
    "md_escape",
    "render",
    "translator",
    "write_html_and_markdown",
]

_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def md_escape(value: Any) -> str:
    """Escape text for Markdown: a ``<`` that could open an HTML tag becomes ``&lt;``."""
    if value is None:
        return ""
    return _TAG_START.sub("&lt;", str(value))


def md_cell(value: Any) -> str:
    """Escape text for a Markdown table cell (also pipes and line breaks)."""
    return md_escape(value).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    """Return the shared Jinja2 environment (templates from package data)."""
    from jinja2 import ChainableUndefined, Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("clinai.reporting", "templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html.j2", "html"), default_for_string=True, default=False
        ),
        undefined=ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["md_cell"] = md_cell
    env.filters["b64"] = lambda data: base64.b64encode(data).decode("ascii")
    return env


def translator(language: str) -> tuple[Mapping[str, str], NumberFormatter]:
    """Return a language's reviewed strings and its number formatter."""
    strings = get_strings(language)
    return strings, NumberFormatter.from_strings(language, strings)


def render(template: str, /, **variables: Any) -> str:
    """Render a packaged template with ``variables``."""
    return environment().get_template(template).render(**variables)


def write_html_and_markdown(
    folder: Path, name: str, template: str, variables: Mapping[str, Any]
) -> tuple[Path, Path]:
    """Render ``<template>.html.j2`` and ``.md.j2`` to ``folder/<name>.html`` and ``.md``.

    Both documents get the same ``variables``; each file is written atomically.
    """
    html = atomic_write_text(folder / f"{name}.html", render(f"{template}.html.j2", **variables))
    markdown = atomic_write_text(folder / f"{name}.md", render(f"{template}.md.j2", **variables))
    return html, markdown


def embedded_image(path: Path, folder: Path, alt: str) -> dict[str, str]:
    """Return a PNG written under ``folder`` as the documents show it.

    ``src`` is a data URI (HTML and PDF stand alone), ``path`` the file relative to
    ``folder`` (Markdown links it) and ``alt`` the text a screen reader reads.
    """
    return {
        "src": "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii"),
        "path": path.relative_to(folder).as_posix(),
        "alt": alt,
    }

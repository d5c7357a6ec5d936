"""PDF versions of the model cards and the validation report (WeasyPrint).

The PDF is printed from the same self-contained HTML file a browser shows, with
the print rules of the shared stylesheet: A4 pages, margins, the document's
title in the page header and "page / pages" in the footer. WeasyPrint needs
pango and, for font subsetting, harfbuzz's subset library; fonts come from the
system (Debian: ``fonts-dejavu-core``). Nothing is fetched over the network:
the HTML embeds its images as data URIs, and any other URL is refused.
"""

from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path

from clinai._utils import atomic_write_bytes

__all__ = ["PDF_IMPORT_ERROR", "write_pdf"]

logger = logging.getLogger(__name__)

#: Raised (as ImportError) when WeasyPrint or its system libraries are missing.
PDF_IMPORT_ERROR = (
    "Writing a PDF needs WeasyPrint and its system libraries: pip install weasyprint, and on "
    "Debian apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 "
    "fonts-dejavu-core. ({error})"
)
_NOT_HTML = "The 'html_path' parameter of write_pdf must be an existing HTML file. Got {got!r}."

# Font subsetting may warn through fontTools when a font table is unusual; those
# warnings concern the font files, not the document, so only they are silenced.
_FONT_WARNINGS = ("fontTools", "weasyprint")


def write_pdf(html_path: str | Path, pdf_path: str | Path) -> Path:
    """Print a self-contained HTML document (model card or validation report) to PDF.

    The page layout comes from the document's print stylesheet (A4, margins,
    page numbers). Only ``data:`` URIs are loaded; a reference to any other
    resource is logged by WeasyPrint and left out. The PDF is written atomically.

    Parameters
    ----------
    html_path : str or path-like
        An HTML file written by :func:`write_model_card` or
        :func:`write_validation_report`.
    pdf_path : str or path-like
        The PDF file to write, e.g. ``validation_report.pdf``.

    Returns
    -------
    pathlib.Path
        ``pdf_path``.

    Raises
    ------
    ValueError
        If ``html_path`` is not a file.
    ImportError
        If WeasyPrint or its system libraries are missing (the message says what
        to install).
    """
    source = Path(html_path)
    if not source.is_file():
        raise ValueError(_NOT_HTML.format(got=str(html_path)))
    try:
        with warnings.catch_warnings():
            # WeasyPrint's import may warn about optional system libraries.
            for module in _FONT_WARNINGS:
                warnings.filterwarnings("ignore", module=module)
            from weasyprint import HTML
            from weasyprint.urls import URLFetcher
    except (ImportError, OSError) as exc:
        raise ImportError(PDF_IMPORT_ERROR.format(error=exc)) from exc
    started = time.perf_counter()
    with warnings.catch_warnings():
        for module in _FONT_WARNINGS:
            warnings.filterwarnings("ignore", module=module)
        document = HTML(
            string=source.read_text("utf-8"),
            base_url=str(source.parent.resolve()),
            # Only data: URIs: a clinai document loads nothing from outside.
            url_fetcher=URLFetcher(allowed_protocols={"data"}, timeout=1),
        )
        data = document.write_pdf()
    if not isinstance(data, bytes):  # pragma: no cover - write_pdf() without target returns bytes
        raise TypeError("WeasyPrint returned no PDF bytes")
    path = atomic_write_bytes(Path(pdf_path), data)
    logger.info("PDF written to %s in %.1f s", path, time.perf_counter() - started)
    return path

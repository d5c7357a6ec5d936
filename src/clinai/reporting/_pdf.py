"""PDF versions of the model cards and the validation report (WeasyPrint).

The PDF is printed from the same self-contained HTML file a browser shows, with
the print rules of the shared stylesheet: A4 pages, margins, the document's
title in the page header and "page / pages" in the footer. WeasyPrint needs
pango; fonts come from the system (Debian: ``fonts-dejavu-core``). Nothing is
fetched over the network: the HTML embeds its images as data URIs, and any
other URL is refused.

HarfBuzz's subset library (Debian: ``libharfbuzz-subset0``) is optional: a
Python 3.11 and PyPI install works without it. WeasyPrint then subsets the
embedded fonts with fontTools instead and says so at import (a
DeprecationWarning) and again for every font of every PDF (a log warning).
clinai replaces both with one log line per process, :data:`NO_HARFBUZZ_SUBSET`.
"""

from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path
from typing import Any

from clinai._utils import atomic_write_bytes

__all__ = ["NO_HARFBUZZ_SUBSET", "PDF_IMPORT_ERROR", "check_pdf_support", "write_pdf"]

logger = logging.getLogger(__name__)

#: Raised (as ImportError) when WeasyPrint or its system libraries are missing.
PDF_IMPORT_ERROR = (
    "Writing a PDF needs WeasyPrint and its system libraries: pip install weasyprint, and on "
    "Debian apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 "
    "fonts-dejavu-core. ({error})"
)
_NOT_HTML = "The 'html_path' parameter of write_pdf must be an existing HTML file. Got {got!r}."

#: Logged once per process (WARNING) when HarfBuzz's subset library is missing.
NO_HARFBUZZ_SUBSET = (
    "HarfBuzz-Subset is not installed: the PDFs' fonts are subset with fontTools instead "
    "(slower; future WeasyPrint versions will require it). To silence this, on Debian: "
    "apt-get install libharfbuzz-subset0"
)

# Font subsetting may warn through fontTools when a font table is unusual; those
# warnings concern the font files, not the document, so only they are silenced.
_FONT_WARNING_MODULE = "fontTools"
# WeasyPrint's import-time DeprecationWarning and its per-font log warning (one per font of
# every PDF: about twenty in a demo) when libharfbuzz-subset is missing.
_HARFBUZZ_IMPORT_WARNING = r"HarfBuzz-Subset will be required"
_HARFBUZZ_FONT_WARNING = "Using fontTools instead of HarfBuzz-Subset"


class _OnceForHarfBuzzSubset(logging.Filter):
    """Drop WeasyPrint's per-font HarfBuzz-Subset warning; log :data:`NO_HARFBUZZ_SUBSET` once."""

    def __init__(self) -> None:
        super().__init__()
        self.said = False

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith(_HARFBUZZ_FONT_WARNING):
            return True
        if not self.said:
            self.said = True
            logger.warning(NO_HARFBUZZ_SUBSET)
        return False


_HARFBUZZ_FILTER = _OnceForHarfBuzzSubset()


def _quiet_font_warnings() -> None:
    """Ignore the font-library warnings (call inside ``warnings.catch_warnings()``)."""
    warnings.filterwarnings("ignore", module=_FONT_WARNING_MODULE)
    warnings.filterwarnings("ignore", message=_HARFBUZZ_IMPORT_WARNING, category=DeprecationWarning)


def check_pdf_support() -> None:
    """Import WeasyPrint as :func:`write_pdf` does, or say what to install.

    Use it to find out whether PDFs can be written here (tests skip on the
    message) without WeasyPrint's warnings about optional system libraries.

    Raises
    ------
    ImportError
        If WeasyPrint or its system libraries are missing (the message says what
        to install).
    """
    _load_weasyprint()


def _load_weasyprint() -> tuple[Any, Any]:
    try:
        with warnings.catch_warnings():
            _quiet_font_warnings()
            from weasyprint import HTML
            from weasyprint.urls import URLFetcher
    except (ImportError, OSError) as exc:
        raise ImportError(PDF_IMPORT_ERROR.format(error=exc)) from exc
    # addFilter adds a filter only once; it removes nothing but the per-font notice.
    logging.getLogger("weasyprint").addFilter(_HARFBUZZ_FILTER)
    return HTML, URLFetcher


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
    html_class, url_fetcher_class = _load_weasyprint()
    started = time.perf_counter()
    with warnings.catch_warnings():
        _quiet_font_warnings()
        document = html_class(
            string=source.read_text("utf-8"),
            base_url=str(source.parent.resolve()),
            # Only data: URIs: a clinai document loads nothing from outside.
            url_fetcher=url_fetcher_class(allowed_protocols={"data"}, timeout=1),
        )
        data = document.write_pdf()
    if not isinstance(data, bytes):  # pragma: no cover - write_pdf() without target returns bytes
        raise TypeError("WeasyPrint returned no PDF bytes")
    path = atomic_write_bytes(Path(pdf_path), data)
    logger.info("PDF written to %s in %.1f s", path, time.perf_counter() - started)
    return path

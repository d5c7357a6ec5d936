"""What every test folder shares: skips for the tools a fresh machine may lack.

The README promises that Python 3.11 and PyPI are all the suite needs. Tests that
need a system tool (pdftotext from poppler-utils, a Chromium binary, PostgreSQL's
server binaries) call the helpers below and skip with the reason, which ``-ra``
prints in the summary; they never fail for a missing tool. In CI the tools are
installed and the tests run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

#: Skip reasons (one line each: what is missing and how to install it).
NO_PDFTOTEXT = "pdftotext is not installed (Debian package poppler-utils)"
NO_PLAYWRIGHT = "the playwright package is not installed (pip install playwright)"
NO_CHROMIUM = "no Chromium binary (Debian package chromium; or set CLINAI_CHROMIUM)"
NO_WEASYPRINT = "WeasyPrint is not usable here: {error}"


def require_weasyprint() -> None:
    """Skip unless PDFs can be written, importing WeasyPrint the way clinai does.

    A plain ``import weasyprint`` warns (DeprecationWarning, an error under the
    suite's ``filterwarnings = error``) when the optional libharfbuzz-subset is
    missing; clinai's loader handles that warning, so tests use it too.
    """
    from clinai.reporting._pdf import check_pdf_support

    try:
        check_pdf_support()
    except ImportError as exc:
        pytest.skip(NO_WEASYPRINT.format(error=exc))


def require_pdftotext() -> str:
    """The path of ``pdftotext``, or skip."""
    binary = shutil.which("pdftotext")
    if binary is None:
        pytest.skip(NO_PDFTOTEXT)
    return binary


def require_chromium() -> str:
    """The path of a Chromium binary usable through playwright, or skip."""
    pytest.importorskip("playwright.sync_api", reason=NO_PLAYWRIGHT)
    binary = (
        os.environ.get("CLINAI_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    if not binary or not Path(binary).exists():
        pytest.skip(NO_CHROMIUM)
    return binary

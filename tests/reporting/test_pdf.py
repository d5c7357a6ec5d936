"""write_pdf on a machine without the optional system libraries: quiet, one line at most.

WeasyPrint warns when HarfBuzz's subset library (Debian libharfbuzz-subset0) is
missing: a DeprecationWarning at import (an error under the suite's
``filterwarnings = error``) and a log warning for every font of every PDF (about
twenty in a demo). clinai says it once per process instead. The PDFs are rendered
in a fresh interpreter, because the import warning comes only once per process.
"""

from __future__ import annotations

import ctypes.util
import subprocess
import sys
from pathlib import Path

from clinai.reporting._pdf import NO_HARFBUZZ_SUBSET

from ..conftest import require_weasyprint

# Logging set up as the CLI does; DeprecationWarnings are errors, as in the test suite.
_RENDER_SEVERAL = """
import logging, sys
from pathlib import Path
logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
from clinai.reporting import write_pdf
folder = Path(sys.argv[1])
for i in range(4):
    html = folder / f"doc{i}.html"
    html.write_text(
        '<!DOCTYPE html><html lang="en"><body><h1>Report</h1><p>Text <b>bold</b> '
        '<i>italic</i> <code>mono</code></p></body></html>', "utf-8")
    write_pdf(html, folder / f"doc{i}.pdf")
"""


def test_several_pdfs_in_one_process_say_the_missing_library_once(tmp_path: Path) -> None:
    require_weasyprint()
    result = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", _RENDER_SEVERAL, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert len(list(tmp_path.glob("doc*.pdf"))) == 4
    lines = result.stderr.splitlines()
    said = [line for line in lines if NO_HARFBUZZ_SUBSET in line]
    # WeasyPrint's own lines (logger "weasyprint", or its DeprecationWarning) are gone.
    assert not [line for line in lines if "weasyprint:" in line or "Warning" in line]
    missing = ctypes.util.find_library("harfbuzz-subset") is None
    assert len(said) == (1 if missing else 0), result.stderr
    assert len(lines) == len(said), result.stderr  # nothing else on stderr

"""``clinai monitor``'s report step where WeasyPrint's system libraries (pango) are missing.

The PDF is the only loss: the HTML and Markdown reports are written in every language and
one warning line says what was skipped and what to install. The machine without the
libraries is reproduced by refusing the ``weasyprint`` import (``None`` in
``sys.modules``), which fails as the import fails there. The command end to end:
``tests/integration/test_monitor.py`` (slow).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from clinai.config import load_config
from clinai.runs._monitor_output import _render

from ..reporting.monitoring_example import monitoring_example

CONFIG = Path(__file__).parents[2] / "configs" / "acute_deterioration.yaml"


def test_a_missing_pdf_library_costs_the_pdf_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    config = load_config(CONFIG)
    assert list(config.languages) == ["en", "da"]
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    with caplog.at_level(logging.WARNING):
        _render(config, monitoring_example(), tmp_path)
    for suffix in ("", ".da"):
        for kind in ("html", "md"):
            assert (tmp_path / f"monitoring_report{suffix}.{kind}").stat().st_size > 0
    assert not list(tmp_path.glob("*.pdf"))
    said = [r for r in caplog.records if r.name == "clinai.runs._monitor_output"]
    assert [r.levelno for r in said] == [logging.WARNING]
    message = said[0].getMessage()
    assert message.startswith("monitoring report PDF skipped")
    assert "\n" not in message
    assert "pip install weasyprint" in message  # what to install, on the same line

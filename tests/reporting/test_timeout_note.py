"""The validation report says when tuning's safety timeout fired, and only then."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from clinai.reporting import (
    get_strings,
    write_validation_report,
    write_validation_report_markdown,
)
from clinai.reporting._format import NumberFormatter

from .conftest import CONTEXT, METRICS


def _context(fired: bool) -> dict[str, Any]:
    context = copy.deepcopy(CONTEXT)
    context["model"]["tuning"] = {"n_trials": 20, "timeout_s": 3600, "cv_folds": 5}
    context["model"]["candidates"] = [
        {"family": "logistic", "cv_score": 0.79, "n_trials": 20, "timeout_fired": False},
        {"family": "lightgbm", "cv_score": 0.76, "n_trials": 7, "timeout_fired": fired},
    ]
    return context


def _note(language: str) -> str:
    fmt = NumberFormatter(language)
    return get_strings(language)["timeout_fired_note"].format(
        family="lightgbm", done=fmt.count(7), planned=fmt.count(20)
    )


@pytest.mark.parametrize("language", ["en", "da"])
def test_report_names_the_family_whose_tuning_the_timeout_stopped(
    tmp_path: Path, language: str
) -> None:
    html = write_validation_report(
        _context(True), METRICS, plots={}, out_path=tmp_path / "r.html", language=language
    ).read_text("utf-8")
    markdown = write_validation_report_markdown(
        _context(True), METRICS, out_path=tmp_path / "r.md", language=language
    ).read_text("utf-8")
    note = _note(language)
    assert "lightgbm" in note and "7" in note and "20" in note
    assert html.count(note) == 1
    assert " ".join(markdown.split()).count(" ".join(note.split())) == 1


def test_no_note_when_no_timeout_fired(tmp_path: Path) -> None:
    html = write_validation_report(
        _context(False), METRICS, plots={}, out_path=tmp_path / "r.html"
    ).read_text("utf-8")
    markdown = write_validation_report_markdown(
        _context(False), METRICS, out_path=tmp_path / "r.md"
    ).read_text("utf-8")
    assert "safety time limit" not in html
    assert "safety time limit" not in markdown

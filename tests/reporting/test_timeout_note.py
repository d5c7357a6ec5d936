"""The validation report says when a family's tuning ended short of its trials, and only then.

Two reasons: tuning's safety timeout fired, or trials failed to fit and were skipped.
"""

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

#: The note's key, the candidate field that triggers it, and its value then.
NOTES = {
    "timeout_fired_note": ("timeout_fired", True),
    "trials_failed_note": ("n_trials_failed", 3),
}


def _context(note: str | None) -> dict[str, Any]:
    context = copy.deepcopy(CONTEXT)
    context["model"]["tuning"] = {"n_trials": 20, "timeout_s": 3600, "cv_folds": 5}
    context["model"]["candidates"] = [
        {"family": "logistic", "cv_score": 0.79, "n_trials": 20, "timeout_fired": False},
        {"family": "lightgbm", "cv_score": 0.76, "n_trials": 7, "timeout_fired": False},
    ]
    if note is not None:
        field, value = NOTES[note]
        context["model"]["candidates"][1][field] = value
    return context


def _documents(tmp_path: Path, note: str | None, language: str = "en") -> tuple[str, str]:
    html = write_validation_report(
        _context(note), METRICS, plots={}, out_path=tmp_path / "r.html", language=language
    ).read_text("utf-8")
    markdown = write_validation_report_markdown(
        _context(note), METRICS, out_path=tmp_path / "r.md", language=language
    ).read_text("utf-8")
    return html, " ".join(markdown.split())


@pytest.mark.parametrize("note", list(NOTES))
@pytest.mark.parametrize("language", ["en", "da"])
def test_report_names_the_family_whose_tuning_ended_short(
    tmp_path: Path, language: str, note: str
) -> None:
    fmt = NumberFormatter(language)
    text, other = (
        get_strings(language)[key].format(
            family="lightgbm", done=fmt.count(7), planned=fmt.count(20), failed=fmt.count(3)
        )
        for key in sorted(NOTES, key=lambda key: key != note)
    )
    html, markdown = _documents(tmp_path, note, language)
    assert "lightgbm" in text and "7" in text and "20" in text
    assert html.count(text) == 1
    assert markdown.count(" ".join(text.split())) == 1
    assert other not in html


def test_no_note_when_every_family_ran_its_trials(tmp_path: Path) -> None:
    for document in _documents(tmp_path, None):
        assert "safety time limit" not in document
        assert "could not be fitted" not in document

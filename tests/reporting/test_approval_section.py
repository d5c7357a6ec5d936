"""The approval section of the card and the report (issue 13, item 4): rendered, not computed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from clinai.reporting import (
    build_model_card,
    model_card_schema,
    write_model_card,
    write_validation_report_markdown,
)
from clinai.reporting._approval_view import approval_view

APPROVAL = {
    "decision": "approve",
    "reviewer": "Jane <b>Doe</b>",
    "role": "Chief Medical Officer",
    "when": "2026-12-04T10:30:00+00:00",
    "comment": "Meets the plan.",
    "evidence": {
        "run_id": "20261204T101010-abcdef",
        "model_name": "tiny",
        "version": "3",
        "config_sha256": "c" * 64,
        "data_sha256": "d" * 64,
        "code_version": "0123abc",
    },
    "unexpected": "never rendered",
}


def test_view_copies_named_fields_only() -> None:
    view = approval_view(APPROVAL)
    assert view is not None
    assert view["date"] == "2026-12-04" and view["version"] == "3"
    assert "unexpected" not in view
    assert approval_view({"decision": "maybe", "reviewer": "x"}) is None
    assert approval_view("approve") is None


@pytest.mark.parametrize(
    ("approval", "english", "danish"),
    [
        (None, "Not yet approved: awaiting a named reviewer", "Endnu ikke godkendt"),
        (
            APPROVAL,
            "Approved by Jane &lt;b>Doe&lt;/b> (Chief Medical Officer) on 2026-12-04.",
            "Godkendt af Jane &lt;b>Doe&lt;/b> (Chief Medical Officer) den 2026-12-04.",
        ),
        (
            {**APPROVAL, "decision": "reject"},
            "Rejected by Jane &lt;b>Doe&lt;/b> (Chief Medical Officer) on 2026-12-04",
            "Afvist af Jane &lt;b>Doe&lt;/b>",
        ),
    ],
)
def test_card_says_who_decided(
    tmp_path: Path,
    context: dict[str, Any],
    metrics: dict[str, Any],
    approval: dict[str, Any] | None,
    english: str,
    danish: str,
) -> None:
    card = build_model_card({**context, "approval": approval}, metrics)
    files = write_model_card(card, tmp_path, languages=("en", "da"))
    markdown = files["model_card.md"].read_text(encoding="utf-8")
    assert english in markdown
    assert danish in files["model_card.da.md"].read_text(encoding="utf-8")
    html = files["model_card.html"].read_text(encoding="utf-8")
    assert "<b>Doe</b>" not in html and '<section aria-labelledby="approval">' in html
    if approval is not None:
        for needle in ("c" * 64, "d" * 64, "20261204T101010-abcdef", "tiny v3", "Meets the plan."):
            assert needle in markdown, needle
        assert "never rendered" not in markdown
    report = write_validation_report_markdown(
        {**context, "approval": approval}, metrics, plots={}, out_path=tmp_path / "report.md"
    ).read_text(encoding="utf-8")
    assert english in report


def test_card_with_approval_validates_against_the_schema(
    context: dict[str, Any], metrics: dict[str, Any]
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(model_card_schema())
    card = build_model_card({**context, "approval": APPROVAL}, metrics)
    assert card["clinai"]["approval"]["reviewer"] == "Jane <b>Doe</b>"
    assert [e.message for e in validator.iter_errors(card)] == []

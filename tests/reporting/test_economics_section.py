"""The card's and the report's "What would it cost and what would it save?" (issue 17).

Documents are rendered once per module from the made-up metrics of conftest plus an
``economics`` block computed by the run's own code on synthetic predictions (not real
patients); and once without the block, where no economic number may appear.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

from clinai.reporting import model_card_schema, render_plots
from clinai.reporting._economics_view import economics_view
from clinai.runs._economics import economics_block
from tests._helpers import ECONOMICS_SECTION, write_documents

from .conftest import CONTEXT, IMPORTANCE, METRICS

#: The economics: section of a config, as a mapping (sources do not matter to the test).
SPEC: dict[str, Any] = {
    **ECONOMICS_SECTION,
    "qalys_lost_per_event": {"distribution": "lognormal", "meanlog": -0.1, "sdlog": 0.4},
    "n_draws": 300,
}
HEADINGS = {
    "en": "What would it cost and what would it save?",
    "da": "Hvad koster det, og hvad sparer det?",
}
#: Texts only the economics section prints, in either language.
ECONOMIC_WORDS = ("DKK", "QALY", "NMB", "ceac", "Alarmbyrde", "Alert burden")
_IMAGE = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")


def _block() -> dict[str, Any]:
    rng = np.random.default_rng(3)
    y = rng.binomial(1, 0.12, 1500)
    p = np.clip(rng.beta(1.2, 8, 1500) + 0.2 * y, 0.001, 0.999)
    score = rng.integers(0, 9, 1500) + 2 * y  # a toy early-warning score
    return economics_block(
        SPEC,
        y,
        p,
        thresholds=[0.1, 0.3],
        search=(0.02, 0.5, 0.02),
        comparator=("NEWS2", score, [5, 7]),
        admissions=400,
        admissions_basis="patients",
        ward_days=90.0,
        seed=7,
    )


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    metrics = copy.deepcopy(METRICS)
    metrics["economics"] = _block()
    out = tmp_path_factory.mktemp("economics")
    write_documents(out, CONTEXT, metrics, IMPORTANCE)
    return out, metrics


@pytest.fixture(scope="module")
def without(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("no-economics")
    write_documents(out, CONTEXT, copy.deepcopy(METRICS), IMPORTANCE)
    return out


def _texts(out: Path) -> dict[str, str]:
    names = [
        f"{stem}{suffix}.{ext}"
        for stem in ("model_card", "validation_report")
        for suffix in ("", ".da")
        for ext in ("html", "md")
    ]
    return {name: (out / name).read_text(encoding="utf-8") for name in names}


def test_section_in_every_document_with_its_assumptions(
    documents: tuple[Path, dict[str, Any]],
) -> None:
    out, metrics = documents
    for name, text in _texts(out).items():
        language = "da" if ".da." in name else "en"
        assert HEADINGS[language] in text, name
        # the assumptions are printed: each distribution, the currency, minutes per alert
        assert ("gamma distribution" if language == "en" else "gammafordeling") in text, name
        assert ("log-normal" if language == "en" else "lognormalfordeling") in text, name
        assert "DKK" in text and "QALY" in text, name
        assert "NEWS2 ≥ 5" in text and "NEWS2 ≥ 7" in text, name
        # the point values are printed as the means (DKK 320 for the alert)
        assert "320 DKK" in text, name
        # the assumption line stands under each of the three tables
        marker = "Assumed:" if language == "en" else "Antaget:"
        assert text.count(marker) == 3, name
    best = metrics["economics"]["best_threshold"]["threshold"]
    assert f"{best:.2f}" in _texts(out)["validation_report.md"]
    assert "0,10" in _texts(out)["validation_report.da.md"]  # Danish decimal comma
    # the CEAC: embedded in the HTML documents, linked from the Markdown ones
    assert (out / "plots" / "ceac.png").is_file()
    for name, text in _texts(out).items():
        assert (
            ("data:image/png;base64" in text)
            if name.endswith("html")
            else ("plots/ceac.png" in text)
        ), name
    card = json.loads((out / "model_card.json").read_text(encoding="utf-8"))
    jsonschema.validate(card, model_card_schema())  # the published schema knows the section
    economics = card["clinai"]["economics"]
    assert [a["name"] for a in economics["assumptions"]] == [
        "cost_alert",
        "cost_outcome",
        "relative_risk_reduction",
        "qalys_lost_per_event",
        "willingness_to_pay",
    ]
    assert economics["comparator"] == {"name": "NEWS2", "thresholds": [5.0, 7.0]}


def test_no_economics_section_means_no_economic_number(without: Path) -> None:
    for name, text in _texts(without).items():
        text = _IMAGE.sub("", text)  # base64 may spell anything
        for words in (*HEADINGS.values(), *ECONOMIC_WORDS):
            assert words not in text, (name, words)
    assert not (without / "plots" / "ceac.png").exists()
    card = json.loads((without / "model_card.json").read_text(encoding="utf-8"))
    assert card["clinai"]["economics"] is None


def test_view_copies_named_fields_only() -> None:
    block = _block()
    block["patient_ids"] = ["CANARY-1"]
    block["net_monetary_benefit"]["strategies"][0]["note"] = "CANARY-2"
    view = economics_view(block)
    assert "CANARY" not in json.dumps(view)
    nmb = {row["label"]: row for row in block["net_monetary_benefit"]["strategies"]}
    psa = {row["label"]: row for row in block["sensitivity"]["strategies"]}
    for row in view["strategies"]:  # the point NMB and the PSA joined by the strategy
        assert row["nmb_per_1000"] == nmb[row["label"]]["nmb_per_1000"]
        assert row["probability_best"] == psa[row["label"]]["probability_best"]
    assert economics_view(None) is None and economics_view({}) is None


def test_ceac_plot_only_with_a_curve(tmp_path: Path) -> None:
    plots = render_plots({"economics": {"currency": "DKK"}}, out_dir=tmp_path)
    assert "ceac" not in plots


def test_the_unit_counted_is_named() -> None:
    """Rows without patient ids; patients (one response each, an event once) with them."""
    rows = _block()
    assert economics_view(rows)["unit"] == "row"
    patients = copy.deepcopy(rows)
    patients["net_monetary_benefit"]["unit"] = "patient"
    assert economics_view(patients)["unit"] == "patient"

"""Documents a clinician can read (issue 13, items 8a, 8b, 8c, 15e).

Rows that are prediction times of fewer patients are called so; variables appear under
their clinical labels in English and Danish (code names only where a pipeline gave
none); tied ranks read as a clinician writes them; an unordered categorical variable
has no "positive" direction; a truncated importance table says what it left out.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from clinai.data import window_feature_labels
from clinai.reporting import (
    build_model_card,
    write_model_card,
)
from tests._helpers import write_reports

from .conftest import CONTEXT, IMPORTANCE, METRICS

LABELS = {
    **window_feature_labels(["heart_rate_6h_slope", "sbp_hours_since_last"]),
    "bp_hours_since_last": {
        "en": "Time since last blood pressure measurement",
        "da": "Tid siden seneste blodtryksmåling",
        "unit": {"en": "h", "da": "t"},
    },
    "age": {"en": "Age", "da": "Alder", "unit": {"en": "years", "da": "år"}},
    "type": {"en": "Type of admission", "da": "Indlæggelsestype"},
}


def _importance(n_variables: int = 6) -> dict[str, Any]:
    out = copy.deepcopy(IMPORTANCE)
    # variable, mean |SHAP|, direction
    rows = [
        ("age", 0.7, "positive"),
        ("heart_rate_6h_slope", 0.6, "positive"),
        ("bp_hours_since_last", 0.5, "negative"),
        ("type", 0.4, "by_category"),
        ("coma", 0.3, "by_category"),
        ("cancer", 0.3, "mixed"),
    ] + [(f"extra_{k}", 0.1 / (k + 1), "mixed") for k in range(max(0, n_variables - 6))]
    out["variables"] = [
        {"variable": name, "mean_abs_shap": value, "direction": direction}
        for name, value, direction in rows
    ]
    names = [v["variable"] for v in out["variables"]]
    # coma and cancer share places 5 and 6 (mean rank 5.5); age is 1st in every resample
    ranks = [1.0, 2.0, 3.0, 4.0, 5.5, 5.5] + [7.0 + k for k in range(len(names) - 6)]
    out["rank_intervals"] = {
        "n_boot": 100,
        "ci_level": 0.95,
        "n_rows": 60,
        "variables": [
            {
                "variable": name,
                "mean_abs_shap": 0.1,
                "rank": rank,
                "rank_low": rank if name == "age" else max(1.0, rank - 1),
                "rank_high": rank if name == "age" else rank + 1,
            }
            for name, rank in zip(names, ranks, strict=True)
        ],
    }
    out["dependence"] = [
        {
            "variable": "age",
            "kind": "numeric",
            "rank": 1,
            "direction": "positive",
            "points": [[40, -0.2], [80, 0.3]],
            "n_missing": 0,
        },
        {
            "variable": "type",
            "kind": "categorical",
            "rank": 4,
            "direction": "levels",
            "levels": [],
            "highest_level": None,
            "lowest_level": None,
        },
    ]
    return out


def _context(**use_case: Any) -> dict[str, Any]:
    context = copy.deepcopy(CONTEXT)
    context["use_case"].update(use_case)
    context["feature_labels"] = LABELS
    context["features"] = {
        "numeric": ["age", "heart_rate_6h_slope", "sbp_hours_since_last"],
        "categorical": ["type"],
    }
    context["split"] = {
        **context["split"],
        "n_test": 60,
        "n_patients_test": 9,
        "n_patients_train": 21,
    }
    return context


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The card (en, da) and the report (en, da) of a run whose rows are prediction times."""
    out = tmp_path_factory.mktemp("clinical")
    importance = _importance(n_variables=35)
    context = _context(
        row_unit={"en": "prediction times (hours)", "da": "forudsigelsestidspunkter (timer)"}
    )
    card = build_model_card(context, METRICS, importance=importance)
    write_model_card(card, out, languages=("en", "da"))
    reports = write_reports(out, context, METRICS, importance, plots={}, stem="report")
    texts = {}
    for language in ("en", "da"):
        suffix = "" if language == "en" else f".{language}"
        report, report_md = reports[language]
        texts[f"card.{language}.md"] = (out / f"model_card{suffix}.md").read_text("utf-8")
        texts[f"card.{language}.html"] = (out / f"model_card{suffix}.html").read_text("utf-8")
        texts[f"report.{language}.html"] = Path(report).read_text("utf-8")
        texts[f"report.{language}.md"] = Path(report_md).read_text("utf-8")
    return texts


ROWS = {
    "en": "60 prediction times (hours) from 9 patients",
    "da": "60 forudsigelsestidspunkter (timer) fra 9 patienter",
}


@pytest.mark.parametrize("language", ["en", "da"])
def test_rows_that_are_prediction_times_are_not_called_patients(
    documents: dict[str, str], language: str
) -> None:
    for kind in ("card", "report"):
        for fmt in ("md", "html"):
            text = documents[f"{kind}.{language}.{fmt}"]
            assert ROWS[language] in text, (kind, fmt)
    assert "test set of 60 patients" not in documents["card.en.md"]
    # the intro stays a paragraph of its own before the performance table
    assert "confidence intervals.\n\n| " in documents["card.en.md"]


HEADERS = {
    "en": (
        '<th scope="col">Prediction times (hours)</th>',
        "Test set, prediction times (hours)",
    ),
    "da": (
        '<th scope="col">Forudsigelsestidspunkter (timer)</th>',
        "Testsæt, forudsigelsestidspunkter (timer)",
    ),
}


@pytest.mark.parametrize("language", ["en", "da"])
def test_row_counts_in_tables_name_the_rows(documents: dict[str, str], language: str) -> None:
    report = documents[f"report.{language}.html"]
    for header in HEADERS[language]:
        assert header in report, header
    assert '<th scope="col">Patients</th>' not in report
    assert HEADERS[language][0] in documents[f"card.{language}.html"]
    # natural frequencies count the rows too
    flagged = {
        "en": "about 32 of every 100 prediction times (hours) are flagged;",
        "da": "markeres omkring 32 ud af hver 100 forudsigelsestidspunkter (timer);",
    }
    assert flagged[language] in documents[f"card.{language}.md"]
    share = {
        "en": "Share of prediction times (hours) flagged",
        "da": "Andel markerede forudsigelsestidspunkter (timer)",
    }
    assert share[language] in report
    assert "of every 100 patients" not in documents["card.en.md"]


def test_rows_of_a_patient_each_without_row_unit_keep_patients(tmp_path: Path) -> None:
    context = _context()
    context["split"]["n_patients_test"] = 60  # one row per patient
    card = build_model_card(context, METRICS, importance=_importance())
    write_model_card(card, tmp_path, languages=("en",))
    assert "test set of 60 patients" in (tmp_path / "model_card.md").read_text("utf-8")
    # fewer patients than rows but no unit named by the pipeline: "predictions"
    context["split"]["n_patients_test"] = 9
    card = build_model_card(context, METRICS, importance=_importance())
    write_model_card(card, tmp_path, languages=("en",))
    assert "60 predictions from 9 patients" in (tmp_path / "model_card.md").read_text("utf-8")


LABELLED = {
    "en": (
        "Heart rate, slope over the last 6 h (/min per hour)",
        "Time since last blood pressure measurement (h)",
        "Age (years)",
    ),
    "da": (
        "Puls, hældning de seneste 6 t (/min pr. time)",
        "Tid siden seneste blodtryksmåling (t)",
        "Alder (år)",
    ),
}


@pytest.mark.parametrize("language", ["en", "da"])
def test_variables_appear_under_their_clinical_labels(
    documents: dict[str, str], language: str
) -> None:
    for key in ("card.{}.md", "card.{}.html", "report.{}.html", "report.{}.md"):
        text = documents[key.format(language)]
        for label in LABELLED[language]:
            assert label in text, (key, label)
        for code in ("heart_rate_6h_slope", "bp_hours_since_last"):
            assert code not in text, (key, code)
    # a variable without a label keeps its code name (user pipelines without labels work)
    assert "coma" in documents[f"card.{language}.md"]


@pytest.mark.parametrize(
    ("language", "tied", "single"),
    [
        ("en", "tied 5th–6th", "importance rank 1 in 95%"),
        ("da", "delt 5.–6. plads", "vigtighedsplacering 1 i 95"),
    ],
)
def test_tied_and_single_ranks_read_as_a_clinician_writes_them(
    documents: dict[str, str], language: str, tied: str, single: str
) -> None:
    report = documents[f"report.{language}.html"]
    assert tied in report
    assert "5.5" not in report and "5,5" not in report
    card = documents[f"card.{language}.md"]
    assert single in card
    assert ">1–1<" not in report and "rank 1–1 " not in card and "placering 1–1 " not in card


@pytest.mark.parametrize(
    ("language", "text"), [("en", "depends on the category"), ("da", "afhænger af kategorien")]
)
def test_unordered_categorical_has_no_direction(
    documents: dict[str, str], language: str, text: str
) -> None:
    card = documents[f"card.{language}.md"]
    table = card.split(f"| {'Type of admission' if language == 'en' else 'Indlæggelsestype'} |")[1]
    assert table.split("\n", 1)[0].rstrip(" |").endswith(text)
    assert "by_category" not in card and "by_category" not in documents[f"report.{language}.html"]


NOT_SHOWN = {
    "card.en.md": "25 more variables not shown (see the validation report).",
    "card.en.html": "25 more variables not shown (see the validation report).",
    "card.da.md": "25 variable mere er ikke vist (se valideringsrapporten).",
    "report.en.html": "5 more variables not shown (see importance.json in the run directory).",
    "report.da.md": "5 variable mere er ikke vist (se importance.json i kørselsmappen).",
}


@pytest.mark.parametrize("key", sorted(NOT_SHOWN))
def test_a_truncated_importance_table_says_how_many_were_left_out(
    documents: dict[str, str], key: str
) -> None:
    assert NOT_SHOWN[key] in documents[key]


def test_an_untruncated_table_has_no_note(tmp_path: Path) -> None:
    card = build_model_card(_context(), METRICS, importance=_importance(6))
    write_model_card(card, tmp_path, languages=("en",))
    assert "not shown" not in (tmp_path / "model_card.md").read_text("utf-8")


@pytest.mark.parametrize("language", ["en", "da"])
def test_every_per_100_sentence_has_a_rows_wording(language: str) -> None:
    """Every "of every 100 patients" sentence counts the rows where they are not patients."""
    from clinai.reporting._card import rows_strings
    from clinai.reporting._locales import get_strings

    strings = get_strings(language)
    unit = "prediction times (hours)"
    rows = rows_strings(strings, unit)
    per_100 = {"en": "of every 100 patients", "da": "af hver 100 patienter"}[language]
    for key, text in strings.items():
        if isinstance(text, str) and per_100 in text:
            assert per_100 not in rows[key], key
            assert unit in rows[key], key

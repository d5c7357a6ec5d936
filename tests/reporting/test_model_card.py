from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from clinai.reporting import (
    NumberFormatter,
    build_model_card,
    get_language_names,
    get_strings,
    render_plots,
    write_model_card,
    write_validation_report,
)

CANARY = "CANARY-PATIENT-123"
DANISH_TERMS = (
    "Tilsigtet brug",
    "Kalibrering",
    "Følsomhed",
    "Specificitet",
    "Positiv prædiktiv værdi",
    "Ikke til brug",
    "Begrænsninger",
    "Udfald",
)
ENGLISH_TERMS = (
    "Intended use",
    "Calibration",
    "Sensitivity",
    "Specificity",
    "Positive predictive value",
    "Not for use",
    "Limitations",
    "Outcome",
)


@pytest.fixture
def card(context: dict, metrics: dict, importance: dict) -> dict[str, Any]:
    return build_model_card(context, metrics, importance=importance)


def test_card_covers_model_card_toolkit_schema(card: dict[str, Any]) -> None:
    assert {
        "schema_version",
        "model_details",
        "model_parameters",
        "quantitative_analysis",
        "considerations",
        "clinai",
    } <= set(card)
    assert {"name", "overview", "version", "owners", "licence", "references", "citations"} <= set(
        card["model_details"]
    )
    assert {"model_architecture", "data", "input_format", "output_format"} <= set(
        card["model_parameters"]
    )
    assert card["model_parameters"]["data"]["train"]["n"] == 140
    assert card["model_parameters"]["data"]["test"]["n"] == 60
    assert {
        "users",
        "use_cases",
        "limitations",
        "ethical_considerations",
        "fairness_assessment",
    } <= set(card["considerations"])
    for key in (
        "intended_use",
        "not_for",
        "outcome",
        "prediction_time",
        "population",
        "natural_frequencies",
        "acceptance",
        "importance",
        "subgroups",
    ):
        assert key in card["clinai"]
    metrics = card["quantitative_analysis"]["performance_metrics"]
    auroc = next(m for m in metrics if m["type"] == "AUROC" and m["slice"] == "overall")
    assert auroc == {
        "type": "AUROC",
        "value": 0.812,
        "slice": "overall",
        "confidence_interval": {"lower_bound": 0.693, "upper_bound": 0.917},
    }
    assert any(m["slice"] == "sex=female" for m in metrics)
    assert not any("<50" in m["slice"] for m in metrics)  # suppressed: no numbers
    json.dumps(card, allow_nan=False)


def test_natural_frequencies_are_scaled_first_threshold(card: dict[str, Any]) -> None:
    assert card["clinai"]["natural_frequencies"] == {
        "threshold": 0.2,
        "flagged_per_100": 32,
        "outcome_per_100_flagged": 47,
        "found_per_10_with_outcome": 8,
        "found_per_100_with_outcome": 75,
    }


def test_suppressed_subgroup_keeps_no_numbers_even_if_given(context: dict, metrics: dict) -> None:
    row = metrics["subgroups"]["age_band"][0]
    row.update(n=3, events=1, auroc={"estimate": 0.987, "ci_low": 0.9, "ci_high": 1.0})
    card = build_model_card(context, metrics)
    assert card["clinai"]["subgroups"]["age_band"][0] == {"group": "<50", "suppressed": True}
    assert "0.987" not in json.dumps(card)


def test_write_model_card_files_and_languages(tmp_path: Path, card: dict[str, Any]) -> None:
    written = write_model_card(card, tmp_path, languages=("en", "da"))
    assert set(written) == {
        "model_card.json",
        "model_card.md",
        "model_card.html",
        "model_card.da.md",
        "model_card.da.html",
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(written)
    assert json.loads(written["model_card.json"].read_text("utf-8")) == json.loads(json.dumps(card))
    for name in ("model_card.da.md", "model_card.da.html"):
        text = written[name].read_text("utf-8")
        for term in DANISH_TERMS:
            assert term in text, (name, term)
        assert "0,81 (0,69–0,92)" in text  # Danish decimal comma
        assert "0.81" not in text
        assert "Ved en risikotærskel på 0,20" in text
    for name in ("model_card.md", "model_card.html"):
        text = written[name].read_text("utf-8")
        for term in ENGLISH_TERMS:
            assert term in text, (name, term)
        assert "0.81 (0.69–0.92)" in text
        assert "of 100 flagged patients, about 47 have the outcome" in text
    assert '<html lang="da">' in written["model_card.da.html"].read_text("utf-8")
    # The use case's Danish translation is used where given, English elsewhere, with a note.
    da_md = written["model_card.da.md"].read_text("utf-8")
    assert "Død før udskrivelse fra hospitalet." in da_md
    assert "vises på engelsk" in da_md


def test_english_only_when_requested(tmp_path: Path, card: dict[str, Any]) -> None:
    written = write_model_card(card, tmp_path, languages=["en"])
    assert set(written) == {"model_card.json", "model_card.md", "model_card.html"}


def test_unknown_language_is_refused_before_writing(tmp_path: Path, card: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=re.escape("Got ['xx'] instead")):
        write_model_card(card, tmp_path / "out", languages=("en", "xx"))
    assert not (tmp_path / "out").exists()


def test_html_autoescapes_and_markdown_neutralises_tags(
    tmp_path: Path, context: dict, metrics: dict
) -> None:
    payload = "<script>alert('x')</script>"
    context["use_case"]["intended_use"] = f"Triage {payload}"
    context["use_case"]["limitations"].append(payload)
    context["use_case"]["translations"] = {}
    metrics["subgroups"]["sex"][0]["group"] = payload
    written = write_model_card(build_model_card(context, metrics), tmp_path)
    for name, path in written.items():
        if name.endswith((".md", ".html")):  # JSON is data: it keeps the text as given
            assert "<script>" not in path.read_text("utf-8"), name
    assert "&lt;script&gt;" in written["model_card.html"].read_text("utf-8")


def test_canary_in_unexpected_keys_is_never_rendered(
    tmp_path: Path, context: dict, metrics: dict, importance: dict
) -> None:
    context["patient_ids"] = [CANARY]
    context["use_case"]["example_patient"] = {"id": CANARY}
    context["dataset"]["first_rows"] = [{"patient_id": CANARY, "age": 71}]
    context["model"]["training_ids"] = [CANARY]
    context["lineage"]["debug"] = CANARY
    context["split"]["test_ids"] = [CANARY]
    context["registry"]["owner_patient"] = CANARY
    context["cohort_flow"][0]["patient_id"] = CANARY
    context["population_summary"]["age"]["rows"] = [CANARY]
    context["use_case"]["not_for"] = ["Decisions", {"patient": CANARY}]
    context["use_case"]["translations"]["da"]["patient"] = CANARY
    metrics["predictions"] = [{"patient_id": CANARY, "y_prob": 0.3}]
    metrics["subgroups"]["sex"][0]["patient_ids"] = [CANARY]
    metrics["thresholds"][0]["flagged_ids"] = [CANARY]
    metrics["acceptance"][0]["patients"] = [CANARY]
    importance["rows"] = [{"patient_id": CANARY}]
    importance["variables"][0]["example"] = CANARY

    card = build_model_card(context, metrics, importance=importance)
    write_model_card(card, tmp_path)
    plots = render_plots(metrics, importance=importance, out_dir=tmp_path / "plots")
    write_validation_report(
        context,
        metrics,
        plots=plots,
        importance=importance,
        out_path=tmp_path / "validation_report.html",
    )
    write_validation_report(
        context,
        metrics,
        plots=plots,
        importance=importance,
        out_path=tmp_path / "validation_report.da.html",
        language="da",
    )
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 12
    for path in files:
        assert CANARY.encode() not in path.read_bytes(), path.name
    assert CANARY not in json.dumps(card)


def test_missing_optional_keys_render_na(tmp_path: Path) -> None:
    card = build_model_card({}, {"auroc": {"estimate": None, "ci_low": None, "ci_high": None}})
    written = write_model_card(card, tmp_path)
    english = written["model_card.md"].read_text("utf-8")
    assert "| Area under the ROC curve (AUROC) | n/a |" in english
    assert "ikke tilgængelig" in written["model_card.da.md"].read_text("utf-8")
    assert card["clinai"]["natural_frequencies"] is None
    assert card["clinai"]["acceptance"] == {"verdict": "no criteria", "criteria": []}


def test_locale_files_share_keys_and_are_complete() -> None:
    assert {"en", "da"} <= set(get_language_names())
    english = dict(get_strings("en"))
    for language in get_language_names():
        from clinai.reporting._locales import _load

        own = _load(language)
        assert set(own) == set(english), language
        # Placeholders must match, or a translation would crash or drop a number.
        for key, text in own.items():
            assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", english[key]))
    with pytest.raises(ValueError, match="get_language_names"):
        get_strings("xx")


@pytest.mark.parametrize(
    ("language", "value", "expected"),
    [
        ("en", {"estimate": 0.8123, "ci_low": 0.751, "ci_high": 0.868}, "0.81 (0.75–0.87)"),
        ("da", {"estimate": 0.8123, "ci_low": 0.751, "ci_high": 0.868}, "0,81 (0,75–0,87)"),
        ("en", {"estimate": -0.08, "ci_low": -0.71, "ci_high": 0.55}, "−0.08 (−0.71 to 0.55)"),
        ("da", {"estimate": -0.08, "ci_low": -0.71, "ci_high": 0.55}, "−0,08 (−0,71 til 0,55)"),
        ("en", {"estimate": 0.5, "ci_low": None, "ci_high": None}, "0.50"),
        ("en", {"estimate": None, "ci_low": 0.1, "ci_high": 0.2}, "n/a"),
        ("da", None, "ikke tilgængelig"),
        ("en", float("nan"), "n/a"),
        ("en", -0.0001, "0.00"),
    ],
)
def test_estimate_formatting(language: str, value: Any, expected: str) -> None:
    fmt = NumberFormatter.from_strings(language, get_strings(language))
    assert fmt.est(value) == expected


def test_count_and_percent_formatting() -> None:
    en = NumberFormatter.from_strings("en", get_strings("en"))
    da = NumberFormatter.from_strings("da", get_strings("da"))
    assert (en.count(12345), da.count(12345)) == ("12,345", "12.345")
    assert (en.pct(0.2), da.pct(0.2)) == ("20.0%", "20,0 %")
    assert (en.value(True), da.value(False)) == ("yes", "nej")


# ------------------------------------------------ acceptance: the compared statistic is named
# A pre-registered plan judged by the evaluation layer, as a run writes it to metrics.json.
ACCEPTANCE_PLAN = [
    {"name": "discrimination", "metric": "auroc", "statistic": "ci_low", "min": 0.70},
    {"name": "calibration slope", "metric": "calibration.slope", "min": 0.7, "max": 1.3},
    {
        "name": "sensitivity",
        "metric": "thresholds.0.sensitivity",
        "statistic": "ci_low",
        "min": 0.025,
    },
]


def judged(metrics: dict[str, Any]) -> dict[str, Any]:
    """Replace the fixture's acceptance rows by the evaluation layer's verdict on the plan."""
    from clinai.evaluation import evaluate_acceptance

    metrics["acceptance"] = [r.to_dict() for r in evaluate_acceptance(metrics, ACCEPTANCE_PLAN)]
    return metrics


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "| discrimination | Area under the ROC curve (AUROC), lower bound of the 95% CI | "
                "0.69 | ≥ 0.70 | fail |",
                "| calibration slope | Calibration slope | 0.91 | 0.70 to 1.30 | pass |",
                "| sensitivity | Sensitivity at risk threshold 0.20, lower bound of the 95% CI | "
                "0.47 | ≥ 0.025 | pass |",
            ],
        ),
        (
            "da",
            [
                "| discrimination | {auroc}, nedre grænse af 95 %-konfidensintervallet | 0,69 | "
                "≥ 0,70 | ikke opfyldt |",
                "| calibration slope | {slope} | 0,91 | 0,70 til 1,30 | opfyldt |",
            ],
        ),
    ],
)
def test_acceptance_table_names_the_compared_statistic(
    tmp_path: Path, context: dict, metrics: dict, language: str, expected: list[str]
) -> None:
    # Issue 13 (15d): "discrimination 0.38 fail" beside an AUROC of 0.57 did not say that
    # 0.38 is the interval's lower bound.
    card = build_model_card(context, judged(metrics))
    assert card["clinai"]["acceptance"]["criteria"][0]["statistic"] == "ci_low"
    assert card["clinai"]["acceptance"]["criteria"][0]["min"] == 0.70
    files = write_model_card(card, tmp_path, languages=(language,))
    suffix = "" if language == "en" else f".{language}"
    markdown = files[f"model_card{suffix}.md"].read_text("utf-8")
    html = files[f"model_card{suffix}.html"].read_text("utf-8")
    t = get_strings(language)
    for line in expected:
        line = line.format(auroc=t["auroc"], slope=t["calibration_slope"])
        assert line in markdown, line
        assert line.split(" | ")[1] in html  # the same words in the HTML card
    assert f'<th scope="col" class="c-result">{t["result"]}</th>' in html


# ----------------------------------------------------- the one-page summary ("Model facts")


@pytest.mark.parametrize("language", ["en", "da"])
def test_model_facts_summary_opens_the_markdown_card(
    tmp_path: Path, context: dict, metrics: dict, language: str
) -> None:
    files = write_model_card(build_model_card(context, metrics), tmp_path, languages=(language,))
    suffix = "" if language == "en" else f".{language}"
    markdown = files[f"model_card{suffix}.md"].read_text("utf-8")
    t = get_strings(language)
    facts = markdown.index(f"## {t['model_facts']}")
    assert facts < markdown.index(f"## {t['intended_use']}") < markdown.index(f"## {t['how_well']}")
    summary = markdown[facts : markdown.index(f"## {t['intended_use']}")]
    fmt = NumberFormatter.from_strings(language, t)
    # natural frequencies at the operating threshold, from the threshold metrics (0.47, 0.75)
    assert t["facts_ppv"].format(threshold=fmt.num(0.2), ppv=47) in summary
    assert t["facts_sensitivity"].format(sensitivity=75) in summary
    assert t["facts_flag_rate"].format(flagged=32) in summary
    assert (
        t["facts_auroc"].format(
            auroc="0.81 (0.69–0.92)" if language == "en" else "0,81 (0,69–0,92)",
            oe=fmt.est(metrics["calibration"]["oe_ratio"]),
        )
        in summary
    )
    # the score in use today, and when not to use the model
    assert (
        t["facts_baseline_diff"].format(
            name="SAPS-like score", diff=fmt.est(metrics["baseline_comparison"]["auroc_diff"])
        )
        in summary
    )
    uc = context["use_case"]
    not_for = uc["not_for"] if language == "en" else uc["translations"]["da"]["not_for"]
    for item in not_for:
        assert f"  - {item}" in summary
    # who approved it: none yet, so the summary says so (or points to the approval section)
    assert (t.get("approval_pending") or t["facts_see_approval"]) in summary


def test_model_facts_without_a_comparison_say_so(
    tmp_path: Path, context: dict, metrics: dict
) -> None:
    del metrics["baseline_comparison"]
    files = write_model_card(build_model_card(context, metrics), tmp_path, languages=("en",))
    assert get_strings("en")["facts_no_baseline"] in files["model_card.md"].read_text("utf-8")


def test_a_value_missing_its_bound_by_a_hair_shows_the_decimals_that_decide(
    tmp_path: Path, context: dict, metrics: dict
) -> None:
    # a calibration slope of 1.302 against a maximum of 1.3 read "1.30 ... 0.70 to 1.30 fail"
    metrics["calibration"]["slope"]["estimate"] = 1.302
    card = build_model_card(context, judged(metrics))
    markdown = write_model_card(card, tmp_path, languages=("en",))["model_card.md"].read_text()
    assert "| calibration slope | Calibration slope | 1.302 | 0.70 to 1.30 | fail |" in markdown

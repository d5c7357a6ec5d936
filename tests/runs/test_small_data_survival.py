"""Small survival data (issue 16, item 6): Riley's time-to-event criteria before tuning.

The card and the report say it in survival words: the log relative hazard (the
complementary log-log of the risk by the first horizon, what the out-of-fold Cox
recalibration multiplies), Riley et al.'s time-to-event criteria (Stat Med 2019, Part II),
not the log-odds of the binary wording, which binary records keep.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clinai import evaluation
from clinai.reporting import get_strings
from clinai.reporting._render import render, translator
from clinai.reporting._small_data_view import small_data_view
from clinai.runs._small_data import (
    SURVIVAL_METHOD,
    SURVIVAL_OUTCOME,
    assess_small_data_survival,
    note_survival_shrinkage,
)
from tests.reporting.test_survival_card import CONTEXT, _write
from tests.runs.test_small_data import RECORD_KEYS as BINARY_RECORD_KEYS

#: A survival run's small_data record: the binary keys and ``outcome``.
RECORD_KEYS = BINARY_RECORD_KEYS | {"outcome"}
HORIZON = 365.0


def _cohort(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "age": rng.normal(65, 10, n),
            "sbp": rng.normal(130, 15, n),
            "ward": rng.choice(["a", "b", "c"], n),
        }
    )
    event_time = rng.exponential(800.0, n)
    censor_time = rng.uniform(100.0, 1000.0, n)
    time = np.minimum(event_time, censor_time)
    event = (event_time <= censor_time).astype(int)
    return X, time, event


def _assess(n: int, mode: str = "auto") -> tuple[dict, np.ndarray, np.ndarray, pd.DataFrame]:
    X, time, event = _cohort(n)
    record = assess_small_data_survival(
        X,
        time,
        event,
        horizon=HORIZON,
        numeric=["age", "sbp"],
        categorical=["ward"],
        plan=None,
        mode=mode,
    )
    return record, time, event, X


def test_record_has_the_binary_keys_and_riley_survival_numbers() -> None:
    record, time, event, _ = _assess(80)
    assert set(record) == RECORD_KEYS
    assert record["outcome"] == SURVIVAL_OUTCOME
    assert record["n_available"] == 80
    assert record["events_available"] == int(event.sum())
    expected = evaluation.riley_sample_size_survival(
        rate=event.sum() / time.sum(),
        mean_follow_up=time.mean(),
        timepoint=HORIZON,
        n_parameters=record["n_parameters"],
    )
    assert record["n_required"] == expected.n
    assert record["events_required"] == expected.events
    assert record["r2_cs_source"].startswith("default")
    assert record["criteria_met"] is False
    assert "shrinkage" in record["unmet"]


def test_unmet_criteria_record_the_recalibration_slope_as_the_shrinkage(
    caplog: pytest.LogCaptureFixture,
) -> None:
    record, *_ = _assess(80)
    with caplog.at_level("WARNING", logger="clinai.runs._small_data"):
        note_survival_shrinkage(record, {"method": "cox_cloglog", "slope": 0.81})
    assert record["shrinkage"] == 0.81
    assert record["method"] == SURVIVAL_METHOD
    # the log line speaks of the log relative hazard, not of a logit
    (line,) = caplog.messages
    assert "log relative hazard by 0.810" in line and "logit" not in line


def test_no_recalibration_says_why_and_met_or_off_changes_nothing() -> None:
    record, *_ = _assess(80)
    note_survival_shrinkage(record, {"slope": None, "reason": "calibration.method: none"})
    assert record["shrinkage"] is None
    assert "calibration.method: none" in record["method"]
    off, *_ = _assess(80, mode="off")
    note_survival_shrinkage(off, {"slope": 0.81})
    assert off["shrinkage"] is None and off["method"] is None
    met, *_ = _assess(5000)
    assert met["criteria_met"] is True
    note_survival_shrinkage(met, {"slope": 0.81})
    assert met["shrinkage"] is None and met["method"] is None


#: An unmet survival record as training.json holds it (ami_1y_mortality-like numbers).
SURVIVAL_RECORD = {
    "mode": "auto",
    "criteria_met": False,
    "n_parameters": 13,
    "n_required": 1234,
    "events_required": 531,
    "n_available": 350,
    "events_available": 151,
    "shrinkage": 0.8,
    "method": SURVIVAL_METHOD,
    "outcome": SURVIVAL_OUTCOME,
}
#: Words of the survival wording in each language, and words of the binary one it must not use.
SURVIVAL_WORDS = {
    "en": ["log relative hazard", "Stat Med 2019, part II", "baseline hazard", "1,234", "531"],
    "da": ["log relativ hazard", "Stat Med 2019, del II", "basishazarden", "1.234", "531"],
}
BINARY_WORDS = ["log-odds", "BMJ 2020", "average risk was fitted again", "risiko er tilpasset igen"]


def _section(record: dict, language: str, kind: str) -> str:
    """The rendered small-data section (Markdown or HTML) of a record, as plain text."""
    strings, fmt = translator(language)
    view = small_data_view({"small_data": record})
    return html.unescape(render(f"_small_data.{kind}.j2", sd=view, t=strings, fmt=fmt))


def test_survival_card_says_log_relative_hazard_and_riley_2019_in_english_and_danish(
    tmp_path: Path,
) -> None:
    files = _write(tmp_path, model={**CONTEXT["model"], "small_data": SURVIVAL_RECORD})
    for language, name in (("en", "model_card"), ("da", "model_card.da")):
        for kind in ("md", "html"):
            text = html.unescape(files[f"{name}.{kind}"].read_text(encoding="utf-8"))
            assert get_strings(language)["small_data_title"] in text, (language, kind)
            for word in SURVIVAL_WORDS[language]:
                assert word in text, (language, kind, word)
            assert "0.80" in text or "0,80" in text
            for word in BINARY_WORDS:
                assert word not in text, (language, kind, word)


def test_the_survival_card_uses_survival_words_for_a_record_written_before_the_key() -> None:
    older = {k: v for k, v in SURVIVAL_RECORD.items() if k != "outcome"}
    assert small_data_view({"small_data": older})["note_key"] == "small_data_shrunk"
    view = small_data_view({"small_data": older}, survival=True)
    assert (view["text_key"], view["note_key"]) == (
        "small_data_text_survival",
        "small_data_shrunk_survival",
    )


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({}, "small_data_shrunk_survival"),
        ({"shrinkage": 1.0}, "small_data_no_further_survival"),
        ({"shrinkage": 1.4}, "small_data_expanded_survival"),
        ({"shrinkage": None, "method": "none: ..."}, "small_data_not_recalibrated_survival"),
        ({"shrinkage": None, "method": None, "mode": "off"}, "small_data_off_survival"),
    ],
)
@pytest.mark.parametrize("language", ["en", "da"])
def test_every_survival_case_has_its_own_words(changes: dict, key: str, language: str) -> None:
    record = {**SURVIVAL_RECORD, **changes}
    assert small_data_view({"small_data": record})["note_key"] == key
    strings = get_strings(language)
    for kind in ("md", "html"):
        text = _section(record, language, kind)
        first = strings[key].split("{")[0].strip()
        assert first and first in " ".join(text.split()), (kind, first)
        for word in BINARY_WORDS:
            assert word not in text, (kind, word)


@pytest.mark.parametrize("language", ["en", "da"])
def test_a_binary_record_keeps_its_wording(language: str) -> None:
    """A record without ``outcome`` (binary, and every training.json from before) is unchanged."""
    binary = {k: v for k, v in SURVIVAL_RECORD.items() if k != "outcome"}
    strings, fmt = translator(language)
    counts = {k: fmt.count(binary[k]) for k in SURVIVAL_RECORD if k.startswith(("n_", "events"))}
    cases = [
        (binary, strings["small_data_shrunk"].format(shrinkage=fmt.num(0.8, 2))),
        ({**binary, "shrinkage": None, "mode": "off"}, strings["small_data_off"]),
        ({**binary, "shrinkage": None}, strings["small_data_off"]),
    ]
    for record, note in cases:
        text = _section(record, language, "md")
        assert text.split() == [
            "##",
            *strings["small_data_title"].split(),
            *strings["small_data_text"].format(**counts).split(),
            *note.split(),
        ]
        assert "log-odds" in text or record["shrinkage"] is None

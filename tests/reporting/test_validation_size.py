"""Documents say when a model was validated on too few outcomes for precise estimates.

A validation on 60 rows with 12 events gave wide intervals and no word on why; Collins,
Ogundimu and Altman (Stat Med 2016;35:214-26) advise at least 100 events and 100
non-events.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from clinai.reporting import build_model_card, get_strings, write_model_card
from clinai.reporting._format import NumberFormatter
from clinai.reporting._survival_report import size_caution
from clinai.reporting._validation_size import VALIDATION_MIN_OUTCOMES, validation_size
from tests._helpers import write_reports

from .conftest import CONTEXT, IMPORTANCE, METRICS


@pytest.mark.parametrize(
    ("n", "events", "expected"),
    [
        (200, 100, None),  # 100 of each: enough
        (200, 99, {"events": 99, "others": 101, "minimum": 100, "few": True}),
        (199, 100, {"events": 100, "others": 99, "minimum": 100, "few": True}),
        (60, 12, {"events": 12, "others": 48, "minimum": 100, "few": True}),
        (100_000, 5_000, None),
        (None, 12, None),  # unknown counts: nothing is claimed
        (10, 11, None),
        (10, -1, None),
        (True, 1, None),
    ],
)
def test_the_minimum_is_100_events_and_100_without(n, events, expected) -> None:
    assert VALIDATION_MIN_OUTCOMES == 100
    size = validation_size(n, events)
    if expected is None:
        assert size is None
    else:
        assert size == {**expected, "n": n, "needed": None, "needed_events": None}


@pytest.mark.parametrize(
    ("n", "events", "few", "needed"),
    [
        (1200, 300, False, 1536),  # enough events, too few rows for the precision targets
        (60, 12, True, 1536),  # both
        (2000, 300, False, None),  # neither: no note
    ],
)
def test_the_precision_plan_adds_its_own_sentence(n, events, few, needed) -> None:
    """Pavlou et al.'s patients at the observed prevalence and AUROC (its to_dict())."""
    from clinai.evaluation import validation_sample_size

    plan = validation_sample_size(0.1, 0.75).to_dict()  # n 1536 with 154 events
    size = validation_size(n, events, plan)
    if needed is None and not few:
        assert size is None
        return
    assert size["few"] is few and size["needed"] == needed
    assert size["needed_events"] == (154 if needed else None)


def _documents(tmp_path: Path, n: int, events: int, plan: dict | None = None) -> dict[str, str]:
    metrics = {**copy.deepcopy(METRICS), "n": n, "events": events, "prevalence": events / n}
    context = {**copy.deepcopy(CONTEXT), "validation_sample_size": plan}
    write_model_card(build_model_card(context, metrics), tmp_path, languages=("en", "da"))
    reports = write_reports(tmp_path, context, metrics, IMPORTANCE, plots={})
    texts = {}
    for language, (html, md) in reports.items():
        suffix = "" if language == "en" else f".{language}"
        texts[f"card.{language}.md"] = (tmp_path / f"model_card{suffix}.md").read_text("utf-8")
        texts[f"card.{language}.html"] = (tmp_path / f"model_card{suffix}.html").read_text("utf-8")
        texts[f"report.{language}.html"] = html.read_text("utf-8")
        texts[f"report.{language}.md"] = md.read_text("utf-8")  # type: ignore[union-attr]
    return texts


def _plain(text: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", text).split())


def _sentences(texts: dict[str, str], key: str, **counts: int) -> Iterator[tuple[str, str, str]]:
    """Yield each document's name, plain text and locale string ``key`` in its language."""
    for name, text in texts.items():
        language = name.split(".")[1]
        fmt = NumberFormatter(language)
        sentence = get_strings(language)[key].format(**{k: fmt.count(v) for k, v in counts.items()})
        yield name, _plain(text), " ".join(sentence.split())


def test_every_document_says_so_in_its_language(tmp_path: Path) -> None:
    texts = _documents(tmp_path, n=60, events=12)
    for name, text, note in _sentences(
        texts, "validation_size_note", events=12, others=48, minimum=100
    ):
        assert note in text, name
    for name, text, title in _sentences(texts, "validation_size_title"):
        assert title in text, name
    assert "Stat Med 2016" in texts["card.da.md"] and "rækker med udfaldet" in texts["card.da.md"]


def test_the_precision_sentence_in_every_document(tmp_path: Path) -> None:
    plan = {"n": 1536, "events": 154}
    texts = _documents(tmp_path, n=400, events=150, plan=plan)  # 150 and 250: enough of each
    for name, text, sentence in _sentences(
        texts, "validation_precision_note", needed=1536, needed_events=154, n=400
    ):
        assert sentence in text, name
        assert "Stat Med 2016" not in text, name  # the 100-event rule is met
    for name, text, title in _sentences(texts, "validation_precision_title"):
        assert title in text, name  # not "few outcomes": there were enough
    assert get_strings("en")["validation_size_title"] not in "".join(texts.values())


def test_no_note_with_enough_outcomes(tmp_path: Path) -> None:
    for name, text in _documents(tmp_path, n=400, events=150).items():
        assert "Stat Med 2016" not in text, name
        assert "validation-size" not in text, name


@pytest.mark.parametrize("language", ["en", "da"])
def test_a_survival_validation_counts_the_outcomes_by_the_horizon(language: str) -> None:
    """Events by the horizon, and patients followed to it without the event or a competing one."""
    strings, fmt = get_strings(language), NumberFormatter(language)
    follow = {"n": 150, "events_by_horizon": 43, "censored_before_horizon": 0}
    text = size_caution(follow, strings, fmt)
    assert text == strings["surv_caution_size"].format(events="43", others="107", minimum="100")
    competing = {**follow, "censored_before_horizon": 10, "competing_by_horizon": 20}
    assert "43" in size_caution(competing, strings, fmt) and "77" in size_caution(
        competing, strings, fmt
    )
    enough = {"n": 400, "events_by_horizon": 120, "censored_before_horizon": 150}
    assert size_caution(enough, strings, fmt) is None  # 120 events, 130 followed
    few_followed = {**enough, "censored_before_horizon": 200}
    assert "80" in size_caution(few_followed, strings, fmt)  # 80 followed to the horizon

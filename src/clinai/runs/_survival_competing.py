"""Competing risks in a survival run (``outcome.event_codes.competing`` names codes).

The stages of :mod:`clinai.runs._survival_run` dispatch here where competing events
change what they do:

* prepare: the prepared splits hold the event code beside the 0/1 event of interest
  (``__event_code__``: 0 censored, 1 the event, 2 a competing event); the manifest's
  ``outcome`` block counts the competing events before the first horizon.
* train: the family must be a competing-risks one (``cause_specific_cox``); it is
  tuned and fitted on the event codes, and its ``predict_proba`` is the cumulative
  incidence of the event of interest by the first horizon (Aalen-Johansen-type
  integration of the cause-specific hazards).
* evaluate: :func:`clinai.evaluation.evaluate_competing` on the test split (Wolbers'
  C, Blanche's AUC, Aalen-Johansen O/E, the Brier score of the CIF and its scaled
  version, observed against predicted by risk group), the paired comparison with the
  registered version (:func:`clinai.evaluation.compare_competing_models`), the
  fairness tables (:func:`clinai.evaluation.competing_fairness`) and the acceptance
  criteria fixed at training, judged on them; written to ``survival_metrics.json``.
* report: a model card and a validation report per language (EN/DA) in the words of
  competing risks, with the acceptance, comparison and fairness blocks
  (:mod:`clinai.reporting._competing_card`; the report is ``clinai validate
  --competing-code``'s); the survival report (Kaplan-Meier based) is not rendered for them.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clinai import evaluation
from clinai._utils import atomic_write_text
from clinai.reporting._competing_card import competing_card, competing_report
from clinai.reporting._markdown_html import write_markdown_document
from clinai.reporting._meta_report import write_languages
from clinai.reporting._survival_report import unit_in
from clinai.runs._acceptance_plan import (
    ACCEPTANCE_PLAN_FILE,
    check_acceptance_plan,
    judge_acceptance,
)
from clinai.runs._comparisons import registered_version
from clinai.runs._prepare import EVENT_CODE, TIME, read_split
from clinai.runs._progress import progress_bar
from clinai.runs._report import use_case_translations
from clinai.runs._survival_card import run_lineage
from clinai.runs._survival_outcome import COMPETING_CODE
from clinai.runs._survival_test_split import SurvivalTest, resampling

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from clinai.config import ExperimentConfig
    from clinai.runs._rundir import RunDir

__all__ = [
    "add_competing_counts",
    "evaluate_competing_run",
    "is_competing",
    "model_task",
    "read_event_code",
    "report_competing",
]

#: The metrics file (the same name as every survival run's).
METRICS_FILE = "survival_metrics.json"


def is_competing(config: ExperimentConfig) -> bool:
    """Whether the config names competing event codes."""
    return config.outcome is not None and bool(config.outcome.codes.competing)


def model_task(config: ExperimentConfig) -> str:
    """Return the model registry's task of the config's survival outcome."""
    return "competing_risks" if is_competing(config) else "survival"


def _read(run_dir: RunDir, name: str) -> pd.DataFrame:
    path = run_dir.require(f"prepared/{name}.parquet", stage="prepare")
    return pd.read_parquet(path, columns=[TIME, EVENT_CODE])


def read_event_code(run_dir: RunDir, name: str, event: np.ndarray) -> np.ndarray:
    """Return the event codes of a prepared split (0, 1, 2), or ``event`` where there are none."""
    path = run_dir.require(f"prepared/{name}.parquet", stage="prepare")
    if EVENT_CODE not in pd.read_parquet(path).columns:
        return event
    return _read(run_dir, name)[EVENT_CODE].to_numpy(dtype=np.int64)


def add_competing_counts(
    config: ExperimentConfig, run_dir: RunDir, outcome: dict[str, Any]
) -> None:
    """Count competing events and true censorings before the first horizon (in place).

    ``outcome`` is the manifest's ``outcome`` block; without competing codes it is left
    as it is.
    """
    if not is_competing(config):
        return
    assert config.outcome is not None
    table = pd.concat([_read(run_dir, name) for name in ("train", "test")], ignore_index=True)
    time, code = table[TIME].to_numpy(), table[EVENT_CODE].to_numpy()
    horizon = config.outcome.horizons[0]
    outcome["competing_codes"] = list(config.outcome.codes.competing)
    outcome["competing_by_horizon"] = int(((code == COMPETING_CODE) & (time <= horizon)).sum())
    # a competing event is not a censoring (the generic count took every non-event as one)
    outcome["censored_before_horizon"] = int(((code == 0) & (time < horizon)).sum())


def evaluate_competing_run(
    config: ExperimentConfig, run_dir: RunDir, *, show_progress: bool = True
) -> dict[str, Any]:
    """Validate the predicted cumulative incidence on the test split; write the metrics file.

    As a plain survival run: the acceptance plan fixed at training is checked first (an
    edited one is refused before anything is computed), then the metrics, the paired
    comparison with the registered version, the fairness tables, and the verdict.
    """
    from clinai.tracking import load_model_dir

    assert config.outcome is not None
    fixed = run_dir.read_json(ACCEPTANCE_PLAN_FILE, stage="train")
    check_acceptance_plan(config, fixed)
    model = load_model_dir(run_dir.model)
    X, _, sensitive, patients = read_split(run_dir, "test")
    table = _read(run_dir, "test")
    test = SurvivalTest(
        X=X,
        time=table[TIME].to_numpy(dtype=float),
        event=table[EVENT_CODE].to_numpy(dtype=np.int64),
        risk=model.predict_proba(X)[:, 1],
        sensitive=sensitive,
        patients=patients if config.data.patient_id is not None else None,
    )
    horizon = config.outcome.horizons[0]
    plan = config.evaluation.model_dump(include={"n_boot", "ci_level", "min_cell"})
    with progress_bar("bootstrap", plan["n_boot"], enabled=show_progress) as advance:
        result = evaluation.evaluate_competing(
            *test.outcome,
            horizon=horizon,
            patient_ids=test.patients,
            random_state=config.seed,
            score_name=f"cumulative incidence by {horizon:g}",
            progress=advance,
            **plan,
        )
    metrics = result.to_dict()
    # the data's own codes (the prepared splits hold 1 for the event, 2 for any competing one)
    metrics["competing"]["competing_codes"] = list(config.outcome.codes.competing)
    metrics["competing"]["event_codes"] = config.outcome.codes.model_dump()
    blocks = {
        "comparison": lambda: _registry_comparison(config, run_dir, test),
        "fairness": lambda: _fairness(config, test) if len(test.sensitive.columns) else None,
    }
    with progress_bar("comparison and fairness", len(blocks), enabled=show_progress) as advance:
        for key, compute in blocks.items():
            block = compute()
            if block is not None:  # absent: nothing registered to compare, no attributes
                metrics[key] = block
            advance()
    judge_acceptance(metrics, fixed)
    run_dir.write_json(METRICS_FILE, metrics)
    return metrics


def _predicts_incidence(model: Any) -> bool:
    """Whether a loaded model is a competing-risks one (its last step knows the causes)."""
    inner = getattr(model, "model", model)
    last = inner.steps[-1][1] if hasattr(inner, "steps") else inner
    return hasattr(last, "causes_") and hasattr(model, "predict_risk")


def _fairness(config: ExperimentConfig, test: SurvivalTest) -> dict[str, Any]:
    """Wolbers' C and O/E per group of each sensitive attribute and intersection, with gaps."""
    assert config.outcome is not None
    spec = config.evaluation
    tables = evaluation.competing_fairness(
        *test.outcome,
        test.sensitive,
        horizon=config.outcome.horizons[0],
        min_cell=spec.min_cell,
        intersections=[(first, second) for first, second in spec.intersections],
        **resampling(config, test, stream=4),
    )
    return {name: table.to_dict() for name, table in tables.items()}


def _registry_comparison(
    config: ExperimentConfig, run_dir: RunDir, test: SurvivalTest
) -> dict[str, Any] | None:
    """Compare with the registered version in use on the same test patients (paired)."""
    assert config.outcome is not None
    found = registered_version(config, run_dir, test.X)
    if found is None or not _predicts_incidence(found[0]):
        return None
    other, X_other, version, alias = found
    horizon = config.outcome.horizons[0]
    result = evaluation.compare_competing_models(
        *test.outcome,
        np.asarray(other.predict_risk(X_other, [horizon]))[:, 0],
        horizon=horizon,
        name=f"registered version {version} ({alias})",
        **resampling(config, test, stream=7),
    )
    return {**result.to_dict(), "version": str(version), "alias": alias}


#: The competing event where the pipeline names none ("with a competing event as a
#: competing event" read as a slip): its code, which the reader can look up.
COMPETING_EVENT = {"en": "another event (code {codes})", "da": "en anden hændelse (kode {codes})"}


def report_competing(
    config: ExperimentConfig, run_dir: RunDir, publish_dir: Path | None = None
) -> list[Path]:
    """Write the model card and the validation report of a competing-risk run (EN, DA).

    The report is the one ``clinai validate --competing-code`` writes (HTML, Markdown,
    PDF), on the test split and with the run's acceptance, comparison and fairness
    blocks, so the approval board finds ``validation_report.*`` in every run directory.
    ``publish_dir``: where the English card is copied as ``<experiment>.md`` (if given).
    """
    metrics = run_dir.read_json(METRICS_FILE, stage="evaluate")
    selected = run_dir.read_json("training.json", stage="train")["selected"]
    manifest = run_dir.read_json("data_manifest.json", stage="prepare")
    use_case = manifest["use_case"]
    translations = use_case_translations(config)
    source = manifest.get("source") or {}
    # the card's lineage, as on every card: hashes and names, nothing patient-level
    lineage = {
        **run_lineage(config, manifest),
        "experiment": config.experiment,
        "run_id": run_dir.run_id,
        "dataset": source.get("title") or source.get("name"),
    }

    created = datetime.now(UTC).isoformat(timespec="seconds")
    assert config.outcome is not None
    codes = ", ".join(str(code) for code in config.outcome.codes.competing)

    def write(language: str, stem: str) -> tuple[Path, Path, list[Path]]:
        own = translations.get(language, {})
        texts = {**use_case, **own}
        texts.setdefault("competing_event", COMPETING_EVENT[language].format(codes=codes))
        # a unit given in English only is said in the document's language
        texts["time_unit"] = own.get("time_unit") or unit_in(use_case.get("time_unit"), language)
        text = (
            competing_card(metrics, texts, language, selected=selected, lineage=lineage)
            if stem == "model_card"
            else competing_report(
                metrics,
                language,
                source=config.experiment,
                created=created,
                unit=texts.get("time_unit") or None,
                title=texts.get("title") or config.description or config.experiment,
            )
        )
        suffix = "" if language == "en" else f".{language}"
        html, markdown = write_markdown_document(
            run_dir.path, f"{stem}{suffix}", text, language=language
        )
        return html, markdown, []

    files: list[Path] = []
    for stem in ("model_card", "validation_report"):
        documents = write_languages(partial(write, stem=stem), list(config.languages), pdf=True)
        files += documents.files
        for line in documents.skipped:
            logger.warning("%s", line)
    if publish_dir is not None:
        publish_dir.mkdir(parents=True, exist_ok=True)
        english = run_dir.file("model_card.md").read_text(encoding="utf-8")
        atomic_write_text(publish_dir / f"{config.experiment}.md", english)
    return files

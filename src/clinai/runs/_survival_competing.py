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
  version, observed against predicted by risk group), written to
  ``survival_metrics.json``.
* report: a model card per language (EN/DA) in the words of competing risks; the
  survival validation report (Kaplan-Meier based) is not rendered for these runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clinai import evaluation
from clinai._utils import atomic_write_text
from clinai.reporting import NumberFormatter
from clinai.runs._prepare import EVENT_CODE, TIME, read_split
from clinai.runs._progress import progress_bar
from clinai.runs._report import use_case_translations
from clinai.runs._survival_outcome import COMPETING_CODE

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
    """Validate the predicted cumulative incidence on the test split; write the metrics file."""
    from clinai.tracking import load_model_dir

    assert config.outcome is not None
    model = load_model_dir(run_dir.model)
    X, _, _, patients = read_split(run_dir, "test")
    table = _read(run_dir, "test")
    horizon = config.outcome.horizons[0]
    plan = config.evaluation.model_dump(include={"n_boot", "ci_level", "min_cell"})
    with progress_bar("bootstrap", plan["n_boot"], enabled=show_progress) as advance:
        result = evaluation.evaluate_competing(
            table[TIME].to_numpy(dtype=float),
            table[EVENT_CODE].to_numpy(dtype=np.int64),
            model.predict_proba(X)[:, 1],
            horizon=horizon,
            patient_ids=patients if config.data.patient_id is not None else None,
            random_state=config.seed,
            score_name=f"cumulative incidence by {horizon:g}",
            progress=advance,
            **plan,
        )
    metrics = result.to_dict()
    # the data's own codes (the prepared splits hold 1 for the event, 2 for any competing one)
    metrics["competing"]["competing_codes"] = list(config.outcome.codes.competing)
    metrics["competing"]["event_codes"] = config.outcome.codes.model_dump()
    run_dir.write_json(METRICS_FILE, metrics)
    return metrics


# The model card of a competing-risk run, per language.
CARD = {
    "en": (
        "# {title}\n\n{outcome}\n\n**Intended use:** {intended_use}\n\n"
        "## What the model says\n\n"
        "The model predicts each patient's risk of the event within {horizon:g} days, with "
        "{competing_event} as a competing event: a patient who has it first can no longer "
        "have the event.\n\n"
        "Of 100 patients like those of the test split, about **{observed}** had the event "
        "within {horizon:g} days (Aalen-Johansen cumulative incidence: censoring and the "
        "competing event accounted for); the model expected about **{predicted}**.\n\n"
        "## How well it ranks and how well it is calibrated (test split, n = {n})\n\n"
        "- Wolbers' C index (events up to {horizon:g} days): {wolbers_c}\n"
        "- Time-dependent AUC at {horizon:g} days: {time_auc}\n"
        "- Observed/expected risk by {horizon:g} days: {oe_ratio}\n"
        "- Scaled Brier score (IPA) at {horizon:g} days: {scaled_brier}\n\n"
        "By {horizon:g} days the test split had {events} events, {competing} competing "
        "events and {censored} patients censored. Selected model: {selected}.\n"
    ),
    "da": (
        "# {title}\n\n{outcome}\n\n**Tilsigtet brug:** {intended_use}\n\n"
        "## Hvad modellen siger\n\n"
        "Modellen forudsiger hver patients risiko for hændelsen inden for {horizon:g} dage, "
        "med {competing_event} som konkurrerende hændelse: en patient, der får den først, "
        "kan ikke længere få hændelsen.\n\n"
        "Af 100 patienter som dem i testdelen fik omkring **{observed}** hændelsen inden for "
        "{horizon:g} dage (Aalen-Johansen kumuleret incidens: censurering og den "
        "konkurrerende hændelse taget i betragtning); modellen forventede omkring "
        "**{predicted}**.\n\n"
        "## Hvor godt den rangordner, og hvor godt den er kalibreret (testdelen, n = {n})\n\n"
        "- Wolbers' C-indeks (hændelser op til {horizon:g} dage): {wolbers_c}\n"
        "- Tidsafhængig AUC ved {horizon:g} dage: {time_auc}\n"
        "- Observeret/forventet risiko inden for {horizon:g} dage: {oe_ratio}\n"
        "- Skaleret Brier-score (IPA) ved {horizon:g} dage: {scaled_brier}\n\n"
        "Inden for {horizon:g} dage havde testdelen {events} hændelser, {competing} "
        "konkurrerende hændelser og {censored} censurerede patienter. Valgt model: "
        "{selected}.\n"
    ),
}
COMPETING_EVENT = {"en": "a competing event", "da": "en konkurrerende hændelse"}
CARD_METRICS = ("wolbers_c", "time_auc", "oe_ratio", "scaled_brier")


def report_competing(
    config: ExperimentConfig, run_dir: RunDir, publish_dir: Path | None = None
) -> list[Path]:
    """Write the model card of a competing-risk run (EN, and DA where configured).

    ``publish_dir``: where the English card is copied as ``<experiment>.md`` (if given).
    """
    metrics = run_dir.read_json(METRICS_FILE, stage="evaluate")
    selected = run_dir.read_json("training.json", stage="train")["selected"]
    use_case = run_dir.read_json("data_manifest.json", stage="prepare")["use_case"]
    translations = use_case_translations(config)
    follow_up = metrics["competing"]["follow_up"]
    written = []
    for language in ["en", *(x for x in config.languages if x != "en")]:
        texts = {**use_case, **translations.get(language, {})}
        number = NumberFormatter(language)
        card = CARD[language].format(
            title=texts["title"],
            outcome=texts["outcome"],
            intended_use=texts["intended_use"],
            competing_event=texts.get("competing_event", COMPETING_EVENT[language]),
            horizon=metrics["horizon"],
            observed=metrics["natural_frequency"]["observed"],
            predicted=metrics["natural_frequency"]["predicted"],
            n=metrics["n"],
            events=follow_up["events_by_horizon"],
            competing=follow_up["competing_by_horizon"],
            censored=follow_up["censored_before_horizon"],
            selected=selected,
            **{k: number.est(metrics["metrics"][k], 2) for k in CARD_METRICS},
        )
        suffix = "" if language == "en" else f".{language}"
        written.append(atomic_write_text(run_dir.file(f"model_card{suffix}.md"), card))
    if publish_dir is not None:
        publish_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(publish_dir / f"{config.experiment}.md", written[0].read_text())
    return written

"""Use case: time to death after hospital admission for acute myocardial infarction (WHAS500).

The survival version of :mod:`pipelines.ami_1y_mortality`: the same data, features and
sensitive attributes (imported from it, not copied), but the outcome is the follow-up
time and vital status, so every patient is kept, censored or not.

Data decisions
--------------
* Cohort: all 500 patients; nobody is excluded.
* Outcome: ``time`` = ``lenfol`` (days from admission to death or last follow-up),
  ``event`` = ``fstat`` (1 died, 0 alive at last follow-up: censored). 215 deaths.
* Horizon: 365 days (the config's ``outcome.horizons``); the predicted risk is the
  risk of death within one year, estimated with censoring handled by the model and
  validated with Kaplan-Meier and IPCW metrics.
* Censoring: 285 patients are censored (alive at last follow-up) between day 368 and
  day 2192, none before the horizon; taken as independent of risk (end of follow-up).
* ``los`` leaks the outcome (see the binary use case) and is never a feature.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from clinai.runs import load_pipeline

# The binary use case beside this file (found by path, so the folder need not be importable).
binary = load_pipeline("ami_1y_mortality", base_dir=Path(__file__).resolve().parents[1])

# The binary use case's predictors and attributes: the same for the survival outcome.
BINARY = binary.BINARY
FEATURES = binary.FEATURES
FEATURE_LABELS = binary.FEATURE_LABELS
features = binary.features
sensitive_attributes = binary.sensitive_attributes

HORIZON_DAYS = 365

METADATA = {
    **binary.METADATA,
    "title": "Acute myocardial infarction: time to death after admission (risk within one year)",
    "outcome": (
        "Time from the admission for acute myocardial infarction to death from any cause "
        "(lenfol days; fstat == 1 an event, fstat == 0 censored at last follow-up, alive); "
        "the risk of death within 365 days is predicted. No patient is excluded."
    ),
    "events": 215,
}

METADATA_DA = {
    **binary.METADATA_DA,
    "title": "Akut myokardieinfarkt: tid til død efter indlæggelsen (risiko inden for et år)",
    "outcome": (
        "Tid fra indlæggelsen med akut myokardieinfarkt til død af enhver årsag (lenfol dage; "
        "fstat == 1 en hændelse, fstat == 0 censureret ved sidste opfølgning, i live); "
        "risikoen for død inden for 365 dage forudsiges. Ingen patienter udelukkes."
    ),
}


def exclusions(raw: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    """Nobody is excluded: censored patients are kept (their follow-up counts until censoring)."""
    return []


def outcome(cohort: pd.DataFrame) -> pd.DataFrame:
    """Follow-up in days (``lenfol``) and the event (``fstat``: 1 died, 0 censored)."""
    return pd.DataFrame(
        {
            "time": pd.to_numeric(cohort["lenfol"]).astype(float),
            "event": pd.to_numeric(cohort["fstat"].astype(str)).astype(int),
        },
        index=cohort.index,
    )

"""Use case: time to death after resection of stage B/C colon cancer (survival colon).

The survival version of :mod:`pipelines.colon_5y_mortality`: the same death records,
features and sensitive attributes (imported from it, not copied), but the outcome is
the follow-up time and vital status, so the 14 patients censored before five years
are kept.

Data decisions
--------------
* Cohort: the death records (``etype == 2``), one per patient (929); the recurrence
  records are dropped (recurrence happens after prediction time and is not used).
* Outcome: ``time`` = days from registration to death or last contact, ``event`` =
  ``status`` (1 died, 0 alive at last contact: censored). 452 deaths.
* Horizon: 5 x 365 = 1825 days (the config's ``outcome.horizons``).
* Censoring: 477 patients are censored (alive at last contact) from day 453 on, 14 of
  them before the horizon; they count until censoring (taken as independent of risk).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from clinai.runs import load_pipeline

# The binary use case beside this file (found by path, so the folder need not be importable).
binary = load_pipeline("colon_5y_mortality", base_dir=Path(__file__).resolve().parents[1])

DEATH = binary.DEATH
# The binary use case's predictors, their labels and the sensitive attributes: the same here.
FEATURES, FEATURE_LABELS = binary.FEATURES, binary.FEATURE_LABELS
features, sensitive_attributes = binary.features, binary.sensitive_attributes

HORIZON_DAYS = 5 * 365

METADATA = {
    **binary.METADATA,
    "title": "Resected stage B/C colon cancer: time to death (risk within five years)",
    "outcome": (
        "Time from registration in the trial, after surgical resection, to death from any "
        "cause (time days on the death record; status == 1 an event, status == 0 censored "
        "at last contact); the risk of death within 5 x 365 days is predicted."
    ),
    "population": (
        "929 patients with resected stage B/C colon cancer in the NCCTG/Mayo trial of "
        "observation, levamisole, or levamisole plus fluorouracil (1984-1987); none excluded."
    ),
    "limitations": [
        item for item in binary.METADATA["limitations"] if not item.startswith("Excluding")
    ],
    "n": 929,
    "events": 452,
}

METADATA_DA = {
    **binary.METADATA_DA,
    "title": "Opereret tyktarmskræft i stadium B/C: tid til død (risiko inden for fem år)",
    "outcome": (
        "Tid fra registrering i forsøget efter kirurgisk resektion til død af enhver årsag "
        "(time dage i dødsregistreringen; status == 1 en hændelse, status == 0 censureret "
        "ved sidste kontakt); risikoen for død inden for 5 x 365 dage forudsiges."
    ),
    "population": (
        "929 patienter med reseceret tyktarmskræft i stadium B/C i NCCTG/Mayo-forsøget med "
        "observation, levamisol eller levamisol plus fluorouracil (1984-1987); ingen udelukket."
    ),
    "limitations": [
        item for item in binary.METADATA_DA["limitations"] if not item.startswith("Udelukkelsen")
    ],
}


def exclusions(raw: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    """Keep one record per patient (the death record); nobody is excluded for censoring."""
    return [
        (
            "recurrence records (etype == 1; one death record per patient is kept)",
            raw["etype"] != DEATH,
        )
    ]


def outcome(cohort: pd.DataFrame) -> pd.DataFrame:
    """Follow-up in days (``time``) and the event (``status``: 1 died, 0 censored)."""
    return pd.DataFrame(
        {"time": cohort["time"].astype(float), "event": cohort["status"].astype(int)},
        index=cohort.index,
    )

"""Use case: time to recurrence after resection of stage B/C colon cancer, death competing.

Data: ``survival/colon`` (929 patients of the NCCTG/Mayo adjuvant chemotherapy trial;
Moertel et al. 1990), two records per patient: ``etype == 1`` recurrence, ``etype == 2``
death, each with ``time`` (days from registration to the event or last contact) and
``status`` (1 the event happened).

Data decisions
--------------
* Cohort: every patient (929), one row each: :func:`load` reads the bundled data and
  puts each patient's recurrence record beside the death record (the baseline
  variables are the same on both); nobody is excluded.
* Outcome (``time`` in days, ``event`` a code):
  - 1, recurrence: recurrence record ``status == 1``; time = its ``time`` (468
    patients, 451 of them within five years). A recurrence the patient died of is a
    recurrence (it came first).
  - 2, death without recurrence, the competing event: no recurrence and death record
    ``status == 1``; time = the death time (38 patients, 27 within five years). After
    death a recurrence can no longer happen, so it is not censoring.
  - 0, censored: neither; time = last contact (423 patients, 14 of them before five
    years; censoring taken as independent of risk).
* Horizon: 5 x 365.25 = 1826 days (the config's ``outcome.horizons``); the predicted
  risk is the cumulative incidence of recurrence by then, in the presence of death.
* Predictors and sensitive attributes: those of ``colon_5y_mortality`` (imported, not
  copied), all known at registration after surgery.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from clinai import data
from clinai.runs import load_pipeline

# The mortality use case beside this file (found by path, so the folder need not be importable).
mortality = load_pipeline("colon_5y_mortality", base_dir=Path(__file__).resolve().parents[1])

RECURRENCE, DEATH = 1, 2
#: Event codes of :func:`outcome` (the config's ``outcome.event_codes``).
CENSORED, RECURRED, DIED_FIRST = 0, 1, 2
HORIZON_DAYS = 1826  # 5 years of 365.25 days
FEATURES, FEATURE_LABELS = mortality.FEATURES, mortality.FEATURE_LABELS
features, sensitive_attributes = mortality.features, mortality.sensitive_attributes

METADATA = {
    **mortality.METADATA,
    "title": "Resected stage B/C colon cancer: risk of recurrence within five years",
    "outcome": (
        "Time from registration in the trial, after surgical resection, to recurrence "
        "(recurrence record status == 1); death without recurrence is a competing event "
        "(code 2), and patients alive without recurrence at last contact are censored. The "
        "cumulative incidence of recurrence within 5 years (1826 days) is predicted."
    ),
    "competing_event": "death without recurrence",
    "event_phrase": "will have had a recurrence",
    "population": (
        "929 patients with resected stage B/C colon cancer in the NCCTG/Mayo trial of "
        "observation, levamisole, or levamisole plus fluorouracil (1984-1987); none excluded."
    ),
    "intended_use": (
        "Demonstration of a competing-risks model (recurrence, with death competing) after "
        "cancer surgery from trial data; teaching and method comparison. Not validated for "
        "clinical decisions."
    ),
    "not_for": [
        "Choosing adjuvant chemotherapy or follow-up intensity for a patient.",
        "Patients with rectal cancer, stage A or stage D disease.",
        "Predicting death.",
    ],
    "limitations": [
        "Trial population from the 1980s: staging, surgery and chemotherapy have changed.",
        "Recurrence dates come from trial visits: a recurrence is known at the visit that "
        "found it, not when it began.",
        "nodes and differ have missing values.",
    ],
    "n": 929,
    "events": 468,
}

METADATA_DA = {
    **mortality.METADATA_DA,
    "title": "Opereret tyktarmskræft i stadium B/C: risiko for recidiv inden for fem år",
    "outcome": (
        "Tid fra registrering i forsøget efter kirurgisk resektion til recidiv "
        "(recidivregistreringens status == 1); død uden recidiv er en konkurrerende hændelse "
        "(kode 2), og patienter i live uden recidiv ved sidste kontakt er censureret. Den "
        "kumulerede incidens af recidiv inden for 5 år (1826 dage) forudsiges."
    ),
    "competing_event": "død uden recidiv",
    "event_phrase": "have fået recidiv",
    "population": mortality.METADATA_DA["population"],
    "intended_use": (
        "Demonstration af en model med konkurrerende risici (recidiv, med død som "
        "konkurrerende hændelse) efter kræftkirurgi ud fra forsøgsdata; undervisning og "
        "metodesammenligning. Ikke valideret til kliniske beslutninger."
    ),
    "not_for": [
        "Valg af adjuverende kemoterapi eller opfølgningens intensitet for en patient.",
        "Patienter med endetarmskræft eller sygdom i stadium A eller D.",
        "Forudsigelse af død.",
    ],
    "limitations": [
        "Forsøgspopulation fra 1980'erne: stadieinddeling, kirurgi og kemoterapi har ændret sig.",
        "Recidivdatoer stammer fra forsøgets kontrolbesøg: et recidiv kendes ved det besøg, der "
        "fandt det, ikke fra det tidspunkt, det opstod.",
        "nodes og differ har manglende værdier.",
    ],
}


def load() -> pd.DataFrame:
    """One row per patient: the death record with the recurrence record's time and status."""
    raw = data.load_dataset("survival/colon")
    recurrence = raw[raw["etype"] == RECURRENCE].set_index("id")[["time", "status"]]
    patients = raw[raw["etype"] == DEATH].reset_index(drop=True)
    patients["recurrence_time"] = patients["id"].map(recurrence["time"])
    patients["recurrence_status"] = patients["id"].map(recurrence["status"])
    return patients


def exclusions(raw: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    """Nobody is excluded (censored patients and those who died first are kept)."""
    return []


def outcome(cohort: pd.DataFrame) -> pd.DataFrame:
    """Days to recurrence (1), to death without recurrence (2) or to last contact (0)."""
    recurred = cohort["recurrence_status"] == 1
    died = ~recurred & (cohort["status"] == 1)
    code = np.select([recurred, died], [RECURRED, DIED_FIRST], default=CENSORED)
    time = np.where(recurred, cohort["recurrence_time"], cohort["time"])
    return pd.DataFrame({"time": time.astype(float), "event": code}, index=cohort.index)

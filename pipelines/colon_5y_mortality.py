"""Use case: time to death after resection of stage B/C colon cancer (survival colon).

A survival use case (``outcome: {type: survival, horizons: [1826]}``): the predicted
risk is the risk of death within five years, and every patient is kept, including the
14 censored before five years.

Data: ``survival/colon`` (929 patients of the NCCTG/Mayo adjuvant chemotherapy trial
of levamisole and fluorouracil; Moertel et al. 1990). The data hold two records per
patient: ``etype == 1`` (recurrence) and ``etype == 2`` (death); ``time`` is days
from registration to the event or censoring and ``status`` 1 means the event occurred.

Data decisions
--------------
* Cohort: the death records (``etype == 2``), one per patient (929); the recurrence
  records are dropped (recurrence happens after prediction time and is not used).
* Outcome: ``time`` = days from registration to death or last contact, ``event`` =
  ``status`` (1 died, 0 alive at last contact: censored). 452 deaths, 404 of them
  within five years.
* Horizon: 5 x 365.25 = 1826 days (the config's ``outcome.horizons``).
* Censoring: 477 patients are censored (alive at last contact) from day 453 on, 14 of
  them before the horizon; they count until censoring (taken as independent of risk).
* ``time``, ``status`` and ``etype`` define the outcome; ``id`` and ``study`` (1 for
  everyone) are not clinical variables. None of them is a feature.
* ``nodes`` (18) and ``differ`` (23) have missing values in the cohort, left to
  the model's imputation.
"""

from __future__ import annotations

import pandas as pd

from clinai.data import SEX_MALE_1_FEMALE_0, UNIT_YEARS, age_band, attribute_frame

HORIZON_DAYS = 1826  # 5 years of 365.25 days
DEATH = 2
FEATURES = [
    "rx",
    "sex",
    "age",
    "obstruct",
    "perfor",
    "adhere",
    "nodes",
    "differ",
    "extent",
    "surg",
    "node4",
]

METADATA = {
    "title": "Resected stage B/C colon cancer: time to death (risk within five years)",
    "setting": "surgical",
    # the survival card's words: "of 100 patients like these, about 29 will have died"
    "event_phrase": "will have died",
    "time_unit": "days",
    "dataset": "survival/colon",
    "outcome": (
        "Time from registration in the trial, after surgical resection, to death from any "
        "cause (time days on the death record; status == 1 an event, status == 0 censored "
        "at last contact); the risk of death within 5 years (1826 days) is predicted."
    ),
    "prediction_time": (
        "At registration after surgical resection, when the adjuvant treatment is assigned."
    ),
    "population": (
        "929 patients with resected stage B/C colon cancer in the NCCTG/Mayo trial of "
        "observation, levamisole, or levamisole plus fluorouracil (1984-1987); none excluded."
    ),
    "intended_use": (
        "Demonstration of a five-year mortality model after cancer surgery from trial data; "
        "teaching and method comparison. Not validated for clinical decisions."
    ),
    "not_for": [
        "Choosing adjuvant chemotherapy for a patient.",
        "Patients with rectal cancer, stage A or stage D disease.",
        "Predicting recurrence or cancer-specific death.",
    ],
    "limitations": [
        "Trial population from the 1980s: staging, surgery and chemotherapy have changed.",
        "nodes and node4 are inconsistent for some patients (noted in the R documentation).",
        "nodes and differ have missing values.",
    ],
    "citation": (
        "Moertel CG, Fleming TR, Macdonald JS, et al. Levamisole and fluorouracil for "
        "adjuvant therapy of resected colon carcinoma. N Engl J Med. 1990;322:352-358."
    ),
    "n": 929,
    "events": 452,
}

# Reviewed Danish texts of the card (same keys as METADATA; clinical terms as in the glossary
# src/clinai/reporting/locales/da.yaml).
METADATA_DA = {
    "event_phrase": "være døde",
    "time_unit": "dage",
    "title": "Opereret tyktarmskræft i stadium B/C: tid til død (risiko inden for fem år)",
    "outcome": (
        "Tid fra registrering i forsøget efter kirurgisk resektion til død af enhver årsag "
        "(time dage i dødsregistreringen; status == 1 en hændelse, status == 0 censureret "
        "ved sidste kontakt); risikoen for død inden for 5 år (1826 dage) forudsiges."
    ),
    "prediction_time": (
        "Ved registrering efter kirurgisk resektion, når den adjuverende behandling tildeles."
    ),
    "population": (
        "929 patienter med reseceret tyktarmskræft i stadium B/C i NCCTG/Mayo-forsøget med "
        "observation, levamisol eller levamisol plus fluorouracil (1984-1987); ingen udelukket."
    ),
    "intended_use": (
        "Demonstration af en model for risiko for død inden for fem år efter kræftkirurgi ud "
        "fra forsøgsdata; undervisning og sammenligning af metoder. Ikke valideret til "
        "kliniske beslutninger."
    ),
    "not_for": [
        "Valg af adjuverende kemoterapi til en patient.",
        "Patienter med endetarmskræft eller med sygdom i stadium A eller D.",
        "Forudsigelse af recidiv eller kræftspecifik død.",
    ],
    "limitations": [
        "Forsøgspopulation fra 1980'erne: stadieinddeling, kirurgi og kemoterapi har ændret sig.",
        "nodes og node4 er inkonsistente for nogle patienter (nævnt i R-dokumentationen).",
        "nodes og differ har manglende værdier.",
    ],
}


# Clinical names (English, Danish) and units of the features in the model card and report.
FEATURE_LABELS = {
    "rx": {
        "en": "Treatment arm (observation, levamisole, levamisole + 5-FU)",
        "da": "Behandlingsarm (observation, levamisol, levamisol + 5-FU)",
    },
    "sex": SEX_MALE_1_FEMALE_0,
    "age": {"en": "Age", "da": "Alder", "unit": UNIT_YEARS},
    "obstruct": {"en": "Colon obstructed by the tumour", "da": "Tarmen blokeret af tumoren"},
    "perfor": {"en": "Perforation of the colon", "da": "Perforation af tarmen"},
    "adhere": {"en": "Adherence to nearby organs", "da": "Adhærence til nabo-organer"},
    "nodes": {
        "en": "Lymph nodes with cancer",
        "da": "Lymfeknuder med kræft",
        "unit": {"en": "number", "da": "antal"},
    },
    "differ": {
        "en": "Tumour differentiation (1 well, 2 moderate, 3 poor)",
        "da": "Tumorens differentiering (1 høj, 2 middel, 3 lav)",
    },
    "extent": {
        "en": "Local spread (1 submucosa, 2 muscle, 3 serosa, 4 contiguous structures)",
        "da": "Lokal udbredning (1 submucosa, 2 muskel, 3 serosa, 4 tilstødende strukturer)",
    },
    "surg": {
        "en": "Long time from surgery to registration",
        "da": "Lang tid fra operation til registrering",
    },
    "node4": {
        "en": "More than 4 lymph nodes with cancer",
        "da": "Mere end 4 lymfeknuder med kræft",
    },
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


def features(cohort: pd.DataFrame) -> pd.DataFrame:
    """Treatment arm and baseline tumour and patient characteristics."""
    X = cohort[FEATURES].copy()
    X["rx"] = X["rx"].astype(str)
    return X


def sensitive_attributes(cohort: pd.DataFrame) -> pd.DataFrame:
    """Sex (1 male, 0 female) and age band (<60, 60-74, >=75), as strings."""
    return attribute_frame(
        cohort,
        sex=cohort["sex"].map({1: "male", 0: "female"}),
        age_band=age_band(cohort["age"]),
    )

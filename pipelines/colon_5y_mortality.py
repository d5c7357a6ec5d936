"""Use case: death within five years of registration after resection of stage B/C colon cancer.

Data: ``survival/colon`` (929 patients of the NCCTG/Mayo adjuvant chemotherapy trial
of levamisole and fluorouracil; Moertel et al. 1990). The data hold two records per
patient: ``etype == 1`` (recurrence) and ``etype == 2`` (death); ``time`` is days
from registration to the event or censoring and ``status`` 1 means the event occurred.

Data decisions
--------------
* Cohort: the death records (``etype == 2``), one per patient (929).
* Outcome: ``status == 1`` and ``time <= 1826`` days (5 x 365.25).
* Patients censored (alive at last contact) before 1826 days have an unknown
  outcome and are excluded (14), leaving n = 915 with 404 deaths.
* ``time``, ``status`` and ``etype`` define the outcome; ``id`` and ``study`` (1 for
  everyone) are not clinical variables. None of them is a feature, and nothing
  from the recurrence record is used (recurrence happens after prediction time).
* ``nodes`` (18) and ``differ`` (23) have missing values in the cohort, left to
  the model's imputation.
"""

from __future__ import annotations

import pandas as pd

from clinai.data import SEX_MALE_1_FEMALE_0, UNIT_YEARS, age_band, attribute_frame

HORIZON_DAYS = 1826  # 5 years of 365.25 days
DEATH = 2
FEATURES = [
    "rx", "sex", "age", "obstruct", "perfor", "adhere", "nodes", "differ", "extent",
    "surg", "node4",
]

METADATA = {
    "title": "Resected stage B/C colon cancer: risk of death within five years",
    "setting": "surgical",
    "dataset": "survival/colon",
    "outcome": (
        "Death from any cause within 5 years (1826 days) of registration in the trial, "
        "after surgical resection (status == 1 and time <= 1826 on the death record)."
    ),
    "prediction_time": (
        "At registration after surgical resection, when the adjuvant treatment is assigned."
    ),
    "population": (
        "915 patients with resected stage B/C colon cancer in the NCCTG/Mayo trial of "
        "observation, levamisole, or levamisole plus fluorouracil (1984-1987), excluding 14 "
        "censored before 5 years."
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
        "Excluding 14 patients censored before 5 years may bias risks slightly downwards.",
        "nodes and node4 are inconsistent for some patients (noted in the R documentation).",
        "nodes and differ have missing values.",
    ],
    "citation": (
        "Moertel CG, Fleming TR, Macdonald JS, et al. Levamisole and fluorouracil for "
        "adjuvant therapy of resected colon carcinoma. N Engl J Med. 1990;322:352-358."
    ),
    "n": 915,
    "events": 404,
}

# Reviewed Danish texts of the card (same keys as METADATA; clinical terms as in the glossary
# src/clinai/reporting/locales/da.yaml).
METADATA_DA = {
    "title": "Opereret tyktarmskræft i stadium B/C: risiko for død inden for fem år",
    "outcome": (
        "Død af enhver årsag inden for 5 år (1826 dage) efter registrering i forsøget efter "
        "kirurgisk resektion (status == 1 og time <= 1826 i dødsregistreringen)."
    ),
    "prediction_time": (
        "Ved registrering efter kirurgisk resektion, når den adjuverende behandling tildeles."
    ),
    "population": (
        "915 patienter med reseceret tyktarmskræft i stadium B/C i NCCTG/Mayo-forsøget med "
        "observation, levamisol eller levamisol plus fluorouracil (1984-1987), eksklusive 14, "
        "der blev censureret før 5 år."
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
        "Forsøgspopulation fra 1980'erne: stadieinddeling, kirurgi og kemoterapi har ændret "
        "sig.",
        "Udelukkelsen af 14 patienter, der blev censureret før 5 år, kan trække risiciene en "
        "smule nedad.",
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
    """Keep one record per patient (the death record) and drop early censoring."""
    censored_early = (raw["status"] == 0) & (raw["time"] < HORIZON_DAYS)
    return [
        ("recurrence records (etype == 1; one death record per patient is kept)",
         raw["etype"] != DEATH),
        (f"censored before {HORIZON_DAYS} days (outcome unknown)", censored_early),
    ]


def outcome(cohort: pd.DataFrame) -> pd.Series:
    """1 if the patient died within 1826 days of registration, else 0."""
    died = (cohort["status"] == 1) & (cohort["time"] <= HORIZON_DAYS)
    return died.astype(int).rename("death_5y")


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

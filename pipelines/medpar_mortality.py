"""Use case: death during a Medicare hospital stay (Arizona, 1991, DRG 112).

Data: ``COUNT/medpar`` (1,495 stays; Hilbe). The variables are known at hospital
admission, which is the prediction time.

Data decisions
--------------
* ``los`` (length of stay) is leakage: it is known only at discharge or death,
  and a short stay is often a death. It is never a feature.
* ``type`` is the admission type: 1 elective, 2 urgent, 3 emergency (the R help
  page mislabels a dummy); it becomes a categorical feature with those words.
  ``type1``-``type3`` are its dummy twins and are dropped.
* ``provnum`` (provider id) and ``rownames`` are identifiers, never features.
* The data hold no sex and only ``age80`` for age.
"""

from __future__ import annotations

import pandas as pd

from clinai.data import attribute_frame

OUTCOME_COLUMN = "died"
ADMISSION_TYPES = {1: "elective", 2: "urgent", 3: "emergency"}
FEATURES = ["hmo", "white", "age80", "type"]

METADATA = {
    "title": "Medicare inpatients (DRG 112): risk of death during the hospital stay",
    "setting": "acute",
    "dataset": "COUNT/medpar",
    "outcome": (
        "Death of the patient recorded on the Medicare record of this hospital stay "
        "(died == 1), from any cause."
    ),
    "prediction_time": "At hospital admission.",
    "population": (
        "1,495 Medicare (mostly aged 65 and over) hospital stays in one diagnosis-related "
        "group (DRG 112), randomly sampled from the 1991 Arizona Medpar files."
    ),
    "intended_use": (
        "Demonstration of a mortality risk model from administrative admission data; "
        "teaching and method comparison. Not validated for clinical decisions."
    ),
    "not_for": [
        "Decisions about the care of a patient.",
        "Comparing or ranking hospitals (there is no case-mix adjustment beyond four variables).",
        "Patients outside Medicare or outside this diagnosis-related group.",
    ],
    "limitations": [
        "Only four coarse administrative predictors (HMO, white race, age 80+, admission type).",
        "Data from 1991, one US state and one diagnosis-related group.",
        "Stays, not patients: a patient admitted twice may appear twice (no patient id).",
        "Length of stay is excluded as leakage, so no information from the stay is used.",
    ],
    "citation": (
        "Hilbe JM. Negative Binomial Regression. 2nd ed. Cambridge University Press; 2011 "
        "(COUNT R package). Source: 1991 National Medpar data, National Health Economics & "
        "Research Co."
    ),
    "n": 1495,
    "events": 513,
}

# Reviewed Danish texts of the card (same keys as METADATA; clinical terms as in the glossary
# src/clinai/reporting/locales/da.yaml).
METADATA_DA = {
    "title": "Medicare-indlagte (DRG 112): risiko for død under indlæggelsen",
    "outcome": (
        "Død af enhver årsag under denne indlæggelse, som registreret i patientens "
        "Medicare-data for opholdet (died == 1)."
    ),
    "prediction_time": "Ved indlæggelse på hospitalet.",
    "population": (
        "1.495 hospitalsindlæggelser i Medicare (overvejende patienter på 65 år og derover) i "
        "én diagnoserelateret gruppe (DRG 112), tilfældigt udtrukket fra Arizonas "
        "Medpar-filer fra 1991."
    ),
    "intended_use": (
        "Demonstration af en model for risiko for død ud fra administrative data ved "
        "indlæggelse; undervisning og sammenligning af metoder. Ikke valideret til kliniske "
        "beslutninger."
    ),
    "not_for": [
        "Beslutninger om en patients behandling og pleje.",
        "Sammenligning eller rangordning af hospitaler (der justeres kun for fire variable).",
        "Patienter uden for Medicare eller uden for denne diagnoserelaterede gruppe.",
    ],
    "limitations": [
        "Kun fire grove administrative prædiktorer (HMO, hvid race, alder 80 år eller "
        "derover, indlæggelsestype).",
        "Data fra 1991 fra én amerikansk delstat og én diagnoserelateret gruppe.",
        "Indlæggelser, ikke patienter: en patient, der er indlagt to gange, kan optræde to "
        "gange (der er intet patient-id).",
        "Indlæggelsens varighed er udeladt, fordi den afslører udfaldet (lækage); der bruges "
        "derfor ingen oplysninger fra selve opholdet.",
    ],
}


# Clinical names (English, Danish) and units of the features in the model card and report.
FEATURE_LABELS = {
    "hmo": {"en": "Member of a Medicare HMO", "da": "Medlem af en Medicare-HMO"},
    "white": {"en": "White race", "da": "Hvid etnicitet"},
    "age80": {"en": "Age 80 years or over", "da": "Alder 80 år eller derover"},
    "type": {
        "en": "Type of admission (elective, urgent, emergency)",
        "da": "Indlæggelsestype (planlagt, subakut, akut)",
    },
}



def exclusions(raw: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    """Exclude stays without a recorded vital status (none in the data)."""
    return [("vital status missing", raw[OUTCOME_COLUMN].isna())]


def outcome(cohort: pd.DataFrame) -> pd.Series:
    """1 if the patient died, else 0."""
    return (cohort[OUTCOME_COLUMN] == 1).astype(int).rename(OUTCOME_COLUMN)


def features(cohort: pd.DataFrame) -> pd.DataFrame:
    """HMO membership, white race, age 80 or over (0/1) and admission type (words)."""
    X = cohort[FEATURES].copy()
    X["type"] = cohort["type"].map(ADMISSION_TYPES).astype(object)
    return X


def sensitive_attributes(cohort: pd.DataFrame) -> pd.DataFrame:
    """Race (white / non-white) and age band (<80, >=80), as strings on the cohort's index."""
    return attribute_frame(
        cohort,
        race=cohort["white"].map({1: "white", 0: "non-white"}),
        age_band=cohort["age80"].map({1: ">=80", 0: "<80"}),
    )

"""Use case: death within one year of hospital admission for acute myocardial infarction.

Data: ``sksurv/whas500`` (Worcester Heart Attack Study, 500 patients; Hosmer,
Lemeshow and May). ``lenfol`` is the follow-up in days from admission and
``fstat`` the vital status at last follow-up (1 = dead).

Data decisions
--------------
* Outcome: ``fstat == 1`` and ``lenfol <= 365``. Patients censored (alive at last
  follow-up) before day 365 have an unknown outcome and are excluded (none are).
* ``lenfol`` and ``fstat`` define the outcome and are never features.
* ``los`` (length of stay) leaks the outcome: for the 40 in-hospital deaths the
  follow-up ends at discharge, so ``los == lenfol``. It is never a feature.
* The 0/1 indicators arrive as categories '0'/'1' and become integers.
"""

from __future__ import annotations

import pandas as pd

from clinai.data import UNIT_YEARS, age_band, attribute_frame

HORIZON_DAYS = 365
BINARY = ["afb", "av3", "chf", "cvd", "gender", "miord", "mitype", "sho"]
FEATURES = [
    "age", "gender", "bmi", "hr", "sysbp", "diasbp", "cvd", "afb", "sho", "chf", "av3",
    "miord", "mitype",
]

METADATA = {
    "title": "Acute myocardial infarction: risk of death within one year of admission",
    "setting": "acute",
    "dataset": "sksurv/whas500",
    "outcome": (
        "Death from any cause within 365 days of the hospital admission for acute myocardial "
        "infarction (fstat == 1 and lenfol <= 365 days), in-hospital deaths included."
    ),
    "prediction_time": (
        "During the index admission, once its complications (cardiogenic shock, heart "
        "failure, atrial fibrillation, complete heart block) are known."
    ),
    "population": (
        "500 patients (aged 30 to 104) admitted with a confirmed acute myocardial infarction "
        "to hospitals in the Worcester, Massachusetts area (Worcester Heart Attack Study)."
    ),
    "intended_use": (
        "Demonstration of a one-year mortality risk model after myocardial infarction; "
        "teaching and method comparison. Not validated for clinical decisions."
    ),
    "not_for": [
        "Decisions about the treatment or discharge of a patient.",
        "Predicting death at other horizons or cause-specific (cardiac) death.",
        "Patients without a confirmed acute myocardial infarction.",
    ],
    "limitations": [
        "500 patients from one US region in the 1990s; treatment has changed since.",
        "The data do not say when during the stay a complication arose; the model assumes "
        "it is known at prediction time.",
        "No laboratory values (troponin, creatinine) or treatments (revascularisation).",
        "Length of stay is excluded as leakage.",
    ],
    "citation": (
        "Hosmer DW, Lemeshow S, May S. Applied Survival Analysis: Regression Modeling of "
        "Time-to-Event Data. 2nd ed. Wiley; 2008 (WHAS500, as shipped in scikit-survival)."
    ),
    "n": 500,
    "events": 138,
}

# Reviewed Danish texts of the card (same keys as METADATA; clinical terms as in the glossary
# src/clinai/reporting/locales/da.yaml).
METADATA_DA = {
    "title": "Akut myokardieinfarkt: risiko for død inden for et år efter indlæggelsen",
    "outcome": (
        "Død af enhver årsag inden for 365 dage efter indlæggelsen med akut "
        "myokardieinfarkt (fstat == 1 og lenfol <= 365 dage), inklusive dødsfald under "
        "indlæggelsen."
    ),
    "prediction_time": (
        "Under indlæggelsen, når dens komplikationer (kardiogent shock, hjertesvigt, "
        "atrieflimren, totalt AV-blok) er kendte."
    ),
    "population": (
        "500 patienter (30 til 104 år) indlagt med bekræftet akut myokardieinfarkt på "
        "hospitaler i Worcester-området i Massachusetts (Worcester Heart Attack Study)."
    ),
    "intended_use": (
        "Demonstration af en model for risiko for død inden for et år efter "
        "myokardieinfarkt; undervisning og sammenligning af metoder. Ikke valideret til "
        "kliniske beslutninger."
    ),
    "not_for": [
        "Beslutninger om en patients behandling eller udskrivelse.",
        "Forudsigelse af død over andre tidshorisonter eller af årsagsspecifik (kardiel) død.",
        "Patienter uden bekræftet akut myokardieinfarkt.",
    ],
    "limitations": [
        "500 patienter fra én amerikansk region i 1990'erne; behandlingen har ændret sig siden.",
        "Data angiver ikke, hvornår under indlæggelsen en komplikation opstod; modellen "
        "antager, at den er kendt på prædiktionstidspunktet.",
        "Ingen laboratorieværdier (troponin, kreatinin) eller behandlinger "
        "(revaskularisering).",
        "Indlæggelsens varighed er udeladt, fordi den afslører udfaldet (lækage).",
    ],
}


# Clinical names (English, Danish) and units of the features in the model card and report.
FEATURE_LABELS = {
    "age": {"en": "Age at admission", "da": "Alder ved indlæggelse", "unit": UNIT_YEARS},
    "gender": {"en": "Female sex (1 female, 0 male)", "da": "Kvindeligt køn (1 kvinde, 0 mand)"},
    "bmi": {"en": "Body mass index", "da": "Body mass index (BMI)", "unit": "kg/m²"},
    "hr": {"en": "Heart rate at admission", "da": "Puls ved indlæggelse", "unit": "/min"},
    "sysbp": {
        "en": "Systolic blood pressure at admission",
        "da": "Systolisk blodtryk ved indlæggelse",
        "unit": "mmHg",
    },
    "diasbp": {
        "en": "Diastolic blood pressure at admission",
        "da": "Diastolisk blodtryk ved indlæggelse",
        "unit": "mmHg",
    },
    "cvd": {"en": "History of cardiovascular disease", "da": "Tidligere hjerte-kar-sygdom"},
    "afb": {"en": "Atrial fibrillation", "da": "Atrieflimren"},
    "sho": {"en": "Cardiogenic shock", "da": "Kardiogent shock"},
    "chf": {"en": "Congestive heart failure", "da": "Hjertesvigt"},
    "av3": {"en": "Complete heart block (AV block III)", "da": "Totalt AV-blok (AV-blok III)"},
    "miord": {
        "en": "Recurrent myocardial infarction (1 recurrent, 0 first)",
        "da": "Gentaget blodprop i hjertet (1 gentaget, 0 første)",
    },
    "mitype": {
        "en": "Q-wave infarction (1 Q-wave, 0 non-Q-wave)",
        "da": "Q-takket infarkt (1 Q-takket, 0 ikke Q-takket)",
    },
}



def exclusions(raw: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    """Exclude patients alive at last follow-up before day 365 (outcome unknown)."""
    censored_early = (raw["fstat"] == 0) & (raw["lenfol"] < HORIZON_DAYS)
    return [(f"censored before {HORIZON_DAYS} days (outcome unknown)", censored_early)]


def outcome(cohort: pd.DataFrame) -> pd.Series:
    """1 if the patient died within 365 days of admission, else 0."""
    died = (cohort["fstat"] == 1) & (cohort["lenfol"] <= HORIZON_DAYS)
    return died.astype(int).rename("death_1y")


def features(cohort: pd.DataFrame) -> pd.DataFrame:
    """Admission characteristics and complications; never los, lenfol or fstat."""
    X = cohort[FEATURES].copy()
    for name in BINARY:
        X[name] = pd.to_numeric(X[name].astype(str)).astype(int)
    return X


def sensitive_attributes(cohort: pd.DataFrame) -> pd.DataFrame:
    """Sex (gender 0 male, 1 female) and age band (<60, 60-74, >=75), as strings."""
    gender = pd.to_numeric(cohort["gender"].astype(str), errors="coerce")
    return attribute_frame(
        cohort,
        sex=gender.map({0: "male", 1: "female"}),
        age_band=age_band(cohort["age"]),
    )

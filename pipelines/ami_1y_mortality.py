"""Use case: time to death after hospital admission for acute myocardial infarction (WHAS500).

A survival use case (``outcome: {type: survival, horizons: [365]}``): the predicted
risk is the risk of death within one year, and every patient is kept, censored or not.

Data: ``sksurv/whas500`` (Worcester Heart Attack Study, 500 patients; Hosmer,
Lemeshow and May). ``lenfol`` is the follow-up in days from admission and
``fstat`` the vital status at last follow-up (1 = dead).

Data decisions
--------------
* Cohort: all 500 patients; nobody is excluded.
* Outcome: ``time`` = ``lenfol`` (days from admission to death or last follow-up),
  ``event`` = ``fstat`` (1 died, 0 alive at last follow-up: censored). 215 deaths,
  138 of them within 365 days.
* Horizon: 365 days (the config's ``outcome.horizons``); the risk of death within one
  year is estimated with censoring handled by the model (Breslow's baseline hazard)
  and validated with Kaplan-Meier and IPCW metrics.
* Censoring: 285 patients are censored (alive at last follow-up) between day 368 and
  day 2192, none before the horizon; taken as independent of risk (end of follow-up).
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
    "age",
    "gender",
    "bmi",
    "hr",
    "sysbp",
    "diasbp",
    "cvd",
    "afb",
    "sho",
    "chf",
    "av3",
    "miord",
    "mitype",
]

METADATA = {
    "title": "Acute myocardial infarction: time to death after admission (risk within one year)",
    "setting": "acute",
    # the survival card's words: "of 100 patients like these, about 29 will have died"
    "event_phrase": "will have died",
    "time_unit": "days",
    "dataset": "sksurv/whas500",
    "outcome": (
        "Time from the admission for acute myocardial infarction to death from any cause "
        "(lenfol days; fstat == 1 an event, fstat == 0 censored at last follow-up, alive), "
        "in-hospital deaths included; the risk of death within 365 days is predicted. No "
        "patient is excluded."
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
    "events": 215,
}

# Reviewed Danish texts of the card (same keys as METADATA; clinical terms as in the glossary
# src/clinai/reporting/locales/da.yaml).
METADATA_DA = {
    "event_phrase": "være døde",
    "time_unit": "dage",
    "title": "Akut myokardieinfarkt: tid til død efter indlæggelsen (risiko inden for et år)",
    "outcome": (
        "Tid fra indlæggelsen med akut myokardieinfarkt til død af enhver årsag (lenfol dage; "
        "fstat == 1 en hændelse, fstat == 0 censureret ved sidste opfølgning, i live), "
        "inklusive dødsfald under indlæggelsen; risikoen for død inden for 365 dage "
        "forudsiges. Ingen patienter udelukkes."
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
        "Ingen laboratorieværdier (troponin, kreatinin) eller behandlinger (revaskularisering).",
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

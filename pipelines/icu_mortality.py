"""Use case: death before hospital discharge after admission to an intensive care unit.

Data: ``vcdExtra/ICU`` (200 adults; Lemeshow et al. 1988, as in Hosmer, Lemeshow
and Sturdivant's *Applied Logistic Regression*). Every variable is recorded at
ICU admission, which is the prediction time.

Data decisions
--------------
* ``coma``: the R level "None" arrives as missing in the 185 rows where
  ``uncons == "No"``; it is restored to ``"None"``.
* ``white`` and ``uncons`` are recodings of ``race`` and ``coma`` (``white`` even
  with inverted labels) and are dropped; ``race`` and ``coma`` are kept.
* ``rownames`` is the patient number: an identifier, never a feature.
* ``died`` is the outcome and is never a feature. Admissions without a recorded
  vital status would be excluded (there are none).
"""

from __future__ import annotations

import pandas as pd

from clinai.data import UNIT_YEARS, age_band, attribute_frame

OUTCOME_COLUMN = "died"
FEATURES = [
    "age", "sex", "race", "service", "cancer", "renal", "infect", "cpr", "systolic",
    "hrtrate", "previcu", "admit", "fracture", "po2", "ph", "pco", "bic", "creatin", "coma",
]

METADATA = {
    "title": "ICU admission: risk of death before hospital discharge",
    "setting": "acute",
    "dataset": "vcdExtra/ICU",
    "outcome": (
        "Death before discharge from hospital after this intensive care unit admission "
        "(died == 'Yes'), from any cause."
    ),
    "prediction_time": "At admission to the intensive care unit.",
    "population": (
        "200 adults (aged 16 to 92) admitted to one adult intensive care unit in the United "
        "States, sampled from a larger study of ICU survival (Lemeshow et al. 1988)."
    ),
    "intended_use": (
        "Demonstration of developing and validating a mortality risk model at ICU admission; "
        "teaching and method comparison. Not validated for clinical decisions."
    ),
    "not_for": [
        "Decisions about the treatment, admission or withdrawal of care of a patient.",
        "Children or patients outside an adult intensive care unit.",
        "Replacing established, externally validated severity scores (APACHE, SAPS, SOFA).",
    ],
    "limitations": [
        "Only 200 patients and 40 deaths: wide confidence intervals and a risk of overfitting.",
        "Single-centre data from the 1980s; case mix and care have changed since.",
        "Blood gas and creatinine values are available only as two bins.",
        "Few Black (15) and Other race (10) patients: subgroup results are unreliable.",
    ],
    "citation": (
        "Lemeshow S, Teres D, Avrunin JS, Pastides H. Predicting the outcome of intensive care "
        "unit patients. J Am Stat Assoc. 1988;83:348-356."
    ),
    "n": 200,
    "events": 40,
}

# Reviewed Danish texts of the card (same keys as METADATA; clinical terms as in the glossary
# src/clinai/reporting/locales/da.yaml).
METADATA_DA = {
    "title": "Indlæggelse på intensivafdeling: risiko for død før udskrivelse fra hospitalet",
    "outcome": (
        "Død af enhver årsag før udskrivelse fra hospitalet efter denne indlæggelse på "
        "intensivafdeling (died == 'Yes')."
    ),
    "prediction_time": "Ved indlæggelse på intensivafdelingen.",
    "population": (
        "200 voksne (16 til 92 år) indlagt på én intensivafdeling for voksne i USA, udtrukket "
        "fra et større studie af overlevelse efter intensiv behandling (Lemeshow et al. 1988)."
    ),
    "intended_use": (
        "Demonstration af, hvordan en model for risiko for død ved indlæggelse på "
        "intensivafdeling udvikles og valideres; undervisning og sammenligning af metoder. "
        "Ikke valideret til kliniske beslutninger."
    ),
    "not_for": [
        "Beslutninger om behandling, indlæggelse eller ophør af behandling af en patient.",
        "Børn eller patienter uden for en intensivafdeling for voksne.",
        "At erstatte etablerede, eksternt validerede sværhedsscorer (APACHE, SAPS, SOFA).",
    ],
    "limitations": [
        "Kun 200 patienter og 40 dødsfald: brede konfidensintervaller og risiko for "
        "overtilpasning.",
        "Data fra ét center i 1980'erne; patientsammensætning og behandling har ændret sig "
        "siden.",
        "Blodgasværdier og kreatinin foreligger kun i to kategorier.",
        "Få patienter med race registreret som »Black« (15) eller »Other« (10): resultaterne "
        "i disse undergrupper er usikre.",
    ],
}


# Clinical names (English, Danish) and units of the features in the model card and report.
FEATURE_LABELS = {
    "age": {"en": "Age", "da": "Alder", "unit": UNIT_YEARS},
    "sex": {"en": "Sex", "da": "Køn"},
    "race": {"en": "Race", "da": "Etnicitet"},
    "service": {
        "en": "Service at admission (medical, surgical)",
        "da": "Speciale (medicinsk, kirurgisk)",
    },
    "cancer": {
        "en": "Cancer part of the present problem",
        "da": "Kræft del af det aktuelle problem",
    },
    "renal": {"en": "History of chronic kidney failure", "da": "Kendt kronisk nyresvigt"},
    "infect": {
        "en": "Probable infection at admission",
        "da": "Sandsynlig infektion ved indlæggelse",
    },
    "cpr": {"en": "CPR before admission", "da": "Genoplivning før indlæggelse"},
    "systolic": {"en": "Systolic blood pressure", "da": "Systolisk blodtryk", "unit": "mmHg"},
    "hrtrate": {"en": "Heart rate", "da": "Puls", "unit": "/min"},
    "previcu": {
        "en": "ICU admission in the previous 6 months",
        "da": "Intensivindlæggelse inden for 6 måneder",
    },
    "admit": {
        "en": "Type of admission (elective, emergency)",
        "da": "Indlæggelsestype (planlagt, akut)",
    },
    "fracture": {"en": "Fracture", "da": "Fraktur"},
    "po2": {"en": "PO2 in the first blood gas", "da": "PO2 i første blodgas"},
    "ph": {"en": "pH in the first blood gas", "da": "pH i første blodgas"},
    "pco": {"en": "PCO2 in the first blood gas", "da": "PCO2 i første blodgas"},
    "bic": {"en": "Bicarbonate in the first blood gas", "da": "Bikarbonat i første blodgas"},
    "creatin": {"en": "Creatinine", "da": "Kreatinin"},
    "coma": {
        "en": "Level of consciousness (none, stupor, coma)",
        "da": "Bevidsthedsniveau (ingen, stupor, koma)",
    },
}



def exclusions(raw: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    """Exclude admissions without a recorded vital status at discharge (none in the data)."""
    return [("vital status at discharge missing", raw[OUTCOME_COLUMN].isna())]


def outcome(cohort: pd.DataFrame) -> pd.Series:
    """1 if the patient died before hospital discharge, else 0."""
    return (cohort[OUTCOME_COLUMN] == "Yes").astype(int).rename(OUTCOME_COLUMN)


def features(cohort: pd.DataFrame) -> pd.DataFrame:
    """Admission variables, with the missing coma level "None" restored."""
    X = cohort[FEATURES].copy()
    restore = X["coma"].isna() & (cohort["uncons"] == "No")
    X["coma"] = X["coma"].astype(object).where(~restore, "None")
    return X


def sensitive_attributes(cohort: pd.DataFrame) -> pd.DataFrame:
    """Sex, age band (<60, 60-74, >=75) and race, as strings on the cohort's index."""
    return attribute_frame(
        cohort,
        sex=cohort["sex"].astype(str).str.lower(),
        age_band=age_band(cohort["age"]),
        race=cohort["race"].astype(str).str.lower(),
    )

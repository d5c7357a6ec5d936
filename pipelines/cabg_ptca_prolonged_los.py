"""Use case: prolonged hospital stay (more than 8 days) after CABG or PTCA.

Data: ``COUNT/azpro`` (3,589 stays, Arizona 1991; Hilbe). Four binary variables
known at admission: procedure (1 CABG, 0 PTCA), sex (1 male, 0 female), admission
type (1 urgent/emergency, 0 elective) and age75 (1 = age over 75).

Data decisions
--------------
* Outcome: ``los > 8`` days. ``los`` itself is the outcome's source and never a feature.
* ``hospital`` (an encrypted facility code) and ``rownames`` are identifiers, never
  features. The four features give only 16 distinct patient profiles, so the
  model is a look-up of 16 risks: a deliberately simple, well-calibrated task.
"""

from __future__ import annotations

import pandas as pd

from clinai.data import SEX_MALE_1_FEMALE_0, attribute_frame

LOS_THRESHOLD_DAYS = 8
FEATURES = ["procedure", "sex", "admit", "age75"]

METADATA = {
    "title": "CABG or PTCA: risk of a hospital stay longer than 8 days",
    "setting": "surgical",
    "dataset": "COUNT/azpro",
    "outcome": (
        "Length of hospital stay longer than 8 days (los > 8) for the admission in which "
        "the patient had coronary artery bypass grafting (CABG) or percutaneous "
        "transluminal coronary angioplasty (PTCA)."
    ),
    "prediction_time": "At hospital admission for the procedure.",
    "population": (
        "3,589 Medicare hospital stays for CABG or PTCA in Arizona in 1991, from the "
        "cardiovascular patient files of the Medpar data."
    ),
    "intended_use": (
        "Demonstration of a bed-planning risk model from four administrative variables; "
        "teaching and method comparison. Not validated for planning or clinical decisions."
    ),
    "not_for": [
        "Decisions about the care or the discharge of a patient.",
        "Comparing hospitals or surgeons.",
        "Procedures other than CABG and PTCA, or care after 1991.",
    ],
    "limitations": [
        "Four binary predictors (16 profiles): no comorbidity, severity or complication data.",
        "Data from 1991 in one US state; length of stay after both procedures is far "
        "shorter today.",
        "Stays, not patients; the hospital code is not used, so clustering by hospital "
        "is ignored.",
        "Age is known only as over or not over 75.",
    ],
    "citation": (
        "Hilbe JM. Negative Binomial Regression. 2nd ed. Cambridge University Press; 2011 "
        "(COUNT R package). Source: 1991 Arizona Medpar data, cardiovascular patient files, "
        "National Health Economics & Research Co."
    ),
    "n": 3589,
    "events": 1607,
}

# Reviewed Danish texts of the card (same keys as METADATA; clinical terms as in the glossary
# src/clinai/reporting/locales/da.yaml).
METADATA_DA = {
    "title": "CABG eller PTCA: risiko for en indlæggelse på mere end 8 dage",
    "outcome": (
        "Indlæggelsesvarighed på mere end 8 dage (los > 8) for den indlæggelse, hvor "
        "patienten fik foretaget koronar bypassoperation (CABG) eller perkutan transluminal "
        "koronar angioplastik (PTCA)."
    ),
    "prediction_time": "Ved indlæggelse til indgrebet.",
    "population": (
        "3.589 Medicare-indlæggelser for CABG eller PTCA i Arizona i 1991 fra Medpar-dataenes "
        "filer over hjerte-kar-patienter."
    ),
    "intended_use": (
        "Demonstration af en risikomodel til sengeplanlægning ud fra fire administrative "
        "variable; undervisning og sammenligning af metoder. Ikke valideret til planlægning "
        "eller kliniske beslutninger."
    ),
    "not_for": [
        "Beslutninger om en patients behandling eller udskrivelse.",
        "Sammenligning af hospitaler eller kirurger.",
        "Andre indgreb end CABG og PTCA eller behandling efter 1991.",
    ],
    "limitations": [
        "Fire binære prædiktorer (16 profiler): ingen data om komorbiditet, sværhedsgrad "
        "eller komplikationer.",
        "Data fra 1991 fra én amerikansk delstat; indlæggelserne efter begge indgreb er i dag "
        "langt kortere.",
        "Indlæggelser, ikke patienter; hospitalskoden bruges ikke, så klyngning efter "
        "hospital ignoreres.",
        "Alder kendes kun som over eller ikke over 75 år.",
    ],
}


# Clinical names (English, Danish) and units of the features in the model card and report.
FEATURE_LABELS = {
    "procedure": {"en": "Procedure CABG (1 CABG, 0 PTCA)", "da": "Indgreb CABG (1 CABG, 0 PTCA)"},
    "sex": SEX_MALE_1_FEMALE_0,
    "admit": {
        "en": "Urgent or emergency admission (1 urgent/emergency, 0 elective)",
        "da": "Akut indlæggelse (1 akut, 0 planlagt)",
    },
    "age75": {"en": "Age over 75 years", "da": "Alder over 75 år"},
}



def exclusions(raw: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    """Exclude stays without a recorded length of stay (none in the data)."""
    return [("length of stay missing", raw["los"].isna())]


def outcome(cohort: pd.DataFrame) -> pd.Series:
    """1 if the hospital stay lasted more than 8 days, else 0."""
    return (cohort["los"] > LOS_THRESHOLD_DAYS).astype(int).rename("los_gt_8")


def features(cohort: pd.DataFrame) -> pd.DataFrame:
    """Return the four binary admission variables (0/1)."""
    return cohort[FEATURES].astype(int)


def sensitive_attributes(cohort: pd.DataFrame) -> pd.DataFrame:
    """Sex and age band (<=75, >75), as strings on the cohort's index."""
    return attribute_frame(
        cohort,
        sex=cohort["sex"].map({1: "male", 0: "female"}),
        age_band=cohort["age75"].map({1: ">75", 0: "<=75"}),
    )

"""Use case: sore throat 30 minutes after arrival in the recovery room (PACU).

Data: ``medicaldata/licorice_gargle`` (235 adults intubated with a double-lumen
tube for elective thoracic surgery, randomised to a licorice or a sugar-water
gargle; Ruetzler et al. 2013).

Data decisions
--------------
* Outcome: ``pacu30min_throatPain > 0`` (any sore throat at rest, 0-10 scale, 30
  minutes after arrival in the PACU). The 2 patients without outcome scores are
  excluded (n = 233).
* Prediction time is before induction of anaesthesia, when the gargle is given:
  features are the preoperative variables and the randomised treatment only.
* ``intraOp_surgerySize`` is excluded: its levels use operating time (> 3 h) and
  blood loss (> 1000 mL), known only at the end of surgery.
* Every cough, throat-pain and swallowing-pain score (extubation, PACU 30 and 90
  minutes, 4 hours, first postoperative morning) is measured after the
  prediction time and is never a feature.
"""

from __future__ import annotations

import pandas as pd

from clinai.data import UNIT_YEARS, age_band, attribute_frame

OUTCOME_COLUMN = "pacu30min_throatPain"
SMOKING = {1: "current", 2: "past", 3: "never"}
FEATURES = [
    "preOp_gender", "preOp_asa", "preOp_calcBMI", "preOp_age", "preOp_mallampati",
    "preOp_smoking", "preOp_pain", "treat",
]

METADATA = {
    "title": "Thoracic surgery with a double-lumen tube: risk of a sore throat in recovery",
    "setting": "surgical",
    "dataset": "medicaldata/licorice_gargle",
    "outcome": (
        "Any sore throat at rest 30 minutes after arrival in the post-anaesthesia care unit: "
        "throat pain score above 0 on the 0-10 scale (pacu30min_throatPain > 0)."
    ),
    "prediction_time": (
        "Before induction of anaesthesia, when the gargle (licorice or sugar water) is given."
    ),
    "population": (
        "233 adults (aged 18 to 86) with complete outcome data, intubated with a double-lumen "
        "endotracheal tube for elective thoracic surgery at one academic centre, in a "
        "randomised trial of a licorice versus a sugar-water gargle."
    ),
    "intended_use": (
        "Demonstration of a perioperative risk model for a patient-reported outcome, "
        "including a randomised treatment as a predictor; teaching and method comparison. "
        "Not validated for clinical decisions."
    ),
    "not_for": [
        "Deciding whether a patient should receive licorice (the trial answers that, not "
        "this model).",
        "Patients intubated with single-lumen tubes or having other surgery.",
        "Predicting sore throat at other times after surgery.",
    ],
    "limitations": [
        "233 patients and 64 events from one trial: wide confidence intervals.",
        "Trial participants meet inclusion criteria and may differ from routine patients.",
        "The outcome is a self-reported pain score dichotomised at any pain (> 0).",
        "Airway handling (laryngoscopy, number of attempts, tube size) is not recorded.",
    ],
    "citation": (
        "Ruetzler K, Fleck M, Nabecker S, et al. A randomized, double-blind comparison of "
        "licorice versus sugar-water gargle for prevention of postoperative sore throat and "
        "postextubation coughing. Anesth Analg. 2013;117:614-621."
    ),
    "n": 233,
    "events": 64,
}

# Reviewed Danish texts of the card (same keys as METADATA; clinical terms as in the glossary
# src/clinai/reporting/locales/da.yaml).
METADATA_DA = {
    "title": "Thoraxkirurgi med dobbeltlumentube: risiko for ondt i halsen på opvågningen",
    "outcome": (
        "Ondt i halsen i hvile 30 minutter efter ankomst til opvågningsafsnittet: "
        "halssmertescore over 0 på skalaen 0-10 (pacu30min_throatPain > 0)."
    ),
    "prediction_time": (
        "Før anæstesiindledningen, når der gurgles (med lakrids eller sukkervand)."
    ),
    "population": (
        "233 voksne (18 til 86 år) med komplette udfaldsdata, intuberet med en "
        "dobbeltlumen-endotrakealtube til planlagt thoraxkirurgi på ét universitetshospital "
        "i et randomiseret forsøg med gurgling med lakrids over for sukkervand."
    ),
    "intended_use": (
        "Demonstration af en perioperativ risikomodel for et patientrapporteret udfald med en "
        "randomiseret behandling som prædiktor; undervisning og sammenligning af metoder. "
        "Ikke valideret til kliniske beslutninger."
    ),
    "not_for": [
        "Beslutning om, hvorvidt en patient skal have lakrids (det besvarer forsøget, ikke "
        "denne model).",
        "Patienter intuberet med enkeltlumentube eller patienter, der gennemgår anden kirurgi.",
        "Forudsigelse af ondt i halsen på andre tidspunkter efter operationen.",
    ],
    "limitations": [
        "233 patienter og 64 hændelser fra ét forsøg: brede konfidensintervaller.",
        "Forsøgsdeltagerne opfylder inklusionskriterier og kan afvige fra patienterne i den "
        "daglige klinik.",
        "Udfaldet er en selvrapporteret smertescore, opdelt ved enhver smerte (> 0).",
        "Luftvejshåndteringen (laryngoskopi, antal forsøg, tubestørrelse) er ikke registreret.",
    ],
}


# Clinical names (English, Danish) and units of the features in the model card and report.
FEATURE_LABELS = {
    "preOp_gender": {
        "en": "Female sex (1 female, 0 male)",
        "da": "Kvindeligt køn (1 kvinde, 0 mand)",
    },
    "preOp_asa": {"en": "ASA physical status", "da": "ASA-klassifikation", "unit": "1-3"},
    "preOp_calcBMI": {"en": "Body mass index", "da": "Body mass index (BMI)", "unit": "kg/m²"},
    "preOp_age": {"en": "Age", "da": "Alder", "unit": UNIT_YEARS},
    "preOp_mallampati": {"en": "Mallampati score", "da": "Mallampati-score", "unit": "1-4"},
    "preOp_smoking": {
        "en": "Smoking (current, past, never)",
        "da": "Rygning (nuværende, tidligere, aldrig)",
    },
    "preOp_pain": {"en": "Preoperative pain", "da": "Præoperative smerter"},
    "treat": {
        "en": "Licorice gargle (1 licorice, 0 sugar water)",
        "da": "Gurgling med lakrids (1 lakrids, 0 sukkervand)",
    },
}



def exclusions(raw: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    """Exclude patients without the 30-minute PACU throat-pain score."""
    return [("throat pain at 30 min in PACU not recorded", raw[OUTCOME_COLUMN].isna())]


def outcome(cohort: pd.DataFrame) -> pd.Series:
    """1 if the throat pain score at rest 30 minutes after PACU arrival is above 0, else 0."""
    return (cohort[OUTCOME_COLUMN] > 0).astype(int).rename("sore_throat_pacu30")


def features(cohort: pd.DataFrame) -> pd.DataFrame:
    """Preoperative characteristics and the randomised gargle (1 licorice, 0 sugar water)."""
    X = cohort[FEATURES].copy()
    X["preOp_smoking"] = cohort["preOp_smoking"].map(SMOKING).astype(object)
    return X


def sensitive_attributes(cohort: pd.DataFrame) -> pd.DataFrame:
    """Sex (preOp_gender 0 male, 1 female) and age band (<60, 60-74, >=75), as strings."""
    return attribute_frame(
        cohort,
        sex=cohort["preOp_gender"].map({0: "male", 1: "female"}),
        age_band=age_band(cohort["preOp_age"]),
    )

"""A realistic ``monitoring.json`` (schema v1, MONITORING.md section 4) for the report's tests.

Twelve calendar months of an approved acute-deterioration model. Months 1-8 are in control
(July has too few events to judge performance); from September a new monitor brand reads SpO2
low (the feature's PSI crosses the plan's 0.2: investigate) and from November more patients
deteriorate than the model predicts (O/E above 1.25: recalibrate; the CUSUM signals). With
``pending`` > 0, that many further months follow whose outcomes are not yet known: only the
confidence-based estimates (CBPE) and the drift are there.

The numbers are made up but consistent (events <= n, CIs around their estimates, the
verdicts follow from the plan's limits). A canary patient id and an impossible subgroup count
sit under keys the report must never render.
"""

from __future__ import annotations

import copy
import csv
from pathlib import Path
from typing import Any

import yaml

#: A patient identifier planted under keys no report may render.
CANARY = "CANARY-PATIENT-987"
#: The count planted in a suppressed subgroup: it must never appear in a report.
HIDDEN_COUNT = 1379
#: The headline reason of the last month with outcomes (December 2025).
HEADLINE_OE = {"estimate": 1.34, "ci_low": 1.18, "ci_high": 1.52}

HERE = Path(__file__).parent
#: The plan (monitoring_plan.yaml), as the registered version holds it.
PLAN: dict[str, Any] = yaml.safe_load((HERE / "monitoring_plan.yaml").read_text("utf-8"))
PLAN_SHA256 = "4f1c2b9e0d6a7c3e8b5f1a2d9c0e7b6a5f4e3d2c1b0a99887766554433221100"
CUSUM_LIMIT = 4.62

FEATURES = (
    "spo2_min_6h",
    "resp_rate_max_6h",
    "heart_rate_mean_6h",
    "age",
    "systolic_min_6h",
    "temperature_max_6h",
    "gcs_min_6h",
    "lactate_last",
)

# One month a row: n predictions, patients, events, AUROC, O/E, calibration slope, SpO2's PSI,
# the CUSUM at the month's end, sensitivity and PPV.
with (HERE / "monitoring_months.csv").open(encoding="utf-8") as _file:
    _MONTHS = tuple(
        (
            row["month"],
            *(int(row[k]) for k in ("n", "patients", "events")),
            *(float(row[k]) for k in ("auroc", "oe", "slope", "psi", "cusum", "sens", "ppv")),
        )
        for row in csv.DictReader(_file)
    )
_PENDING = (("2026-01", 1230, 1047, 0.76, 0.327), ("2026-02", 1212, 1033, 0.76, 0.331))
_MONTH_END = {
    "01": 31,
    "02": 28,
    "03": 31,
    "04": 30,
    "05": 31,
    "06": 30,
    "07": 31,
    "08": 31,
    "09": 30,
    "10": 31,
    "11": 30,
    "12": 31,
}


def _est(estimate: float, width: float, digits: int = 3) -> dict[str, float]:
    return {
        "estimate": estimate,
        "ci_low": round(estimate - width, digits),
        "ci_high": round(estimate + width, digits),
    }


def _head(month: str, n: int, n_patients: int, events: int | None) -> dict[str, Any]:
    """A period's label, dates and counts; ``events`` None: its outcomes are not yet known."""
    return {
        "period": month,
        "start": f"{month}-01",
        "end": f"{month}-{_MONTH_END[month[5:]]}",
        "n": n,
        "n_patients": n_patients,
        "events": events,
        "outcomes_available": events is not None,
    }


def _drift(spo2_psi: float, index: int) -> dict[str, Any]:
    rows = []
    for position, feature in enumerate(FEATURES):
        psi = (
            spo2_psi
            if feature == "spo2_min_6h"
            else round(0.01 + 0.004 * ((index + position) % 5), 3)
        )
        missing_reference = 0.02 if feature != "lactate_last" else 0.41
        rows.append(
            {
                "feature": feature,
                "kind": "numeric",
                "psi": psi,
                "ks": round(psi / 2.4, 3),
                "wasserstein": round(psi * 3.1, 3),
                "missing_reference": missing_reference,
                "missing_current": missing_reference,
                "missing_change": 0.0,
            }
        )
    risk_psi = round(min(spo2_psi, 0.2) * 0.55, 3)
    return {
        "features": rows,
        "risk": {
            "psi": risk_psi,
            "ks": round(risk_psi / 2, 3),
            "wasserstein": round(risk_psi / 20, 4),
            "mean_reference": 0.052,
            "mean_current": round(0.052 + risk_psi / 10, 4),
        },
    }


def _reason(
    metric: str,
    value: float | None,
    action: str,
    *,
    kind: str = "breach",
    statistic: str = "estimate",
) -> dict[str, Any]:
    limit = next(x for x in PLAN["limits"] if x["metric"] == metric)
    return {
        "metric": metric,
        "statistic": statistic,
        "value": value,
        "min": limit["min"],
        "max": limit["max"],
        "action": action,
        "kind": kind,
    }


def _verdict(
    events: int | None,
    oe: float | None,
    psi: float,
    *,
    outcomes: bool = True,
    cusum_max: float | None = None,
) -> dict[str, Any]:
    reasons = []
    if cusum_max is not None and cusum_max > CUSUM_LIMIT:  # as clinai monitor adds it: first
        reasons.append(
            {
                "metric": "cusum",
                "statistic": "max",
                "value": cusum_max,
                "min": None,
                "max": CUSUM_LIMIT,
                "action": "investigate",
                "kind": "breach",
            }
        )
    if not outcomes or (events is not None and events < PLAN["min_events"]):
        for metric, statistic in (
            ("oe_ratio", "estimate"),
            ("calibration.slope", "estimate"),
            ("auroc", "ci_high"),
        ):
            reasons.append(
                _reason(
                    metric,
                    None,
                    "recalibrate" if metric != "auroc" else "suspend",
                    kind="not_assessable",
                    statistic=statistic,
                )
            )
    if oe is not None and oe > 1.25 and outcomes:
        reasons.append(_reason("oe_ratio", oe, "recalibrate"))
    if psi > 0.2:
        reasons.append(_reason("psi", psi, "investigate"))
    breached = [r["action"] for r in reasons if r["kind"] == "breach"]
    order = ("investigate", "recalibrate", "suspend")
    level = max(breached, key=order.index) if breached else "in_control"
    return {"level": level, "reasons": reasons}


def _subgroups(events: int) -> dict[str, list[dict[str, Any]]]:
    female = round(events * 0.44)
    return {
        "sex": [
            {
                "group": "female",
                "n": 571,
                "events": female,
                "suppressed": False,
                "auroc": _est(0.79, 0.06),
                "oe_ratio": _est(1.28, 0.22),
            },
            {
                "group": "male",
                "n": 717,
                "events": events - female,
                "suppressed": False,
                "auroc": _est(0.76, 0.05),
                "oe_ratio": _est(1.39, 0.21),
            },
        ],
        "age_band": [
            # suppressed: its counts must never reach a report, though they are here
            {
                "group": "18-39",
                "n": HIDDEN_COUNT,
                "events": 3,
                "suppressed": True,
                "auroc": None,
                "oe_ratio": None,
            },
            {
                "group": "40-64",
                "n": 402,
                "events": 21,
                "suppressed": False,
                "auroc": _est(0.80, 0.08),
                "oe_ratio": _est(1.22, 0.3),
            },
            {
                "group": "65-79",
                "n": 498,
                "events": 34,
                "suppressed": False,
                "auroc": _est(0.76, 0.07),
                "oe_ratio": _est(1.36, 0.27),
            },
            {
                "group": "80+",
                "n": 311,
                "events": 28,
                "suppressed": False,
                "auroc": _est(0.74, 0.08),
                "oe_ratio": _est(1.41, 0.3),
            },
        ],
    }


def _estimated(n: int, auroc: float, index: int) -> dict[str, Any]:
    return {
        "auroc": _est(auroc, 0.025),
        "sensitivity": _est(0.70, 0.04),
        "specificity": _est(0.78, 0.02),
        "ppv": _est(0.21, 0.02),
        "alert_rate": _est(round(0.145 + 0.002 * (index % 3), 3), 0.01),
        "expected_events": _est(round(n * 0.052, 1), 8.0, 1),
        "estimated": True,
    }


def monitoring_example(*, pending: int = 0, canaries: bool = True) -> dict[str, Any]:
    """Return a fresh monitoring.json dict (12 months; ``pending`` more without outcomes).

    With ``canaries``, a patient id and a suppressed group's count sit under keys (some of
    them unknown to the schema) that no report may render.
    """
    periods: list[dict[str, Any]] = []
    for index, (month, n, n_patients, events, auroc, oe, slope, psi, cusum, sens, ppv) in enumerate(
        _MONTHS
    ):
        alert = round(0.148 + 0.003 * (index % 4), 3)
        periods.append(
            {
                **_head(month, n, n_patients, events),
                "performance": {
                    "auroc": _est(auroc, 0.03 if n > 1000 else 0.07),
                    "oe_ratio": HEADLINE_OE if month == "2025-12" else _est(oe, 0.16),
                    "calibration_intercept": _est(round((oe - 1) * 0.9, 2), 0.12),
                    "calibration_slope": _est(slope, 0.14),
                    "ici": _est(round(0.006 + abs(oe - 1) * 0.03, 3), 0.004),
                    "alert_rate": _est(alert, 0.01),
                    "sensitivity": _est(sens, 0.06),
                    "ppv": _est(ppv, 0.03),
                },
                "estimated": _estimated(n, round(auroc + 0.01, 2), index),
                "drift": _drift(psi, index),
                "subgroups": _subgroups(events),
                "cusum": {
                    "end": cusum,
                    "max": max(cusum, 0.4),
                    "limit": CUSUM_LIMIT,
                    "signalled": cusum > CUSUM_LIMIT,
                },
                "verdict": _verdict(
                    events, oe if month != "2025-12" else 1.34, psi, cusum_max=max(cusum, 0.4)
                ),
            }
        )
    for index, (month, n, n_patients, auroc, psi) in enumerate(_PENDING[:pending]):
        periods.append(
            {
                **_head(month, n, n_patients, None),
                "performance": None,
                "estimated": _estimated(n, auroc, index),
                "drift": _drift(psi, index),
                "subgroups": {
                    "sex": [
                        {
                            "group": "female",
                            "n": 540,
                            "events": None,
                            "suppressed": False,
                            "auroc": None,
                            "oe_ratio": None,
                        }
                    ]
                },
                "cusum": {"end": None, "max": None, "limit": CUSUM_LIMIT, "signalled": False},
                "verdict": _verdict(None, None, psi, outcomes=False),
            }
        )
    latest = periods[-1]
    monitoring: dict[str, Any] = {
        "schema_version": 1,
        "generated_at": "2026-03-02T07:30:00+00:00",
        "clinai_version": "0.9.0",
        "model": {
            "name": "acute_deterioration",
            "version": 3,
            "alias": "approved",
            "run_id": "20250110T081500-7c1d2e",
        },
        "plan": {**copy.deepcopy(PLAN), "sha256": PLAN_SHA256},
        "period_unit": "month",
        "inputs": {
            "predictions": [
                {
                    "file_name": "scores_2025.parquet",
                    "sha256": "ab12" * 16,
                    "rows": sum(m[1] for m in _MONTHS),
                }
            ],
            "outcomes": {
                "file_name": "outcomes_2025.parquet",
                "sha256": "cd34" * 16,
                "rows": sum(m[3] for m in _MONTHS),
            },
        },
        "development": {"alert_rate": 0.15, "prevalence": 0.052, "n": 48210},
        "periods": periods,
        "cusum": {
            "odds_ratio": 1.5,
            "limit": CUSUM_LIMIT,
            "points": [
                {"period": p["period"], "value": p["cusum"]["end"]}
                for p in periods
                if p["cusum"]["end"] is not None
            ],
        },
        "verdict": {
            "level": latest["verdict"]["level"],
            "period": latest["period"],
            "reasons": copy.deepcopy(latest["verdict"]["reasons"]),
        },
    }
    if canaries:
        _plant_canaries(monitoring)
    return monitoring


def _plant_canaries(monitoring: dict[str, Any]) -> None:
    """Put a patient identifier under keys no report may render."""
    monitoring["patient_ids"] = [CANARY]
    monitoring["model"]["patient"] = CANARY
    monitoring["inputs"]["predictions"][0]["first_patient"] = CANARY
    period = monitoring["periods"][0]
    period["patient_ids"] = [CANARY]
    period["rows"] = [{"patient_id": CANARY, "risk": 0.3}]
    period["drift"]["features"][0]["example"] = CANARY
    period["verdict"]["reasons"] = [{**r, "patient": CANARY} for r in period["verdict"]["reasons"]]
    monitoring["cusum"]["points"][0]["patient_id"] = CANARY
    for period in monitoring["periods"]:
        for row in period["subgroups"].get("age_band", []):
            row["patient_id"] = CANARY

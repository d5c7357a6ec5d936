"""Calibration: intercept, slope, O/E ratio, ICI/E50/E90 and the LOWESS calibration curve."""

from __future__ import annotations

from clinai.evaluation.calibration._calibration import (
    CalibrationCurve,
    CalibrationCurvePoint,
    CalibrationErrors,
    CalibrationResult,
    calibration_errors,
    calibration_intercept,
    calibration_slope,
    lowess_calibration_curve,
    oe_ratio,
)

__all__ = [
    "CalibrationCurve",
    "CalibrationCurvePoint",
    "CalibrationErrors",
    "CalibrationResult",
    "calibration_errors",
    "calibration_intercept",
    "calibration_slope",
    "lowess_calibration_curve",
    "oe_ratio",
]

"""The exceptions of clinai.

Every error a user can cause derives from :class:`ClinaiError`; the CLI turns
one into a single line and exit code 2. Messages name the field, column or
file and say what to do.
"""

from __future__ import annotations

__all__ = [
    "ClinaiError",
    "ClinaiWarning",
    "ConfigError",
    "DataError",
    "ModelError",
    "PipelineError",
    "SmallCellWarning",
    "TrackingError",
]


class ClinaiError(Exception):
    """Base class of every error clinai raises on bad input or a failed stage."""


class ConfigError(ClinaiError):
    """The experiment config is invalid (unknown key, wrong type, bad value)."""


class DataError(ClinaiError):
    """The data cannot be used (missing column, one-class outcome, empty cohort, bad file)."""


class ModelError(ClinaiError):
    """A model name, search space or tuning budget is invalid, or fitting failed."""


class PipelineError(ClinaiError):
    """A use-case pipeline cannot be found or does not follow the pipeline protocol."""


class TrackingError(ClinaiError):
    """The tracking backend (MLflow) failed or is misconfigured."""


class ClinaiWarning(UserWarning):
    """Base class of clinai's domain warnings."""


class SmallCellWarning(ClinaiWarning):
    """A subgroup has fewer patients or events than ``min_cell`` and is suppressed."""

"""A survival run's test split as the evaluate stage holds it; the bootstrap options of its tables.

Shared by the plain survival tables (:mod:`clinai.runs._survival_run`) and the
competing-risk ones (:mod:`clinai.runs._survival_competing`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from clinai.exceptions import DataError
from clinai.runs._prediction_columns import identifier_like

if TYPE_CHECKING:
    import pandas as pd

    from clinai.config import ExperimentConfig

__all__ = ["ATTRIBUTE_LOOKS_LIKE_ID", "SurvivalTest", "resampling"]

ATTRIBUTE_LOOKS_LIKE_ID = (
    "sensitive attribute {column!r} (the pipeline's sensitive_attributes()) has a value of its "
    "own in {single} of {n} test patients: it looks like an identifier (a pseudonym is one too) "
    "or a measurement, and each of its values would be printed in the card and the report; "
    "return an attribute with a few levels (e.g. age bands)"
)


@dataclass(frozen=True)
class SurvivalTest:
    """The test split's rows and the model's predictions (stay in memory, never written).

    ``event`` is the 0/1 event of a plain survival run, or the event code of a
    competing-risk one (0 censored, 1 the event, 2 a competing event); ``lp`` is the
    model's linear predictor (None for a competing-risk model, which has none).
    """

    X: pd.DataFrame
    time: np.ndarray
    event: np.ndarray
    risk: np.ndarray
    sensitive: pd.DataFrame
    patients: Any
    lp: np.ndarray | None = None

    def __post_init__(self) -> None:
        """Refuse a sensitive attribute that would print patients' ids (one line, exit 2)."""
        for column in self.sensitive.columns:
            single = identifier_like(self.sensitive[column])
            if single is not None:
                raise DataError(
                    ATTRIBUTE_LOOKS_LIKE_ID.format(
                        column=column, single=single, n=len(self.sensitive)
                    )
                )

    @property
    def outcome(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Follow-up, event (or event code) and the predicted risk by the horizon."""
        return self.time, self.event, self.risk


def resampling(config: ExperimentConfig, test: SurvivalTest, *, stream: int) -> dict[str, Any]:
    """Return the bootstrap options of a table on the test split (its own seed stream).

    Each table has its own stream of ``config.seed``: fairness 4, the integrated
    Brier score 6, the comparison with the registered version 7.
    """
    return {
        "patient_ids": test.patients,
        "n_boot": config.evaluation.n_boot,
        "ci_level": config.evaluation.ci_level,
        "random_state": np.random.SeedSequence([config.seed, stream]),
    }

"""clinai: develop and validate clinical prediction models.

One config and one command take a use case from data to a tuned, calibrated,
tracked model with a validation report and a model card. Heavy dependencies
(mlflow, torch, shap, lightgbm) are imported only by the functions that need
them, so ``import clinai`` stays cheap.
"""

from __future__ import annotations

from clinai.exceptions import ClinaiError

__version__ = "0.1.0"
__all__ = ["ClinaiError", "__version__"]

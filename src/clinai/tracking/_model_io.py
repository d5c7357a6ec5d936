"""Save and load a fitted model in MLflow's format inside the run directory."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinai.exceptions import TrackingError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["load_model_dir", "pip_requirements_for", "save_model_dir"]

_LOAD_FAILED = "cannot load the model in {path}: {reason}; rerun `clinai train CONFIG`"


def pip_requirements_for(model: Any) -> list[str]:
    """Return pinned requirements for a fitted model.

    Passing the list explicitly keeps ``log_model`` fast: MLflow's own inference
    took 9.8 s and guessed a bloated list (ENV.md).
    """
    from importlib import metadata

    text = repr(model)
    names = ["clinai", "scikit-learn", "numpy", "pandas", "scipy", "cloudpickle"]
    if "LGBM" in text:
        names.append("lightgbm")
    if "TorchMLP" in text:
        names.append("torch")
    pins = []
    for name in names:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return pins


def save_model_dir(model: Any, path: str | Path, *, input_example: pd.DataFrame) -> Path:
    """Save ``model`` in MLflow's sklearn flavour at ``path`` (replacing what is there).

    ``input_example`` must be synthetic (see ``clinai.models.synthetic_input_example``):
    a real patient row never goes into a model artifact.
    """
    import mlflow.sklearn
    from mlflow.models import infer_signature

    target = Path(path)
    staging = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    signature = infer_signature(input_example, model.predict_proba(input_example))
    mlflow.sklearn.save_model(
        model,
        str(staging),
        serialization_format="cloudpickle",
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements_for(model),
        pyfunc_predict_fn="predict_proba",
    )
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def load_model_dir(path: str | Path) -> Any:
    """Load the scikit-learn model saved by :func:`save_model_dir`."""
    import mlflow.sklearn

    if not Path(path, "MLmodel").is_file():
        raise TrackingError(_LOAD_FAILED.format(path=path, reason="no MLmodel file"))
    try:
        return mlflow.sklearn.load_model(str(path))
    except Exception as exc:
        raise TrackingError(_LOAD_FAILED.format(path=path, reason=exc)) from exc

"""Save and load a fitted model in MLflow's format inside the run directory."""

from __future__ import annotations

import contextlib
import logging
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinai.exceptions import TrackingError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["load_model_dir", "pip_requirements_for", "save_model_dir", "signature_example"]

logger = logging.getLogger(__name__)

#: MLflow's own diagnostic about its pyfunc wrapper's ``Any`` type hints: it says nothing
#: about the user's model and breaks ``-W error`` runs, so it is silenced where models are saved.
ANY_TYPE_HINT_WARNING = r".*Any type hint is inferred as AnyType"

_PICKLE_NOTICE = "Saving scikit-learn models in the pickle or cloudpickle format"


class _DropPickleNotice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_PICKLE_NOTICE)


@contextlib.contextmanager
def quiet_mlflow_save() -> Iterator[None]:
    """Silence MLflow's notices that do not apply to clinai's deliberate choices.

    cloudpickle is chosen on purpose (skops refuses LightGBM and PyTorch types), so
    MLflow's per-save advice to use skops is dropped, and so is its warning about the
    ``Any`` type hints of its own pyfunc wrapper. Everything else passes through.
    """
    mlflow_logger = logging.getLogger("mlflow.sklearn")
    notice_filter = _DropPickleNotice()
    mlflow_logger.addFilter(notice_filter)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=ANY_TYPE_HINT_WARNING, category=UserWarning)
            yield
    finally:
        mlflow_logger.removeFilter(notice_filter)


_LOAD_FAILED = "cannot load the model in {path}: {reason}; rerun `clinai train CONFIG`"


_SCALARS = (str, bytes, int, float, bool, type(None))


def _model_packages(model: Any, *, budget: int = 10_000) -> set[str]:
    """Top-level packages of the classes (and their bases) inside a fitted model.

    Walks estimators (objects with ``get_params``) and the lists, tuples and dicts
    they hold, so a LightGBM booster inside a calibrated pipeline or a PyTorch
    module inside a clinai wrapper is found.
    """
    found: set[str] = set()
    seen: set[int] = set()
    stack: list[Any] = [model]
    while stack and budget > 0:
        obj = stack.pop()
        if isinstance(obj, _SCALARS) or id(obj) in seen:
            continue
        seen.add(id(obj))
        budget -= 1
        if isinstance(obj, dict):
            stack.extend(obj.values())
            continue
        if isinstance(obj, list | tuple):
            stack.extend(obj)
            continue
        found.update(cls.__module__.split(".")[0] for cls in type(obj).__mro__)
        if hasattr(obj, "get_params") and hasattr(obj, "__dict__"):
            stack.extend(vars(obj).values())
    return found


def pip_requirements_for(model: Any) -> list[str]:
    """Return pinned requirements for a fitted model.

    Passing the list explicitly keeps ``log_model`` fast: MLflow's own inference
    took 9.8 s and guessed a bloated list (ENV.md). The list holds clinai,
    scikit-learn, numpy, pandas, scipy and cloudpickle (the serialization format),
    plus lightgbm and torch when the model contains their types.
    """
    from importlib import metadata

    packages = _model_packages(model)
    text = repr(model)
    names = ["clinai", "scikit-learn", "numpy", "pandas", "scipy", "cloudpickle"]
    if "lightgbm" in packages or "LGBM" in text:
        names.append("lightgbm")
    if "torch" in packages or "TorchMLP" in text or "TorchGRU" in text:
        names.append("torch")
    pins = []
    for name in names:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return pins


def signature_example(input_example: pd.DataFrame) -> pd.DataFrame:
    """Return the input example with integer columns declared as float64.

    Clinical integer columns (age, counts) can be missing at inference time, and an
    integer schema would then reject the row; MLflow's own hint recommends doubles.
    """
    import pandas as pd

    example = input_example.copy()
    for column in example.columns:
        dtype = example[column].dtype
        if pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            example[column] = example[column].astype("float64")
    return example


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
    input_example = signature_example(input_example)
    signature = infer_signature(input_example, model.predict_proba(input_example))
    with quiet_mlflow_save():
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

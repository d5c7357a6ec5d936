"""Find and load a use-case pipeline (a module in ``pipelines/``) at run time.

The library never imports ``pipelines/`` statically: a config names a use case
by module name (looked up in ``./pipelines`` and then ``CLINAI_PIPELINES_PATH``)
or by a path to a ``.py`` file, so a new use case needs no library change.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from clinai.exceptions import PipelineError

__all__ = ["REQUIRED_FUNCTIONS", "find_pipeline_names", "load_pipeline"]

REQUIRED_FUNCTIONS = ("exclusions", "outcome", "features", "sensitive_attributes")
REQUIRED_METADATA = ("title", "setting", "dataset", "outcome", "prediction_time", "intended_use")

_NOT_FOUND = (
    "pipeline {name!r} not found: looked in {places}; "
    "name a module in pipelines/ (without .py) or give a path to a .py file"
)
_MISSING_FUNCTION = (
    "pipeline {name!r} ({path}) lacks the function(s) {missing}: see docs/architecture.md"
)
_MISSING_METADATA = (
    "pipeline {name!r} ({path}) lacks METADATA key(s) {missing}: see docs/architecture.md"
)


def _search_dirs(base_dir: Path | None) -> list[Path]:
    dirs = [(base_dir or Path.cwd()) / "pipelines"]
    extra = os.environ.get("CLINAI_PIPELINES_PATH", "")
    dirs += [Path(p) for p in extra.split(os.pathsep) if p]
    return dirs


def find_pipeline_names(base_dir: Path | None = None) -> list[str]:
    """Return the names of the pipelines found in the search directories."""
    names: set[str] = set()
    for directory in _search_dirs(base_dir):
        if directory.is_dir():
            names.update(p.stem for p in directory.glob("*.py") if not p.stem.startswith("_"))
    return sorted(names)


def load_pipeline(name: str, *, base_dir: Path | None = None) -> ModuleType:
    """Load the pipeline module a config names and check that it follows the protocol.

    Parameters
    ----------
    name : str
        A module name in one of the search directories, or a path to a ``.py`` file.
    base_dir : pathlib.Path, optional
        The directory whose ``pipelines/`` folder is searched first (default: the
        working directory).

    Returns
    -------
    types.ModuleType
        The loaded module.

    Raises
    ------
    PipelineError
        If the module cannot be found, fails to import, or lacks a required function
        or metadata key.
    """
    candidate = Path(name)
    if candidate.suffix == ".py":
        path: Path | None = candidate if candidate.is_file() else None
        places = str(candidate)
    else:
        dirs = _search_dirs(base_dir)
        path = next((d / f"{name}.py" for d in dirs if (d / f"{name}.py").is_file()), None)
        places = ", ".join(str(d) for d in dirs)
    if path is None:
        raise PipelineError(_NOT_FOUND.format(name=name, places=places))

    module_name = f"clinai_pipeline_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - only for odd file systems
        raise PipelineError(_NOT_FOUND.format(name=name, places=places))
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise PipelineError(f"pipeline {name!r} ({path}) failed to import: {exc}") from exc

    missing = [f for f in REQUIRED_FUNCTIONS if not callable(getattr(module, f, None))]
    if missing:
        raise PipelineError(
            _MISSING_FUNCTION.format(name=name, path=path, missing=", ".join(missing))
        )
    metadata = getattr(module, "METADATA", None)
    absent = [k for k in REQUIRED_METADATA if not isinstance(metadata, dict) or k not in metadata]
    if absent:
        raise PipelineError(
            _MISSING_METADATA.format(name=name, path=path, missing=", ".join(absent))
        )
    return module

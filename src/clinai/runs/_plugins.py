"""Find and load a use-case pipeline (a module in ``pipelines/``) at run time.

The library never imports ``pipelines/`` statically: a config names a use case
by module name (looked up in ``./pipelines`` and then ``CLINAI_PIPELINES_PATH``)
or by a path to a ``.py`` file, so a new use case needs no library change.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from clinai.exceptions import PipelineError

__all__ = [
    "REQUIRED_FUNCTIONS",
    "find_pipeline_names",
    "load_pipeline",
    "pipeline_feature_labels",
    "pipeline_variable_groups",
]

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

_BAD_LABEL = (
    "pipeline {name!r}: the label of {column!r} must be a mapping with an 'en' text "
    "(and optionally 'da' and 'unit', a text or {{'en': ..., 'da': ...}}); got {value!r}"
)
_BAD_GROUPS = (
    "pipeline {name!r}: VARIABLE_GROUPS must map a variable name to a list of feature "
    "columns, each column in one group only; problem with {group!r}: {problem}"
)
_LABEL_LANGUAGES = ("en", "da")


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


def _module_name(pipeline: ModuleType) -> str:
    return str(getattr(pipeline, "__name__", "?")).removeprefix("clinai_pipeline_")


def _clean_label(name: str, column: str, value: Any) -> dict[str, Any]:
    """Return ``{"en", "da"?, "unit"?}`` with text values only, or raise PipelineError."""
    if not isinstance(value, Mapping) or not isinstance(value.get("en"), str):
        raise PipelineError(_BAD_LABEL.format(name=name, column=column, value=value))
    label: dict[str, Any] = {
        language: value[language]
        for language in _LABEL_LANGUAGES
        if isinstance(value.get(language), str) and value[language].strip()
    }
    unit = value.get("unit")
    if isinstance(unit, str) and unit.strip():
        label["unit"] = {language: unit for language in _LABEL_LANGUAGES}
    elif isinstance(unit, Mapping):
        label["unit"] = {
            language: unit[language]
            for language in _LABEL_LANGUAGES
            if isinstance(unit.get(language), str) and unit[language].strip()
        }
    elif unit is not None:
        raise PipelineError(_BAD_LABEL.format(name=name, column=column, value=value))
    return label


def pipeline_feature_labels(pipeline: ModuleType, columns: Iterable[str]) -> dict[str, Any]:
    """Return the clinical labels a pipeline gives its features and variable groups.

    A pipeline may define ``FEATURE_LABELS`` (``{column: {"en": ..., "da": ...,
    "unit": ...}}``, also for the names of its ``VARIABLE_GROUPS``) and a function
    ``feature_labels(columns)`` returning the same for generated names (e.g. with
    :func:`clinai.data.window_feature_labels`); ``FEATURE_LABELS`` wins where both
    label a column. Both are optional: an unlabelled feature keeps its name.

    Parameters
    ----------
    pipeline : types.ModuleType
        From :func:`load_pipeline`.
    columns : iterable of str
        The feature columns (and variable names) to label.

    Returns
    -------
    dict
        ``{name: {"en": text, "da": text, "unit": {"en": ..., "da": ...}}}`` for the
        labelled names among ``columns`` and the pipeline's variable groups.

    Raises
    ------
    PipelineError
        If a label is not a mapping with an English text.
    """
    name = _module_name(pipeline)
    wanted = [str(c) for c in columns]
    wanted += [g for g in _groups(pipeline, name) if g not in wanted]
    raw: dict[str, Any] = {}
    function = getattr(pipeline, "feature_labels", None)
    if callable(function):
        generated = function(wanted)
        if not isinstance(generated, Mapping):
            raise PipelineError(
                _BAD_LABEL.format(name=name, column="feature_labels()", value=generated)
            )
        raw.update(generated)
    fixed = getattr(pipeline, "FEATURE_LABELS", None)
    if isinstance(fixed, Mapping):
        raw.update(fixed)
    return {c: _clean_label(name, c, raw[c]) for c in wanted if c in raw}


def _groups(pipeline: ModuleType, name: str) -> dict[str, list[str]]:
    groups = getattr(pipeline, "VARIABLE_GROUPS", None)
    if groups is None:
        return {}
    if not isinstance(groups, Mapping):
        raise PipelineError(
            _BAD_GROUPS.format(name=name, group="VARIABLE_GROUPS", problem="not a mapping")
        )
    out: dict[str, list[str]] = {}
    for group, members in groups.items():
        if isinstance(members, str) or not isinstance(members, Iterable):
            raise PipelineError(
                _BAD_GROUPS.format(name=name, group=group, problem="not a list of columns")
            )
        out[str(group)] = [str(m) for m in members]
    return out


def pipeline_variable_groups(pipeline: ModuleType, columns: Iterable[str]) -> dict[str, str]:
    """Return ``{column: variable}`` for the features a pipeline shows as one clinical variable.

    ``VARIABLE_GROUPS = {"bp_hours_since_last": ["sbp_hours_since_last",
    "dbp_hours_since_last"]}`` makes the two columns one variable: their SHAP
    values are summed, as those of a one-hot encoded variable are. Columns of a
    group that the model does not use are ignored.

    Parameters
    ----------
    pipeline : types.ModuleType
        From :func:`load_pipeline`.
    columns : iterable of str
        The model's feature columns (clinical variables before encoding).

    Returns
    -------
    dict of str to str
        Only the grouped columns present in ``columns``.

    Raises
    ------
    PipelineError
        If ``VARIABLE_GROUPS`` is malformed, a column is in two groups, or a
        group is named like a feature that is not one of its members.
    """
    name = _module_name(pipeline)
    present = {str(c) for c in columns}
    out: dict[str, str] = {}
    for group, members in _groups(pipeline, name).items():
        if group in present and group not in members:
            raise PipelineError(
                _BAD_GROUPS.format(name=name, group=group, problem="named like a feature")
            )
        for member in members:
            if member in out:
                raise PipelineError(
                    _BAD_GROUPS.format(name=name, group=group, problem=f"{member!r} is in two")
                )
            if member in present:
                out[member] = group
    return out

"""Load, override and validate an experiment config, reporting every problem at once."""

from __future__ import annotations

import difflib
import logging
import os
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from clinai.config._economics import EconomicsConfig
from clinai.config._schema import EvaluationConfig, ExperimentConfig
from clinai.config._yaml import RepeatedKeyError, load_unique
from clinai.exceptions import ConfigError

__all__ = ["apply_overrides", "load_config", "load_plan", "load_plan_economics", "parse_config"]

logger = logging.getLogger(__name__)

_OVERRIDE_FORMAT = "--set takes key=value with a dotted key (e.g. tuning.n_trials=5); got {item!r}"
_CWD_RELATIVE_PATH = (
    "data.source.path %r was found from the current folder (%s), not from the config file's "
    "folder (%s); a relative path is read from the config's folder: write it relative to "
    "that folder or absolute (reading from the current folder will stop in a later version)"
)


def load_config(path: str | os.PathLike[str], *, overrides: Iterable[str] = ()) -> ExperimentConfig:
    """Read a YAML config, apply ``--set`` overrides and validate it.

    Parameters
    ----------
    path : path-like
        The experiment YAML.
    overrides : iterable of str
        ``key=value`` strings with dotted keys; values are parsed as YAML.

    Returns
    -------
    ExperimentConfig
        The validated config.

    Raises
    ------
    ConfigError
        If the file is missing or unreadable, or any field is invalid; the
        message lists every problem with its field path.
    """
    config_path = Path(path)
    raw = _read_yaml(config_path)
    config = parse_config(apply_overrides(raw, overrides), source=str(config_path))
    _resolve_source_file(config, config_path)
    return config


def _resolve_source_file(config: ExperimentConfig, config_path: Path) -> None:
    """Point ``data.source.file`` at ``path`` read from the config file's folder.

    A relative path that exists only from the current folder (how clinai read
    it before) is still accepted, with a warning, so existing setups keep working.
    """
    source = config.data.source
    if source.path is None:
        return
    written = Path(source.path).expanduser()
    folder = config_path.resolve().parent
    target = written if written.is_absolute() else folder / written
    from_cwd = Path.cwd() / written
    if not written.is_absolute() and not target.exists() and from_cwd.exists():
        logger.warning(_CWD_RELATIVE_PATH, source.path, from_cwd, folder)
        target = from_cwd
    # A private attribute: the hashed config keeps the path as written.
    source._file = target.resolve()


def load_plan(path: str | os.PathLike[str]) -> EvaluationConfig:
    """Read a validation plan (the ``evaluation`` block of a config, as its own YAML file).

    Used by ``clinai validate``; unknown keys are refused like in a full config.

    Raises
    ------
    ConfigError
        If the file is missing, not YAML, or any field is invalid.
    """
    raw = _read_yaml(Path(path))
    raw.pop("economics", None)  # its own section: load_plan_economics
    try:
        return EvaluationConfig.model_validate(raw)
    except ValidationError as exc:
        problems = [_describe(error, raw, root=EvaluationConfig) for error in exc.errors()]
        prefix = f"{path}: " if len(problems) == 1 else f"{path}: {len(problems)} problems: "
        raise ConfigError(prefix + "; ".join(problems)) from None


def load_plan_economics(path: str | os.PathLike[str]) -> EconomicsConfig | None:
    """Read a validation plan's ``economics:`` section (None without one), for ``clinai validate``.

    Raises
    ------
    ConfigError
        If the file is missing, not YAML, or a field of the section is invalid (named
        ``economics.<field>``).
    """
    section = _read_yaml(Path(path)).get("economics")
    if section is None:
        return None
    try:
        return EconomicsConfig.model_validate(section)
    except ValidationError as exc:
        problems = [
            _describe({**error, "loc": ("economics", *error["loc"])}, section)
            for error in exc.errors()
        ]
        prefix = f"{path}: " if len(problems) == 1 else f"{path}: {len(problems)} problems: "
        raise ConfigError(prefix + "; ".join(problems)) from None


def _read_yaml(config_path: Path) -> dict[str, Any]:
    if not config_path.is_file():
        raise ConfigError(f"config file {str(config_path)!r} not found: check the path")
    try:
        raw = load_unique(config_path.read_text(encoding="utf-8"))
    except RepeatedKeyError as exc:
        raise ConfigError(
            f"config file {str(config_path)!r} gives the key {exc.key!r} twice (lines "
            f"{exc.lines[0]} and {exc.lines[1]}): YAML would keep only the last; delete one"
        ) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"config file {str(config_path)!r} is not valid YAML: {first}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {str(config_path)!r} must hold a mapping of keys")
    return raw


def apply_overrides(raw: Mapping[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Return a copy of ``raw`` with dotted ``key=value`` overrides applied."""
    result: dict[str, Any] = _deep_copy(raw)
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(_OVERRIDE_FORMAT.format(item=item))
        node = result
        parts = key.strip().split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        try:
            node[parts[-1]] = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise ConfigError(f"--set {key}: value {value!r} is not valid YAML") from exc
    return result


def parse_config(raw: Mapping[str, Any], *, source: str = "config") -> ExperimentConfig:
    """Validate a config mapping; raise one :class:`ConfigError` listing every problem."""
    try:
        return ExperimentConfig.model_validate(raw)
    except ValidationError as exc:
        problems = [_describe(error, raw) for error in exc.errors()]
        if len(problems) == 1:
            raise ConfigError(f"{source}: {problems[0]}") from None
        listed = "; ".join(problems)
        raise ConfigError(f"{source}: {len(problems)} problems: {listed}") from None


def _describe(
    error: Mapping[str, Any], raw: Mapping[str, Any], *, root: type[BaseModel] = ExperimentConfig
) -> str:
    location = [str(part) for part in error["loc"]]
    field = ".".join(location) or "(top level)"
    if error["type"] == "extra_forbidden":
        hint = _did_you_mean(location, root)
        return f"unknown key {field!r}{hint}; remove it or fix the spelling"
    if error["type"] == "missing":
        return f"{field!r} is required; add it"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{field!r}: {message} (got {error.get('input')!r})"


def _did_you_mean(location: list[str], root: type[BaseModel]) -> str:
    model: type[BaseModel] | None = root
    for part in location[:-1]:
        if model is None:
            break
        if part.isdigit():  # an item of a list of sub-models: stay on the item's model
            continue
        field = model.model_fields.get(part)
        model = _sub_model(getattr(field, "annotation", None) if field else None)
    if model is None:
        return ""
    close = difflib.get_close_matches(location[-1], list(model.model_fields), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _sub_model(annotation: Any) -> type[BaseModel] | None:
    """Return the sub-model of a field annotated ``Model``, ``list[Model]`` or ``Model | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        found = _sub_model(argument)
        if found is not None:
            return found
    return None


def _deep_copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value

"""A later stage keeps what the earlier stages of its run were given.

Each stage reads the config from the command line, and ``prepare`` wrote it to the run
directory (``config.resolved.yaml``). A ``clinai evaluate CONFIG --set evaluation.n_boot=30``
on a run prepared with 20 replicates wrote metrics from 30 beside a resolved config saying
20, and the card's config SHA-256 (computed at the report stage) matched neither; an
``evaluate`` with another ``split`` or ``models`` validated a model that config never made.

Now a stage refuses a change to what an earlier stage used, naming the key and both values,
and records the config it ran with: a stage may set its own sections (``clinai train CONFIG
--set tuning.n_trials=30`` after ``prepare``), and ``config.resolved.yaml`` then says so. The
tracking store, the languages and the description change no number and are never refused.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from clinai._utils import atomic_write_text
from clinai.exceptions import ConfigError
from clinai.runs._prepare import RESOLVED_CONFIG_FILE, resolved_config_yaml

if TYPE_CHECKING:
    from clinai.config import ExperimentConfig
    from clinai.runs._rundir import RunDir

__all__ = ["USED_BY", "check_prepared_config", "record_stage_config"]

#: The config keys (dotted prefixes) each stage uses, in stage order; a later stage may not
#: change them. The prepared split holds the sensitive attributes; the train stage fixes the
#: acceptance criteria, the economics section and the monitoring plan with the model.
USED_BY = {
    "prepare": (
        "experiment", "pipeline", "data", "outcome", "split", "seed", "output_dir",
        "evaluation.sensitive_attributes",
    ),
    "train": (
        "models", "tuning", "calibration", "training", "monitoring", "economics",
        "evaluation.acceptance",
    ),
    "evaluate": ("evaluation", "validation"),
}  # fmt: skip
_DONE = {"prepare": "prepared", "train": "trained", "evaluate": "evaluated"}
_OTHER_CONFIG = (
    "run {run} was {stage} with another config: {key} is {before} there and {after} here; "
    "pass the same config and --set values to every stage, or start a new run "
    "(clinai prepare, or clinai run)"
)


def _differences(before: Any, after: Any, prefix: str = "") -> Iterator[tuple[str, Any, Any]]:
    """Yield ``(dotted key, value before, value after)`` wherever two plain configs differ."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for key in sorted(set(before) | set(after), key=str):
            yield from _differences(before.get(key), after.get(key), f"{prefix}{key}.")
    elif before != after:
        yield prefix.rstrip("."), before, after


def _shown(value: Any) -> str:
    text = "not set" if value is None else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _used_before(stage: str) -> dict[str, str]:
    """Map each key used by a stage before ``stage`` to that stage."""
    order = [*USED_BY, "report"]
    earlier = order[: order.index(stage)]
    return {key: name for name in earlier for key in USED_BY[name]}


def check_prepared_config(config: ExperimentConfig, run_dir: RunDir, *, stage: str) -> None:
    """Refuse a config that changes a key an earlier stage of the run used.

    Parameters
    ----------
    config : ExperimentConfig
        The config this stage was given (with its ``--set`` values).
    run_dir : RunDir
        The run; its ``config.resolved.yaml`` is the config of its latest stage. A run
        without one (prepared by an older clinai) is not checked.
    stage : {"train", "evaluate", "report"}
        The stage about to run.

    Raises
    ------
    ConfigError
        Naming the first changed key, both values and the stage that used it.
    """
    import yaml

    path = run_dir.file(RESOLVED_CONFIG_FILE)
    if not path.is_file():
        return
    recorded = yaml.safe_load(path.read_text(encoding="utf-8"))
    given = yaml.safe_load(resolved_config_yaml(config))  # the file's round trip
    used = _used_before(stage)
    for key, before, after in _differences(recorded, given):
        owner = next((used[p] for p in used if key == p or key.startswith(p + ".")), None)
        if owner is not None:
            raise ConfigError(
                _OTHER_CONFIG.format(
                    run=run_dir.run_id,
                    stage=_DONE[owner],
                    key=key,
                    before=_shown(before),
                    after=_shown(after),
                )
            )


def record_stage_config(config: ExperimentConfig, run_dir: RunDir) -> None:
    """Write the config a stage ran with to ``config.resolved.yaml``."""
    atomic_write_text(run_dir.file(RESOLVED_CONFIG_FILE), resolved_config_yaml(config))

"""The run directory: ``runs/<experiment>/<run_id>/`` and the files each stage writes.

A whole ``clinai run`` builds its directory under a hidden staging name and
renames it into place only when every stage has succeeded, so a failed run
never leaves a directory that looks complete (a failed one is kept as
``<run_id>.failed`` with ``error.txt`` for diagnosis).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from clinai._utils import atomic_write_text, to_jsonable
from clinai.exceptions import ClinaiError, ConfigError

__all__ = ["RunDir", "absolute_sqlite_uri", "new_run_id", "resolve_run_dir"]

LATEST_POINTER = "LATEST"
_NO_RUN = (
    "no run of experiment {experiment!r} under {root}: run `clinai prepare CONFIG` first "
    "or pass --run-id"
)
_NO_SUCH_RUN = "--run-id {run_id!r}: no such run under {root}{known}; check the name"
# A run id names one folder inside the experiment's: never a path ('..' would have made
# `clinai run --run-id ..` empty the whole output folder before writing into it).
_RUN_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")
_BAD_RUN_ID = (
    "--run-id {run_id!r} is not a folder name: use letters, digits, '_', '-' and '.' "
    "(not first), e.g. --run-id dvc"
)
_STAGE_MISSING = "run {path} has no {file}: run `clinai {stage} CONFIG` first"
# Files of the run directory that hold patient-level rows: never logged to MLflow.
PATIENT_LEVEL = ("prepared", "predictions.parquet")


def absolute_sqlite_uri(uri: str) -> str:
    """Anchor a relative ``sqlite:///file.db`` URI at the working directory.

    MLflow caches one store per URI string, so a relative URI would keep pointing
    at the file of the first working directory it saw.
    """
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not uri.startswith(prefix + "/") and ":memory:" not in uri:
        return prefix + str((Path.cwd() / uri[len(prefix) :]).resolve())
    return uri


def new_run_id() -> str:
    """Return a sortable, unique run id: UTC timestamp plus 6 random hex characters."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class RunDir:
    """Paths of one run directory."""

    path: Path

    @property
    def run_id(self) -> str:
        """The run id (the directory's name)."""
        return self.path.name

    def file(self, name: str) -> Path:
        """Return the path of a file inside the run directory."""
        return self.path / name

    @property
    def prepared(self) -> Path:
        """The folder of patient-level prepared splits (never logged to MLflow)."""
        return self.path / "prepared"

    @property
    def plots(self) -> Path:
        """The folder of PNG plots."""
        return self.path / "plots"

    @property
    def model(self) -> Path:
        """The MLflow-format model folder."""
        return self.path / "model"

    def write_json(self, name: str, payload: Any) -> Path:
        """Write strict JSON atomically (NaN becomes null)."""
        text = json.dumps(to_jsonable(payload), indent=2, sort_keys=False, allow_nan=False)
        return atomic_write_text(self.file(name), text + "\n")

    def read_json(self, name: str, *, stage: str) -> Any:
        """Read a JSON file a previous stage wrote, or say which stage to run."""
        path = self.file(name)
        if not path.is_file():
            raise ClinaiError(_STAGE_MISSING.format(path=self.path, file=name, stage=stage))
        return json.loads(path.read_text(encoding="utf-8"))

    def require(self, name: str, *, stage: str) -> Path:
        """Return the path of a file a previous stage wrote, or say which stage to run."""
        path = self.file(name)
        if not path.exists():
            raise ClinaiError(_STAGE_MISSING.format(path=self.path, file=name, stage=stage))
        return path


def experiment_root(output_dir: str | Path, experiment: str) -> Path:
    """Return ``<output_dir>/<experiment>``."""
    return Path(output_dir) / experiment


def resolve_run_dir(
    output_dir: str | Path, experiment: str, run_id: str | None, *, create: bool
) -> RunDir:
    """Return the run directory for a stage.

    With ``create`` a new directory is made (named ``run_id`` or a fresh id) and the
    experiment's ``LATEST`` pointer is moved to it; otherwise ``run_id`` or the
    ``LATEST`` pointer names an existing directory.
    """
    root = experiment_root(output_dir, experiment)
    if run_id is not None and not _RUN_ID.fullmatch(run_id):
        raise ConfigError(_BAD_RUN_ID.format(run_id=run_id))
    if create:
        path = root / (run_id or new_run_id())
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        atomic_write_text(root / LATEST_POINTER, path.name + "\n")
        return RunDir(path)
    if run_id is None:
        pointer = root / LATEST_POINTER
        if not pointer.is_file():
            raise ClinaiError(_NO_RUN.format(experiment=experiment, root=root))
        run_id = pointer.read_text(encoding="utf-8").strip()
    path = root / run_id
    if not path.is_dir():
        runs = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
        known = f" (runs there: {', '.join(runs[-5:])})" if runs else ""
        raise ClinaiError(_NO_SUCH_RUN.format(run_id=run_id, root=root, known=known))
    return RunDir(path)

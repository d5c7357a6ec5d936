"""Lineage facts for the audit trail: code version, environment, content hashes."""

from __future__ import annotations

import hashlib
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["code_version", "environment", "frame_sha256"]

TRACKED_PACKAGES = (
    "clinai",
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "statsmodels",
    "lightgbm",
    "torch",
    "optuna",
    "mlflow",
    "shap",
    "fairlearn",
    "pydantic",
    "jinja2",
    "matplotlib",
)


def code_version(repo_dir: Path | None = None) -> dict[str, Any]:
    """Return the git commit and dirty flag of the working tree, or ``None`` values outside git."""
    cwd = repo_dir or Path.cwd()
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": None, "git_dirty": None}
    return {"git_commit": commit, "git_dirty": bool(status.strip())}


def environment() -> dict[str, Any]:
    """Return the Python version, platform and versions of the packages clinai relies on."""
    packages: dict[str, str] = {}
    for name in TRACKED_PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": packages,
    }


def frame_sha256(frame: pd.DataFrame) -> str:
    """Return a SHA-256 over a DataFrame's column names, dtypes and values (row order matters)."""
    import pandas as pd

    digest = hashlib.sha256()
    digest.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode("utf-8"))
    row_hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    digest.update(row_hashes.tobytes())
    return digest.hexdigest()

"""Lineage facts for the audit trail: code version, pipeline, environment, content hashes."""

from __future__ import annotations

import hashlib
import platform
import subprocess
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinai._utils import sha256_file

if TYPE_CHECKING:
    from types import ModuleType

    import pandas as pd

__all__ = [
    "code_version",
    "describe_code",
    "environment",
    "frame_sha256",
    "pipeline_lineage",
    "source_sha256",
]

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
# Compiled caches beside the sources (bytecode, numba): not part of the code's identity.
_CACHE_SUFFIXES = frozenset({".pyc", ".pyo", ".nbi", ".nbc"})


def code_version(source_dir: Path | None = None) -> dict[str, Any]:
    """Identify the clinai code that ran, in or outside a git checkout.

    Parameters
    ----------
    source_dir : pathlib.Path, optional
        The clinai package directory (default: the one imported).

    Returns
    -------
    dict
        ``clinai_version`` (the installed distribution's version), ``source_sha256``
        (:func:`source_sha256` of the package directory: identifies a non-git install),
        and ``git_commit`` / ``git_dirty`` of the checkout the package directory is tracked
        in (``None`` when it is not: a wheel install, or a virtual environment inside
        someone else's repository).
    """
    import clinai

    source = source_dir or Path(clinai.__file__).resolve().parent
    return {
        "clinai_version": _clinai_version(),
        **_git_state(source),
        "source_sha256": source_sha256(source),
    }


def describe_code(code: Mapping[str, Any]) -> str:
    """Return the one-line code version the documents show.

    For example ``clinai 0.1.0 (git 1a2b3c4d5e6f)``; outside a git checkout the first
    16 hex digits of the source hash stand for the commit.
    """
    version = code.get("clinai_version") or "unknown"
    if code.get("git_commit"):
        return f"clinai {version} (git {str(code['git_commit'])[:12]})"
    if code.get("source_sha256"):
        return f"clinai {version} (source sha256 {str(code['source_sha256'])[:16]})"
    return f"clinai {version}"


def source_sha256(directory: Path) -> str:
    r"""Return a SHA-256 over the source files of a package directory.

    It is the SHA-256 of the lines ``<sha256 of file>  <relative path>\n`` (``sha256sum``'s
    format), one per file sorted by path, leaving out ``__pycache__`` and compiled caches
    (:data:`_CACHE_SUFFIXES`), so the same code gives the same hash installed from a wheel
    or run from a checkout.
    """
    files = sorted(
        (path.relative_to(directory).as_posix(), path)
        for path in directory.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.relative_to(directory).parts
        and path.suffix not in _CACHE_SUFFIXES
    )
    digest = hashlib.sha256()
    for relative, path in files:
        digest.update(f"{sha256_file(path)}  {relative}\n".encode())
    return digest.hexdigest()


def pipeline_lineage(module: ModuleType) -> dict[str, Any]:
    """Return the name and SHA-256 of a use case's pipeline module (the file defining the outcome).

    ``sha256`` is ``None`` only for a module without a source file.
    """
    path = getattr(module, "__file__", None)
    if not path or not Path(path).is_file():
        return {"name": module.__name__, "sha256": None}
    return {"name": Path(path).stem, "sha256": sha256_file(path)}


def _clinai_version() -> str | None:
    try:
        return metadata.version("clinai")
    except metadata.PackageNotFoundError:
        return None


def _git(source: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=source, capture_output=True, text=True, check=True, timeout=10
    ).stdout


def _git_state(source: Path) -> dict[str, Any]:
    """Return the commit and dirty flag of the checkout that tracks ``source`` (else ``None``).

    Dirty means a tracked file of the package directory differs from the commit: the
    code that ran is not the commit's. Changes elsewhere in the checkout (the model
    cards ``clinai demo`` rewrites, a pipeline, whose SHA-256 is recorded on its own)
    do not make the code dirty.
    """
    try:
        # A package directory inside a repository that does not track it is not a checkout.
        _git(source, "ls-files", "--error-unmatch", "__init__.py")
        commit = _git(source, "rev-parse", "HEAD").strip()
        status = _git(source, "status", "--porcelain", "--untracked-files=no", "--", ".")
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

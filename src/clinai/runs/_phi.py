"""PHI guard: no raw identifier or other protected value may appear in a run's outputs.

At the end of every run, every text file of the run directory (except the
patient-level ``prepared/`` and ``predictions.parquet``, which never leave it)
and the MLflow params and tags of the parent run are searched for the raw
values of ``data.patient_id`` (before pseudonymisation) and of
``data.phi_columns``. A hit fails the run; the message names the file (or the
MLflow param/tag) and the column, never the value.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from clinai.exceptions import ClinaiError
from clinai.runs._rundir import PATIENT_LEVEL

if TYPE_CHECKING:
    import pandas as pd

    from clinai.config import ExperimentConfig

__all__ = ["MIN_VALUE_LENGTH", "Canaries", "PhiLeakError", "find_leaks", "phi_canaries", "scan_run"]

logger = logging.getLogger(__name__)

#: Values shorter than this are not searched (e.g. ``"12"`` or ``"F"`` would match
#: any number or letter of a report; they do not identify a person on their own).
MIN_VALUE_LENGTH = 4
PHI_FOUND = (
    "PHI guard: {where} contains a raw value of column {column!r} (the value is not shown): "
    "remove it from that output; the run is marked failed"
)
# Embedded images (base64) are not text a person reads, and their letters match anything.
_DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]+")


class PhiLeakError(ClinaiError):
    """A raw identifier or another protected value was found in a run's output."""


class Canaries:
    """The raw protected values of a dataset, by column, compiled for searching.

    Parameters
    ----------
    values : mapping of str to iterable of str
        Column name -> its raw values (as text).
    """

    def __init__(self, values: Mapping[str, Iterable[str]]) -> None:
        self._patterns: list[tuple[str, re.Pattern[str]]] = []
        for column, column_values in values.items():
            kept = sorted(
                {v.strip() for v in column_values if len(v.strip()) >= MIN_VALUE_LENGTH},
                key=len,
                reverse=True,
            )
            if not kept:
                continue
            # Whole values only: "1234" must not match inside "0.12345".
            alternatives = "|".join(re.escape(v) for v in kept)
            pattern = re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])")
            self._patterns.append((column, pattern))

    def __bool__(self) -> bool:
        return bool(self._patterns)

    def find(self, text: str) -> str | None:
        """Return the column whose raw value occurs in ``text``, or None."""
        text = _DATA_URI.sub(" ", text)
        for column, pattern in self._patterns:
            if pattern.search(text):
                return column
        return None


def phi_canaries(config: ExperimentConfig, raw: pd.DataFrame) -> Canaries:
    """Collect the raw values of ``data.patient_id`` and ``data.phi_columns`` from ``raw``."""
    columns = [c for c in [config.data.patient_id, *config.data.phi_columns] if c is not None]
    values = {
        column: raw[column].dropna().astype(str).tolist()
        for column in dict.fromkeys(columns)
        if column in raw.columns
    }
    return Canaries(values)


def _text_files(run_path: Path) -> Iterable[tuple[str, str]]:
    for path in sorted(run_path.rglob("*")):
        relative = path.relative_to(run_path).as_posix()
        if not path.is_file() or path.is_symlink():
            continue
        if relative.split("/", 1)[0] in PATIENT_LEVEL:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:  # binary (PNG, PDF, pickled model): not text output
            continue
        yield relative, text


def find_leaks(
    canaries: Canaries, run_path: Path, *, mlflow_texts: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """Return ``(where, column)`` for every output that holds a protected raw value.

    Parameters
    ----------
    canaries : Canaries
        The values to look for.
    run_path : pathlib.Path
        The run directory; its patient-level files are skipped.
    mlflow_texts : mapping of str to str, optional
        MLflow params and tags of the run (``param.<key>`` / ``tag.<key>`` -> value).
    """
    leaks: list[tuple[str, str]] = []
    if not canaries:
        return leaks
    for relative, text in _text_files(run_path):
        column = canaries.find(text)
        if column is not None:
            leaks.append((f"file {relative!r} of the run directory", column))
    for key, value in (mlflow_texts or {}).items():
        column = canaries.find(f"{key} {value}")
        if column is not None:
            leaks.append((f"MLflow {key.split('.', 1)[0]} {key.split('.', 1)[1]!r}", column))
    return leaks


def scan_run(
    config: ExperimentConfig, run_path: Path, *, mlflow_texts: Mapping[str, str] | None = None
) -> None:
    """Fail if a run's outputs hold a raw identifier or a ``data.phi_columns`` value.

    The raw data are read again from the configured source (they are never
    stored in the run directory).

    Raises
    ------
    PhiLeakError
        Naming the first output (file or MLflow param/tag) and the column; never the value.
    """
    if config.data.patient_id is None and not config.data.phi_columns:
        return
    from clinai.runs._plugins import load_pipeline
    from clinai.runs._prepare import _load_source

    raw, _, _ = _load_source(config, load_pipeline(config.pipeline))
    canaries = phi_canaries(config, raw)
    leaks = find_leaks(canaries, run_path, mlflow_texts=mlflow_texts)
    if leaks:
        where, column = leaks[0]
        for other, other_column in leaks[1:]:
            logger.error("PHI guard: %s contains a raw value of %s", other, other_column)
        raise PhiLeakError(PHI_FOUND.format(where=where, column=column))
    logger.info("PHI guard: no raw identifier found in %s", run_path)

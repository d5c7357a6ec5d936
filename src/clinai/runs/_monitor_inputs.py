"""``clinai monitor``'s inputs: the predictions files, their periods and the outcomes.

The light columns of every predictions file (patient pseudonym, times, risk, model,
outcome, subgroup columns) are read once into flat arrays (:class:`Stream`); the
``feature:<name>`` columns are never read here: the drift pass streams them by
column batches (:mod:`clinai.runs._monitor_periods`). Patient pseudonyms become
integer codes through one Arrow dictionary, so ten million 64-character strings are
never Python objects. Duplicates are keyed by (patient, prediction time), the first
one read kept.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from clinai.exceptions import DataError

__all__ = [
    "FEATURE_PREFIX",
    "GROUP_PREFIX",
    "NAT",
    "MonitoredModel",
    "PeriodInfo",
    "Stream",
    "file_sha256",
    "read_stream",
    "retain_freed_memory",
]

FEATURE_PREFIX = "feature:"
GROUP_PREFIX = "group:"
_REQUIRED = ("patient_id", "prediction_time", "risk", "model_name", "model_version", "scored_at")

NO_PREDICTIONS = "--predictions names no file: pass one or more Parquet files from `clinai score`"
PREDICTIONS_MISSING = "predictions file {path} does not exist: pass a file `clinai score` wrote"
PREDICTIONS_UNREADABLE = "predictions file {path} is not a readable Parquet file ({error})"
PREDICTIONS_COLUMNS = (
    "predictions file {path} lacks column(s) {columns}: it was not written by `clinai score`; "
    "score the data again"
)
PREDICTIONS_EMPTY = "the predictions files hold no rows: score some patients first"
MIXED_VERSIONS = (
    "the predictions come from several model versions ({versions}): monitor one version at a "
    "time; pass the files scored by one version"
)
FUTURE_TIMES = (
    "{count} prediction time(s) lie in the future (latest {latest} UTC, now {now}): "
    "fix the clock or the prediction_time column of the data you scored"
)
BAD_RISK = "column 'risk' of the predictions has {count} missing or out-of-range value(s)"


@dataclass(frozen=True)
class MonitoredModel:
    """The registered version the predictions name (its alias, clinai run id and tags)."""

    name: str
    version: str
    alias: str | None
    run_id: str | None
    tags: dict[str, str]


@dataclass(frozen=True)
class PeriodInfo:
    """One calendar period: its label (``2025-03``, ``2025-W09``) and first and last day."""

    label: str
    start: str
    end: str


@dataclass
class Stream:
    """The light columns of the deduplicated predictions, as flat arrays in file order.

    Rows dropped as duplicates keep their place in the arrays (``keep`` is False), so
    a row's position is its position in the concatenated files, which the drift
    pass needs to line up the feature columns it reads later.
    """

    files: list[dict[str, Any]]
    paths: list[Path]
    offsets: np.ndarray
    keep: np.ndarray
    period: np.ndarray
    periods: list[PeriodInfo]
    time: np.ndarray
    risk: np.ndarray
    patient: np.ndarray
    outcome: np.ndarray
    groups: dict[str, pd.Categorical]
    feature_columns: list[str]
    model_name: str
    model_version: str
    dictionary: Any = None
    has_prediction_time: bool = False
    period_unit: str = "month"
    duplicates: int = 0
    outcomes: dict[str, Any] | None = field(default=None)


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


#: glibc's ``mallopt`` parameters (malloc.h) and the values the monitor sets.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_TRIM_THRESHOLD = 1 << 30
_MMAP_THRESHOLD = 32 << 20  # glibc's largest accepted value (HEAP_MAX_SIZE / 2)


def retain_freed_memory() -> None:
    """Let glibc keep freed memory for later allocations instead of returning it at once.

    A monitoring pass allocates and frees many arrays of a period's size (6.7 MB each
    at 833,000 rows: the sort, the layout, the calibration fits' temporaries). By
    default glibc maps a block that large afresh and unmaps it when freed, or trims the
    heap above 2 x that size, so every new array is paid again in page faults: on this
    project's VM about 16 us of system time per 4 kB page (22-27 s of system time in
    the 10^7-row benchmark). Freed blocks below 32 MB stay in the heap (peak RSS
    unchanged: 2.48 GB). A no-op where the C library is not glibc.

    numpy's large arrays are no longer marked for transparent huge pages either: where
    the kernel gives huge pages on request only (``defrag = madvise``, the common
    default), the first touch of each 2 MB page waits for memory compaction (3.5 s of
    system time less in the benchmark without the marking, as ``_buffer`` found for the
    bootstrap's buffers).
    """
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:  # a private numpy switch (numpy >= 2): without it, only the glibc part below
        from numpy._core import multiarray

        multiarray._set_madvise_hugepage(False)  # type: ignore[attr-defined]
    except (ImportError, AttributeError):
        pass
    try:
        libc = ctypes.CDLL(None)
        gnu = libc.gnu_get_libc_version  # glibc only (musl's mallopt does nothing)
    except (OSError, AttributeError):
        return
    del gnu
    libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
    libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)


def _open(path: Path) -> Any:
    import pyarrow.parquet as pq

    if not path.is_file():
        raise DataError(PREDICTIONS_MISSING.format(path=path))
    try:
        return pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a file that is no Parquet
        raise DataError(PREDICTIONS_UNREADABLE.format(path=path, error=exc)) from exc


def _light_columns(path: Path, subgroups: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    """Check one file's columns; return its light columns, those read as dictionaries, features.

    The patient pseudonyms are not among the light columns returned: they are read apart
    (:func:`_read_patients`).
    """
    names = _open(path).schema_arrow.names
    missing = [c for c in _REQUIRED if c not in names]
    if missing:
        raise DataError(PREDICTIONS_COLUMNS.format(path=path, columns=", ".join(missing)))
    groups = [f"{GROUP_PREFIX}{a}" for a in subgroups if f"{GROUP_PREFIX}{a}" in names]
    columns = [c for c in _REQUIRED if c != "patient_id"]
    columns += [*(["outcome"] if "outcome" in names else []), *groups]
    dictionary = ["model_name", "model_version", *groups]
    return columns, dictionary, [c for c in names if c.startswith(FEATURE_PREFIX)]


def _read_columns(path: Path, columns: list[str], dictionary: list[str]) -> Any:
    """Read some columns of one file through a memory map, without pre-buffering.

    The column chunks are then decompressed straight from the page cache. With
    pyarrow's defaults (``pre_buffer=True``: coalesced reads into fresh buffers) the
    light columns of the 10^7-row benchmark cost 3.1-4.1 s of system time against
    0.55-0.62 s this way (three fresh processes each, the same table; user time 1.2 s
    both). The map is closed on return, so its pages do not stay in the resident set.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    with pa.memory_map(str(path)) as source:
        return pq.read_table(
            source, columns=columns, read_dictionary=dictionary or None, pre_buffer=False
        )


def _read_patients(paths: list[Path]) -> tuple[np.ndarray, Any]:
    """Read every file's patient pseudonyms; return their integer codes and the dictionary."""
    columns = [_read_columns(path, ["patient_id"], []).column(0) for path in paths]
    return _patient_codes(columns)


def _patient_codes(columns: list[Any]) -> tuple[np.ndarray, Any]:
    """Return integer codes of the patient pseudonyms of every file, through one dictionary.

    One hash table over all chunks (Arrow's chunked ``dictionary_encode``): 2.6 s for
    10^7 pseudonyms, where reading each row group as a dictionary and unifying the
    dictionaries took 22 s.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    chunks = [chunk.cast(pa.string()) for column in columns for chunk in column.chunks]
    if not chunks:
        return np.zeros(0, dtype=np.int64), None
    encoded = pc.dictionary_encode(pa.chunked_array(chunks, type=pa.string()))
    # Arrow gives every chunk the whole table's dictionary; should a version not, unify.
    if len({len(c.dictionary) for c in encoded.chunks}) > 1:
        encoded = pa.table({"p": encoded}).unify_dictionaries().column("p")
    codes = [
        pc.fill_null(chunk.indices, -1).to_numpy().astype(np.int64) for chunk in encoded.chunks
    ]
    return np.concatenate(codes), encoded.chunks[0].dictionary


def _one_version(tables: list[Any]) -> tuple[str, str]:
    import pyarrow.compute as pc

    pairs: set[tuple[str, str]] = set()
    for table in tables:
        names = pc.unique(pc.cast(table.column("model_name"), "string")).to_pylist()
        versions = pc.unique(pc.cast(table.column("model_version"), "string")).to_pylist()
        pairs.update((str(n), str(v)) for n in names for v in versions)
    if len(pairs) != 1:
        listed = ", ".join(f"{n} v{v}" for n, v in sorted(pairs))
        raise DataError(MIXED_VERSIONS.format(versions=listed))
    return next(iter(pairs))


#: Rows converted at a time. A block's temporaries (8 MB per int64 column) are reused by
#: the allocator; whole-stream temporaries (80 MB each at 10^7 rows, about twenty of them)
#: were mapped afresh and their first touch zeroed by the kernel: perf put 38 % of
#: read_stream's samples in clear_page_erms (the 10^7-row benchmark).
_BLOCK = 1 << 20


def _blocks(n: int) -> Iterator[slice]:
    """Consecutive slices of at most :data:`_BLOCK` rows covering ``range(n)``."""
    for start in range(0, n, _BLOCK):
        yield slice(start, min(start + _BLOCK, n))


def _fill(tables: list[Any], column: str, out: np.ndarray, convert: Any) -> np.ndarray:
    """Write ``column`` of every table into ``out`` block by block, through ``convert``.

    ``convert`` maps an Arrow array to numpy values elementwise, so a block's values are
    the ones a conversion of the whole column gives.
    """
    start = 0
    for table in tables:
        for chunk in table.column(column).chunks:
            for part in _blocks(len(chunk)):
                values = convert(chunk.slice(part.start, part.stop - part.start))
                out[start : start + values.shape[0]] = values
                start += values.shape[0]
    return out


def _timestamp_values(chunk: Any) -> np.ndarray:
    """Microseconds since the epoch (UTC); ``NaT`` becomes the minimum int64."""
    values = chunk.to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype="datetime64[us]").view(np.int64)


def _outcome_values(chunk: Any) -> np.ndarray:
    """Outcomes as float (NaN where missing or not a number)."""
    values = chunk.to_numpy(zero_copy_only=False)
    return np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=np.float64)


def _risk_values(chunk: Any) -> np.ndarray:
    return np.asarray(chunk.to_numpy(zero_copy_only=False), dtype=np.float64)


NAT = np.iinfo(np.int64).min


def _unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` of integers in a short range, without a sort.

    Months and weeks span a few hundred values: a table over the range replaces
    numpy's sort of every row (0.8 s for 10^7 rows). A wide range (a missing time
    far from the others) falls back to ``np.unique``. The inverse is int16.
    """
    if values.size == 0:
        keys, inverse = np.unique(values, return_inverse=True)
        return keys, inverse.astype(np.int16)
    low, high = int(values.min()), int(values.max())
    if high - low > 1 << 20:
        keys, inverse = np.unique(values, return_inverse=True)
        return keys, inverse.astype(np.int16)
    present = np.zeros(high - low + 1, dtype=bool)
    for part in _blocks(values.shape[0]):
        present[values[part] - low] = True
    position = np.cumsum(present) - 1
    inverse = np.empty(values.shape[0], dtype=np.int16)
    for part in _blocks(values.shape[0]):
        inverse[part] = position[values[part] - low]
    return np.flatnonzero(present) + low, inverse


def _period_keys(time_us: np.ndarray, unit: str) -> np.ndarray:
    """Each time's period key: the day its ISO week starts, or its month, since 1970."""
    keys = np.empty(time_us.shape[0], dtype=np.int64)
    for part in _blocks(time_us.shape[0]):
        days = time_us[part] // 86_400_000_000  # floor: days since 1970-01-01
        if unit == "week":
            keys[part] = days - (days + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
        else:
            keys[part] = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return keys


def _period_codes(time_us: np.ndarray, unit: str) -> tuple[np.ndarray, list[PeriodInfo]]:
    """Calendar month or ISO week (starting Monday) of each time; the periods in order."""
    keys, inverse = _unique_inverse(_period_keys(time_us, unit))
    periods = []
    if unit == "week":
        for key in keys:
            first = np.datetime64(int(key), "D").astype(datetime)
            year, week, _ = first.isocalendar()
            last = np.datetime64(int(key) + 6, "D").astype(datetime)
            periods.append(PeriodInfo(f"{year}-W{week:02d}", first.isoformat(), last.isoformat()))
        return inverse, periods
    for key in keys:
        first = np.datetime64(int(key), "M").astype("datetime64[D]")
        last = (np.datetime64(int(key) + 1, "M").astype("datetime64[D]") - 1).astype(datetime)
        label = str(np.datetime64(int(key), "M"))
        periods.append(PeriodInfo(label, str(first), last.isoformat()))
    return inverse, periods


def _duplicates(patient: np.ndarray, time_us: np.ndarray) -> np.ndarray:
    """Mark rows that repeat an earlier (patient, prediction time); never a row without patient.

    Only rows whose time occurs more than once can repeat one; those few are sorted by
    (patient, time). A sort by time alone is about linear on the time-ordered files
    `clinai score` writes: 0.3 s instead of 2.2 s for 10^7 rows.
    """
    n = patient.shape[0]
    dropped = np.zeros(n, dtype=bool)
    by_time = np.argsort(time_us, kind="stable")
    tied = np.zeros(max(n - 1, 0), dtype=bool)
    for part in _blocks(n - 1):  # the sorted times block by block, not a copy of them all
        ordered = time_us[by_time[part.start : part.stop + 1]]
        tied[part] = ordered[1:] == ordered[:-1]
    if not tied.any():
        return dropped
    shared = np.zeros(n, dtype=bool)
    shared[1:] = tied
    shared[:-1] |= tied
    rows = np.sort(by_time[shared])  # in file order, so equal keys keep it below
    order = rows[np.lexsort((time_us[rows], patient[rows]))]  # stable
    ordered_patient, ordered_time = patient[order], time_us[order]
    again = (ordered_patient[1:] == ordered_patient[:-1]) & (ordered_time[1:] == ordered_time[:-1])
    dropped[order[1:][again]] = True
    return dropped & (patient >= 0)


def _check_future(prediction_us: np.ndarray) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    now_us = np.datetime64(now, "us").astype(np.int64)
    late = int(np.count_nonzero(prediction_us > now_us))  # NaT is the smallest int64
    if late:
        latest = np.datetime64(int(prediction_us[prediction_us != NAT].max()), "us")
        raise DataError(
            FUTURE_TIMES.format(count=late, latest=latest, now=now.isoformat(timespec="seconds"))
        )


def expand_paths(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Return the files named, a quoted glob pattern (``'scores/*.parquet'``) expanded, sorted."""
    import glob

    out: list[Path] = []
    for raw in paths:
        text = str(raw)
        matches = sorted(glob.glob(text)) if glob.has_magic(text) else []
        if matches:
            out.extend(Path(m) for m in matches)
        else:  # a plain name, or a pattern matching nothing: named as given in the error
            out.append(Path(text))
    return out


def read_stream(
    paths: Sequence[str | os.PathLike[str]], *, period: str, subgroups: Sequence[str]
) -> Stream:
    """Read the light columns of the predictions files into one :class:`Stream`.

    Raises
    ------
    DataError
        No file, a missing or unreadable file, a file without the columns `clinai
        score` writes, no rows, several model versions, risks outside [0, 1], or a
        prediction time in the future.
    """
    found = expand_paths(paths)
    if not found:
        raise DataError(NO_PREDICTIONS)
    retain_freed_memory()
    checked = [_light_columns(path, subgroups) for path in found]  # every file, before reading
    # The pseudonyms are read and coded in one thread and the files hashed in another,
    # beside the other columns: read one after the other they took 9-13 s of the
    # 10^7-row benchmark with one of the two cores mostly idle.
    with ThreadPoolExecutor(1) as hasher, ThreadPoolExecutor(1) as reader:
        digests = [hasher.submit(file_sha256, path) for path in found]
        patients = reader.submit(_read_patients, found)
        tables = [_read_columns(path, c, d) for path, (c, d, _) in zip(found, checked, strict=True)]
        offsets = np.cumsum([0, *[t.num_rows for t in tables]])
        if offsets[-1] == 0:
            raise DataError(PREDICTIONS_EMPTY)
        name, version = _one_version(tables)
        n = int(offsets[-1])
        prediction = _fill(tables, "prediction_time", np.empty(n, np.int64), _timestamp_values)
        time_us = _fill(tables, "scored_at", np.empty(n, np.int64), _timestamp_values)
        _check_future(prediction)
        np.copyto(time_us, prediction, where=prediction != NAT)  # the scoring time where none
        risk = _fill(tables, "risk", np.empty(n, np.float64), _risk_values)
        bad = int((~np.isfinite(risk) | (risk < 0) | (risk > 1)).sum())
        if bad:
            raise DataError(BAD_RISK.format(count=bad))
        outcome = np.full(n, np.nan)  # NaN for the rows of a file without outcomes
        for table, start in zip(tables, offsets[:-1], strict=True):
            if "outcome" in table.column_names:
                _fill([table], "outcome", outcome[start:], _outcome_values)
        groups = {
            a: union_categoricals(
                [_group_of(t, f"{GROUP_PREFIX}{a}") for t in tables], ignore_order=True
            )
            for a in subgroups
        }
        codes, periods = _period_codes(time_us, period)
        files = [
            {"file_name": path.name, "sha256": digest.result(), "rows": table.num_rows}
            for path, digest, table in zip(found, digests, tables, strict=True)
        ]
        patient, dictionary = patients.result()
    dropped = _duplicates(patient, prediction)
    codes[dropped] = -1
    features = [columns for _, _, columns in checked]
    return Stream(
        files=files,
        paths=found,
        offsets=offsets,
        keep=~dropped,
        period=codes,
        periods=periods,
        time=time_us,
        risk=risk,
        patient=patient,
        outcome=outcome,
        groups=groups,
        feature_columns=sorted(set(features[0]).intersection(*features[1:])),
        model_name=name,
        model_version=version,
        dictionary=dictionary,
        has_prediction_time=bool((prediction != NAT).any()),
        period_unit=period,
        duplicates=int(dropped.sum()),
    )


def _group_of(table: Any, column: str) -> pd.Categorical:
    """Return a subgroup column as a categorical (codes, not a string per row; NaN if absent)."""
    if column not in table.column_names:
        return pd.Categorical(np.full(table.num_rows, None, dtype=object))
    return pd.Categorical(table.column(column).to_pandas())

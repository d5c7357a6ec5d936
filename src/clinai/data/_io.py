"""Read a local table (CSV or Parquet) with one clear error per failure."""

from __future__ import annotations

import logging
import os
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from clinai.exceptions import DataError

__all__ = ["read_table"]

logger = logging.getLogger(__name__)

FILE_NOT_FOUND = "data file '{path}' not found: check the path (in a config: data.source.path)"
NOT_A_FILE = "data path '{path}' is not a file: point data.source.path to a .csv or .parquet file"
UNKNOWN_SUFFIX = (
    "data file '{path}' has suffix {suffix!r}, which clinai cannot read: "
    "save it as .csv (UTF-8) or .parquet"
)
EMPTY_FILE = "data file '{path}' is empty (0 bytes): export the data again"
NO_ROWS = "data file '{path}' has no data rows: export the data again with its rows"
EXCEL_FILE = (
    "data file '{path}' is an Excel workbook, not {kind}: "
    "save it from Excel as 'CSV UTF-8' (.csv) or as Parquet"
)
PARQUET_AS_CSV = "data file '{path}' is a Parquet file, not CSV text: rename it to end in .parquet"
NOT_UTF8 = (
    "data file '{path}' is not UTF-8 text (first invalid byte on line {line}): "
    "save it as 'CSV UTF-8' or convert it with iconv -t UTF-8"
)
BAD_CSV = "data file '{path}' cannot be parsed as CSV ({reason}): check the delimiter and quoting"
#: pandas takes the leading fields of rows longer than the header as their index, silently
#: shifting every column: a decimal comma in a comma-separated file does this.
EXTRA_FIELDS = (
    "data file '{path}' has rows with more fields than its header row ({n} names): a "
    "decimal comma in a comma-separated file, or a separator inside a value? Save it with "
    "decimal points, or from Excel with semicolons, or quote the values"
)
BAD_PARQUET = "data file '{path}' is not a readable Parquet file ({reason}): export it again"
UNREADABLE = "data file '{path}' cannot be read ({reason}): check its permissions"

_CSV_SUFFIXES = frozenset({".csv"})
_PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
_ZIP_MAGIC = b"PK\x03\x04"  # .xlsx, .xlsm, .ods (zip containers)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (OLE2 compound file)
_PARQUET_MAGIC = b"PAR1"
#: The most of a header row read to tell the delimiter.
_HEADER_BYTES = 1 << 16


def _head(path: Path, n: int = 8) -> bytes:
    with path.open("rb") as handle:
        return handle.read(n)


def _is_excel(head: bytes) -> bool:
    return head.startswith(_ZIP_MAGIC) or head.startswith(_OLE_MAGIC)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return (text[:160] + "...") if len(text) > 160 else (text or type(exc).__name__)


def _first_bad_line(path: Path) -> int | str:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return "?"  # pragma: no cover - pandas and the line scan disagree


def _semicolon_separated(path: Path) -> bool:
    """Whether the header row is split by semicolons (and holds no comma)."""
    with path.open("rb") as handle:
        header = handle.readline(_HEADER_BYTES).decode("utf-8", errors="replace")
    return ";" in header and "," not in header


def _numeric_columns(frame: pd.DataFrame) -> int:
    return sum(pd.api.types.is_numeric_dtype(dtype) for dtype in frame.dtypes)


def _read_semicolon_csv(
    path: Path, *, text: bool, dtype: dict[Hashable, Any] | None
) -> pd.DataFrame:
    """Read the "CSV" Excel saves under Danish (and most European) settings.

    Its fields are separated by semicolons and its decimals are written with a comma;
    some exports keep the point. Both readings are made and the one that finds more
    numeric columns is kept: a decimal point read under ``decimal=","`` leaves a
    column of text (thousands separators are not expected in an export).
    """

    def read(**options: Any) -> pd.DataFrame:
        return pd.read_csv(path, sep=";", encoding="utf-8-sig", low_memory=False, **options)

    if text:
        return read(dtype=str)
    comma, point = read(decimal=",", dtype=dtype), read(dtype=dtype)
    if _numeric_columns(point) > _numeric_columns(comma):
        logger.info("read %s as semicolon-separated with decimal points", path.name)
        return point
    logger.info("read %s as semicolon-separated with decimal commas", path.name)
    return comma


def _read_csv(
    path: Path, shown: str, head: bytes, *, text: bool, text_columns: Sequence[str]
) -> pd.DataFrame:
    if _is_excel(head):
        raise DataError(EXCEL_FILE.format(path=shown, kind="CSV text"))
    if head.startswith(_PARQUET_MAGIC):
        raise DataError(PARQUET_AS_CSV.format(path=shown))
    try:
        columns: dict[Hashable, Any] | None = {c: str for c in text_columns} or None
        if _semicolon_separated(path):
            frame = _read_semicolon_csv(path, text=text, dtype=columns)
        else:  # utf-8-sig also strips the byte-order mark Excel writes in "CSV UTF-8"
            dtype = str if text else columns
            frame = pd.read_csv(path, encoding="utf-8-sig", low_memory=False, dtype=dtype)
    except UnicodeDecodeError as exc:
        raise DataError(NOT_UTF8.format(path=shown, line=_first_bad_line(path))) from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(NO_ROWS.format(path=shown)) from exc
    except pd.errors.ParserError as exc:
        raise DataError(BAD_CSV.format(path=shown, reason=_one_line(exc))) from exc
    if not isinstance(frame.index, pd.RangeIndex):  # fields beyond the header became the index
        raise DataError(EXTRA_FIELDS.format(path=shown, n=frame.shape[1]))
    return frame


def _read_parquet(path: Path, shown: str, head: bytes) -> pd.DataFrame:
    if _is_excel(head):
        raise DataError(EXCEL_FILE.format(path=shown, kind="Parquet"))
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError and others on corrupt files
        raise DataError(BAD_PARQUET.format(path=shown, reason=_one_line(exc))) from exc


def read_table(
    path: str | os.PathLike[str], *, text: bool = False, text_columns: Sequence[str] = ()
) -> pd.DataFrame:
    r"""Read a CSV (UTF-8) or Parquet file, chosen by the file's suffix.

    Parameters
    ----------
    path : str or path-like
        A ``.csv`` file (UTF-8, with or without a byte-order mark, header row;
        comma-separated, or semicolon-separated with decimal commas as Excel saves
        it under Danish settings) or a ``.parquet`` / ``.pq`` file.
    text : bool, default=False
        Keep every column of a CSV as text (identifiers exactly as written, e.g.
        ``"017"``); a Parquet file keeps its own types.
    text_columns : sequence of str, default=()
        Columns of a CSV kept as text: identifiers, whose leading zeros (a Danish
        CPR number of a person born on the 1st to 9th of a month) and digits beyond
        a float's precision are part of the identifier. A name the file lacks is
        ignored.

    Returns
    -------
    pandas.DataFrame
        The table, with at least one row.

    Raises
    ------
    DataError
        If the file is missing, empty, has an unsupported suffix, is an Excel
        workbook (or Parquet) named ``.csv``, is not UTF-8, cannot be parsed, or
        has no data rows. The message names the file and says what to do.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = p.write_text("age,died\n70,1\n55,0\n", encoding="utf-8")
    >>> read_table(p).shape
    (2, 2)
    """
    file = Path(path)
    shown = str(path)
    if not file.exists():
        raise DataError(FILE_NOT_FOUND.format(path=shown))
    if not file.is_file():
        raise DataError(NOT_A_FILE.format(path=shown))
    suffix = file.suffix.lower()
    if suffix not in _CSV_SUFFIXES | _PARQUET_SUFFIXES:
        raise DataError(UNKNOWN_SUFFIX.format(path=shown, suffix=file.suffix))
    try:
        head = _head(file)
    except OSError as exc:
        raise DataError(UNREADABLE.format(path=shown, reason=_one_line(exc))) from exc
    if not head:
        raise DataError(EMPTY_FILE.format(path=shown))
    if suffix in _CSV_SUFFIXES:
        frame = _read_csv(file, shown, head, text=text, text_columns=text_columns)
    else:
        frame = _read_parquet(file, shown, head)
    if len(frame) == 0:
        raise DataError(NO_ROWS.format(path=shown))
    logger.info("read %s: %s rows, %s columns", file.name, len(frame), frame.shape[1])
    return frame

"""Find and open the files of a FHIR export, and yield their numbered records.

A folder's export files, gzip told by its magic number, a byte order mark
dropped, and a file read either as NDJSON (one record per line; a Bundle on a
line gives its entries) or, when it holds one JSON document (a Bundle, an array
of resources, one pretty-printed resource), entry by entry. A line that is not
JSON or not UTF-8 becomes a ``_Skip`` record, so the reader counts it with its
line number, and so does the break of a gzip file cut short (after the lines
read before it); a file that cannot be read raises
:class:`~clinai.exceptions.DataError`.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from clinai.data._fhir_report import FHIR_EMPTY_FOLDER_MSG, FHIR_FILE_MSG, _Skip
from clinai.exceptions import DataError

#: Endings of the files read from a folder (a Bulk Data download, Synthea's fhir/).
_EXPORT_ENDINGS = (".ndjson", ".ndjson.gz", ".json", ".json.gz")


def _loads() -> Callable[[bytes], Any]:
    try:
        import orjson
    except ImportError:
        return json.loads
    return orjson.loads  # type: ignore[no-any-return]


def _open(path: Path) -> gzip.GzipFile | io.BufferedReader:
    # gzip by its magic number (RFC 1952), not the name: a download saved without
    # ".gz", or as ".GZ"
    with path.open("rb") as handle:
        zipped = handle.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if zipped else path.open("rb")


_BOM = b"\xef\xbb\xbf"  # files written on Windows often start with a byte order mark


#: What reading a gzip stream raises where it is cut short (EOFError) or damaged
#: (a bad CRC or length, a member that is not gzip, a bad deflate block).
_GZIP_BREAKS = (EOFError, gzip.BadGzipFile, zlib.error)


def _lines(path: Path) -> Iterator[tuple[int, bytes | _Skip]]:
    """Yield the numbered lines of a file as bytes, without a byte order mark.

    Lines are decoded one by one (by the JSON reader), so a line that is not
    UTF-8 is one skipped line, not a file that cannot be read. A gzip file cut
    short (a transfer interrupted) or damaged keeps the lines read before the
    break; the break is one ``truncated`` record after them, never a lost file.
    """
    number = 0
    try:
        with _open(path) as handle:
            try:
                for number, line in enumerate(handle, start=1):
                    yield number, line.removeprefix(_BOM) if number == 1 else line
            except _GZIP_BREAKS:
                if not isinstance(handle, gzip.GzipFile):
                    raise
                # the partial line at the break is lost with the rest of the file
                yield number + 1, _Skip("truncated")
    except (OSError, EOFError) as exc:
        raise DataError(FHIR_FILE_MSG.format(file=path, error=exc)) from exc


def _not_json(line: bytes) -> str:
    """Return why a line the JSON reader refused is not used."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return "not_utf8"
    return "not_json"


#: Marker of a blank line among parsed records (a line not read is a _Skip).
_BLANK = object()


def _bundle_entries(value: Any) -> list[Any] | None:
    """Return the resources of a Bundle (an entry without one gives an empty object)."""
    if not isinstance(value, dict) or value.get("resourceType") != "Bundle":
        return None
    entries = value.get("entry") or []
    return [e.get("resource", {}) if isinstance(e, dict) else e for e in entries]


def _document(path: Path, loads: Callable[[bytes], Any]) -> list[Any] | None:
    """Return the resources of a file holding one JSON document, or None.

    Synthea writes one Bundle per patient, often pretty-printed; other tools
    write a JSON array of resources, or one resource. An NDJSON file (a second
    line that holds JSON) is never read whole.
    """
    head: list[bytes] = []
    for _, line in _lines(path):
        if isinstance(line, _Skip):
            break  # a gzip cut short: its lines are read (and the break counted) below
        if line.strip():
            head.append(line)
            if len(head) == 2:
                break
    if not head:
        return None
    try:
        value = loads(head[0])
    except ValueError:
        if head[0].lstrip()[:1] not in (b"{", b"["):
            return None
        try:  # the first line opens a document written over many lines
            with _open(path) as handle:
                value = loads(handle.read().removeprefix(_BOM))
        except (ValueError, OSError, *_GZIP_BREAKS):
            return None  # not one document: read line by line, which names the damage
        if isinstance(value, dict) and _bundle_entries(value) is None:
            return [value]  # one resource, pretty-printed
    else:
        if len(head) > 1:
            return None  # NDJSON
    if isinstance(value, list):
        return value
    return _bundle_entries(value)


def _records(path: Path, loads: Callable[[bytes], Any]) -> tuple[str, Iterator[tuple[int, Any]]]:
    """Return what the numbers count (``line`` or ``entry``) and the numbered records."""
    document = _document(path, loads)
    if document is not None:
        return "entry", enumerate(document, start=1)
    return "line", _ndjson(path, loads)


def _ndjson(path: Path, loads: Callable[[bytes], Any]) -> Iterator[tuple[int, Any]]:
    for number, line in _lines(path):
        if isinstance(line, _Skip):
            yield number, line
            continue
        if not line.strip():
            yield number, _BLANK
            continue
        try:
            value = loads(line)
        except ValueError:
            yield number, _Skip(_not_json(line))
            continue
        entries = _bundle_entries(value)
        if entries is None:
            yield number, value
        else:  # a Bundle on one line: its resources, each at that line
            for entry in entries:
                yield number, entry


def _export_files(path: Path) -> list[Path]:
    """Return the file, or the export files of a folder (sorted by name)."""
    if not path.is_dir():
        return [path]
    found = sorted(
        p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(_EXPORT_ENDINGS)
    )
    if not found:
        raise DataError(FHIR_EMPTY_FOLDER_MSG.format(folder=path))
    return found


def _file_names(files: list[Path]) -> list[str]:
    """Names for the report: the file name, with its folder where two files share it."""
    names = Counter(p.name for p in files)
    return [p.name if names[p.name] == 1 else "/".join(p.parts[-2:]) for p in files]

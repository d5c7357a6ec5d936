"""PHI guard: no raw identifier or other protected value may appear in a run's outputs.

At the end of every run the raw values of ``data.patient_id`` (before
pseudonymisation) and of ``data.phi_columns`` are looked for in every file of
the run directory (except the patient-level ``prepared/`` and
``predictions.parquet``, which never leave it) and in the MLflow params and tags
of the parent run. A hit fails the run; the message names the output, the
column and the rule that matched, never the value.

What counts as a leak depends on what a value looks like, so that a count or a
metric that happens to equal an admission number is not one:

* **Identifier-like values** -- a value with a letter, a separator or a leading
  zero (``"AB-1234"``, ``"1907-03-01"``, ``"0123"``) or a plain number of at
  least :data:`LONG_NUMBER_DIGITS` digits (CPR, MRN) -- are searched as whole
  values everywhere (case-sensitive; not inside a longer word or number, so
  ``"1234"`` does not match in ``"0.1234"`` or ``"5,1234"``). Values shorter than
  :data:`MIN_VALUE_LENGTH` characters are searched only as below.
* **Plain numbers** (short integers such as admission numbers ``1..n``, and
  decimals) can equally be counts, so they are a leak only in identifier
  context:

  - right after the id column's name or an identifier word (:data:`ID_WORDS`:
    ``patient``, ``patient_id``, ``mrn``, ``cpr``, ``subject_id``, ``hadm_id``,
    ...) on the same line: ``"patient": 17``, ``patient 17``, ``patient no. 17``,
    ``mrn=17``; for a ``data.phi_columns`` column, after that column's name;
  - in a table column (Markdown, HTML, CSV/TSV) whose header is such a word;
  - in a JSON or YAML file, as the value (or a list item) of a key that is such
    a word or its plural (``"patients": [3, 17, 42]``);
  - in a list of at least :data:`MIN_LISTED_IDS` values, all of them ids, right
    after such a word or its plural (``patients [3, 17, 42]``).

  A number that is part of a decimal or a thousands group (``0.17``,
  ``5,017``) is never an id hit.

Binary outputs: Parquet files outside the patient-level set (column names,
every text value, the values of columns named like an identifier, and long
integers), SQLite databases (the same for every table), the text chunks of PNG
images (matplotlib's metadata), PDF metadata and, where ``pypdf`` is installed
(the ``dev`` extra), the PDF's text. Every other binary file (pickled models,
PDF streams without ``pypdf``) is searched byte-wise for the identifier-like
values.

Not checked: plain numbers inside binary data other than Parquet and SQLite
(for instance arrays in a pickled model); the pixels of images (text drawn into
a plot is not read back; the plots are drawn from aggregate results only); the
PDF's text when ``pypdf`` is not installed (the PDFs are rendered from the HTML
documents, which are checked); plain numbers that are not in identifier context
as defined above (a table of ids without a header, for instance); MLflow
metrics (numbers only) and the MLflow and Optuna stores outside the run
directory (the run's params and tags are checked; its artifacts are copied from
the checked run directory after the check).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import sqlite3
import struct
import zlib
from collections.abc import Iterable, Iterator, Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from clinai.exceptions import ClinaiError
from clinai.runs._rundir import PATIENT_LEVEL

if TYPE_CHECKING:
    import pandas as pd

    from clinai.config import ExperimentConfig

__all__ = [
    "ID_WORDS",
    "LONG_NUMBER_DIGITS",
    "MIN_LISTED_IDS",
    "MIN_VALUE_LENGTH",
    "Canaries",
    "Leak",
    "PhiLeakError",
    "find_leaks",
    "phi_canaries",
    "scan_run",
]

logger = logging.getLogger(__name__)

#: Identifier-like values shorter than this are not searched everywhere (``"F"`` or
#: ``"A1"`` would match letters of any report), only in identifier context.
MIN_VALUE_LENGTH = 4
#: A plain number with at least this many digits is identifier-like (CPR, MRN numbers).
LONG_NUMBER_DIGITS = 8
#: A list of ids after an identifier word is a leak from this many ids on.
MIN_LISTED_IDS = 3
#: Words after which (or as a table header or JSON key) a value of the id column is a leak.
ID_WORDS = (
    "patient",
    "patient_id",
    "patientid",
    "patient_no",
    "patient_nr",
    "patient_number",
    "mrn",
    "cpr",
    "cpr_nr",
    "cprnr",
    "subject_id",
    "hadm_id",
    "stay_id",
    "icustay_id",
    "admission_id",
    "encounter_id",
    "person_id",
)
PHI_FOUND = (
    "PHI guard: {where} contains a raw value of column {column!r} ({rule}; the value is not "
    "shown): remove it from that output; the run is marked failed"
)
RULE_WHOLE = "as a whole value"
RULE_CONTEXT = "after the word {word!r}"
RULE_TABLE = "in a table column headed {word!r}"
RULE_KEY = "under the key {word!r}"
RULE_LIST = "in a list of identifiers after {word!r}"
RULE_COLUMN = "in the identifier column {word!r} of a table file"

# Embedded images (base64) are not text a person reads, and their letters match anything.
_DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]+")
_TOKEN = re.compile(r"[A-Za-z0-9]+")
_PLAIN_NUMBER = re.compile(r"[1-9]\d*|\d+\.\d+")
_FLOAT_INTEGER = re.compile(r"([+-]?\d+)\.0+")
# What may stand between an identifier word and its value: quotes, ':', '=', '#', '|',
# brackets, '-', and "no." / "nr" / "number" / "id" ("patient no. 17", "patient id 17").
_SEPARATORS = r"[ \t\"':=#|(\[{-]*(?:(?:no|nr|number|id)\.?[ \t\"':=#-]*)?"
_VALUE = r"(?P<value>[A-Za-z0-9][A-Za-z0-9_/-]*)(?![A-Za-z0-9_/-])(?![.,]\d)"
# A list of numbers: in brackets (any commas), or bare with a space after each comma, so
# that a thousands group ("1,234,567") is not a list.
_LIST = (
    r"(?:[\[(][ \t]*(?P<bracketed>\d+(?:[ \t]*[,;][ \t]*\d+)+)[ \t]*[\])]"
    r"|(?P<items>\d+(?:[ \t]*[,;][ \t]+\d+)+)(?![.,]?\d))"
)
_MD_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_PDF_SUFFIXES = {".pdf"}
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_PARQUET_MAGIC = b"PAR1"


class PhiLeakError(ClinaiError):
    """A raw identifier or another protected value was found in a run's output."""


class Leak(NamedTuple):
    """Where a protected value was found, from which column, by which rule (never the value)."""

    where: str
    column: str
    rule: str


def _normalise(value: str) -> str:
    """Strip a value; an integer read as a float (``"17.0"``, ids with gaps) becomes ``"17"``."""
    value = value.strip()
    match = _FLOAT_INTEGER.fullmatch(value)
    return match.group(1) if match else value


def _identifier_like(value: str) -> bool:
    """Tell identifier-like values (searched everywhere) from plain numbers (context only)."""
    if _PLAIN_NUMBER.fullmatch(value) is None:
        return True
    return "." not in value and len(value) >= LONG_NUMBER_DIGITS


def _header(cell: str) -> str:
    """Normalise a table header or key: lower case, no Markdown emphasis, spaces as ``_``."""
    return re.sub(r"\s+", "_", cell.strip().strip("*`").strip().lower())


class _Column:
    """The raw values of one protected column and the words that announce them."""

    def __init__(self, name: str, values: Iterable[str], *, words: Iterable[str]) -> None:
        self.name = name
        self.values = {v for v in (_normalise(str(x)) for x in values) if v}
        self.words = {w for w in (_header(w) for w in words) if len(w) >= 2}
        self.plurals = {f"{w}s" for w in self.words}
        self.anywhere = {
            v for v in self.values if len(v) >= MIN_VALUE_LENGTH and _identifier_like(v)
        }
        # Identifier-like values by their first alphanumeric run: the text is cut into such
        # runs, and only a run that starts a value is compared with it (no huge regex).
        self.by_token: dict[str, list[tuple[str, int]]] = {}
        for value in self.anywhere:
            token = _TOKEN.search(value)
            if token is not None:
                self.by_token.setdefault(token.group(), []).append((value, token.start()))
        words_pattern = "|".join(
            re.escape(w).replace("_", "[_ ]") for w in sorted(self.words, key=len, reverse=True)
        )
        plurals_pattern = "|".join(
            re.escape(w).replace("_", "[_ ]")
            for w in sorted(self.words | self.plurals, key=len, reverse=True)
        )
        self.context = (
            re.compile(
                rf"(?<![A-Za-z0-9_])(?P<word>{words_pattern})(?![A-Za-z0-9_]){_SEPARATORS}{_VALUE}",
                re.IGNORECASE,
            )
            if words_pattern
            else None
        )
        self.listed = (
            re.compile(
                rf"(?<![A-Za-z0-9_])(?P<word>{plurals_pattern})(?![A-Za-z0-9_])"
                rf"[ \t\"':=#|{{-]*{_LIST}",
                re.IGNORECASE,
            )
            if plurals_pattern
            else None
        )

    def find_anywhere(self, text: str) -> bool:
        """Return whether an identifier-like value occurs in ``text`` as a whole value."""
        if not self.by_token:
            return False
        for match in _TOKEN.finditer(text):
            candidates = self.by_token.get(match.group())
            if not candidates:
                continue
            for value, offset in candidates:
                start = match.start() - offset
                end = start + len(value)
                if start < 0 or text[start:end] != value:
                    continue
                if _bounded(text, start, end, value):
                    return True
        return False

    def find_in_context(self, text: str) -> str | None:
        """Return the rule by which a value occurs in identifier context in ``text``, or None."""
        if self.context is not None:
            for match in self.context.finditer(text):
                if _normalise(match.group("value")) in self.values:
                    return RULE_CONTEXT.format(word=match.group("word").lower())
        if self.listed is not None:
            for match in self.listed.finditer(text):
                listed = match.group("bracketed") or match.group("items")
                items = re.split(r"[ \t]*[,;][ \t]*", listed)
                if len(set(items)) >= MIN_LISTED_IDS and all(i in self.values for i in items):
                    return RULE_LIST.format(word=match.group("word").lower())
        return None

    def announces(self, header: str, *, plural: bool = False) -> bool:
        """Return whether a table header or key names this column or an identifier."""
        key = _header(header)
        return key in self.words or (plural and key in self.plurals)


def _bounded(text: str, start: int, end: int, value: str) -> bool:
    """Return whether ``text[start:end]`` is a whole value, not part of a word or number."""
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    if (before.isascii() and before.isalnum()) or (after.isascii() and after.isalnum()):
        return False
    # "0.12345678" or "1,12345678": the digits continue a number.
    if value[0].isdigit() and before in ".," and start > 1 and text[start - 2].isdigit():
        return False
    return not (
        value[-1].isdigit() and after in ".," and end + 1 < len(text) and text[end + 1].isdigit()
    )


class Canaries:
    """The raw protected values of a dataset, by column, prepared for searching.

    Parameters
    ----------
    values : mapping of str to iterable of str
        Column name -> its raw values (as text).
    id_column : str, optional
        The patient identifier column: besides its own name, the identifier words
        :data:`ID_WORDS` announce its values.
    """

    def __init__(
        self, values: Mapping[str, Iterable[str]], *, id_column: str | None = None
    ) -> None:
        self._columns: list[_Column] = []
        for name, column_values in values.items():
            words = [name, *(ID_WORDS if name == id_column else ())]
            column = _Column(name, column_values, words=words)
            if column.values:
                self._columns.append(column)

    def __bool__(self) -> bool:
        return bool(self._columns)

    def find(self, text: str) -> tuple[str, str] | None:
        """Return ``(column, rule)`` of the first protected value in ``text``, or None."""
        text = _DATA_URI.sub(" ", text)
        for column in self._columns:
            if column.find_anywhere(text):
                return column.name, RULE_WHOLE
        for column in self._columns:
            rule = column.find_in_context(text)
            if rule is not None:
                return column.name, rule
        return None

    def find_anywhere(self, text: str) -> tuple[str, str] | None:
        """Like :meth:`find`, identifier-like values only (for binary data read as text)."""
        for column in self._columns:
            if column.find_anywhere(text):
                return column.name, RULE_WHOLE
        return None

    def find_in_table(self, header: list[str], rows: Iterable[list[str]]) -> tuple[str, str] | None:
        """Return ``(column, rule)`` if a column headed by an identifier word holds an id."""
        announced = [
            (index, column)
            for index, cell in enumerate(header)
            for column in self._columns
            if column.announces(cell)
        ]
        if not announced:
            return None
        for row in rows:
            for index, column in announced:
                if index < len(row) and _normalise(row[index]) in column.values:
                    return column.name, RULE_TABLE.format(word=_header(header[index]))
        return None

    def find_in_values(self, key: str, values: Iterable[Any]) -> tuple[str, str] | None:
        """Return ``(column, rule)`` if ``values`` under an identifier key hold an id."""
        columns = [c for c in self._columns if c.announces(key, plural=True)]
        if not columns:
            return None
        texts = {_normalise(str(v)) for v in values if v is not None and not isinstance(v, bool)}
        for column in columns:
            if texts & column.values:
                return column.name, RULE_KEY.format(word=_header(key))
        return None

    def find_in_structure(self, data: Any) -> tuple[str, str] | None:
        """Walk parsed JSON/YAML: a value or list item under an identifier key is checked."""
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, Mapping):
                for key, value in item.items():
                    scalars = value if isinstance(value, list) else [value]
                    plain = [v for v in scalars if not isinstance(v, (Mapping, list))]
                    hit = self.find_in_values(str(key), plain)
                    if hit is not None:
                        return hit
                    stack.append(value)
            elif isinstance(item, list):
                stack.extend(item)
        return None


def phi_canaries(config: ExperimentConfig, raw: pd.DataFrame) -> Canaries:
    """Collect the raw values of ``data.patient_id`` and ``data.phi_columns`` from ``raw``."""
    columns = [c for c in [config.data.patient_id, *config.data.phi_columns] if c is not None]
    values = {
        column: raw[column].dropna().astype(str).tolist()
        for column in dict.fromkeys(columns)
        if column in raw.columns
    }
    return Canaries(values, id_column=config.data.patient_id)


class _HtmlText(HTMLParser):
    """The readable text of an HTML document, line by line, and its tables as cell lists."""

    # Tags that start a new line of text (a table row is a line; cells are joined by "|").
    _BLOCK = re.compile(r"p|div|li|tr|br|table|caption|d[tdl]|[uo]l|h[1-6]|section|header|footer")
    _ATTRIBUTES: ClassVar[frozenset[str]] = frozenset(
        ("alt", "title", "aria-label", "content", "value", "placeholder")
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.tables: list[list[list[str]]] = []
        self._open: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1
        for name, value in attrs:
            if name in self._ATTRIBUTES and value:
                self.parts.append(f"\n{value}\n")
        if self._BLOCK.fullmatch(tag):
            self.parts.append("\n")
        if tag == "table":
            self._open.append([])
        elif tag == "tr" and self._open:
            self._open[-1].append([])
        elif tag in {"td", "th"}:
            self.parts.append(" | ")
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._skip = max(0, self._skip - 1)
        if tag in {"td", "th"} and self._cell is not None:
            if self._open and self._open[-1]:
                self._open[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table" and self._open:
            self.tables.append(self._open.pop())
        if self._BLOCK.fullmatch(tag):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.parts.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _markdown_tables(text: str) -> Iterator[tuple[list[str], list[list[str]]]]:
    """Yield ``(header, rows)`` of every pipe table in Markdown text."""
    lines = text.splitlines()
    for index in range(len(lines) - 1):
        if "|" in lines[index] and _MD_RULE.match(lines[index + 1]) and "-" in lines[index + 1]:
            rows = []
            for line in lines[index + 2 :]:
                if "|" not in line:
                    break
                rows.append(_cells(line))
            yield _cells(lines[index]), rows


def _cells(line: str) -> list[str]:
    line = line.strip()
    line = line[1:] if line.startswith("|") else line
    line = line[:-1] if line.endswith("|") else line
    return [cell.strip() for cell in line.split("|")]


def _check_text(canaries: Canaries, relative: str, text: str) -> tuple[str, str] | None:
    """Check a text file by its kind: HTML, Markdown, CSV/TSV, JSON/YAML, or plain text."""
    suffix = Path(relative).suffix.lower()
    if suffix in {".html", ".htm", ".xhtml", ".svg"}:
        # Markup (element ids such as id="s-3", styles) is not text: identifier context is
        # judged on the readable text and the tables; whole values are searched in both.
        hit = canaries.find_anywhere(_DATA_URI.sub(" ", text))
        parser = _HtmlText()
        parser.feed(_DATA_URI.sub(" ", text))
        parser.close()
        hit = hit or canaries.find("".join(parser.parts))
        for table in parser.tables:
            if hit is None and table:
                hit = canaries.find_in_table(table[0], table[1:])
        return hit
    hit = canaries.find(text)
    if hit is not None:
        return hit
    for header, rows in _markdown_tables(text):
        hit = canaries.find_in_table(header, rows)
        if hit is not None:
            return hit
    if suffix in {".csv", ".tsv"}:
        reader = csv.reader(io.StringIO(text), delimiter="\t" if suffix == ".tsv" else ",")
        csv_header = next(reader, None)
        if csv_header:
            hit = canaries.find_in_table(csv_header, reader)
            if hit is not None:
                return hit
    parsed = _parse_structured(suffix, text)
    return canaries.find_in_structure(parsed) if parsed is not None else None


def _parse_structured(suffix: str, text: str) -> Any:
    try:
        if suffix == ".json":
            return json.loads(text)
        if suffix == ".jsonl":
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        if suffix in {".yaml", ".yml"}:
            import yaml

            return yaml.safe_load(text)
    except Exception:  # not parseable (or no yaml): the text rules above still applied
        return None
    return None


def _check_frame_columns(
    canaries: Canaries, columns: Iterable[tuple[str, list[Any]]]
) -> tuple[str, str] | None:
    """Check the columns of a table file (Parquet, SQLite): names, text and id columns."""
    for name, values in columns:
        hit = canaries.find_anywhere(str(name))
        if hit is None:
            hit = canaries.find_in_values(name, values)
            if hit is not None:
                hit = (hit[0], RULE_COLUMN.format(word=_header(name)))
        if hit is None:
            texts = [v for v in values if isinstance(v, str)]
            if texts:
                hit = canaries.find("\n".join(texts))
            numbers = [str(v) for v in values if isinstance(v, int) and not isinstance(v, bool)]
            if hit is None and numbers:
                hit = canaries.find_anywhere("\n".join(numbers))
        if hit is not None:
            return hit
    return None


def _parquet_columns(path: Path) -> Iterator[tuple[str, list[Any]]]:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    metadata = parquet.schema_arrow.metadata or {}
    yield "", [v.decode("utf-8", "replace") for v in metadata.values()]
    for name in parquet.schema_arrow.names:
        column = parquet.read(columns=[name]).column(name)
        yield str(name), pc.unique(column.combine_chunks()).to_pylist()


def _sqlite_columns(path: Path) -> Iterator[tuple[str, list[Any]]]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master")]
        yield "", tables
        for table in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            quoted = '"' + table[0].replace('"', '""') + '"'
            names = [row[1] for row in connection.execute(f"PRAGMA table_info({quoted})")]
            for name in names:
                column = '"' + name.replace('"', '""') + '"'
                rows = connection.execute(f"SELECT DISTINCT {column} FROM {quoted}")
                yield name, [row[0] for row in rows]
    finally:
        connection.close()


def _png_texts(data: bytes) -> Iterator[str]:
    """Yield the text chunks (tEXt, zTXt, iTXt) of a PNG image."""
    position = len(_PNG_MAGIC)
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        position += 12 + length
        try:
            if kind == b"tEXt":
                yield body.replace(b"\x00", b": ").decode("latin-1")
            elif kind == b"zTXt":
                key, _, rest = body.partition(b"\x00")
                yield key.decode("latin-1") + ": " + zlib.decompress(rest[1:]).decode("latin-1")
            elif kind == b"iTXt":
                key, _, rest = body.partition(b"\x00")
                compressed, rest = rest[0], rest[2:]
                _, _, rest = rest.partition(b"\x00")  # language tag
                _, _, text = rest.partition(b"\x00")  # translated keyword
                text = zlib.decompress(text) if compressed else text
                yield key.decode("latin-1") + ": " + text.decode("utf-8", "replace")
        except (zlib.error, IndexError):
            continue


def _pdf_texts(path: Path) -> Iterator[str]:
    """Yield a PDF's metadata and, where pypdf is installed, the text of its pages."""
    try:
        import pypdf
    except ImportError:  # the PDF is rendered from the checked HTML; its bytes are searched
        return
    reader = pypdf.PdfReader(path)
    yield "\n".join(f"{k}: {v}" for k, v in (reader.metadata or {}).items())
    for page in reader.pages:
        yield page.extract_text() or ""


def _check_binary(canaries: Canaries, path: Path, data: bytes) -> tuple[str, str] | None:
    """Check a binary output: parsed where its format is known, byte-wise otherwise."""
    hit = canaries.find_anywhere(data.decode("utf-8", errors="replace"))
    if hit is not None:
        return hit
    if data.startswith(_PARQUET_MAGIC) or path.suffix.lower() == ".parquet":
        return _check_frame_columns(canaries, _parquet_columns(path))
    if data.startswith(_SQLITE_MAGIC):
        return _check_frame_columns(canaries, _sqlite_columns(path))
    if data.startswith(_PNG_MAGIC):
        return canaries.find("\n".join(_png_texts(data)))
    if path.suffix.lower() in _PDF_SUFFIXES or data.startswith(b"%PDF"):
        return canaries.find("\n".join(_pdf_texts(path)))
    return None


def _outputs(run_path: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(run_path.rglob("*")):
        relative = path.relative_to(run_path).as_posix()
        if not path.is_file() or path.is_symlink():
            continue
        if relative.split("/", 1)[0] in PATIENT_LEVEL:
            continue
        yield relative, path


def find_leaks(
    canaries: Canaries, run_path: Path, *, mlflow_texts: Mapping[str, str] | None = None
) -> list[Leak]:
    """Return a :class:`Leak` for every output that holds a protected raw value.

    Parameters
    ----------
    canaries : Canaries
        The values to look for.
    run_path : pathlib.Path
        The run directory; its patient-level files are skipped.
    mlflow_texts : mapping of str to str, optional
        MLflow params and tags of the run (``param.<key>`` / ``tag.<key>`` -> value).
    """
    leaks: list[Leak] = []
    if not canaries:
        return leaks
    for relative, path in _outputs(run_path):
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        binary = text is None or data.startswith((_PARQUET_MAGIC, _SQLITE_MAGIC, _PNG_MAGIC))
        try:
            hit = (
                _check_binary(canaries, path, data)
                if binary or text is None
                else _check_text(canaries, relative, text)
            )
        except Exception as exc:  # an unparseable file is still searched, never a crash
            logger.warning(
                "PHI guard: %s could not be parsed (%s); searched as bytes",
                relative,
                type(exc).__name__,
            )
            hit = canaries.find_anywhere(data.decode("utf-8", errors="replace"))
        if hit is not None:
            leaks.append(Leak(f"file {relative!r} of the run directory", *hit))
    for key, value in (mlflow_texts or {}).items():
        kind, _, name = key.partition(".")
        hit = canaries.find(f"{name}: {value}")
        if hit is not None:
            leaks.append(Leak(f"MLflow {kind} {name!r}", *hit))
    return leaks


def scan_run(
    config: ExperimentConfig, run_path: Path, *, mlflow_texts: Mapping[str, str] | None = None
) -> None:
    """Fail if a run's outputs hold a raw identifier or a ``data.phi_columns`` value.

    The raw data are read again from the configured source (they are never
    stored in the run directory). What is and is not checked: see the module docstring.

    Raises
    ------
    PhiLeakError
        Naming the first output (file or MLflow param/tag), the column and the rule;
        never the value.
    """
    if config.data.patient_id is None and not config.data.phi_columns:
        return
    from clinai.runs._plugins import load_pipeline
    from clinai.runs._prepare import _load_source

    raw, _, _ = _load_source(config, load_pipeline(config.pipeline))
    canaries = phi_canaries(config, raw)
    leaks = find_leaks(canaries, run_path, mlflow_texts=mlflow_texts)
    if leaks:
        first = leaks[0]
        for other in leaks[1:]:
            logger.error(
                "PHI guard: %s contains a raw value of %s (%s)",
                other.where,
                other.column,
                other.rule,
            )
        raise PhiLeakError(
            PHI_FOUND.format(where=first.where, column=first.column, rule=first.rule)
        )
    logger.info("PHI guard: no raw identifier found in %s", run_path)

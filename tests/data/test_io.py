from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from clinai.data import _io, read_table
from clinai.exceptions import DataError


def _raises(path: Path | str, message: str) -> None:
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        read_table(path)


def test_reads_csv_and_parquet(tmp_path: Path) -> None:
    frame = pd.DataFrame({"age": [70, 55], "sex": ["F", "M"], "died": [1, 0]})
    frame.to_csv(tmp_path / "x.csv", index=False)
    frame.to_parquet(tmp_path / "x.parquet", index=False)
    pd.testing.assert_frame_equal(read_table(tmp_path / "x.csv"), frame)
    pd.testing.assert_frame_equal(read_table(str(tmp_path / "x.parquet")), frame)


def test_csv_with_byte_order_mark_keeps_clean_column_names(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffage,died\n70,1\n".encode())
    assert list(read_table(path).columns) == ["age", "died"]


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.csv"
    _raises(path, _io.FILE_NOT_FOUND.format(path=path))
    assert str(path) in _io.FILE_NOT_FOUND.format(path=path)


def test_directory(tmp_path: Path) -> None:
    _raises(tmp_path, _io.NOT_A_FILE.format(path=tmp_path))


def test_unknown_suffix(tmp_path: Path) -> None:
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"PK\x03\x04rest")
    _raises(path, _io.UNKNOWN_SUFFIX.format(path=path, suffix=".xlsx"))


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    _raises(path, _io.EMPTY_FILE.format(path=path))


def test_header_only_csv_has_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("age,died\n", encoding="utf-8")
    _raises(path, _io.NO_ROWS.format(path=path))


def test_blank_csv_has_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("\n\n", encoding="utf-8")
    _raises(path, _io.NO_ROWS.format(path=path))


@pytest.mark.parametrize(
    "magic", [b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"], ids=["xlsx", "xls"]
)
def test_excel_named_csv(tmp_path: Path, magic: bytes) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(magic + b"\x00" * 64)
    _raises(path, _io.EXCEL_FILE.format(path=path, kind="CSV text"))


def test_excel_named_parquet(tmp_path: Path) -> None:
    path = tmp_path / "export.parquet"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    _raises(path, _io.EXCEL_FILE.format(path=path, kind="Parquet"))


def test_parquet_named_csv(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    pd.DataFrame({"a": [1]}).to_parquet(path)
    _raises(path, _io.PARQUET_AS_CSV.format(path=path))


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("name,age\nAnna,71\nS\u00f8ren,70\n".encode("latin-1"))
    _raises(path, _io.NOT_UTF8.format(path=path, line=3))


def test_unparseable_csv(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text('a,b\n1,2\n3,"4\n', encoding="utf-8")
    with pytest.raises(DataError, match=re.escape(f"data file '{path}' cannot be parsed as CSV (")):
        read_table(path)


def test_corrupt_parquet(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"this is not parquet at all")
    with pytest.raises(DataError, match=re.escape(f"data file '{path}' is not a readable Parquet")):
        read_table(path)


def test_messages_are_one_line() -> None:
    for name in dir(_io):
        value = getattr(_io, name)
        if name.isupper() and isinstance(value, str) and "{path}" in value:
            assert "\n" not in value


@pytest.mark.parametrize("decimal", [",", "."])
def test_semicolon_csv_as_excel_saves_it_in_danish_reads_as_numbers(
    tmp_path: Path, decimal: str
) -> None:
    frame = pd.DataFrame({"patient": [17, 18, 19], "risk": [0.25, 0.5, 0.125], "ward": list("abc")})
    path = tmp_path / "danish.csv"
    path.write_text(frame.to_csv(index=False, sep=";", decimal=decimal), encoding="utf-8-sig")
    read = read_table(path)
    pd.testing.assert_frame_equal(read, frame)


def test_a_comma_csv_with_semicolons_in_its_texts_stays_comma_separated(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text('age,note\n70,"a;b"\n55,c\n', encoding="utf-8")
    assert read_table(path)["note"].tolist() == ["a;b", "c"]


@pytest.mark.parametrize("sep", [",", ";"])
def test_text_keeps_identifiers_as_written(tmp_path: Path, sep: str) -> None:
    path = tmp_path / "outcomes.csv"
    path.write_text(f"patient{sep}outcome\n017{sep}1\n18{sep}0\n", encoding="utf-8")
    read = read_table(path, text=True)
    assert read["patient"].tolist() == ["017", "18"]
    assert read["outcome"].tolist() == ["1", "0"]


@pytest.mark.parametrize("sep", [",", ";"])
def test_text_columns_keep_identifiers_and_leave_the_rest_numeric(tmp_path: Path, sep: str) -> None:
    path = tmp_path / "cohort.csv"
    big = "12345678901234567890"  # beyond a float's 16 digits
    path.write_text(f"cpr{sep}age\n0101701234{sep}54\n{big}{sep}61\n{sep}70\n", encoding="utf-8")
    read = read_table(path, text_columns=["cpr", "not_in_the_file"])
    assert read["cpr"].iloc[:2].tolist() == ["0101701234", big] and read["cpr"].isna().iloc[2]
    assert pd.api.types.is_integer_dtype(read["age"])
    path.write_text(f"cpr{sep}age\n0101701234{sep}54\n", encoding="utf-8")
    assert read_table(path)["cpr"].iloc[0] == 101701234  # without: inferred as a number
    assert read_table(path, text_columns=["cpr"])["cpr"].iloc[0] == "0101701234"


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("pid,y,p\n1,0,0,1\n2,1,0,8\n", 3),  # decimal commas in a comma-separated file
        ("a;b\n1;2;3\n4;5;6\n", 2),  # a separator inside a value
    ],
)
@pytest.mark.parametrize("as_text", [False, True])
def test_rows_longer_than_the_header_stop_instead_of_shifting_columns(
    tmp_path: Path, text: str, n: int, as_text: bool
) -> None:
    """pandas took the first field as the index: 'y' read 0, 0 and the error blamed the outcome."""
    path = tmp_path / "x.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=f"^{re.escape(_io.EXTRA_FIELDS.format(path=path, n=n))}$"):
        read_table(path, text=as_text)

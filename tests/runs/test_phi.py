"""PHI guard: identifiers are found in every kind of output; counts and metrics are not ids."""

from __future__ import annotations

import json
import pickle
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from clinai.runs._phi import (
    PHI_FOUND,
    RULE_WHOLE,
    Canaries,
    Leak,
    find_leaks,
)

from ..conftest import require_weasyprint

# Admission numbers 1..5000: every count, threshold and rank of a report is also an id.
INTEGER_IDS = Canaries({"patient": [str(i) for i in range(1, 5001)]}, id_column="patient")
TEXT_IDS = Canaries({"patient": ["AB-1234", "AB-1235", "Q7"]}, id_column="patient")


def _leaks(canaries: Canaries, tmp_path: Path, name: str, content: str | bytes) -> list[Leak]:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return find_leaks(canaries, tmp_path)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("training.json", json.dumps({"n_train": 1050, "n_test": 450, "cv_folds": 3})),
        ("metrics.json", json.dumps({"n": 1500, "thresholds": [10, 20, 30, 40, 50]}, indent=2)),
        ("model_card.md", "A held-out test set of 1,234 patients, 264 of whom had the outcome.\n"),
        (
            "model_card.md",
            "| Patients | Events | AUROC |\n| --- | --- | --- |\n| 1050 | 264 | 0.1234 |\n",
        ),
        ("report.md", "The patient 17.5 kg threshold; patient 5,017; patients 1,234,567.\n"),
        ("report.md", "Each patient contributes 1 row; 17 patients per site.\n"),
        ("report.html", "<table><tr><th>Patients</th></tr><tr><td>1050</td></tr></table>"),
        ("data.csv", "n,events\n1050,264\n"),
        ("config.resolved.yaml", "data:\n  patient_id: patient\nsplit:\n  seed: 42\n"),
        ("notes.md", "age bands [18, 65, 75] of the patients; patients: 300, events: 90\n"),
    ],
)
def test_counts_and_metrics_are_not_identifiers(tmp_path: Path, name: str, content: str) -> None:
    assert _leaks(INTEGER_IDS, tmp_path, name, content) == []


@pytest.mark.parametrize(
    ("name", "content", "rule"),
    [
        ("model_card.md", "Patient 17 was interesting.\n", "after the word 'patient'"),
        ("model_card.md", "See patient no. 17.\n", "after the word 'patient'"),
        ("notes.txt", "patient #17 and more\n", "after the word 'patient'"),
        ("card.json", json.dumps({"example": {"patient": 17}}), "after the word 'patient'"),
        ("log.txt", "mrn=17 admitted\n", "after the word 'mrn'"),
        ("log.txt", "PATIENT_ID: 4711\n", "after the word 'patient_id'"),
        (
            "model_card.md",
            "| patient | risk |\n| --- | --- |\n| 17 | 0.12 |\n",
            "in a table column headed 'patient'",
        ),
        (
            "report.html",
            "<table><tr><th>Patient ID</th><th>risk</th></tr><tr><td>17</td><td>0.1</td></tr>"
            "</table>",
            "in a table column headed 'patient_id'",
        ),
        ("rows.csv", "patient,risk\n17,0.12\n", "in a table column headed 'patient'"),
        (
            "cases.json",
            json.dumps({"flagged": {"patients": [3, 17, 42]}}, indent=2),
            "under the key 'patients'",
        ),
        ("notes.md", "flagged patients [3, 17, 42]\n", "in a list of identifiers after 'patients'"),
        ("notes.md", "flagged patients: 3, 17, 42\n", "in a list of identifiers after 'patients'"),
    ],
)
def test_integer_ids_in_identifier_context_are_caught(
    tmp_path: Path, name: str, content: str, rule: str
) -> None:
    leaks = _leaks(INTEGER_IDS, tmp_path, name, content)
    assert [(leak.column, leak.rule) for leak in leaks] == [("patient", rule)]
    assert leaks[0].where == f"file {name!r} of the run directory"


@pytest.mark.parametrize(
    ("content", "found"),
    [
        ("Patient AB-1234 was seen.", True),
        ("AB-1234", True),
        ("xAB-1234 and AB-12345 and AB-1234x", False),
        ("Q7 is too short to search everywhere", False),
        ("but patient Q7 is in context", True),
    ],
)
def test_identifier_like_values_are_whole_values(tmp_path: Path, content: str, found: bool) -> None:
    assert bool(_leaks(TEXT_IDS, tmp_path, "notes.md", content)) is found


def test_long_numbers_are_identifiers_but_not_inside_decimals(tmp_path: Path) -> None:
    cpr = Canaries({"cpr": ["0101071234", "12345678"]})
    assert _leaks(cpr, tmp_path, "a.md", "AUROC 0.12345678 and 1,12345678 rows\n") == []
    assert _leaks(cpr, tmp_path, "b.md", "contact 12345678 today\n")[0].rule == RULE_WHOLE
    # A leading zero makes a short number identifier-like as well.
    assert Canaries({"mrn": ["0042"]}).find("record 0042") == ("mrn", RULE_WHOLE)


def test_phi_column_numbers_count_after_the_column_name_only(tmp_path: Path) -> None:
    canaries = Canaries({"postcode": ["2100", "8000"]}, id_column="patient")
    assert _leaks(canaries, tmp_path, "a.md", "2100 rows, 8000 bootstrap draws\n") == []
    leaks = _leaks(canaries, tmp_path, "b.md", "postcode: 2100\n")
    assert [(leak.column, leak.rule) for leak in leaks] == [
        ("postcode", "after the word 'postcode'")
    ]


def test_parquet_artifacts_are_checked(tmp_path: Path) -> None:
    counts = pd.DataFrame({"threshold": [10, 20, 30], "n_flagged": [1050, 17, 42]})
    counts.to_parquet(tmp_path / "operating_points.parquet")
    assert find_leaks(INTEGER_IDS, tmp_path) == []
    # A patient-level table outside predictions.parquet/prepared/: the id column gives it away.
    rows = pd.DataFrame({"patient": [17, 42], "risk": [0.1, 0.2]})
    rows.to_parquet(tmp_path / "r.parquet")
    leaks = find_leaks(INTEGER_IDS, tmp_path)
    assert [(leak.where, leak.rule) for leak in leaks] == [
        (
            "file 'r.parquet' of the run directory",
            "in the identifier column 'patient' of a table file",
        )
    ]


def test_parquet_text_values_and_index_are_checked(tmp_path: Path) -> None:
    pd.DataFrame({"note": ["seen: AB-1234"]}).to_parquet(tmp_path / "notes.parquet")
    assert [leak.rule for leak in find_leaks(TEXT_IDS, tmp_path)] == [RULE_WHOLE]
    (tmp_path / "notes.parquet").unlink()
    frame = pd.DataFrame({"risk": [0.1, 0.2]}, index=pd.Index([17, 42], name="patient"))
    frame.to_parquet(tmp_path / "indexed.parquet")
    assert len(find_leaks(INTEGER_IDS, tmp_path)) == 1


def test_patient_level_files_are_not_searched(tmp_path: Path) -> None:
    (tmp_path / "prepared").mkdir()
    pd.DataFrame({"patient": [17]}).to_parquet(tmp_path / "prepared" / "train.parquet")
    pd.DataFrame({"patient": [17]}).to_parquet(tmp_path / "predictions.parquet")
    assert find_leaks(INTEGER_IDS, tmp_path) == []


def test_sqlite_files_are_checked(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "cache.db")
    connection.execute("CREATE TABLE counts (n INTEGER)")
    connection.execute("INSERT INTO counts VALUES (1050)")
    connection.commit()
    connection.close()
    assert find_leaks(INTEGER_IDS, tmp_path) == []
    connection = sqlite3.connect(tmp_path / "cache.db")
    connection.execute("CREATE TABLE seen (patient_id INTEGER, note TEXT)")
    connection.execute("INSERT INTO seen VALUES (17, 'x')")
    connection.commit()
    connection.close()
    assert len(find_leaks(INTEGER_IDS, tmp_path)) == 1


def test_png_text_chunks_are_checked(tmp_path: Path) -> None:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    for compressed, name in ((False, "a.png"), (True, "b.png")):
        info = PngInfo()
        info.add_text("Title", "Risk of patient AB-1234", zip=compressed)
        Image.new("RGB", (4, 4)).save(tmp_path / name, pnginfo=info)
    leaks = find_leaks(TEXT_IDS, tmp_path)
    assert [leak.where for leak in leaks] == [
        "file 'a.png' of the run directory",
        "file 'b.png' of the run directory",
    ]


def test_pickled_model_bytes_are_checked(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "model.pkl").write_bytes(pickle.dumps({"categories": ["AB-1234"]}))
    assert [leak.rule for leak in find_leaks(TEXT_IDS, tmp_path)] == [RULE_WHOLE]


def test_pdf_text_is_checked(tmp_path: Path) -> None:
    pytest.importorskip("pypdf")
    require_weasyprint()  # pango's OSError is not caught by importorskip
    from clinai.reporting import write_pdf

    source = tmp_path.parent / f"{tmp_path.name}-source.html"
    source.write_text("<html><body><p>Patient 17 was seen.</p></body></html>")
    write_pdf(source, tmp_path / "card.pdf")
    leaks = find_leaks(INTEGER_IDS, tmp_path)
    assert [(leak.where, leak.rule) for leak in leaks] == [
        ("file 'card.pdf' of the run directory", "after the word 'patient'")
    ]


def test_mlflow_params_counts_pass_identifiers_fail(tmp_path: Path) -> None:
    texts = {"param.n_train": "1050", "param.data.patient_id": "patient", "tag.note": "ok"}
    assert find_leaks(INTEGER_IDS, tmp_path, mlflow_texts=texts) == []
    leaks = find_leaks(INTEGER_IDS, tmp_path, mlflow_texts={"tag.note": "patient 17"})
    assert leaks == [Leak("MLflow tag 'note'", "patient", "after the word 'patient'")]


def test_message_names_output_column_and_rule_never_the_value() -> None:
    message = PHI_FOUND.format(where="file 'x.md'", column="patient", rule="as a whole value")
    assert "'patient'" in message and "as a whole value" in message


def test_float_ids_read_with_missing_values_match_integers() -> None:
    canaries = Canaries({"patient": ["17.0", "42.0"]}, id_column="patient")
    assert canaries.find("patient 17") == ("patient", "after the word 'patient'")


def test_an_id_column_named_id_ignores_html_markup(tmp_path: Path) -> None:
    canaries = Canaries({"id": [str(i) for i in range(1, 100)]}, id_column="id")
    markup = '<h2 id="s3">Results</h2><a href="#id-3">3 of 5 criteria</a><p>Patients: 17</p>'
    assert _leaks(canaries, tmp_path, "report.html", markup) == []
    leaks = _leaks(canaries, tmp_path, "report.html", markup + "<p>Example: id 17.</p>")
    assert [leak.rule for leak in leaks] == ["after the word 'id'"]

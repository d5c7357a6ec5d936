"""`clinai validate --summary` at three sites, then `clinai meta-analyse`: outputs and bad input."""

from __future__ import annotations

import json
import re
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from clinai.cli import main
from clinai.evaluation import POOLING_SCALES, pool_metric
from clinai.exceptions import DataError
from clinai.runs import meta_analyse
from clinai.runs._audit import AUDIT_LOG, verify_audit_log
from clinai.runs._meta import _model, _read_all
from clinai.runs._site_summary import site_summary_document, write_site_summary

CANARY = "CANARY-PATIENT-meta"
#: Three hospitals: case mix (risk range) and calibration (intercept, slope) differ.
SITES = {"north": (0.0, 1.0, 0.6), "south": (0.3, 1.2, 0.5), "west": (-0.2, 0.8, 0.7)}


def _site_file(folder: Path, name: str, shift: float, slope: float, top: float) -> Path:
    rng = np.random.default_rng(sum(map(ord, name)))
    risk = rng.uniform(0.02, top, 500)
    frame = pd.DataFrame(
        {
            "patient": [f"{CANARY}-{name}-{i // 2}" for i in range(500)],
            "died": rng.binomial(1, expit(shift + slope * logit(risk))),
            "risk": risk,
        }
    )
    path = folder / f"{name}.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def summaries(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """One summary per site, each written by `clinai validate --summary`."""
    folder = tmp_path_factory.mktemp("sites")
    written = []
    for name, (shift, slope, top) in SITES.items():
        data = _site_file(folder, name, shift, slope, top)
        summary = folder / f"{name}.summary.json"
        code = main(
            [
                "validate", str(data), "--outcome", "died", "--score", "risk",
                "--patient", "patient", "--out", str(folder / f"{name}-validation"),
                "--bootstrap", "20", "--quiet", "--summary", str(summary), "--site", name,
                "--model-name", "sepsis", "--model-version", "3",
            ]
        )  # fmt: skip
        assert code == 0
        written.append(summary)
    return written


def _schema() -> dict[str, Any]:
    text = resources.files("clinai.reporting").joinpath("schemas/site_summary.schema.json")
    return json.loads(text.read_text(encoding="utf-8"))


def test_validate_writes_a_schema_valid_summary_without_patient_data(
    summaries: list[Path],
) -> None:
    for path in summaries:
        text = path.read_text(encoding="utf-8")
        document = json.loads(text)
        jsonschema.validate(document, _schema())
        assert CANARY not in text
        assert document["model"] == {"name": "sepsis", "version": "3", "sha256": None}
        assert document["counts"]["n_patients"] == 250
        # the same file sits in the validation folder, listed in its audit.json
        folder = path.parent / f"{document['site']}-validation"
        assert json.loads((folder / "site_summary.json").read_text()) == document
        assert "site_summary.json" in json.loads((folder / "audit.json").read_text())["outputs"]


def test_meta_analyse_pools_each_metric_as_pool_metric_does(
    summaries: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "meta"
    returned = meta_analyse(summaries, out_dir=out, pdf=False, show_progress=False)
    result = json.loads((out / "meta_analysis.json").read_text(encoding="utf-8"))
    assert returned["metrics"] == result["metrics"]
    sites = [json.loads(p.read_text()) for p in summaries]
    for metric in POOLING_SCALES:
        direct = pool_metric(
            metric,
            [s["metrics"][metric]["estimate"] for s in sites],
            [s["metrics"][metric]["se"] for s in sites],
            labels=[s["site"] for s in sites],
        )
        assert result["metrics"][metric] == direct.to_dict()
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    expected = {"meta_analysis.json", "audit.json", "meta_report.html", "meta_report.md"}
    expected |= {"meta_report.da.html", "meta_report.da.md"}
    expected |= {f"plots/forest_{m}{s}.png" for m in POOLING_SCALES for s in ("", ".da")}
    assert names == expected
    english = (out / "meta_report.md").read_text(encoding="utf-8")
    danish = (out / "meta_report.da.md").read_text(encoding="utf-8")
    assert "12d. How heterogeneity across clusters was handled" in english
    assert "23b. Heterogenitet i ydeevne mellem klynger" in danish
    assert "tau²" in english and "I²" in english and "prediction interval" in english
    for path in out.rglob("*"):
        if path.suffix in {".json", ".md", ".html"}:
            assert CANARY not in path.read_text(encoding="utf-8")
    log = tmp_path / AUDIT_LOG
    record = json.loads(log.read_text(encoding="utf-8").splitlines()[-1])
    assert record["kind"] == "meta-analyse" and record["sites"] == list(SITES)
    verify_audit_log(log, find_tracking=False)
    audit = json.loads((out / "audit.json").read_text())
    assert set(audit["inputs"]) == {p.name for p in summaries}
    assert set(audit["outputs"]) == expected - {"audit.json"}


@pytest.mark.slow
def test_cli_writes_the_reports_as_pdf_in_both_languages(
    summaries: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "meta"
    argv = ["meta-analyse", *map(str, summaries), "--out", str(out), "--method", "DL"]
    assert main([*argv, "--ci", "wald", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "3 sites: pooled AUROC" in captured.out
    result = json.loads((out / "meta_analysis.json").read_text(encoding="utf-8"))
    assert result["metrics"]["auroc"]["analysis"]["method"] == "DL"
    pdfs = {"meta_report.pdf", "meta_report.da.pdf"}
    # without WeasyPrint's libraries the PDFs are skipped with a visible line, not a crash
    assert pdfs <= {p.name for p in out.iterdir()} or "PDF skipped" in captured.err


def _copy(summaries: list[Path], folder: Path, edit: dict[str, Any] | None = None) -> list[Path]:
    """Copies of the summaries; ``edit`` changes fields of the last one (a dotted key each)."""
    copies = [Path(shutil.copy(p, folder / p.name)) for p in summaries]
    if edit:
        document = json.loads(copies[-1].read_text())
        for dotted, value in edit.items():
            node = document
            *parents, leaf = dotted.split(".")
            for key in parents:
                node = node[key]
            if value is _DROP:
                del node[leaf]
            else:
                node[leaf] = value
        copies[-1].write_text(json.dumps(document))
    return copies


_DROP = object()


@pytest.mark.parametrize(
    ("edit", "expect"),
    [
        ({"model.version": "4"}, ["west.summary.json", "version 4", "north.summary.json"]),
        ({"model.name": "sepsis-2"}, ["west.summary.json", "'sepsis-2'", "one model"]),
        ({"plan_sha256": "b" * 64}, ["west.summary.json", "bbbbbbbbbbbb", "acceptance plan"]),
        ({"metrics.auroc.se": _DROP}, ["west.summary.json", "metrics.auroc.se", "missing"]),
        ({"counts.n": "500"}, ["west.summary.json", "counts.n", "an integer or null"]),
        ({"schema": "other/2"}, ["west.summary.json", "clinai.site_summary/1"]),
        ({"site": "north"}, ["north.summary.json", "west.summary.json", "both of site", "--site"]),
    ],
    ids=["model-version", "model-name", "plan", "missing-se", "wrong-type", "schema", "site"],
)
def test_summaries_that_do_not_belong_together_stop_with_one_line(
    summaries: list[Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    edit: dict[str, Any],
    expect: list[str],
) -> None:
    files = _copy(summaries, tmp_path, edit)
    out = tmp_path / "meta"
    code = main(["meta-analyse", *map(str, files), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    for text in expect:
        assert text in err
    assert not out.exists() and not list(tmp_path.glob(".meta*"))
    assert not (tmp_path / AUDIT_LOG).exists()


def test_a_suppressed_site_cannot_be_pooled(
    summaries: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(9)
    risk = rng.uniform(0.01, 0.05, 120)
    died = np.zeros(120, dtype=int)
    died[:4] = 1  # 4 events: below min_cell 10
    small = write_site_summary(
        tmp_path / "tiny.summary.json",
        site_summary_document(
            died,
            risk,
            site="tiny",
            model={"name": "sepsis", "version": "3", "sha256": None},
            plan_sha256=None,
        ),
    )
    jsonschema.validate(json.loads(small.read_text()), _schema())
    files = [*map(str, summaries), str(small)]
    code = main(["meta-analyse", *files, "--out", str(tmp_path / "m"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert re.fullmatch(
        r"error: .*tiny\.summary\.json: auroc is suppressed .*leave this site.*", err
    )


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["ONE"], ["at least two", "north.summary.json"]),
        (["ONE", "ONE"], ["given twice"]),
        (["ALL", "--method", "ML"], ["--method must be REML or DL", "'ML'"]),
        (["ALL", "--ci", "z"], ["--ci must be hksj or wald"]),
        (["ALL", "MISSING"], ["missing.json", "file not found"]),
        (["ALL", "NOTJSON"], ["bad.json", "not JSON"]),
    ],
    ids=["one-site", "same-file", "method", "ci", "missing-file", "not-json"],
)
def test_bad_arguments_stop_with_one_line(
    summaries: list[Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    expect: list[str],
) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    names = {
        "ONE": [str(summaries[0])],
        "ALL": [str(p) for p in summaries],
        "MISSING": [str(tmp_path / "missing.json")],
        "NOTJSON": [str(tmp_path / "bad.json")],
    }
    argv = [item for arg in args for item in names.get(arg, [arg])]
    code = main(["meta-analyse", *argv, "--out", str(tmp_path / "meta"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1
    for text in expect:
        assert text in err
    assert not (tmp_path / "meta").exists()


def test_an_output_folder_with_files_is_refused(
    summaries: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "meta"
    out.mkdir()
    (out / "keep.txt").write_text("earlier work")
    assert main(["meta-analyse", *map(str, summaries), "--out", str(out), "--quiet"]) == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_an_existing_summary_file_is_not_overwritten(
    summaries: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _site_file(tmp_path, "north", *SITES["north"])
    argv = ["validate", str(data), "--outcome", "died", "--score", "risk", "--quiet"]
    code = main([*argv, "--out", str(tmp_path / "v"), "--summary", str(summaries[0])])
    assert code == 2
    assert "exists: choose another file name" in capsys.readouterr().err
    assert not (tmp_path / "v").exists()
    summary = str(tmp_path / "s.json")
    code = main([*argv, "--out", str(tmp_path / "v"), "--summary", summary, "--model-sha256", "x"])
    assert code == 2
    assert "--model-sha256 must be 64 lowercase hex digits" in capsys.readouterr().err


def test_model_fields_are_compared_where_both_summaries_know_them(
    summaries: list[Path], tmp_path: Path
) -> None:
    # a run's summary knows its model folder's SHA-256 but not yet the registered version
    run = _copy(summaries, tmp_path, {"model.version": None, "model.sha256": "c" * 64})
    assert [d["site"] for d in _read_all(run)] == list(SITES)
    assert _model(_read_all(run)) == {"name": "sepsis", "version": "3", "sha256": "c" * 64}
    other = tmp_path / "other"
    other.mkdir()
    east = _copy(run, other, {"model.sha256": "d" * 64, "site": "east"})[-1]
    with pytest.raises(DataError, match=re.escape("sha256 dddddddddddd...")):
        _read_all([run[0], run[-1], east])


def test_a_failure_while_writing_leaves_no_folder_and_no_audit_record(
    summaries: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "meta"
    # meta_analysis.json is written first; the unknown language then stops the report
    with pytest.raises(ValueError, match="get_language_names"):
        meta_analyse(summaries, out_dir=out, languages=("xx",), pdf=False, show_progress=False)
    assert list(tmp_path.iterdir()) == []

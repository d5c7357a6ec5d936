"""Hand-edited and unusual site summaries given to `clinai meta-analyse`: one line, exit 2.

Each case was met by a coordinator pooling summaries by hand (session 14): a calibration
curve point without its rate, a NaN or Infinity number, a metric on another scale, a
standard error of 0, an empty site label, a BOM, a survival document, a huge typo.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from clinai.cli import main
from clinai.reporting._meta_report import meta_view
from clinai.reporting._render import translator
from clinai.runs import meta_analyse
from clinai.runs._site_summary import site_summary_document, write_site_summary

CANARY = "CANARY-PATIENT-meta-inputs"


def _document(site: str, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    risk = rng.uniform(0.05, 0.7, 300)
    outcome = rng.binomial(1, risk)
    document = site_summary_document(
        outcome,
        risk,
        site=site,
        model={"name": "contra", "version": "1", "sha256": None},
        plan_sha256=None,
        patient_ids=[f"{CANARY}-{i}" for i in range(300)],
    )
    return document


@pytest.fixture(scope="module")
def base() -> dict[str, Any]:
    return _document("north", 1)


def _write(folder: Path, name: str, document: dict[str, Any]) -> Path:
    return write_site_summary(folder / f"{name}.json", document)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["meta-analyse", *args, "--quiet"])
    captured = capsys.readouterr()
    return code, captured.err + captured.out


def _edit(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    edited = copy.deepcopy(document)
    target = edited
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return edited


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        # a curve point without its rate: was an internal error (KeyError 'observed'), exit 1
        (("calibration_curve", "points"), [{"p": 0.1}], "calibration_curve.points[0].observed"),
        # a rate typed as text: was accepted and shown as a number
        (("calibration_curve", "points"), [{"p": 0.1, "observed": "0.3"}], "points[0].observed"),
        # an AUROC stored on its natural scale: was pooled as a logit (a wrong number)
        (("metrics", "auroc", "scale"), "identity", "'metrics.auroc.scale' is 'identity'"),
        # an empty label: was accepted, a blank row in every table
        (("site",), "  ", "field 'site' is empty"),
        # NaN and Infinity (Python's json reads them): the message named no file or metric
        (("metrics", "oe_ratio", "estimate"), float("nan"), "'metrics.oe_ratio.estimate'"),
        (("metrics", "auroc", "se"), float("inf"), "'metrics.auroc.se' must be a finite"),
    ],
)
def test_a_hand_edited_summary_is_refused_naming_the_file_and_field(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    base: dict[str, Any],
    path: tuple[Any, ...],
    value: Any,
    expected: str,
) -> None:
    other = _write(tmp_path, "south", _document("south", 2))
    edited = _edit(base, path, value)
    bad = tmp_path / "edited.json"
    bad.write_text(json.dumps(edited), encoding="utf-8")
    code, text = _run([str(other), str(bad), "--out", str(tmp_path / "pooled")], capsys)
    assert code == 2, text
    assert expected in text and "edited.json" in text
    assert "Traceback" not in text and CANARY not in text
    assert not (tmp_path / "pooled").exists()


def _pool_edited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edited: dict[str, Any]
) -> tuple[int, str]:
    other = _write(tmp_path, "south", _document("south", 2))
    bad = _write(tmp_path, "edited", edited)
    return _run([str(other), str(bad), "--out", str(tmp_path / "pooled")], capsys)


def test_a_zero_standard_error_names_the_file_metric_and_site(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], base: dict[str, Any]
) -> None:
    code, text = _pool_edited(
        tmp_path, capsys, _edit(base, ("metrics", "calibration_slope", "se"), 0)
    )
    assert code == 2
    assert "edited.json: calibration_slope has standard error 0 (site 'north')" in text


def test_a_huge_estimate_stops_with_one_line_not_a_math_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], base: dict[str, Any]
) -> None:
    # was: "internal error: ValueError: math domain error", exit 1
    edited = _edit(base, ("metrics", "auroc", "estimate"), 1e308)
    code, text = _pool_edited(tmp_path, capsys, edited)
    assert code == 2
    assert "auroc of" in text and "too large to pool" in text and "edited.json" in text
    assert not (tmp_path / "pooled").exists()


def test_another_clinai_document_is_named_by_its_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # was: "field 'site' is missing", as if the file were a broken site summary
    other = _write(tmp_path, "south", _document("south", 2))
    survival = tmp_path / "survival_metrics.json"
    survival.write_text(json.dumps({"schema": "clinai.survival_metrics/1", "n": 100}))
    code, text = _run([str(other), str(survival), "--out", str(tmp_path / "pooled")], capsys)
    assert code == 2
    assert "'clinai.survival_metrics/1', not 'clinai.site_summary/1'" in text


def test_a_summary_saved_with_a_byte_order_mark_is_read(
    tmp_path: Path, base: dict[str, Any]
) -> None:
    # was refused: "Unexpected UTF-8 BOM"
    other = _write(tmp_path, "south", _document("south", 2))
    bom = tmp_path / "north.json"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps(base).encode("utf-8"))
    result = meta_analyse(
        [other, bom],
        out_dir=tmp_path / "pooled",
        languages=("en",),
        pdf=False,
        show_progress=False,
    )
    assert [site["site"] for site in result["sites"]] == ["south", "north"]


def test_method_and_interval_are_read_in_any_case(tmp_path: Path) -> None:
    # was: "--method must be REML or DL; got 'dl'" though the library takes it
    paths = [_write(tmp_path, name, _document(name, seed)) for name, seed in (("a", 1), ("b", 2))]
    result = meta_analyse(
        paths,
        out_dir=tmp_path / "pooled",
        method="dl",
        ci="WALD",
        languages=("en",),
        pdf=False,
        show_progress=False,
    )
    assert (result["method"], result["ci"]) == ("DL", "wald")


def test_curves_read_at_other_risks_are_aligned_by_risk(tmp_path: Path) -> None:
    # a site that read its curve on its own grid: its rates went under the first site's risks
    first = _document("a", 1)
    second = _document("b", 2)
    second["calibration_curve"]["points"] = [
        {"p": 0.3, "observed": 0.31},
        {"p": 0.45, "observed": 0.5},
    ]
    document = {
        "method": "REML",
        "ci": "hksj",
        "level": 0.95,
        "model": first["model"],
        "sites": [],
        "metrics": {},
        "calibration_curves": [
            {"site": "a", "points": first["calibration_curve"]["points"]},
            {"site": "b", "points": second["calibration_curve"]["points"]},
        ],
    }
    t, fmt = translator("en")
    view = meta_view(document, t, fmt)["calibration"]
    points = [float(p) for p in view["points"]]
    assert 0.45 in points and points == sorted(points)
    row_b = dict(zip(points, view["rows"][1]["cells"], strict=True))
    assert row_b[0.3] == "0.31" and row_b[0.45] == "0.50" and row_b[0.1] == "–"
    row_a = dict(zip(points, view["rows"][0]["cells"], strict=True))
    assert row_a[0.45] == "–"

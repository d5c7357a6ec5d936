from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from clinai.exceptions import ClinaiError
from clinai.runs import resolve_run_dir
from clinai.runs._rundir import new_run_id


def test_new_run_dir_moves_latest_pointer(tmp_path: Path) -> None:
    first = resolve_run_dir(tmp_path, "exp", None, create=True)
    second = resolve_run_dir(tmp_path, "exp", "named", create=True)
    assert first.path != second.path
    assert resolve_run_dir(tmp_path, "exp", None, create=False).path == second.path
    assert resolve_run_dir(tmp_path, "exp", first.run_id, create=False).path == first.path


def test_stage_without_a_run_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ClinaiError, match="run `clinai prepare CONFIG` first"):
        resolve_run_dir(tmp_path, "exp", None, create=False)


def test_missing_stage_output_names_the_stage(tmp_path: Path) -> None:
    run_dir = resolve_run_dir(tmp_path, "exp", None, create=True)
    with pytest.raises(
        ClinaiError, match=re.escape("has no metrics.json: run `clinai evaluate CONFIG` first")
    ):
        run_dir.read_json("metrics.json", stage="evaluate")


def test_json_is_strict_and_written_atomically(tmp_path: Path) -> None:
    run_dir = resolve_run_dir(tmp_path, "exp", None, create=True)
    run_dir.write_json("x.json", {"a": math.nan, "b": 1.5})
    assert json.loads((run_dir.path / "x.json").read_text()) == {"a": None, "b": 1.5}
    assert [p.name for p in run_dir.path.iterdir()] == ["x.json"]


def test_run_ids_sort_by_time_and_are_unique() -> None:
    ids = {new_run_id() for _ in range(50)}
    assert len(ids) == 50

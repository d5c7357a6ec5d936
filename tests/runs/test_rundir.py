from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from clinai.exceptions import ClinaiError, ConfigError
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


def test_an_unknown_run_id_is_named_with_the_runs_there(tmp_path: Path) -> None:
    resolve_run_dir(tmp_path, "exp", "first", create=True)
    with pytest.raises(ClinaiError, match=r"--run-id 'nope': no such run .*runs there: first"):
        resolve_run_dir(tmp_path, "exp", "nope", create=False)


@pytest.mark.parametrize("run_id", ["..", ".", "../../elsewhere", "a/b", ".hidden", ""])
def test_a_run_id_is_a_folder_name_never_a_path(tmp_path: Path, run_id: str) -> None:
    # `clinai run --run-id ..` removed the whole output folder before writing into it
    output = tmp_path / "runs"
    keep = output / "other_experiment" / "kept.txt"
    keep.parent.mkdir(parents=True)
    keep.write_text("results", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not a folder name"):
        resolve_run_dir(output, "exp", run_id, create=True)
    assert keep.read_text(encoding="utf-8") == "results"


def test_an_experiment_is_a_folder_name_too() -> None:
    from clinai.config import parse_config

    source = {"source": {"type": "bundled", "name": "vcdExtra/ICU"}}
    for name in ("..", ".", ".x"):
        with pytest.raises(ConfigError, match="experiment"):
            parse_config({"experiment": name, "pipeline": "icu_mortality", "data": source})


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
